import { ConfigError, loadConfig } from "@second-layer/shared/config";
import { connect } from "@second-layer/shared/db/connect";
import { migrate } from "@second-layer/shared/db/migrate";
import { createLogger } from "@second-layer/shared/logger";
import { stopOnSignals } from "@second-layer/shared/shutdown";
import { IntegrityError, startIndexer } from "./start.ts";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger("indexer", config.LOG_LEVEL);
  if (!config.DATABASE_URL) {
    throw new ConfigError("DATABASE_URL is required (`bun run dev` starts a local Postgres and sets it for you)");
  }
  const db = connect(config.DATABASE_URL);
  await migrate(db.sql, config.DATABASE_URL, log);
  const indexer = await startIndexer({ config, db, log });
  stopOnSignals({
    log,
    // A POST being stored commits and is answered; the node resends anything it got no answer for.
    message: "shutting down: finishing the requests in flight",
    stop: async () => {
      await indexer.stop();
      await db.close();
    },
  });
}

main().catch((err) => {
  // Operator-facing start-up failures get their message alone; anything else keeps its stack.
  const known = err instanceof ConfigError || err instanceof IntegrityError;
  process.stderr.write(`indexer failed to start: ${known ? err.message : (err?.stack ?? err)}\n`);
  process.exit(1);
});
