import { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { isTransientDbError } from "@second-layer/shared/db/connect";
import { databaseUnavailableBody, errorBody } from "@second-layer/shared/error-body";
import { ApiError, respondError, validationError, zodDetails } from "./http/api-error.ts";
import type { ApiApp, ApiDeps, AppEnv } from "./http/app-env.ts";
import { apiBodyLimit, authenticate, rateLimit, requestMetrics } from "./http/middleware.ts";
import { registerAccountRoutes } from "./routes/accounts.ts";
import { registerChainRoutes } from "./routes/chain.ts";
import { registerChainEventRoutes } from "./routes/chain-events.ts";
import { registerChainhookRoutes } from "./routes/chainhook.ts";
import { registerDeliveryRoutes } from "./routes/deliveries.ts";
import { registerOperationsRoutes } from "./routes/operations.ts";
import { registerStreamLogRoutes } from "./routes/stream-logs.ts";
import { registerStreamRoutes } from "./routes/streams.ts";
import { registerViewRoutes } from "./routes/views.ts";
import { registerStreamComponents } from "./schemas/stream-schemas.ts";
import { registerViewDefinitionComponent } from "./schemas/view-definition-component.ts";

export const API_VERSION = "1.0.0";

/**
 * The API: every /api/* route behind the body limit, an API key and its rate limit; public
 * operations routes; the OpenAPI 3.1 document generated from the routes' zod schemas.
 */
export function createApiApp(deps: ApiDeps): ApiApp {
  const { config, log } = deps;
  const app = new OpenAPIHono<AppEnv>({
    // Invalid params, query or body: 400 with the path of every problem.
    defaultHook: (result, c) => {
      if (!result.success) return respondError(c, validationError(zodDetails(result.error), result.target));
    },
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key: `Authorization: Bearer sk_live_...`",
  });
  registerStreamComponents(app);
  registerViewDefinitionComponent(app);

  app.use("*", requestMetrics(deps.metrics));
  app.use("/api/*", apiBodyLimit(config.API_MAX_BODY_BYTES));
  app.use("/api/*", authenticate(deps.db, deps.keyCache));
  app.use("/api/*", rateLimit(config.API_RATE_LIMIT, config.API_RATE_LIMIT_WINDOW_SECONDS));

  registerOperationsRoutes(app, deps);
  registerAccountRoutes(app, deps);
  registerStreamRoutes(app, deps);
  registerDeliveryRoutes(app, deps);
  registerChainhookRoutes(app, deps);
  registerStreamLogRoutes(app, deps);
  registerChainRoutes(app, deps);
  registerChainEventRoutes(app, deps);
  registerViewRoutes(app, deps);

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Second Layer API",
      version: API_VERSION,
      description:
        "Streams (signed webhooks), views (tables built from the chain), chain data and the chain log of a self-hosted Stacks indexer.",
    },
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/docs",
    tags: ["operations"],
    summary: "Interactive API reference (this document, rendered)",
    responses: { 200: { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } },
  });
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Second Layer API" }));

  app.notFound((c) => c.json(errorBody("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => {
    if (err instanceof ApiError) return respondError(c, err);
    if (isTransientDbError(err)) {
      log.error({ err, path: c.req.path }, "database unavailable");
      return c.json(databaseUnavailableBody(), 503);
    }
    // Malformed JSON and the like reach here as HTTP exceptions from the validator.
    const status = (err as { status?: number }).status;
    if (status === 400) return c.json(errorBody("INVALID_JSON", "the request body is not valid JSON"), 400);
    log.error({ err, path: c.req.path, method: c.req.method }, "unexpected API error");
    return c.json(errorBody("INTERNAL", "something went wrong on our side; it has been logged"), 500);
  });
  return app;
}
