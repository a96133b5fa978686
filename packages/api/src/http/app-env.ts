import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import type { SecretsBox } from "@second-layer/shared/secrets-box";
import type { StreamContext } from "@second-layer/shared/streams/store";
import type { Dispatcher } from "undici/index.js";
import type { Caller } from "../auth/api-keys.ts";
import type { LiveHub } from "../live/live-hub.ts";
import type { ApiMetrics } from "./metrics.ts";
import type { KeyCache } from "./middleware.ts";

/** What every route handler can reach. */
export interface ApiDeps {
  db: Db;
  config: Config;
  log: Logger;
  secrets: SecretsBox;
  streams: StreamContext;
  /** Sends test deliveries through the SSRF guard. */
  dispatcher: Dispatcher;
  metrics: ApiMetrics;
  keyCache: KeyCache;
  /** Wake-ups and the shutdown signal of the Server-Sent Events routes. */
  live: LiveHub;
}

export interface AppEnv {
  Variables: {
    /** The authenticated caller of an /api/* route. */
    caller: Caller;
    /** The matched route pattern, for metrics (e.g. /api/streams/{id}). */
    routePattern?: string;
  };
}

export type ApiApp = OpenAPIHono<AppEnv>;
