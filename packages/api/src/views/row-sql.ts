import { quoteIdent } from "@second-layer/shared/views/ddl";
import type { Filter, QueryColumn, RowQuery } from "./row-query.ts";

// SQL of a parsed row query. Identifiers are the view's schema (ours) and names from its checked
// definition, quoted by quoteIdent (which refuses anything else); every value is a bound parameter,
// passed as text and cast to its column's type in SQL.

export interface Statement {
  text: string;
  params: unknown[];
}

/** Extra columns of each row: the row id and the sort key, for the next page's cursor. */
export const ROW_ID = "__id";
export const SORT_KEY = "__key";

const COMPARE = { eq: "=", ne: "is distinct from", gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;

class Params {
  readonly values: unknown[] = [];
  /** `$n::text::type`: the parameter's own type stays text, so the driver sends it as it is. */
  bind(value: string | string[], sqlType: string): string {
    this.values.push(value);
    const n = this.values.length;
    return Array.isArray(value) ? `$${n}::text[]::${sqlType}[]` : `$${n}::text::${sqlType}`;
  }
}

function filterSql(f: Filter, p: Params): string {
  const col = quoteIdent(f.column.name);
  switch (f.op) {
    case "in":
      return `${col} = any(${p.bind(f.value, f.column.sqlType)})`;
    case "like":
      return `${col} like ${p.bind(f.value, "text")}`;
    default:
      return `${col} ${COMPARE[f.op]} ${p.bind(f.value, f.column.sqlType)}`;
  }
}

/** The sort key as text that casts back to the column's type exactly (times to the microsecond, in UTC). */
function keyText(c: QueryColumn): string {
  const col = quoteIdent(c.name);
  return c.type === "timestamp"
    ? `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
    : `${col}::text`;
}

/**
 * Rows after the cursor in (sort column, row id) order. Nulls come where Postgres's default index
 * order has them (last ascending, first descending), so the (column, _id) index serves both orders.
 */
function keysetSql(q: RowQuery, p: Params): string | null {
  if (!q.after) return null;
  const id = p.bind(q.after.id, "bigint");
  const cmp = q.order === "asc" ? ">" : "<";
  if (!q.sort) return `"_id" ${cmp} ${id}`;
  const col = quoteIdent(q.sort.name);
  if (q.after.key === null) {
    // Ascending, the nulls are the end; descending, they are the start and every other row follows.
    return q.order === "asc"
      ? `(${col} is null and "_id" > ${id})`
      : `((${col} is null and "_id" < ${id}) or ${col} is not null)`;
  }
  const past = `(${col}, "_id") ${cmp} (${p.bind(q.after.key, q.sort.sqlType)}, ${id})`;
  return q.order === "asc" && q.sort.nullable ? `(${past} or ${col} is null)` : past;
}

function whereSql(conditions: (string | null)[]): string {
  const all = conditions.filter((c): c is string => c !== null);
  return all.length > 0 ? ` where ${all.join(" and ")}` : "";
}

/** One page: `limit + 1` rows, so the caller knows whether another page follows. */
export function rowsStatement(schema: string, table: string, q: RowQuery): Statement {
  const p = new Params();
  const where = whereSql([...q.filters.map((f) => filterSql(f, p)), keysetSql(q, p)]);
  const dir = q.order === "asc" ? "asc nulls last" : "desc nulls first";
  const order = q.sort ? `${quoteIdent(q.sort.name)} ${dir}, "_id" ${q.order}` : `"_id" ${q.order}`;
  const select = [
    ...q.fields.map((c) => quoteIdent(c.name)),
    `"_id"::text as ${quoteIdent(ROW_ID)}`,
    ...(q.sort ? [`${keyText(q.sort)} as ${quoteIdent(SORT_KEY)}`] : []),
  ];
  p.values.push(q.limit + 1);
  const text = `select ${select.join(", ")} from ${quoteIdent(schema)}.${quoteIdent(table)}${where} order by ${order} limit $${p.values.length}`;
  return { text, params: p.values };
}

export function countStatement(schema: string, table: string, q: Pick<RowQuery, "filters">): Statement {
  const p = new Params();
  const where = whereSql(q.filters.map((f) => filterSql(f, p)));
  return {
    text: `select count(*)::bigint::text as n from ${quoteIdent(schema)}.${quoteIdent(table)}${where}`,
    params: p.values,
  };
}
