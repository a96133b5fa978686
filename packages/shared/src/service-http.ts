import type { Registry } from "prom-client";
import type { Db } from "./db/connect.ts";
import { databaseUnavailableBody, errorBody } from "./error-body.ts";
import type { Logger } from "./logger.ts";

export interface ServiceHttpOptions {
  port: number;
  db: Db;
  log: Logger;
  registry: Registry;
  /** What /health reports besides status and uptime. */
  health: () => Record<string, unknown>;
  /** Runs before /metrics is rendered (gauges read from the database at scrape time). */
  refreshMetrics?: () => Promise<void>;
}

/**
 * /health and /metrics of a service without a public API of its own (worker, view processor), on
 * METRICS_PORT. /health is 503 when the database cannot be reached; /metrics is Prometheus text.
 */
export function startServiceHttp(opts: ServiceHttpOptions): { port: number; stop(): Promise<void> } {
  const { db, log, registry } = opts;
  const startedAt = Date.now();
  const server = Bun.serve({
    port: opts.port,
    hostname: "0.0.0.0",
    fetch: async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/health") {
        try {
          await db.sql`select 1`;
        } catch (err) {
          log.error({ err }, "health check could not reach the database");
          return Response.json({ status: "unavailable", ...databaseUnavailableBody() }, { status: 503 });
        }
        return Response.json({
          status: "ok",
          ...opts.health(),
          uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        });
      }
      if (path === "/metrics") {
        try {
          await opts.refreshMetrics?.();
        } catch (err) {
          log.warn({ err }, "metrics read from the database are unavailable; serving the process metrics only");
        }
        return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
      }
      return Response.json(errorBody("NOT_FOUND", `no route for ${req.method} ${path}`), { status: 404 });
    },
  });
  return { port: server.port ?? 0, stop: async () => void (await server.stop()) };
}
