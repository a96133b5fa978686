import { viewDefinitionSchema } from "@second-layer/shared/views/definition";
import type { ApiApp } from "../http/app-env.ts";
import { registerZodComponent } from "./stream-schemas.ts";

/**
 * The view definition format as a component, generated from the shared zod schema: the SDK's
 * `defineView` is typed from it, and the views routes refer to it.
 */
export function registerViewDefinitionComponent(app: ApiApp): void {
  registerZodComponent(app, "ViewDefinition", viewDefinitionSchema, {
    description:
      "A view: tables and handlers, JSON from end to end. Each handler's `on` is a StreamFilter; values are " +
      "paths such as `$.event.amount` or JSON literals.",
  });
}
