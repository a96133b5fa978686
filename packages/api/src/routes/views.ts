import { createRoute } from "@hono/zod-openapi";
import { ViewValidationError } from "@second-layer/shared/views/definition";
import {
  deleteView,
  deployView,
  getView,
  listViews,
  reindexView,
  updateView,
  ViewConflictError,
  type ViewRecord,
} from "@second-layer/shared/views/store";
import {
  ApiError,
  COMMON_ERRORS,
  errorResponse,
  NOT_FOUND_ERROR,
  notFound,
  validationError,
} from "../http/api-error.ts";
import type { ApiApp, ApiDeps } from "../http/app-env.ts";
import { body, json, security } from "../http/openapi-parts.ts";
import {
  FILTERS_DESCRIPTION,
  RowsQuery,
  UpdatedViewSchema,
  ViewCountSchema,
  ViewDefinitionBody,
  ViewDetailSchema,
  ViewListSchema,
  ViewNameParam,
  ViewRowsSchema,
  ViewTableParam,
} from "../schemas/view-schemas.ts";
import { encodeCursor, parseRowQuery, type RowOptions, RowQueryError } from "../views/row-query.ts";
import { countStatement, ROW_ID, rowsStatement, SORT_KEY } from "../views/row-sql.ts";
import { chainHeads, publicView, readView, tableRows } from "../views/view-reads.ts";

/** Store and query errors become API errors; anything else is left to the error handler. */
async function viewCall<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ViewValidationError) throw validationError(err.details, "view");
    if (err instanceof RowQueryError) throw validationError(err.details, "query");
    if (err instanceof ViewConflictError) throw new ApiError(409, err.code, err.message);
    throw err;
  }
}

const EXISTS_ERROR = { 409: errorResponse("A view of this name exists already in the account (VIEW_EXISTS)") } as const;
const READ_ERRORS = {
  409: errorResponse("The view was rebuilt or deleted while it was read (VIEW_CHANGED)"),
  503: errorResponse(
    "The database is unavailable (DATABASE_UNAVAILABLE), or the query ran longer than VIEW_QUERY_TIMEOUT_MS (QUERY_TIMEOUT)",
  ),
} as const;

/**
 * Views: deploy, change, rebuild and delete them, and query their tables. A view belongs to the
 * account whose key deployed it and is found by name within that account only; its tables are
 * reached only through its definition, never by schema name.
 */
export function registerViewRoutes(app: ApiApp, deps: ApiDeps): void {
  const { db, config } = deps;
  const timeoutMs = config.VIEW_QUERY_TIMEOUT_MS;

  const detail = async (view: ViewRecord) => {
    const [heads, tables] = await Promise.all([chainHeads(db.sql), tableRows(db.sql, timeoutMs, view)]);
    return { ...publicView(view, heads.get(view.network)), definition: view.definition, tables };
  };
  const ownView = async (accountId: string, name: string) => {
    const view = await getView(db.sql, accountId, name);
    if (!view) throw notFound(`view ${name}`);
    return view;
  };

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/views",
      tags: ["views"],
      summary: "Deploy a view: its tables are created and built from startBlock by the view processor",
      security,
      request: { body: body(ViewDefinitionBody) },
      responses: { 201: json(ViewDetailSchema, "The view"), ...COMMON_ERRORS, ...EXISTS_ERROR },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const view = await viewCall(() => deployView(db.sql, c.get("caller").accountId, input, config.STACKS_NETWORK));
      return c.json(await detail(view), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/views",
      tags: ["views"],
      summary: "The caller's views by name, with their status and progress",
      security,
      responses: { 200: json(ViewListSchema, "The views"), ...COMMON_ERRORS },
    }),
    async (c) => {
      const [views, heads] = await Promise.all([listViews(db.sql, c.get("caller").accountId), chainHeads(db.sql)]);
      return c.json({ views: views.map((v) => publicView(v, heads.get(v.network))) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/views/{name}",
      tags: ["views"],
      summary: "A view: definition, status and last error, progress and lag, rows per table",
      security,
      request: { params: ViewNameParam },
      responses: { 200: json(ViewDetailSchema, "The view"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => c.json(await detail(await ownView(c.get("caller").accountId, c.req.valid("param").name)), 200),
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/api/views/{name}",
      tags: ["views"],
      summary:
        "Replace a view's definition: additive changes (new tables, nullable columns, indexes) apply in place; any other rebuilds from startBlock",
      security,
      request: { params: ViewNameParam, body: body(ViewDefinitionBody) },
      responses: { 200: json(UpdatedViewSchema, "The view"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const input = c.req.valid("json");
      const updated = await viewCall(() =>
        updateView(db.sql, c.get("caller").accountId, name, input, config.STACKS_NETWORK),
      );
      if (!updated) throw notFound(`view ${name}`);
      return c.json({ view: await detail(updated.view), rebuilt: updated.rebuilt }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/views/{name}",
      tags: ["views"],
      summary: "Delete a view and its tables",
      security,
      request: { params: ViewNameParam },
      responses: { 204: { description: "Deleted" }, ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      if (!(await deleteView(db.sql, c.get("caller").accountId, name))) throw notFound(`view ${name}`);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/views/{name}/reindex",
      tags: ["views"],
      summary: "Empty a view's tables and build them again from startBlock (also restarts a view stopped by an error)",
      security,
      request: { params: ViewNameParam },
      responses: { 202: json(ViewDetailSchema, "The view, rebuilding"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const view = await reindexView(db.sql, c.get("caller").accountId, name);
      if (!view) throw notFound(`view ${name}`);
      return c.json(await detail(view), 202);
    },
  );

  const tableOf = (view: ViewRecord, table: string) => {
    // Own keys only: a table is a name the definition declares, nothing a plain object inherits.
    const spec = Object.hasOwn(view.definition.tables, table) ? view.definition.tables[table] : undefined;
    if (!spec) throw notFound(`table ${table} of view ${view.name}`);
    return spec;
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/views/{name}/{table}",
      tags: ["views"],
      summary: "Rows of a view's table: filtered, sorted, a page at a time",
      description: `${FILTERS_DESCRIPTION} Pages continue with \`_cursor\` = \`next\` (keyset pagination on the sort column and the row id: stable while rows are written).`,
      security,
      request: { params: ViewTableParam, query: RowsQuery },
      responses: { 200: json(ViewRowsSchema, "A page of rows"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR, ...READ_ERRORS },
    }),
    async (c) => {
      const { name, table } = c.req.valid("param");
      const view = await ownView(c.get("caller").accountId, name);
      const q = await viewCall(() =>
        parseRowQuery(tableOf(view, table), c.req.queries(), c.req.valid("query") as RowOptions),
      );
      const rows = await readView<Record<string, unknown>>(db.sql, timeoutMs, rowsStatement(view.schemaName, table, q));
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      const next =
        rows.length > q.limit && last
          ? encodeCursor(q.sort, q.order, {
              key: (last[SORT_KEY] as string | null) ?? null,
              id: last[ROW_ID] as string,
            })
          : null;
      const shown = page.map(({ [ROW_ID]: _id, [SORT_KEY]: _key, ...row }) => row);
      return c.json({ rows: shown, next }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/views/{name}/{table}/count",
      tags: ["views"],
      summary: "How many rows of a view's table match the filters",
      description: FILTERS_DESCRIPTION,
      security,
      request: { params: ViewTableParam },
      responses: { 200: json(ViewCountSchema, "The count"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR, ...READ_ERRORS },
    }),
    async (c) => {
      const { name, table } = c.req.valid("param");
      const view = await ownView(c.get("caller").accountId, name);
      const q = await viewCall(() => parseRowQuery(tableOf(view, table), c.req.queries(), null));
      const [row] = await readView<{ n: string }>(db.sql, timeoutMs, countStatement(view.schemaName, table, q));
      return c.json({ count: Number(row?.n ?? 0) }, 200);
    },
  );
}
