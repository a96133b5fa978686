import type { Db, Sql } from "@second-layer/shared/db/connect";
import { quoteIdent } from "@second-layer/shared/views/ddl";
import type { ViewRecord } from "@second-layer/shared/views/store";
import { ApiError } from "../http/api-error.ts";
import type { Statement } from "./row-sql.ts";

// Reads of views for the API: the tables' rows (each query bounded by VIEW_QUERY_TIMEOUT_MS), how far
// each view has come, and how many rows its tables hold.

/**
 * Runs a statement over a view's tables in a read-only transaction with a statement timeout. A query
 * that runs too long is 503 QUERY_TIMEOUT; a value Postgres still refuses is 400.
 */
export async function readView<T>(sql: Db["sql"], timeoutMs: number, st: Statement): Promise<T[]> {
  try {
    // Both statements are sent at once (pipelined): the timeout costs no round trip of its own.
    const [, rows] = await sql.begin("read only", (tx) => [
      tx`select set_config('statement_timeout', ${String(timeoutMs)}, true)`,
      tx.unsafe(st.text, st.params as never[]),
    ]);
    return rows as unknown as T[];
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (code === "57014") {
      throw new ApiError(
        503,
        "QUERY_TIMEOUT",
        `the query ran longer than ${timeoutMs} ms (VIEW_QUERY_TIMEOUT_MS): filter or sort on an indexed column, or ask for fewer rows`,
      );
    }
    // Data exceptions (a time out of Postgres's range, say): the query's values, not our failure.
    if (code.startsWith("22")) {
      throw new ApiError(
        400,
        "VALIDATION_FAILED",
        `a value of the query does not fit its column: ${(err as Error).message}`,
      );
    }
    // The view was rebuilt or deleted between reading its definition and its table.
    if (code === "42P01") throw new ApiError(409, "VIEW_CHANGED", "the view changed while it was read; ask again");
    throw err;
  }
}

export interface ChainHead {
  tipHeight: number | null;
  logSeq: number;
}

/** Tip height and chain log head of every network (chain_state: one row each). */
export async function chainHeads(sql: Sql): Promise<Map<string, ChainHead>> {
  const rows = await sql<{ network: string; tip_height: number | null; log_seq: string }[]>`
    select network, tip_height, log_seq from chain_state`;
  return new Map(rows.map((r) => [r.network, { tipHeight: r.tip_height, logSeq: Number(r.log_seq) }]));
}

export interface ViewProgress {
  processedHeight: number | null;
  chainTip: number | null;
  lagBlocks: number;
  lastSeq: number;
  headSeq: number;
  lagEntries: number;
  caughtUp: boolean;
}

/** How far a view has come: its cursor against the chain log's head, its last block against the tip. */
export function viewProgress(view: ViewRecord, head: ChainHead | undefined): ViewProgress {
  const headSeq = head?.logSeq ?? 0;
  const lagEntries = Math.max(0, headSeq - view.lastSeq);
  const chainTip = head?.tipHeight ?? null;
  // Before its first block, a view is behind by everything from its startBlock up.
  const done = view.processedHeight ?? (view.definition.startBlock ?? 0) - 1;
  const lagBlocks = lagEntries === 0 || chainTip === null ? 0 : Math.max(0, chainTip - done);
  return {
    processedHeight: view.processedHeight,
    chainTip,
    lagBlocks,
    lastSeq: view.lastSeq,
    headSeq,
    lagEntries,
    caughtUp: lagEntries === 0,
  };
}

/** A view as the API shows it (its account is implied by the key that asks). */
export function publicView(view: ViewRecord, head: ChainHead | undefined) {
  return {
    id: view.id,
    name: view.name,
    description: view.definition.description ?? null,
    network: view.network,
    status: view.status,
    statusReason: view.statusReason,
    errorHeight: view.errorHeight,
    version: view.version,
    startBlock: view.definition.startBlock ?? 0,
    progress: viewProgress(view, head),
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  };
}

/** Tables of at most this many rows are counted; larger ones are estimated. */
export const EXACT_COUNT_UP_TO = 10_000;

export interface TableRows {
  name: string;
  rows: number;
  /** False: Postgres's estimate (pg_class.reltuples, as of the table's last ANALYZE), or a lower bound. */
  rowsExact: boolean;
}

/**
 * Rows per table of a view: counted exactly up to EXACT_COUNT_UP_TO rows (a count that stops there),
 * else the planner's estimate; never a scan of a large table.
 */
export async function tableRows(sql: Db["sql"], timeoutMs: number, view: ViewRecord): Promise<TableRows[]> {
  const estimates = await sql<{ name: string; n: number }[]>`
    select c.relname as name, c.reltuples::float8 as n from pg_class c
    join pg_namespace s on s.oid = c.relnamespace
    where s.nspname = ${view.schemaName} and c.relkind = 'r'`;
  const estimate = new Map(estimates.map((e) => [e.name, e.n]));
  return await Promise.all(
    Object.keys(view.definition.tables).map(async (name): Promise<TableRows> => {
      const guess = estimate.get(name) ?? -1;
      if (guess > EXACT_COUNT_UP_TO) return { name, rows: Math.round(guess), rowsExact: false };
      const [row] = await readView<{ n: number }>(sql, timeoutMs, {
        text: `select count(*)::int as n from (select from ${quoteIdent(view.schemaName)}.${quoteIdent(name)} limit ${EXACT_COUNT_UP_TO + 1}) t`,
        params: [],
      });
      const n = row?.n ?? 0;
      return n > EXACT_COUNT_UP_TO
        ? { name, rows: Math.max(n, Math.round(guess)), rowsExact: false }
        : { name, rows: n, rowsExact: true };
    }),
  );
}

/** Every view table's estimated rows (pg_class.reltuples; 0 before its first ANALYZE), for /metrics. */
export async function estimatedRows(sql: Sql): Promise<{ viewId: string; table: string; rows: number }[]> {
  const rows = await sql<{ view_id: string; table_name: string; n: number }[]>`
    select v.id as view_id, c.relname as table_name, greatest(c.reltuples, 0)::float8 as n
    from views v
    join pg_namespace s on s.nspname = v.schema_name
    join pg_class c on c.relnamespace = s.oid and c.relkind = 'r' and c.relname <> '_undo'`;
  return rows.map((r) => ({ viewId: r.view_id, table: r.table_name, rows: Math.round(r.n) }));
}
