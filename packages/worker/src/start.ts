import { hostname } from "node:os";
import { CHAIN_TASK } from "@second-layer/shared/chain-log";
import type { Config, StacksNetwork } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import { SecretsBox } from "@second-layer/shared/secrets-box";
import { REPLAY_TASK } from "@second-layer/shared/streams/store";
import { createGuardedAgent } from "@second-layer/shared/webhooks/url-guard";
import { Logger as GraphileLogger, type Runner, run as runGraphile } from "graphile-worker";
import { SenderPool } from "./deliver/sender-pool.ts";
import { StreamSender } from "./deliver/stream-sender.ts";
import { startHealthServer } from "./http/health-server.ts";
import { pruneDeliveries } from "./maintenance/prune.ts";
import { ChainMatcher } from "./match/chain-matcher.ts";
import { replayRange, replayRequestSchema } from "./match/replay.ts";
import { createWorkerMetrics } from "./metrics.ts";
import { listenForWakeUps } from "./wake.ts";

const PRUNE_TASK = "prune_deliveries";

export interface RunningWorker {
  workerId: string;
  matchers: Map<StacksNetwork, ChainMatcher>;
  senders: SenderPool;
  /** The port of /health and /metrics. */
  port: number;
  /** Stops; deliveries in flight get `deliveryGraceMs` to finish, then are cancelled and sent again later. */
  stop(deliveryGraceMs?: number): Promise<void>;
}

export class WorkerConfigError extends Error {
  readonly code = "INVALID_CONFIG";
}

/**
 * Starts the worker on an already migrated database: a chain matcher per network in NETWORKS (one of
 * them leads per network across all processes), WORKER_CONCURRENCY sender slots, graphile-worker for
 * wake-up jobs, replays and pruning, and /health + /metrics on METRICS_PORT.
 */
export async function startWorker(opts: { config: Config; db: Db; log: Logger }): Promise<RunningWorker> {
  const { config, db, log } = opts;
  if (!config.SECRETS_KEY) {
    throw new WorkerConfigError(
      "SECRETS_KEY is required: it decrypts the streams' signing secrets (`openssl rand -base64 32`)",
    );
  }
  if (!config.DATABASE_URL) throw new WorkerConfigError("DATABASE_URL is required");
  const secrets = new SecretsBox(config.SECRETS_KEY);
  const workerId = `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
  const metrics = createWorkerMetrics();
  const dispatcher = createGuardedAgent({
    allowedPrivateHosts: config.WEBHOOK_ALLOWED_PRIVATE_HOSTS,
    connectTimeout: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
  });

  const matchers = new Map(
    config.NETWORKS.map((network) => [
      network,
      new ChainMatcher({ db, network, log: log.child({ component: "matcher", network }), metrics }),
    ]),
  );
  const sender = new StreamSender({
    db,
    log: log.child({ component: "sender" }),
    metrics,
    workerId,
    secrets,
    dispatcher,
    policy: { scheduleMs: config.WEBHOOK_RETRY_SCHEDULE, jitter: 0.2 },
    timeoutMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
    failureThreshold: config.STREAM_FAILURE_THRESHOLD,
  });
  const senders = new SenderPool({
    log: log.child({ component: "senders" }),
    sender,
    workerId,
    networks: config.NETWORKS,
    concurrency: config.WORKER_CONCURRENCY,
  });
  const unlisten = await listenForWakeUps(db, log, {
    chain: (network) => matchers.get(network as StacksNetwork)?.poke(),
    deliveries: () => senders.poke(),
  });

  const graphileLog = log.child({ component: "graphile-worker" });
  const runner: Runner = await runGraphile({
    connectionString: config.DATABASE_URL,
    concurrency: 2,
    noHandleSignals: true,
    pollInterval: 2000,
    logger: new GraphileLogger(() => (level, message) => {
      if (level === "error" || level === "warning") graphileLog.warn({ level }, message);
    }),
    taskList: {
      // The indexer's wake-up; the NOTIFY usually got here first.
      [CHAIN_TASK]: async (payload) => {
        matchers.get((payload as { network?: StacksNetwork }).network as StacksNetwork)?.poke();
      },
      [REPLAY_TASK]: async (payload) => {
        // A malformed job fails loudly (graphile-worker keeps it with its error) instead of replaying nothing.
        const req = replayRequestSchema.parse(payload);
        const n = await replayRange(db, req);
        log.info({ ...req, deliveries: n }, "stream replay queued");
      },
      [PRUNE_TASK]: async () => {
        const n = await pruneDeliveries(db.sql, config.DELIVERY_RETENTION_DAYS);
        if (n > 0) log.info({ deleted: n, retentionDays: config.DELIVERY_RETENTION_DAYS }, "old deliveries pruned");
      },
    },
    crontab: `0 * * * * ${PRUNE_TASK}`,
  });

  for (const m of matchers.values()) m.start();
  senders.start();
  const health = startHealthServer({
    db,
    metrics,
    matchers,
    senders,
    workerId,
    port: config.METRICS_PORT ?? 3900,
    log,
  });
  log.info(
    { workerId, networks: config.NETWORKS, concurrency: config.WORKER_CONCURRENCY, metricsPort: health.port },
    "worker started",
  );
  return {
    workerId,
    matchers,
    senders,
    port: health.port,
    async stop(deliveryGraceMs?: number) {
      // In-flight deliveries finish (or are cancelled) and their leases are given back; nothing new starts.
      await Promise.all([senders.stop(deliveryGraceMs), ...[...matchers.values()].map((m) => m.stop())]);
      await runner.stop();
      await unlisten();
      await health.stop();
      await dispatcher.close();
    },
  };
}
