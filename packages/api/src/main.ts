import { ConfigError, loadConfig } from "@second-layer/shared/config";
import { connect } from "@second-layer/shared/db/connect";
import { migrate } from "@second-layer/shared/db/migrate";
import { createLogger } from "@second-layer/shared/logger";
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
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, async () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "shutting down: draining in-flight requests");
      await api.stop();
      await db.close();
      process.exit(0);
    });
  }
}

main().catch((err) => {
  const known = err instanceof ConfigError || err instanceof ApiConfigError;
  process.stderr.write(`api failed to start: ${known ? err.message : (err?.stack ?? err)}\n`);
  process.exit(1);
});
