import { ConfigError, loadConfig } from "@second-layer/shared/config";
import { connect } from "@second-layer/shared/db/connect";
import { migrate } from "@second-layer/shared/db/migrate";
import { createLogger } from "@second-layer/shared/logger";
import { stopOnSignals } from "@second-layer/shared/shutdown";
import { startViewProcessor } from "./start.ts";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger("view-processor", config.LOG_LEVEL);
  if (!config.DATABASE_URL) {
    throw new ConfigError("DATABASE_URL is required (`bun run dev` starts a local Postgres and sets it for you)");
  }
  const db = connect(config.DATABASE_URL, { max: 6 });
  await migrate(db.sql, config.DATABASE_URL, log);
  const processor = await startViewProcessor({ config, db, log });
  stopOnSignals({
    log,
    message: "shutting down: the batch in hand commits or rolls back",
    stop: async () => {
      await processor.stop();
      await db.close();
    },
  });
}

main().catch((err) => {
  process.stderr.write(
    `view-processor failed to start: ${err instanceof ConfigError ? err.message : (err?.stack ?? err)}\n`,
  );
  process.exit(1);
});
