import type { FieldIssue } from "@second-layer/shared/streams/filters";
import { type ColumnType, SQL_TYPES, toColumnValue } from "@second-layer/shared/views/column-values";
import type { TableSpec } from "@second-layer/shared/views/definition";

// The query language of a view's table: `col=v`, `col.gt=v` (gte, lt, lte, ne), `col.in=a,b`,
// `col.like=v`, `_sort`, `_order`, `_limit`, `_cursor`, `_fields`. Parsing checks every name against
// the table's definition and every value against its column's type, and reports each problem with
// the parameter it is in; nothing here touches SQL text (see row-sql.ts).

export const MAX_ROWS_LIMIT = 1000;
export const DEFAULT_ROWS_LIMIT = 100;
const MAX_IN_VALUES = 100;
const MAX_CURSOR_LENGTH = 2000;

/** A column a query can name: the table's own, and the two every row carries. */
export interface QueryColumn {
  name: string;
  type: ColumnType;
  /** The SQL type bound values are cast to. */
  sqlType: string;
  nullable: boolean;
}

/** What last wrote each row: the block height and the transaction (null for block handlers). */
const SYSTEM_QUERY_COLUMNS: QueryColumn[] = [
  { name: "_block_height", type: "int", sqlType: "integer", nullable: false },
  { name: "_tx_id", type: "text", sqlType: "text", nullable: true },
];

export function queryColumns(table: TableSpec): Map<string, QueryColumn> {
  const out = new Map<string, QueryColumn>();
  for (const [name, spec] of Object.entries(table.columns)) {
    out.set(name, { name, type: spec.type, sqlType: SQL_TYPES[spec.type], nullable: spec.nullable });
  }
  for (const c of SYSTEM_QUERY_COLUMNS) out.set(c.name, c);
  return out;
}

export const FILTER_OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "like"] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

const ORDERED: FilterOp[] = ["eq", "ne", "gt", "gte", "lt", "lte", "in"];
const OPS_BY_TYPE: Record<ColumnType, FilterOp[]> = {
  text: [...ORDERED, "like"],
  principal: [...ORDERED, "like"],
  uint: ORDERED,
  int: ORDERED,
  timestamp: ORDERED,
  bool: ["eq", "ne", "in"],
  json: [],
};

/** Values travel as text and are cast to the column's type in SQL (`$1::text::numeric`). */
export type Filter =
  | { column: QueryColumn; op: Exclude<FilterOp, "in">; value: string }
  | { column: QueryColumn; op: "in"; value: string[] };

export type SortOrder = "asc" | "desc";

/** Where the previous page ended: its last row's sort key (as text) and row id. */
export interface Keyset {
  key: string | null;
  id: string;
}

export interface RowQuery {
  filters: Filter[];
  /** null: the row id, i.e. the order rows were first written in. */
  sort: QueryColumn | null;
  order: SortOrder;
  limit: number;
  after: Keyset | null;
  fields: QueryColumn[];
}

/** The parameters that are not filters, as the route's schema validated them. */
export interface RowOptions {
  _sort?: string;
  _order: SortOrder;
  _limit: number;
  _cursor?: string;
  _fields?: string;
}

export const ROW_OPTION_NAMES = ["_sort", "_order", "_limit", "_cursor", "_fields"] as const;

export class RowQueryError extends Error {
  constructor(readonly details: FieldIssue[]) {
    super(details.map((d) => `${d.path}: ${d.message}`).join("; "));
  }
}

const INTEGER_RANGE = 2_147_483_647n;
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3,6}Z$/;

/**
 * A filter value as text of the column's type (decimal integers, `true`/`false`, ISO times from
 * unix seconds or a date), or why it is not one.
 */
function filterValue(column: QueryColumn, raw: string): { value: string } | { error: string } {
  try {
    if (column.type === "bool") {
      if (raw === "true" || raw === "false") return { value: raw };
      return { error: `${JSON.stringify(raw)} is not true or false (column ${column.name} is bool)` };
    }
    const value = String(toColumnValue(column.type, raw, column.name));
    if (column.sqlType === "integer" && (BigInt(value) > INTEGER_RANGE || BigInt(value) < -INTEGER_RANGE)) {
      return { error: `${raw} is out of range for ${column.name}` };
    }
    if (column.type === "timestamp" && (!ISO_UTC.test(value) || value.startsWith("0000"))) {
      return { error: `${JSON.stringify(raw)} is not a time between the years 0001 and 9999` };
    }
    return { value };
  } catch (err) {
    // toColumnValue says what did not fit; a time too far out for a Date throws a RangeError.
    return { error: err instanceof RangeError ? `${JSON.stringify(raw)} is not a time` : (err as Error).message };
  }
}

/** Checks a sort key read back from a cursor: the text form row-sql.ts selects for each type. */
function keyIsValid(column: QueryColumn, key: string): boolean {
  switch (column.type) {
    case "uint":
    case "int":
      return /^-?\d{1,78}$/.test(key) && (column.sqlType !== "integer" || BigInt(key) <= INTEGER_RANGE);
    case "bool":
      return key === "true" || key === "false";
    case "timestamp":
      return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(key);
    default:
      return true;
  }
}

const NOT_A_CURSOR = "not a cursor this API gave (pass `next` of the previous page)";

interface CursorBody {
  /** Sort column ("" for the row id) and order the cursor was made for. */
  s: string;
  o: SortOrder;
  k: string | null;
  i: string;
}

export function encodeCursor(sort: QueryColumn | null, order: SortOrder, at: Keyset): string {
  const body: CursorBody = { s: sort?.name ?? "", o: order, k: at.key, i: at.id };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

function decodeCursor(token: string, sort: QueryColumn | null, order: SortOrder): Keyset | string {
  let body: Partial<CursorBody>;
  try {
    if (token.length > MAX_CURSOR_LENGTH) throw new Error("too long");
    body = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    return NOT_A_CURSOR;
  }
  if (typeof body?.i !== "string" || !/^\d{1,19}$/.test(body.i) || (body.k !== null && typeof body.k !== "string")) {
    return NOT_A_CURSOR;
  }
  if (body.s !== (sort?.name ?? "") || body.o !== order) {
    const was = body.s ? `_sort=${body.s}` : "no _sort";
    return `this cursor continues a query with ${was} and _order=${body.o}: pass the same _sort and _order`;
  }
  const key = body.k ?? null;
  const fits = sort ? (key === null ? sort.nullable : keyIsValid(sort, key)) : key === null;
  if (!fits) return NOT_A_CURSOR;
  return { key, id: body.i };
}

/** One filter parameter (`col`, `col.op`) with the values given for it, or null after reporting why not. */
function parseFilter(
  c: QueryColumn,
  param: string,
  values: string[],
  issue: (path: string, message: string) => void,
): Filter | null {
  const dot = param.indexOf(".");
  const op = (dot === -1 ? "eq" : param.slice(dot + 1)) as FilterOp;
  if (!FILTER_OPS.includes(op)) {
    issue(param, `unknown operator ${op}: use ${c.name}=v or ${c.name}.OP=v with OP one of ${FILTER_OPS.join(", ")}`);
    return null;
  }
  if (!OPS_BY_TYPE[c.type].includes(op)) {
    issue(param, `a ${c.type} column takes ${OPS_BY_TYPE[c.type].join(", ") || "no filters"}, not ${op}`);
    return null;
  }
  if (values.length !== 1) {
    issue(param, `given ${values.length} times; give it once (${c.name}.in=a,b for several values)`);
    return null;
  }
  const raw = values[0] as string;
  if (op === "like") return { column: c, op, value: raw };
  if (op === "in") {
    const list = raw.split(",");
    if (list.length > MAX_IN_VALUES) {
      issue(param, `at most ${MAX_IN_VALUES} values`);
      return null;
    }
    const parsed = list.map((item) => filterValue(c, item));
    const errors = parsed.flatMap((v) => ("error" in v ? [v.error] : []));
    for (const e of errors) issue(param, e);
    return errors.length > 0 ? null : { column: c, op, value: parsed.map((v) => (v as { value: string }).value) };
  }
  const v = filterValue(c, raw);
  if ("error" in v) {
    issue(param, v.error);
    return null;
  }
  return { column: c, op, value: v.value };
}

/**
 * Parses a query of `table`: `params` are all the request's query parameters (each with every value
 * given), `options` the non-filter ones as the route validated them, or null where only filters are
 * taken (`/count`). Throws RowQueryError naming each bad parameter.
 */
export function parseRowQuery(
  table: TableSpec,
  params: Record<string, string[]>,
  options: RowOptions | null,
): RowQuery {
  const columns = queryColumns(table);
  const issues: FieldIssue[] = [];
  const issue = (path: string, message: string) => issues.push({ path, message });
  const known = [...columns.keys()].join(", ");
  const column = (name: string, path: string): QueryColumn | null => {
    const c = columns.get(name);
    if (!c) issue(path, `no column ${name} in this table (it has ${known})`);
    return c ?? null;
  };

  const filters: Filter[] = [];
  for (const [param, values] of Object.entries(params)) {
    if (options && (ROW_OPTION_NAMES as readonly string[]).includes(param)) continue;
    const name = param.split(".")[0] as string;
    if (name.startsWith("_") && !columns.has(name)) {
      issue(param, `unknown parameter (parameters besides filters: ${options ? ROW_OPTION_NAMES.join(", ") : "none"})`);
      continue;
    }
    const c = column(name, param);
    const filter = c && parseFilter(c, param, values, issue);
    if (filter) filters.push(filter);
  }

  let sort: QueryColumn | null = null;
  let fields = [...columns.values()];
  let after: Keyset | null = null;
  if (options?._sort !== undefined) {
    sort = column(options._sort, "_sort");
    if (sort?.type === "json") {
      issue("_sort", `column ${sort.name} is json, which has no order`);
      sort = null;
    }
  }
  if (options?._fields !== undefined) {
    const names = [...new Set(options._fields.split(",").filter((f) => f !== ""))];
    if (names.length === 0) issue("_fields", "name at least one column");
    fields = names.flatMap((n) => column(n, "_fields") ?? []);
  }
  const order = options?._order ?? "asc";
  if (options?._cursor !== undefined && issues.every((i) => i.path !== "_sort")) {
    const decoded = decodeCursor(options._cursor, sort, order);
    if (typeof decoded === "string") issue("_cursor", decoded);
    else after = decoded;
  }
  if (issues.length > 0) throw new RowQueryError(issues);
  return { filters, sort, order, limit: options?._limit ?? DEFAULT_ROWS_LIMIT, after, fields };
}
