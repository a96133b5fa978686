import type { Config } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import { redactUrl } from "@second-layer/shared/redact-url";
import { foreignAddress } from "@second-layer/shared/stacks/principals";
import { backfillerFromConfig } from "./backfill/configure.ts";
import { createIndexerApp } from "./http/app.ts";
import { ByteBudget } from "./http/byte-budget.ts";
import { Ingestor, warnForeignNetwork } from "./ingest/ingestor.ts";
import { describeGaps, integrityReport } from "./integrity/integrity.ts";
import { NodeTipFollower } from "./integrity/node-tip-follower.ts";

export interface RunningIndexer {
  port: number;
  url: string;
  ingestor: Ingestor;
  /** Request body bytes held in memory right now, against MAX_INFLIGHT_BODY_BYTES. */
  inFlight: ByteBudget;
  /** With STACKS_NODE_RPC_URL: keeps the node's tip canonical here. */
  nodeTip: NodeTipFollower | null;
  stop(): Promise<void>;
}

export class IntegrityError extends Error {
  readonly code = "INTEGRITY_CHECK_FAILED";
}

/** Starts the indexer on an already migrated database. Used by main.ts, `bun run dev` and tests. */
export async function startIndexer(opts: { config: Config; db: Db; log: Logger }): Promise<RunningIndexer> {
  const { config, db, log } = opts;
  const network = config.STACKS_NETWORK;
  if (config.REQUIRE_INTEGRITY) {
    const report = await integrityReport(db.sql, network);
    if (report.gaps.length > 0) {
      throw new IntegrityError(
        `REQUIRE_INTEGRITY=true and ${report.totalMissingBlocks} ${network} blocks are missing: heights ${describeGaps(report.gaps)}. ` +
          "Start once without REQUIRE_INTEGRITY and AUTO_BACKFILL=true (with AUTO_BACKFILL_SOURCE) to fill them " +
          "while running, or replay them with `bun run replay`; restart with REQUIRE_INTEGRITY once /health/integrity is healthy.",
      );
    }
  }
  const ingestor = new Ingestor(db, network, log);
  // Said at start-up too, from the tip's transactions: a node on another network fed this database.
  const tipSenders = await db.sql<{ sender_address: string | null }[]>`
    select t.sender_address from chain_state s
    join transactions t on t.network = s.network and t.index_block_hash = s.tip_index_block_hash
    where s.network = ${network}`;
  const foreign = foreignAddress(
    network,
    tipSenders.map((t) => t.sender_address),
  );
  if (foreign) warnForeignNetwork(log, network, foreign);
  const nodeTip = config.STACKS_NODE_RPC_URL
    ? new NodeTipFollower({
        db,
        network,
        rpcUrl: config.STACKS_NODE_RPC_URL,
        intervalMs: config.NODE_TIP_CHECK_SECONDS * 1000,
        log: log.child({ component: "node-tip" }),
      })
    : null;
  const inFlight = new ByteBudget(config.MAX_INFLIGHT_BODY_BYTES);
  const app = createIndexerApp({
    db,
    ingestor,
    network,
    log,
    maxBodyBytes: config.MAX_BODY_BYTES,
    inFlight,
    observers: { allowed: config.OBSERVER_ALLOWED_IPS, trustedHops: config.TRUST_PROXY },
    nodeRpcUrl: config.STACKS_NODE_RPC_URL,
    nodeTip,
  });
  const server = Bun.serve({
    port: config.PORT ?? 3700,
    hostname: config.HOST,
    fetch: app.fetch,
    // Bun's default cap is 128 MB; genesis alone is ~80 MB and the node may send more.
    maxRequestBodySize: config.MAX_BODY_BYTES + 1024 * 1024,
    // A huge block can take longer than Bun's 10 s idle default to store.
    idleTimeout: 255,
  });
  const port = server.port ?? 0;
  log.info(
    {
      host: config.HOST,
      port,
      network,
      observerAllowedIps: config.OBSERVER_ALLOWED_IPS.map(([address, bits]) => `${address}/${bits}`).join(","),
      trustProxy: config.TRUST_PROXY,
      nodeRpcUrl: config.STACKS_NODE_RPC_URL && redactUrl(config.STACKS_NODE_RPC_URL),
      backfillSource:
        config.AUTO_BACKFILL && config.AUTO_BACKFILL_SOURCE ? redactUrl(config.AUTO_BACKFILL_SOURCE) : undefined,
    },
    "indexer listening",
  );
  const backfiller = backfillerFromConfig(config, { sql: db.sql, ingestor, log });
  backfiller?.start();
  nodeTip?.start();
  return {
    port,
    url: `http://${localHost(config.HOST)}:${port}`,
    ingestor,
    inFlight,
    nodeTip,
    async stop() {
      await nodeTip?.stop();
      await backfiller?.stop();
      await server.stop();
    },
  };
}

/** Where a client on this machine reaches a server listening on `host`. */
function localHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
