import type { ViewDefinition } from "../define-view.ts";
import type { Transport } from "../http.ts";
import { paginate } from "../paginate.ts";

/** A filter value: numbers of any size (bigint or decimal strings), text, principals, booleans, times. */
export type ViewValue = string | number | bigint | boolean | Date;

/** A column's condition: a value (equal), or operators that must all hold. */
export type ViewFilter =
  | ViewValue
  | {
      eq?: ViewValue;
      ne?: ViewValue;
      gt?: ViewValue;
      gte?: ViewValue;
      lt?: ViewValue;
      lte?: ViewValue;
      in?: ViewValue[];
      /** SQL LIKE on text and principal columns: `%` any run, `_` one character. */
      like?: string;
    };

export interface ViewQuery {
  /** Conditions by column (`_block_height` and `_tx_id` too); every one must hold. */
  where?: Record<string, ViewFilter>;
  sort?: string;
  order?: "asc" | "desc";
  /** Rows per page, 1-1000 (default 100). */
  limit?: number;
  /** `next` of the previous page. */
  cursor?: string;
  /** Only these columns in each row. */
  fields?: string[];
}

/** A page of a view's table; `Row` is what the caller knows its rows to be. */
export interface ViewRowsPage<Row> {
  rows: Row[];
  next: string | null;
}

function text(v: ViewValue): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

/**
 * The query parameters of a row query: `col=v`, `col.op=v`, `col.in=a,b`, then `_sort`, `_order`,
 * `_limit`, `_cursor`, `_fields`.
 */
export function viewQueryParams(query: ViewQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [column, filter] of Object.entries(query.where ?? {})) {
    if (typeof filter !== "object" || filter instanceof Date) {
      out[column] = text(filter);
      continue;
    }
    for (const [op, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      const key = op === "eq" ? column : `${column}.${op}`;
      out[key] = Array.isArray(value) ? value.map(text).join(",") : text(value as ViewValue);
    }
  }
  if (query.sort !== undefined) out._sort = query.sort;
  if (query.order !== undefined) out._order = query.order;
  if (query.limit !== undefined) out._limit = String(query.limit);
  if (query.cursor !== undefined) out._cursor = query.cursor;
  if (query.fields !== undefined) out._fields = query.fields.join(",");
  return out;
}

/** `/api/views`: views (tables the API keeps in step with the chain) and their rows. */
export class ViewsResource {
  constructor(private readonly http: Transport) {}

  /** Deploys a view (write it with `defineView`); its tables are built from `startBlock`. */
  deploy(definition: ViewDefinition) {
    return this.http.call("post", "/api/views", { body: definition });
  }

  /** The caller's views with their status and progress. */
  list() {
    return this.http.call("get", "/api/views");
  }

  /** A view: definition, status and last error, progress and lag, rows per table. */
  get(name: string) {
    return this.http.call("get", "/api/views/{name}", { params: { name } });
  }

  /** Replaces the definition; `rebuilt` says whether the change was not additive and the tables are rebuilt. */
  update(name: string, definition: ViewDefinition) {
    return this.http.call("put", "/api/views/{name}", { params: { name }, body: definition });
  }

  /** Deletes the view and its tables. */
  async delete(name: string): Promise<void> {
    await this.http.call("delete", "/api/views/{name}", { params: { name } });
  }

  /** Empties the tables and builds them again from `startBlock`. */
  reindex(name: string) {
    return this.http.call("post", "/api/views/{name}/reindex", { params: { name } });
  }

  /** One page of a table's rows. uint and int values are decimal strings. */
  async query<Row = Record<string, unknown>>(
    name: string,
    table: string,
    query: ViewQuery = {},
  ): Promise<ViewRowsPage<Row>> {
    const page = await this.http.call("get", "/api/views/{name}/{table}", {
      params: { name, table },
      query: viewQueryParams(query),
    });
    return page as ViewRowsPage<Row>;
  }

  /** Every row matching `query`, page after page (stable while rows are written). */
  iterate<Row = Record<string, unknown>>(name: string, table: string, query: Omit<ViewQuery, "cursor"> = {}) {
    return paginate(
      (cursor) => this.query<Row>(name, table, { ...query, cursor }),
      (page) => page.rows,
    );
  }

  /** How many rows match the conditions. */
  count(name: string, table: string, where: ViewQuery["where"] = {}) {
    return this.http.call("get", "/api/views/{name}/{table}/count", {
      params: { name, table },
      query: viewQueryParams({ where }),
    });
  }
}
