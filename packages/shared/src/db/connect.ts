import { Kysely } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import postgres from "postgres";
import type { Database } from "./tables.ts";

/** Anything queries can run on: the pool or an open transaction. */
export type Sql = postgres.Sql | postgres.TransactionSql;

export interface DbOptions {
  max?: number;
  /** Seconds to wait for a connection: kept short so callers can answer 503 instead of hanging. */
  connectTimeout?: number;
}

export interface Db {
  sql: postgres.Sql;
  kysely: Kysely<Database>;
  close(): Promise<void>;
}

export function connect(url: string, opts: DbOptions = {}): Db {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    connect_timeout: opts.connectTimeout ?? 3,
    idle_timeout: 30,
    onnotice: () => {},
  });
  const kysely = new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: sql }) });
  return {
    sql,
    kysely,
    async close() {
      await kysely.destroy();
      await sql.end({ timeout: 5 });
    },
  };
}

/**
 * True for failures that say "the database is unreachable right now" rather than "this data is bad":
 * the caller should answer 503 so the node retries, instead of journaling a permanent failure.
 */
export function isTransientDbError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code ?? "";
  // Connection trouble, resources, shutdown, serialization/deadlock, system errors; and a lock or
  // statement timeout (55P03, 57014): the same body will very likely store when it is sent again.
  if (/^(08|53|57P|40|58)/.test(code) || code === "55P03" || code === "57014") return true;
  return [
    "CONNECTION_CLOSED",
    "CONNECTION_ENDED",
    "CONNECTION_DESTROYED",
    "CONNECT_TIMEOUT",
    "ECONNREFUSED",
    "ECONNRESET",
    "EPIPE",
    "ETIMEDOUT",
    "ENOTFOUND",
    "ConnectionRefused",
    "ConnectionClosed",
  ].includes(code);
}
