import { createRoute, z } from "@hono/zod-openapi";
import { pendingMigrations } from "@second-layer/shared/db/migrate";
import { databaseUnavailableBody } from "@second-layer/shared/error-body";
import { streamStats } from "@second-layer/shared/streams/stream-stats";
import { listViews } from "@second-layer/shared/views/store";
import { Gauge } from "prom-client";
import { ApiError, ErrorSchema } from "../http/api-error.ts";
import type { ApiApp, ApiDeps } from "../http/app-env.ts";
import { json } from "../http/openapi-parts.ts";
import { type StatusReport, statusReport } from "../status/status-report.ts";
import { chainHeads, estimatedRows, viewProgress } from "../views/view-reads.ts";

const BlockRefSchema = z.object({ height: z.number().int(), indexBlockHash: z.string(), blockHash: z.string() });

const StatusSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    network: z.string(),
    chainTip: BlockRefSchema.nullable(),
    lastIndexedBlock: BlockRefSchema.nullable(),
    lastContiguousBlock: BlockRefSchema.nullable(),
    integrity: z.string(),
    gaps: z.array(z.object({ start: z.number().int(), end: z.number().int(), size: z.number().int() })),
    totalMissingBlocks: z.number().int(),
    blocksReceivedOutOfOrder: z.number().int(),
    failedBodies: z.number().int(),
    chainLog: z.object({ seq: z.number().int() }),
    queue: z.object({
      pending: z.number().int().openapi({ description: "Deliveries waiting to be sent" }),
      running: z.number().int().openapi({ description: "Streams a worker is sending right now" }),
      failed: z.number().int().openapi({ description: "Deliveries parked as failed" }),
    }),
    streams: z.object({
      active: z.number().int(),
      paused: z.number().int(),
      failed: z.number().int(),
      disabled: z.number().int(),
    }),
    views: z.object({
      active: z.number().int(),
      error: z.number().int().openapi({ description: "Views stopped at a block their handlers cannot apply" }),
    }),
    deliveries24h: z.object({ sent: z.number().int(), failed: z.number().int() }),
    lag: z.object({
      chainLogEntries: z
        .number()
        .int()
        .openapi({ description: "Chain log entries the stream matcher has yet to match" }),
      blocks: z.number().int().openapi({ description: "Tip height minus the height of the matcher's last entry" }),
    }),
    generatedAt: z.string(),
  })
  .openapi("Status");

/** Public operations routes: liveness, readiness, status, Prometheus metrics. */
export function registerOperationsRoutes(app: ApiApp, deps: ApiDeps): void {
  const { db, config, log, metrics } = deps;
  const network = config.STACKS_NETWORK;

  app.openapi(
    createRoute({
      method: "get",
      path: "/health",
      tags: ["operations"],
      summary: "Liveness: the process answers",
      responses: { 200: json(z.object({ status: z.literal("ok") }).openapi("Health"), "Alive") },
    }),
    (c) => c.json({ status: "ok" as const }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/ready",
      tags: ["operations"],
      summary: "Readiness: the database answers and its schema is current",
      responses: {
        200: json(z.object({ status: z.literal("ready") }).openapi("Ready"), "Ready for traffic"),
        503: json(ErrorSchema, "Not ready: DATABASE_UNAVAILABLE or MIGRATIONS_PENDING"),
      },
    }),
    async (c) => {
      let pending: string[];
      try {
        pending = await pendingMigrations(db.sql);
      } catch (err) {
        log.warn({ err }, "readiness: the database is unavailable");
        const { code, message } = databaseUnavailableBody().error;
        throw new ApiError(503, code, message);
      }
      if (pending.length > 0) {
        throw new ApiError(503, "MIGRATIONS_PENDING", `migrations not applied yet: ${pending.join(", ")}`);
      }
      return c.json({ status: "ready" as const }, 200);
    },
  );

  let cached: { at: number; report: StatusReport } | null = null;
  app.openapi(
    createRoute({
      method: "get",
      path: "/status",
      tags: ["operations"],
      summary: "Chain, integrity, streams, deliveries and views at a glance (cached for STATUS_CACHE_SECONDS)",
      responses: {
        200: json(StatusSchema, "The status"),
        503: json(ErrorSchema, "The database is unavailable (DATABASE_UNAVAILABLE)"),
      },
    }),
    async (c) => {
      if (!cached || Date.now() - cached.at > config.STATUS_CACHE_SECONDS * 1000) {
        cached = { at: Date.now(), report: await statusReport(db.sql, network) };
      }
      return c.json(cached.report, 200);
    },
  );

  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [metrics.registry] });
  const g = {
    tip: gauge("second_layer_chain_tip_height", "Height of the indexed tip", ["network"]),
    contiguous: gauge("second_layer_chain_contiguous_height", "Last block of the unbroken canonical run", ["network"]),
    missing: gauge("second_layer_chain_missing_blocks", "Blocks missing between the contiguous run and the tip", [
      "network",
    ]),
    logSeq: gauge("second_layer_chain_log_seq", "Newest chain log seq", ["network"]),
    matcherLag: gauge("second_layer_stream_matcher_lag_entries", "Chain log entries not yet matched", ["network"]),
    queue: gauge("second_layer_deliveries", "Deliveries by state", ["network", "state"]),
    attempts24h: gauge("second_layer_delivery_attempts_24h", "Delivery attempts of the last 24 h by outcome", [
      "network",
      "outcome",
    ]),
    streams: gauge("second_layer_streams", "Streams by status", ["network", "status"]),
    streamLag: gauge("second_layer_stream_lag_blocks", "Chain tip minus the oldest waiting delivery's height", [
      "stream_id",
      "network",
    ]),
    views: gauge("second_layer_views", "Views by status", ["network", "status"]),
    viewLag: gauge("second_layer_view_lag_blocks", "Chain tip minus the last block a view applied", [
      "view_id",
      "view",
      "network",
    ]),
    viewError: gauge(
      "second_layer_view_error",
      "1 while a view is stopped by an error (its reason: GET /api/views/{name})",
      ["view_id", "view"],
    ),
    viewRows: gauge("second_layer_view_rows", "Rows of a view's table (Postgres's estimate as of its last ANALYZE)", [
      "view_id",
      "view",
      "table",
    ]),
  };

  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/metrics",
    tags: ["operations"],
    summary: "Prometheus metrics: HTTP requests, chain, deliveries, per-stream lag, per-view lag, rows and errors",
    responses: { 200: { description: "Prometheus text format", content: { "text/plain": { schema: z.string() } } } },
  });
  app.get("/metrics", async (c) => {
    try {
      const s = await statusReport(db.sql, network);
      const n = { network };
      g.tip.set(n, s.lastIndexedBlock?.height ?? 0);
      g.contiguous.set(n, s.lastContiguousBlock?.height ?? 0);
      g.missing.set(n, s.totalMissingBlocks);
      g.logSeq.set(n, s.chainLog.seq);
      g.matcherLag.set(n, s.lag.chainLogEntries);
      g.queue.set({ network, state: "pending" }, s.queue.pending);
      g.queue.set({ network, state: "running" }, s.queue.running);
      g.queue.set({ network, state: "parked" }, s.queue.failed);
      g.attempts24h.set({ network, outcome: "success" }, s.deliveries24h.sent);
      g.attempts24h.set({ network, outcome: "failure" }, s.deliveries24h.failed);
      for (const [status, count] of Object.entries(s.streams)) g.streams.set({ network, status }, count);
      g.streamLag.reset();
      for (const st of await streamStats(db.sql, null))
        g.streamLag.set({ stream_id: st.streamId, network: st.network }, st.lagBlocks);
      for (const [status, count] of Object.entries(s.views)) g.views.set({ network, status }, count);
      const [views, heads, rows] = await Promise.all([
        listViews(db.sql, null),
        chainHeads(db.sql),
        estimatedRows(db.sql),
      ]);
      const names = new Map(views.map((v) => [v.id, v.name]));
      for (const gv of [g.viewLag, g.viewError, g.viewRows]) gv.reset();
      for (const v of views) {
        const labels = { view_id: v.id, view: v.name };
        g.viewLag.set({ ...labels, network: v.network }, viewProgress(v, heads.get(v.network)).lagBlocks);
        g.viewError.set(labels, v.status === "error" ? 1 : 0);
      }
      for (const r of rows)
        g.viewRows.set({ view_id: r.viewId, view: names.get(r.viewId) ?? "", table: r.table }, r.rows);
    } catch (err) {
      log.warn({ err }, "metrics: chain and delivery gauges could not be read; serving the process metrics only");
    }
    return c.text(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType });
  });
}
