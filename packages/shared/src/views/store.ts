import type postgres from "postgres";
import type { StacksNetwork } from "../config.ts";
import { toPostgresJson } from "../json-text.ts";
import { addColumnSql, addIndexSql, createTableSql, createViewSql, dropViewSql, viewSchemaName } from "./ddl.ts";
import { parseViewDefinition, type ViewDefinition, ViewValidationError } from "./definition.ts";

// Views as data: deploy, change, rebuild and delete them. Every change to a view's schema takes the
// view's advisory lock, which the processor holds while it writes a batch, so a rebuild never
// interleaves with one.

export type ViewStatus = "active" | "error";

/** NOTIFY channel: a view was deployed, changed or rebuilt (a wake-up for the processors). */
export const VIEWS_CHANNEL = "second_layer_views";

export interface ViewRecord {
  id: string;
  accountId: string;
  name: string;
  network: StacksNetwork;
  definition: ViewDefinition;
  schemaName: string;
  version: number;
  status: ViewStatus;
  statusReason: string | null;
  errorHeight: number | null;
  lastSeq: number;
  processedHeight: number | null;
  createdAt: string;
  updatedAt: string;
}

interface ViewRow {
  id: string;
  account_id: string;
  name: string;
  network: StacksNetwork;
  definition: ViewDefinition;
  schema_name: string;
  version: number;
  status: ViewStatus;
  status_reason: string | null;
  error_height: number | null;
  last_seq: string;
  processed_height: number | null;
  created_at: Date;
  updated_at: Date;
}

function record(r: ViewRow): ViewRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    network: r.network,
    definition: r.definition,
    schemaName: r.schema_name,
    version: r.version,
    status: r.status,
    statusReason: r.status_reason,
    errorHeight: r.error_height,
    lastSeq: Number(r.last_seq),
    processedHeight: r.processed_height,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export class ViewConflictError extends Error {
  readonly code = "VIEW_EXISTS";
}

/** A 63-bit key per view for pg_advisory_xact_lock, shared by the processor and these functions. */
export function viewLockKey(viewId: string): bigint {
  return BigInt.asIntN(64, BigInt(`0x${viewId.replaceAll("-", "").slice(0, 16)}`));
}

async function lockView(tx: postgres.TransactionSql, viewId: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(${viewLockKey(viewId).toString()}::bigint)`;
}

function runAll(tx: postgres.TransactionSql, statements: string[]) {
  return statements.reduce<Promise<unknown>>((p, s) => p.then(() => tx.unsafe(s)), Promise.resolve());
}

/** Deploys a view: checks the definition, creates its schema and tables. The processor builds it from startBlock. */
export async function deployView(
  sql: postgres.Sql,
  accountId: string,
  input: unknown,
  defaultNetwork: StacksNetwork,
): Promise<ViewRecord> {
  const compiled = parseViewDefinition(input, defaultNetwork);
  const id = crypto.randomUUID();
  const schema = viewSchemaName(id);
  const exists = () => new ViewConflictError(`a view named ${compiled.definition.name} exists already`);
  try {
    return await sql.begin(async (tx) => {
      const [taken] =
        await tx`select 1 from views where account_id = ${accountId} and name = ${compiled.definition.name}`;
      if (taken) throw exists();
      // The definition goes in as json text, so tables and columns keep the order they were written in.
      const [row] = await tx<ViewRow[]>`
        insert into views (id, account_id, name, network, definition, schema_name)
        values (${id}, ${accountId}, ${compiled.definition.name}, ${compiled.network},
          ${toPostgresJson(compiled.definition)}::text::json, ${schema})
        returning *`;
      await runAll(tx, createViewSql(schema, compiled.definition));
      await tx`select pg_notify(${VIEWS_CHANNEL}, ${id})`;
      return record(row as ViewRow);
    });
  } catch (err) {
    // Two deploys of one name at once: the second meets the unique key instead of the check.
    if ((err as { code?: string }).code === "23505") throw exists();
    throw err;
  }
}

export async function getView(sql: postgres.Sql, accountId: string | null, name: string): Promise<ViewRecord | null> {
  const [row] = await sql<ViewRow[]>`
    select * from views where name = ${name} and (${accountId}::uuid is null or account_id = ${accountId}::uuid)`;
  return row ? record(row) : null;
}

/** An account's views by name; every account's with `accountId` null (for metrics). */
export async function listViews(sql: postgres.Sql, accountId: string | null): Promise<ViewRecord[]> {
  const rows = await sql<ViewRow[]>`
    select * from views where ${accountId}::uuid is null or account_id = ${accountId}::uuid order by name, id`;
  return rows.map(record);
}

/** Drops and recreates a view's tables and sends it back to startBlock (its definition may change with it). */
async function rebuild(tx: postgres.TransactionSql, view: ViewRecord, def: ViewDefinition): Promise<ViewRow> {
  await runAll(tx, [dropViewSql(view.schemaName), ...createViewSql(view.schemaName, def)]);
  const [row] = await tx<ViewRow[]>`
    update views set definition = ${toPostgresJson(def)}::text::json, version = version + 1, status = 'active',
      status_reason = null, error_height = null, last_seq = 0, processed_height = null, updated_at = now()
    where id = ${view.id} returning *`;
  await tx`select pg_notify(${VIEWS_CHANNEL}, ${view.id})`;
  return row as ViewRow;
}

export async function reindexView(
  sql: postgres.Sql,
  accountId: string | null,
  name: string,
): Promise<ViewRecord | null> {
  const view = await getView(sql, accountId, name);
  if (!view) return null;
  return await sql.begin(async (tx) => {
    await lockView(tx, view.id);
    return record(await rebuild(tx, view, view.definition));
  });
}

/** JSON with every object's keys in order: a stored definition comes back from jsonb with its keys reordered. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * What changing `before` into `after` needs: nothing but DDL (new tables, new nullable columns, new
 * indexes, a new description), or a rebuild from startBlock (anything that changes what the tables
 * would hold for blocks already processed: handlers, types, keys, startBlock, network).
 */
export function changeKind(
  before: ViewDefinition,
  after: ViewDefinition,
): { additive: boolean; ddl: (schema: string) => string[] } {
  const same = (a: unknown, b: unknown) => sortedJson(a) === sortedJson(b);
  if (
    !same(before.handlers, after.handlers) ||
    before.startBlock !== after.startBlock ||
    before.network !== after.network
  ) {
    return { additive: false, ddl: () => [] };
  }
  const steps: ((schema: string) => string[])[] = [];
  for (const [name, old] of Object.entries(before.tables)) {
    const next = after.tables[name];
    if (!next || !same(old.primaryKey, next.primaryKey)) return { additive: false, ddl: () => [] };
    for (const [col, spec] of Object.entries(old.columns)) {
      if (!same(spec, next.columns[col])) return { additive: false, ddl: () => [] };
    }
    const oldIndexes = (old.indexes ?? []).map((i) => JSON.stringify(i));
    if (!oldIndexes.every((i, n) => JSON.stringify((next.indexes ?? [])[n]) === i))
      return { additive: false, ddl: () => [] };
    for (const [col, spec] of Object.entries(next.columns)) {
      if (old.columns[col]) continue;
      if (!spec.nullable) return { additive: false, ddl: () => [] };
      steps.push((schema) => [addColumnSql(schema, name, col, spec)]);
    }
    for (const [n, cols] of (next.indexes ?? []).entries()) {
      if (n >= oldIndexes.length) steps.push((schema) => [addIndexSql(schema, name, cols, n)]);
    }
  }
  for (const [name, table] of Object.entries(after.tables)) {
    if (!before.tables[name]) steps.push((schema) => createTableSql(schema, name, table));
  }
  return { additive: true, ddl: (schema) => steps.flatMap((s) => s(schema)) };
}

/**
 * PUT: the new definition replaces the old. Additive changes are applied in place and the view goes
 * on where it was; any other change rebuilds it from startBlock. The name stays.
 */
export async function updateView(
  sql: postgres.Sql,
  accountId: string | null,
  name: string,
  input: unknown,
  defaultNetwork: StacksNetwork,
): Promise<{ view: ViewRecord; rebuilt: boolean } | null> {
  const view = await getView(sql, accountId, name);
  if (!view) return null;
  const compiled = parseViewDefinition(input, defaultNetwork);
  if (compiled.definition.name !== view.name) {
    throw new ViewValidationError([
      { path: "name", message: `a view keeps its name (${view.name}); deploy a new one instead` },
    ]);
  }
  const change = changeKind(view.definition, compiled.definition);
  return await sql.begin(async (tx) => {
    await lockView(tx, view.id);
    if (!change.additive) return { view: record(await rebuild(tx, view, compiled.definition)), rebuilt: true };
    await runAll(tx, change.ddl(view.schemaName));
    // A redeploy also resumes a view stopped by an error, at the block it stopped on.
    const [row] = await tx<ViewRow[]>`
      update views set definition = ${toPostgresJson(compiled.definition)}::text::json, version = version + 1,
        status = 'active', status_reason = null, error_height = null, updated_at = now()
      where id = ${view.id} returning *`;
    await tx`select pg_notify(${VIEWS_CHANNEL}, ${view.id})`;
    return { view: record(row as ViewRow), rebuilt: false };
  });
}

export async function deleteView(sql: postgres.Sql, accountId: string | null, name: string): Promise<boolean> {
  const view = await getView(sql, accountId, name);
  if (!view) return false;
  await sql.begin(async (tx) => {
    await lockView(tx, view.id);
    await tx.unsafe(dropViewSql(view.schemaName));
    await tx`delete from views where id = ${view.id}`;
  });
  return true;
}
