import { Counter, Histogram, Registry } from "prom-client";

/** The API's own Prometheus metrics; chain and delivery gauges are added by the /metrics route. */
export function createApiMetrics() {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({
      name: "second_layer_api_requests_total",
      help: "HTTP requests by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: "second_layer_api_request_duration_seconds",
      help: "HTTP request latency by method and route pattern",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
