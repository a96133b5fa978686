import { healthSummary } from "@second-layer/shared/chain-status";
import type { Db } from "@second-layer/shared/db/connect";
import { databaseUnavailableBody, errorBody } from "@second-layer/shared/error-body";
import type { IpRange } from "@second-layer/shared/ip-ranges";
import type { Logger } from "@second-layer/shared/logger";
import { Hono } from "hono";
import { journalBlocksResponse } from "../backfill/journal-blocks.ts";
import { DatabaseUnavailableError, type Ingestor } from "../ingest/ingestor.ts";
import { integrityReport } from "../integrity/integrity.ts";
import { nodeStatus } from "../integrity/node-status.ts";
import type { NodeTipFollower } from "../integrity/node-tip-follower.ts";
import { type BodyVariables, bodyLimits } from "./body-limits.ts";
import type { ByteBudget } from "./byte-budget.ts";
import { chainEventsResponse } from "./chain-events.ts";
import { observerAccess, type PeerAddressSource } from "./observer-access.ts";

export interface IndexerAppDeps {
  db: Db;
  ingestor: Ingestor;
  network: string;
  log: Logger;
  maxBodyBytes: number;
  /** Body bytes held across concurrent POSTs (MAX_INFLIGHT_BODY_BYTES). */
  inFlight: ByteBudget;
  /** OBSERVER_ALLOWED_IPS and TRUST_PROXY: who may POST. */
  observers: { allowed: readonly IpRange[]; trustedHops: number };
  /** STACKS_NODE_RPC_URL: when set, /health says how far behind the node's tip we are. */
  nodeRpcUrl?: string;
  /** What the last check of the node's tip found (canonical here, unknown, or followed). */
  nodeTip?: NodeTipFollower | null;
  startedAt?: number;
}

/**
 * The event-observer receiver. Every POST path from an allowed address is accepted and journaled; the
 * node treats anything but 200 as "retry forever", so only a down database or a full in-flight budget
 * (503) or an oversized body (413) is refused. Reads are served to anyone and never write.
 */
export function createIndexerApp(deps: IndexerAppDeps): Hono<{ Bindings: PeerAddressSource } & BodyVariables> {
  const { db, ingestor, network, log, maxBodyBytes } = deps;
  const startedAt = deps.startedAt ?? Date.now();
  const app = new Hono<{ Bindings: PeerAddressSource } & BodyVariables>();

  app.get("/health", async (c) => {
    try {
      const summary = await healthSummary(db.sql, network);
      const node = deps.nodeRpcUrl
        ? {
            ...(await nodeStatus(deps.nodeRpcUrl, summary.lastIndexedBlock?.height ?? null)),
            ...(deps.nodeTip?.last ? { tip: deps.nodeTip.last } : {}),
          }
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
      return c.json({ status: "unavailable", network, ...databaseUnavailableBody() }, 503);
    }
  });

  app.get("/health/integrity", async (c) => {
    try {
      return c.json(await integrityReport(db.sql, network));
    } catch (err) {
      log.error({ err }, "integrity report could not reach the database");
      return c.json(databaseUnavailableBody(), 503);
    }
  });

  app.get("/chain/events", (c) => chainEventsResponse(db.sql, network, c.req.query(), log));

  // Another indexer's backfiller reads this indexer's journaled blocks here (AUTO_BACKFILL_SOURCE_TYPE=second-layer).
  app.get("/journal/blocks", (c) => journalBlocksResponse(db.sql, network, c.req.query(), log));

  const access = observerAccess({ ...deps.observers, log });
  const limits = bodyLimits({ maxBodyBytes, inFlight: deps.inFlight, log });
  app.post("*", access, limits, async (c) => {
    const path = c.req.path;
    try {
      const outcome = await ingestor.ingest(path, c.var.body);
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
        return c.json(databaseUnavailableBody(), 503);
      }
      log.error({ path, err }, "unexpected ingest failure");
      return c.json(errorBody("INTERNAL", "unexpected failure; the indexer log has the details"), 500);
    }
  });

  app.notFound((c) => c.json(errorBody("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`), 404));
  return app;
}
