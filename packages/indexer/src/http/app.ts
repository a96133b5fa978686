import type { Db } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import { Hono } from "hono";
import { journalBlocksResponse } from "../backfill/journal-blocks.ts";
import { DatabaseUnavailableError, type Ingestor } from "../ingest/ingestor.ts";
import { healthSummary, integrityReport } from "../integrity/integrity.ts";
import { nodeStatus } from "../integrity/node-status.ts";
import { chainEventsResponse } from "./chain-events.ts";
import { errorBody } from "./errors.ts";

export interface IndexerAppDeps {
  db: Db;
  ingestor: Ingestor;
  network: string;
  log: Logger;
  maxBodyBytes: number;
  /** STACKS_NODE_RPC_URL: when set, /health says how far behind the node's tip we are. */
  nodeRpcUrl?: string;
  startedAt?: number;
}

/**
 * The event-observer receiver. Every POST path is accepted and journaled; the node treats anything
 * but 200 as "retry forever", so only a down database (503) or an oversized body (413) is refused.
 */
export function createIndexerApp(deps: IndexerAppDeps): Hono {
  const { db, ingestor, network, log, maxBodyBytes } = deps;
  const startedAt = deps.startedAt ?? Date.now();
  const app = new Hono();

  app.get("/health", async (c) => {
    try {
      const summary = await healthSummary(db.sql, network);
      const node = deps.nodeRpcUrl
        ? await nodeStatus(deps.nodeRpcUrl, summary.lastIndexedBlock?.height ?? null)
        : undefined;
      return c.json({
        status: "ok",
        network,
        ...summary,
        ...(node ? { node } : {}),
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      });
    } catch (err) {
      log.error({ err }, "health check could not reach the database");
      return c.json(
        { status: "unavailable", network, ...errorBody("DATABASE_UNAVAILABLE", (err as Error).message) },
        503,
      );
    }
  });

  app.get("/health/integrity", async (c) => {
    try {
      return c.json(await integrityReport(db.sql, network));
    } catch (err) {
      return c.json(errorBody("DATABASE_UNAVAILABLE", (err as Error).message), 503);
    }
  });

  app.get("/chain/events", (c) => chainEventsResponse(db.sql, network, c.req.query(), log));

  // Another indexer's backfiller reads this indexer's journaled blocks here (AUTO_BACKFILL_SOURCE_TYPE=second-layer).
  app.get("/journal/blocks", (c) => journalBlocksResponse(db.sql, network, c.req.query(), log));

  app.post("*", async (c) => {
    const path = c.req.path;
    const declared = Number(c.req.header("content-length") ?? 0);
    if (declared > maxBodyBytes) {
      log.error({ path, bytes: declared, maxBodyBytes }, "body larger than MAX_BODY_BYTES refused");
      return c.json(
        errorBody("BODY_TOO_LARGE", `body of ${declared} bytes exceeds MAX_BODY_BYTES=${maxBodyBytes}`),
        413,
      );
    }
    const body = new Uint8Array(await c.req.arrayBuffer());
    try {
      const outcome = await ingestor.ingest(path, body);
      if (outcome.ok) {
        return c.json({
          ok: true,
          journalId: outcome.journalId,
          result: outcome.result ?? null,
          ...(outcome.duplicate ? { duplicate: true } : {}),
        });
      }
      return c.json({
        ok: false,
        journalId: outcome.journalId,
        ...errorBody(outcome.error.code, outcome.error.message, outcome.error.details),
      });
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) {
        log.error({ path, err: err.message }, "database unavailable: answered 503 so the node retries");
        return c.json(errorBody(err.code, err.message), 503);
      }
      log.error({ path, err }, "unexpected ingest failure");
      return c.json(errorBody("INTERNAL", (err as Error).message), 500);
    }
  });

  app.notFound((c) => c.json(errorBody("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`), 404));
  return app;
}
