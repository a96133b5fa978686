import { resolve } from "node:path";
import {
  SecondLayerError,
  type View,
  type ViewDefinition,
  type ViewDetail,
  type ViewFilter,
  type ViewQuery,
} from "@second-layer/sdk";
import { ProgressBar } from "../progress-bar.ts";
import { type ApiContext, arg, intOption, readJsonFile, type Subcommand, type Values } from "./api-command.ts";
import { EXIT, UsageError } from "./cli-errors.ts";
import { type Cell, fields, json, table } from "./output.ts";

// `sl views ...`: deploy views from JSON files or TypeScript modules, follow them, read their tables.

const NAME = "NAME";
const FILTER_HINT = "COLUMN=VALUE or COLUMN.OP=VALUE (OP: ne, gt, gte, lt, lte, in, like)";

/**
 * A view definition from a file: JSON, or a module (.ts, .js) whose default export is one, as a
 * developer writes it with `defineView` from @second-layer/sdk. The API checks it.
 */
async function loadDefinition(file: string): Promise<ViewDefinition> {
  let definition: unknown;
  if (/\.json$/i.test(file)) {
    definition = readJsonFile(file);
  } else if (/\.(ts|mts|js|mjs)$/i.test(file)) {
    let mod: { default?: unknown };
    try {
      mod = await import(resolve(file));
    } catch (err) {
      throw new UsageError(`cannot load ${file}: ${(err as Error).message}`);
    }
    if (mod.default === undefined) {
      throw new UsageError(`${file} has no default export: end it with \`export default defineView({ ... })\``);
    }
    definition = mod.default;
  } else {
    throw new UsageError(`${file}: a view is a .json file, or a .ts/.js module whose default export is the view`);
  }
  if (typeof definition !== "object" || definition === null || Array.isArray(definition)) {
    throw new UsageError(`${file} must hold a view definition (an object with name, tables and handlers)`);
  }
  return definition as ViewDefinition;
}

/** The caller's view of this name, or null (an invalid name is the deploy's to report). */
async function existing(ctx: ApiContext, name: unknown): Promise<ViewDetail | null> {
  if (typeof name !== "string") return null;
  try {
    return await ctx.sl.views.get(name);
  } catch (err) {
    if (err instanceof SecondLayerError && (err.status === 404 || err.status === 400)) return null;
    throw err;
  }
}

/** `--where` flags as the SDK's conditions; the API checks columns, operators and values. */
function parseWhere(list: string[]): Record<string, ViewFilter> {
  const where = new Map<string, Map<string, string | string[]>>();
  for (const w of list) {
    const eq = w.indexOf("=");
    if (eq <= 0) throw new UsageError(`--where ${JSON.stringify(w)}: expected ${FILTER_HINT}`);
    const key = w.slice(0, eq);
    const value = w.slice(eq + 1);
    const [column, op = "eq"] = key.split(/\.(.*)/s) as [string, string?];
    const ops = where.get(column) ?? new Map<string, string | string[]>();
    where.set(column, ops);
    if (ops.has(op)) throw new UsageError(`--where ${key} is given twice`);
    ops.set(op, op === "in" ? value.split(",") : value);
  }
  return Object.fromEntries([...where].map(([column, ops]) => [column, Object.fromEntries(ops)]));
}

const progressText = (v: View) =>
  `${v.progress.processedHeight ?? "-"} of ${v.progress.chainTip ?? "-"} (${v.progress.lagBlocks} blocks behind${v.progress.caughtUp ? ", caught up" : ""})`;

function viewFields(v: ViewDetail): string {
  const rows: [string, Cell][] = [
    ["name", v.name],
    ["description", v.description],
    ["status", v.statusReason ? `${v.status} (${v.statusReason})` : v.status],
    ["error height", v.errorHeight],
    ["network", v.network],
    ["version", v.version],
    ["start block", v.startBlock],
    ["processed", progressText(v)],
    ["chain log", `${v.progress.lastSeq} of ${v.progress.headSeq}`],
    ["tables", v.tables.map((t) => `${t.name} ${t.rowsExact ? "" : "~"}${t.rows} rows`).join(", ")],
    ["created", v.createdAt],
    ["updated", v.updatedAt],
  ];
  return fields(rows);
}

function showView(ctx: ApiContext, view: ViewDetail): number {
  ctx.out(ctx.json ? json(view) : viewFields(view));
  return view.status === "error" ? EXIT.failed : EXIT.ok;
}

const cell = (v: unknown): Cell =>
  v === null || v === undefined || typeof v === "string" || typeof v === "number" || typeof v === "boolean"
    ? v
    : JSON.stringify(v);

function rowsTable(rows: Record<string, unknown>[], fieldNames: string[] | undefined): string {
  const headers = fieldNames ?? Object.keys(rows[0] ?? {});
  if (headers.length === 0) return "no rows\n";
  return table(
    headers.map((h) => h.toUpperCase()),
    rows.map((r) => headers.map((h) => cell(r[h]))),
  );
}

/** Resolves after `ms`, or at once when the command is interrupted. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        done();
      },
      { once: true },
    );
  });
}

/** Blocks applied since startBlock, of those up to the tip. */
function blocksDone(v: View): { done: number; total: number } {
  const total = Math.max(0, (v.progress.chainTip ?? -1) - v.startBlock + 1);
  const done = v.progress.processedHeight === null ? 0 : v.progress.processedHeight - v.startBlock + 1;
  return { done: Math.min(Math.max(0, done), total), total };
}

const queryOptions = {
  where: { type: "string", short: "w", multiple: true },
} as const;

function whereOf(values: Values): ViewQuery["where"] {
  return parseWhere((values.where as string[] | undefined) ?? []);
}

export const viewsCommands: Record<string, Subcommand> = {
  deploy: {
    usage: "FILE.json|FILE.ts",
    summary: "deploy a view, or update the key's view of that name (PUT: additive changes in place, others rebuild)",
    async run(ctx, p) {
      const file = arg(p, 0, "FILE", "sl views deploy FILE.json|FILE.ts");
      const definition = await loadDefinition(file);
      const before = await existing(ctx, definition.name);
      if (!before) {
        const view = await ctx.sl.views.deploy(definition);
        if (ctx.json) ctx.out(json({ view, created: true, rebuilt: false }));
        else {
          ctx.out(viewFields(view));
          ctx.note(`deployed ${view.name}: building from block ${view.startBlock} (sl views get ${view.name})\n`);
        }
        return EXIT.ok;
      }
      const { view, rebuilt } = await ctx.sl.views.update(before.name, definition);
      if (ctx.json) ctx.out(json({ view, created: false, rebuilt }));
      else {
        ctx.out(viewFields(view));
        ctx.note(
          rebuilt
            ? `updated ${view.name} to version ${view.version}: the change is not additive, so it rebuilds from block ${view.startBlock}\n`
            : `updated ${view.name} to version ${view.version} in place (an additive change)\n`,
        );
      }
      return EXIT.ok;
    },
  },
  list: {
    usage: "",
    summary: "the key's views with their status and progress",
    async run(ctx) {
      const { views } = await ctx.sl.views.list();
      if (ctx.json) ctx.out(json(views));
      else {
        ctx.out(
          table(
            ["NAME", "STATUS", "NETWORK", "VERSION", "PROCESSED", "TIP", "LAG", "UPDATED"],
            views.map((v) => [
              v.name,
              v.status,
              v.network,
              v.version,
              v.progress.processedHeight,
              v.progress.chainTip,
              v.progress.lagBlocks,
              v.updatedAt,
            ]),
          ),
        );
      }
      return EXIT.ok;
    },
  },
  get: {
    usage: NAME,
    summary: "a view: status and last error, progress, rows per table; exits 2 while it is stopped by an error",
    async run(ctx, p) {
      return showView(ctx, await ctx.sl.views.get(arg(p, 0, NAME, `sl views get ${NAME}`)));
    },
  },
  query: {
    usage: `${NAME} TABLE [--where ${FILTER_HINT}]... [--sort COLUMN] [--order asc|desc] [--limit N] [--fields A,B] [--cursor C]`,
    summary: "a page of a table's rows (the next page's --cursor is printed to stderr)",
    options: {
      ...queryOptions,
      sort: { type: "string" },
      order: { type: "string" },
      limit: { type: "string" },
      fields: { type: "string" },
      cursor: { type: "string" },
    },
    async run(ctx, p, values) {
      const usage = `sl views query ${NAME} TABLE [--where ...]`;
      const name = arg(p, 0, NAME, usage);
      const tableName = arg(p, 1, "TABLE", usage);
      const order = values.order as string | undefined;
      if (order !== undefined && order !== "asc" && order !== "desc") {
        throw new UsageError(`--order is asc or desc, not ${JSON.stringify(order)}`);
      }
      const fieldNames = (values.fields as string | undefined)?.split(",").filter((f) => f !== "");
      const page = await ctx.sl.views.query(name, tableName, {
        where: whereOf(values),
        sort: values.sort as string | undefined,
        order,
        limit: intOption(values, "limit"),
        fields: fieldNames,
        cursor: values.cursor as string | undefined,
      });
      if (ctx.json) ctx.out(json(page));
      else {
        ctx.out(rowsTable(page.rows, fieldNames));
        if (page.next) ctx.note(`more rows: --cursor ${page.next}\n`);
      }
      return EXIT.ok;
    },
  },
  count: {
    usage: `${NAME} TABLE [--where ${FILTER_HINT}]...`,
    summary: "how many rows of a table match the conditions",
    options: queryOptions,
    async run(ctx, p, values) {
      const usage = `sl views count ${NAME} TABLE [--where ...]`;
      const answer = await ctx.sl.views.count(arg(p, 0, NAME, usage), arg(p, 1, "TABLE", usage), whereOf(values));
      ctx.out(ctx.json ? json(answer) : `${answer.count}\n`);
      return EXIT.ok;
    },
  },
  reindex: {
    usage: `${NAME} [--no-wait]`,
    summary:
      "empty the view's tables and build them again from its startBlock, with a progress bar until it catches up",
    options: { "no-wait": { type: "boolean", default: false } },
    async run(ctx, p, values) {
      const name = arg(p, 0, NAME, `sl views reindex ${NAME}`);
      let view = await ctx.sl.views.reindex(name);
      const bar = ctx.json || values["no-wait"] ? null : new ProgressBar(`reindexing ${name}`);
      while (!values["no-wait"] && view.status === "active" && !view.progress.caughtUp && !ctx.signal.aborted) {
        const { done, total } = blocksDone(view);
        bar?.update(done, total, `height ${view.progress.processedHeight ?? "-"}`);
        await pause(500, ctx.signal);
        view = await ctx.sl.views.get(name);
      }
      if (bar) {
        const { done, total } = blocksDone(view);
        bar.update(done, total, `height ${view.progress.processedHeight ?? "-"}`);
        bar.finish();
      }
      if (ctx.signal.aborted) ctx.note(`stopped waiting; ${name} goes on rebuilding (sl views get ${name})\n`);
      return showView(ctx, view);
    },
  },
  delete: {
    usage: NAME,
    summary: "delete a view and its tables",
    async run(ctx, p) {
      const name = arg(p, 0, NAME, `sl views delete ${NAME}`);
      await ctx.sl.views.delete(name);
      ctx.out(ctx.json ? json({ deleted: name }) : `deleted ${name}\n`);
      return EXIT.ok;
    },
  },
};
