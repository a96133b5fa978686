import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Logger as GraphileLogger, runMigrations as runGraphileWorkerMigrations } from "graphile-worker";
import type postgres from "postgres";
import type { Logger } from "../logger.ts";

// graphile-worker logs every migration step at info; our own line per file is enough.
const silentGraphileLogger = new GraphileLogger(() => () => {});

const MIGRATIONS_DIR = join(import.meta.dir, "migrations");
// Any constant works; every service uses this one so concurrent start-ups queue behind each other.
const MIGRATION_LOCK_KEY = 7_241_977_001;

/** The migration files this code expects, in order. */
export async function migrationFiles(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith(".sql")).sort();
}

/** Migrations this code has that the database lacks (empty when the schema is current). */
export async function pendingMigrations(sql: postgres.Sql | postgres.TransactionSql): Promise<string[]> {
  const [exists] = await sql<{ t: string | null }[]>`select to_regclass('schema_migrations')::text as t`;
  const done = exists?.t
    ? new Set((await sql<{ name: string }[]>`select name from schema_migrations`).map((r) => r.name))
    : new Set();
  return (await migrationFiles()).filter((f) => !done.has(f));
}

/**
 * Applies graphile-worker's schema, then our plain-SQL migrations in file-name order, each in its own
 * transaction. A session advisory lock makes it safe for several services to start at once.
 */
export async function migrate(sql: postgres.Sql, databaseUrl: string, log?: Logger): Promise<string[]> {
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await runGraphileWorkerMigrations({ connectionString: databaseUrl, logger: silentGraphileLogger });
    await conn`create table if not exists schema_migrations (
      name text primary key, applied_at timestamptz not null default now())`;
    const done = new Set((await conn<{ name: string }[]>`select name from schema_migrations`).map((r) => r.name));
    const files = await migrationFiles();
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      const text = await readFile(join(MIGRATIONS_DIR, file), "utf8");
      // A reserved connection has no begin(); the lock must stay on this session, so spell it out.
      await conn`begin`;
      try {
        await conn.unsafe(text);
        await conn`insert into schema_migrations (name) values (${file})`;
        await conn`commit`;
      } catch (err) {
        await conn`rollback`;
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      log?.info({ migration: file }, "migration applied");
      applied.push(file);
    }
    return applied;
  } finally {
    await conn`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    conn.release();
  }
}
