import { CHAIN_CHANNEL } from "@second-layer/shared/chain-log";
import type { Config } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import { startServiceHttp } from "@second-layer/shared/service-http";
import { VIEWS_CHANNEL } from "@second-layer/shared/views/store";
import { Registry } from "prom-client";
import { ViewProcessor } from "./view-processor.ts";

export interface RunningViewProcessor {
  processor: ViewProcessor;
  port: number;
  stop(): Promise<void>;
}

/** Starts the view processor on an already migrated database, with /health and /metrics on METRICS_PORT. */
export async function startViewProcessor(opts: {
  config: Config;
  db: Db;
  log: Logger;
  /** The safety-net poll (default 2 s); NOTIFYs wake the processor at once. */
  pollMs?: number;
}): Promise<RunningViewProcessor> {
  const { config, db, log } = opts;
  const registry = new Registry();
  const processor = new ViewProcessor({
    db,
    log,
    networks: config.NETWORKS,
    registry,
    batchSize: config.VIEW_BATCH_SIZE,
    undoDepth: config.VIEW_UNDO_DEPTH,
    pollMs: opts.pollMs,
  });
  // The chain log grew, or a view was deployed or changed: look now. The poll covers a missed one.
  const listeners = await Promise.all(
    [CHAIN_CHANNEL, VIEWS_CHANNEL].map((channel) => db.sql.listen(channel, () => processor.poke())),
  );
  processor.start();
  const http = startServiceHttp({
    port: config.METRICS_PORT ?? 3901,
    db,
    log,
    registry,
    health: () => ({ networks: config.NETWORKS, views: processor.loaded() }),
  });
  log.info({ networks: config.NETWORKS, metricsPort: http.port }, "view processor started");
  return {
    processor,
    port: http.port,
    async stop() {
      await processor.stop();
      for (const l of listeners) await l.unlisten();
      await http.stop();
    },
  };
}
