// `bun run migrate`: applies pending migrations to DATABASE_URL and exits. Services also migrate at
// start-up; this is for operators who want schema changes applied ahead of a deploy.
import { ConfigError, loadConfig } from "../config.ts";
import { createLogger } from "../logger.ts";
import { connect } from "./connect.ts";
import { migrate } from "./migrate.ts";

try {
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new ConfigError("DATABASE_URL is required for `bun run migrate`");
  const log = createLogger("migrate", config.LOG_LEVEL);
  const db = connect(config.DATABASE_URL, { max: 1 });
  const applied = await migrate(db.sql, config.DATABASE_URL, log);
  log.info({ applied: applied.length }, applied.length ? "migrations applied" : "schema already up to date");
  await db.close();
} catch (err) {
  process.stderr.write(`migrate failed: ${(err as Error).message}\n`);
  process.exit(1);
}
