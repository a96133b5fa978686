import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The worker's Prometheus metrics; per-stream gauges are read from the database at scrape time. */
export function createWorkerMetrics() {
  const registry = new Registry();
  const metrics = {
    registry,
    deliveriesCreated: new Counter({
      name: "second_layer_deliveries_created_total",
      help: "Deliveries written by the matcher (applies, rollbacks, catch-up), by network",
      labelNames: ["network"],
      registers: [registry],
    }),
    attempts: new Counter({
      name: "second_layer_webhook_attempts_total",
      help: "Webhook POSTs by outcome",
      labelNames: ["network", "outcome"],
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: "second_layer_webhook_attempt_duration_seconds",
      help: "Time from sending a webhook to its answer (or failure)",
      labelNames: ["network"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
      registers: [registry],
    }),
    delivered: new Counter({
      name: "second_layer_deliveries_delivered_total",
      help: "Deliveries acknowledged with a 2xx, by kind (apply, rollback)",
      labelNames: ["kind"],
      registers: [registry],
    }),
    parked: new Counter({
      name: "second_layer_deliveries_parked_total",
      help: "Deliveries parked as failed after their last retry",
      registers: [registry],
    }),
    matchSeconds: new Histogram({
      name: "second_layer_match_batch_duration_seconds",
      help: "Time to match one batch of chain log entries and write its deliveries",
      labelNames: ["network"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    matchErrors: new Counter({
      name: "second_layer_match_errors_total",
      help: "Matching batches that failed and were retried",
      labelNames: ["network"],
      registers: [registry],
    }),
    cursor: new Gauge({
      name: "second_layer_stream_matcher_cursor",
      help: "The last chain log seq matched by this process's matcher (while it leads)",
      labelNames: ["network"],
      registers: [registry],
    }),
  };
  return metrics;
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
