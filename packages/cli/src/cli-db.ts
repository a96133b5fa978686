import { type Config, loadConfig } from "@second-layer/shared/config";
import { connect, type Db } from "@second-layer/shared/db/connect";
import { migrate } from "@second-layer/shared/db/migrate";
import { createLogger, type Logger } from "@second-layer/shared/logger";

/** Config, logger and a migrated database for commands that talk to Postgres directly. */
export async function openDatabase(name: string): Promise<{ config: Config; db: Db; log: Logger }> {
  const config = loadConfig();
  const log = createLogger(`sl-${name}`, config.LOG_LEVEL);
  if (!config.DATABASE_URL) throw new Error("DATABASE_URL is required for this command");
  const db = connect(config.DATABASE_URL, { max: 2 });
  await migrate(db.sql, config.DATABASE_URL, log);
  return { config, db, log };
}
