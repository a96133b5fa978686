import type { Config } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import { SecretsBox } from "@second-layer/shared/secrets-box";
import { createGuardedAgent } from "@second-layer/shared/webhooks/url-guard";
import { createApiApp } from "./app.ts";
import { ensureBootstrapKey } from "./auth/api-keys.ts";
import type { ApiDeps } from "./http/app-env.ts";
import { createApiMetrics } from "./http/metrics.ts";
import { LiveHub } from "./live/live-hub.ts";

export interface RunningApi {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export class ApiConfigError extends Error {
  readonly code = "INVALID_CONFIG";
}

/** What the routes share: sealed secrets, the guarded webhook agent (close it), metrics, the live hub. */
export function createApiDeps(opts: { config: Config; db: Db; log: Logger; secretsKey: string }): ApiDeps {
  const { config, db, log } = opts;
  const secrets = new SecretsBox(opts.secretsKey);
  return {
    db,
    config,
    log,
    secrets,
    streams: {
      secrets,
      defaultNetwork: config.STACKS_NETWORK,
      allowedPrivateHosts: config.WEBHOOK_ALLOWED_PRIVATE_HOSTS,
    },
    dispatcher: createGuardedAgent({
      allowedPrivateHosts: config.WEBHOOK_ALLOWED_PRIVATE_HOSTS,
      connectTimeout: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
    }),
    metrics: createApiMetrics(),
    keyCache: new Map(),
    live: new LiveHub(db, log),
  };
}

/** Starts the API on an already migrated database. Used by main.ts, `bun run dev` and tests. */
export async function startApi(opts: { config: Config; db: Db; log: Logger }): Promise<RunningApi> {
  const { config, db, log } = opts;
  if (!config.SECRETS_KEY) {
    throw new ApiConfigError(
      "SECRETS_KEY is required: it seals the streams' signing secrets (`openssl rand -base64 32`)",
    );
  }
  if (config.API_BOOTSTRAP_KEY) await ensureBootstrapKey(db.sql, config.API_BOOTSTRAP_KEY);
  const deps = createApiDeps({ config, db, log, secretsKey: config.SECRETS_KEY });
  const { dispatcher } = deps;
  const app = createApiApp(deps);
  const server = Bun.serve({ port: config.PORT ?? 3800, hostname: config.HOST, fetch: app.fetch, idleTimeout: 120 });
  const port = server.port ?? 0;
  log.info({ host: config.HOST, port, network: config.STACKS_NETWORK }, "api listening");
  const host = config.HOST === "0.0.0.0" || config.HOST === "::" ? "127.0.0.1" : config.HOST;
  return {
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    async stop() {
      // Open event streams end first (they would never finish); in-flight requests finish; new
      // connections are refused.
      await deps.live.close();
      await server.stop();
      await dispatcher.close();
    },
  };
}
