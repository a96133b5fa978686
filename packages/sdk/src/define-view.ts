import type { components } from "./api-types.ts";

export type ViewDefinition = components["schemas"]["ViewDefinition"];
export type StreamFilter = components["schemas"]["StreamFilter"];
type Handler = ViewDefinition["handlers"][number];

/**
 * For writing views in TypeScript with completion and checking: returns the definition unchanged.
 * The types come from the API's OpenAPI document, generated from the same schema the API validates
 * with; each handler's `on` is a stream filter. Deploy the result as JSON.
 */
export function defineView<
  const T extends Omit<ViewDefinition, "handlers"> & { handlers: (Handler & { on: StreamFilter })[] },
>(definition: T): T {
  return definition;
}
