import type { StacksNetwork } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import { startServiceHttp } from "@second-layer/shared/service-http";
import { streamStats } from "@second-layer/shared/streams/stream-stats";
import { Gauge } from "prom-client";
import type { SenderPool } from "../deliver/sender-pool.ts";
import type { ChainMatcher } from "../match/chain-matcher.ts";
import type { WorkerMetrics } from "../metrics.ts";

export interface HealthServerOptions {
  db: Db;
  metrics: WorkerMetrics;
  matchers: Map<StacksNetwork, ChainMatcher>;
  senders: SenderPool;
  workerId: string;
  port: number;
  log: Logger;
}

/**
 * The worker's own /health (liveness plus what it is doing; 503 when the database is unreachable)
 * and /metrics (Prometheus), on METRICS_PORT. Per-stream gauges are read from the database at scrape
 * time, so any worker process reports every stream.
 */
export function startHealthServer(opts: HealthServerOptions): { port: number; stop(): Promise<void> } {
  const { db, metrics, matchers, senders, workerId, log } = opts;
  const labels = ["stream_id", "network"] as const;
  const gauges = {
    lag: new Gauge({
      name: "second_layer_stream_lag_blocks",
      help: "Chain tip minus the oldest waiting delivery's height",
      labelNames: labels,
      registers: [metrics.registry],
    }),
    pending: new Gauge({
      name: "second_layer_stream_pending_deliveries",
      help: "Deliveries waiting to be sent",
      labelNames: labels,
      registers: [metrics.registry],
    }),
    parked: new Gauge({
      name: "second_layer_stream_parked_deliveries",
      help: "Deliveries parked as failed",
      labelNames: labels,
      registers: [metrics.registry],
    }),
    delivered: new Gauge({
      name: "second_layer_stream_delivered",
      help: "Deliveries acknowledged, since the stream was created",
      labelNames: labels,
      registers: [metrics.registry],
    }),
    lastSeq: new Gauge({
      name: "second_layer_stream_last_delivered_seq",
      help: "Seq of the last acknowledged delivery",
      labelNames: labels,
      registers: [metrics.registry],
    }),
    active: new Gauge({
      name: "second_layer_stream_active",
      help: "1 when the stream is active, 0 when paused, failed or disabled",
      labelNames: labels,
      registers: [metrics.registry],
    }),
  };
  return startServiceHttp({
    port: opts.port,
    db,
    log,
    registry: metrics.registry,
    health: () => ({
      workerId,
      matchers: [...matchers].map(([network, m]) => ({
        network,
        leading: m.leading,
        cursor: m.leading ? m.cursor : null,
      })),
      senders: { busy: senders.busy.size },
    }),
    refreshMetrics: async () => {
      const stats = await streamStats(db.sql, null);
      for (const g of Object.values(gauges)) g.reset();
      for (const s of stats) {
        const l = { stream_id: s.streamId, network: s.network };
        gauges.lag.set(l, s.lagBlocks);
        gauges.pending.set(l, s.pending);
        gauges.parked.set(l, s.parked);
        gauges.delivered.set(l, s.delivered);
        gauges.lastSeq.set(l, s.lastDeliveredSeq ?? 0);
        gauges.active.set(l, s.status === "active" ? 1 : 0);
      }
    },
  });
}
