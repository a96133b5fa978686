import { ConfigError, loadConfig } from "@second-layer/shared/config";
import { connect } from "@second-layer/shared/db/connect";
import { migrate } from "@second-layer/shared/db/migrate";
import { createLogger } from "@second-layer/shared/logger";
import { SHUTDOWN_DEADLINE_MS, stopOnSignals } from "@second-layer/shared/shutdown";
import { startWorker, WorkerConfigError } from "./start.ts";

/**
 * How long a delivery in flight may take to finish once SIGTERM arrives (the webhook timeout may be
 * longer); then it is cancelled and sent again later. The rest of the deadline is for giving leases
 * back and closing connections.
 */
const DELIVERY_GRACE_MS = SHUTDOWN_DEADLINE_MS - 4_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger("worker", config.LOG_LEVEL);
  if (!config.DATABASE_URL) {
    throw new ConfigError("DATABASE_URL is required (`bun run dev` starts a local Postgres and sets it for you)");
  }
  const db = connect(config.DATABASE_URL, { max: config.WORKER_CONCURRENCY + 6 });
  await migrate(db.sql, config.DATABASE_URL, log);
  const worker = await startWorker({ config, db, log });
  stopOnSignals({
    log,
    message: "shutting down: finishing the deliveries in flight",
    stop: async () => {
      await worker.stop(DELIVERY_GRACE_MS);
      await db.close();
    },
  });
}

main().catch((err) => {
  const known = err instanceof ConfigError || err instanceof WorkerConfigError;
  process.stderr.write(`worker failed to start: ${known ? err.message : (err?.stack ?? err)}\n`);
  process.exit(1);
});
