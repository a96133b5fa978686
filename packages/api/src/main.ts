import { ConfigError, loadConfig } from "@second-layer/shared/config";
import { connect } from "@second-layer/shared/db/connect";
import { migrate } from "@second-layer/shared/db/migrate";
import { createLogger } from "@second-layer/shared/logger";
import { stopOnSignals } from "@second-layer/shared/shutdown";
import { ApiConfigError, startApi } from "./start.ts";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger("api", config.LOG_LEVEL);
  if (!config.DATABASE_URL) {
    throw new ConfigError("DATABASE_URL is required (`bun run dev` starts a local Postgres and sets it for you)");
  }
  const db = connect(config.DATABASE_URL, { max: 20 });
  await migrate(db.sql, config.DATABASE_URL, log);
  const api = await startApi({ config, db, log });
  stopOnSignals({
    log,
    message: "shutting down: draining in-flight requests",
    stop: async () => {
      await api.stop();
      await db.close();
    },
  });
}

main().catch((err) => {
  const known = err instanceof ConfigError || err instanceof ApiConfigError;
  process.stderr.write(`api failed to start: ${known ? err.message : (err?.stack ?? err)}\n`);
  process.exit(1);
});
