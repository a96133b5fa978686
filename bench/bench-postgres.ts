import { connect } from "@second-layer/shared/db/connect";
import { type LocalPostgres, removeLocalPostgres, startLocalPostgres } from "@second-layer/shared/db/local-postgres";
import { migrate } from "@second-layer/shared/db/migrate";

// One throwaway cluster per benchmark run, with its default durability (fsync, synchronous_commit):
// the figures an operator would see. Databases are cloned from one migrated template.

const TEMPLATE = "bench_template";

export interface BenchCluster {
  pg: LocalPostgres;
  /** A fresh migrated database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  remove(): void;
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onDatabase<T>(url: string, fn: (sql: ReturnType<typeof connect>["sql"]) => Promise<T>): Promise<T> {
  const db = connect(url, { max: 1 });
  try {
    return await fn(db.sql);
  } finally {
    await db.close();
  }
}

export async function startBenchCluster(): Promise<BenchCluster> {
  const pg = await startLocalPostgres();
  try {
    await onDatabase(pg.url, (sql) => sql.unsafe(`create database ${TEMPLATE}`));
    const templateUrl = databaseUrl(pg.url, TEMPLATE);
    await onDatabase(templateUrl, (sql) => migrate(sql, templateUrl));
  } catch (err) {
    removeLocalPostgres(pg);
    throw err;
  }
  return {
    pg,
    async createDatabase(name) {
      await onDatabase(pg.url, (sql) => sql.unsafe(`create database ${name} template ${TEMPLATE}`));
      return databaseUrl(pg.url, name);
    },
    remove: () => removeLocalPostgres(pg),
  };
}

/**
 * Runs before every timed phase: VACUUM ANALYZE gives the planner statistics (without them the
 * foreign-key checks can cache a plan that scans every block) and leaves no dead rows to either side;
 * CHECKPOINT keeps the previous phase's dirty pages off this phase's clock.
 */
export async function settle(url: string): Promise<void> {
  await onDatabase(url, async (sql) => {
    await sql`vacuum analyze`;
    await sql`checkpoint`;
  });
}

/** Empties every table of ours (the migrations' record aside), as before the first POST. */
export async function emptyDatabase(url: string): Promise<void> {
  await onDatabase(url, async (sql) => {
    const tables = await sql<{ name: string }[]>`
      select tablename as name from pg_tables where schemaname = 'public' and tablename <> 'schema_migrations'`;
    await sql`truncate ${sql(tables.map((t) => t.name))} restart identity cascade`;
  });
}

/** Rows in the chain tables: a phase that skipped rows (duplicates, failures) would look faster than it is. */
export async function expectChainRows(url: string, expected: number): Promise<void> {
  const [row] = await onDatabase(
    url,
    (sql) => sql<{ n: string }[]>`
      select (select count(*) from blocks) + (select count(*) from transactions) + (select count(*) from events) as n`,
  );
  if (Number(row?.n) !== expected) throw new Error(`${url} holds ${row?.n} chain rows, expected ${expected}`);
}
