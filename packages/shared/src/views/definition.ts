import { z } from "zod";
import type { StacksNetwork } from "../config.ts";
import { type FieldIssue, fieldIssues, type StreamFilter, streamFilterSchema } from "../streams/filters.ts";
import { accepts, COLUMN_TYPES, type ColumnType, ColumnValueError, toColumnValue } from "./column-values.ts";
import { compileExpr, type Expr, type Scope, scopeOfFilter } from "./expressions.ts";

// A view definition is data: tables and handlers, JSON from end to end, so nothing a tenant writes
// ever runs in our processes. `parseViewDefinition` checks it (every problem with its path) and
// compiles it for the view processor.

/** Names of tables and columns (safe SQL identifiers), and of views. */
export const IDENT = /^[a-z][a-z0-9_]{0,62}$/;
export const VIEW_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const ident = z
  .string()
  .regex(IDENT, "a name is lower case letters, digits and _, starting with a letter (at most 63)");

const columnSchema = z.strictObject({
  type: z.enum(COLUMN_TYPES),
  nullable: z.boolean().default(false),
  default: z.json().optional(),
});

const tableSchema = z.strictObject({
  columns: z.record(ident, columnSchema).refine((c) => Object.keys(c).length > 0, "a table needs at least one column"),
  primaryKey: z.array(ident).min(1).optional(),
  indexes: z.array(z.array(ident).min(1)).optional(),
});

/** A value written in a definition: a path string (`$.event.amount`), or any JSON literal. */
const exprInput = z.json();
const assignments = z.record(ident, exprInput);

const actionSchema = z.union([
  z.strictObject({ insert: ident, values: assignments }),
  z.strictObject({ upsert: ident, key: assignments, set: assignments.optional(), add: assignments.optional() }),
  z.strictObject({ delete: ident, where: assignments }),
]);

const OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "in"] as const;
const conditionSchema = z.record(
  z.string(),
  z.strictObject(
    Object.fromEntries(OPS.map((op) => [op, z.json().optional()])) as Record<
      (typeof OPS)[number],
      z.ZodOptional<z.ZodJSONSchema>
    >,
  ),
);

const handlerSchema = z.strictObject({
  on: z.record(z.string(), z.unknown()),
  when: conditionSchema.optional(),
  do: z.array(actionSchema).min(1),
});

export const viewDefinitionSchema = z.strictObject({
  name: z.string().regex(VIEW_NAME, "a view name is lower case letters, digits, - and _, starting with a letter"),
  description: z.string().max(2000).optional(),
  network: z.enum(["mainnet", "testnet", "devnet"]).optional(),
  startBlock: z.number().int().nonnegative().optional(),
  tables: z
    .record(ident, tableSchema)
    .refine((t) => Object.keys(t).length > 0 && Object.keys(t).length <= 50, "a view has 1 to 50 tables"),
  handlers: z.array(handlerSchema).min(1).max(100),
});

export type ViewDefinitionInput = z.input<typeof viewDefinitionSchema>;
export type ViewDefinition = z.output<typeof viewDefinitionSchema>;
export type ColumnSpec = z.output<typeof columnSchema>;
export type TableSpec = z.output<typeof tableSchema>;

/** Columns every view table has besides its own: a row id, and what last wrote the row. */
export const SYSTEM_COLUMNS = { _id: "bigint", _block_height: "integer", _tx_id: "text" } as const;

export type Comparison = { expr: Expr; op: (typeof OPS)[number]; value: unknown };

export type CompiledAction =
  | { kind: "insert"; table: string; values: [string, Expr][] }
  | { kind: "upsert"; table: string; key: [string, Expr][]; set: [string, Expr][]; add: [string, Expr][] }
  | { kind: "delete"; table: string; where: [string, Expr][] };

export interface CompiledHandler {
  filter: StreamFilter;
  scope: Scope;
  when: Comparison[];
  actions: CompiledAction[];
}

export interface CompiledView {
  definition: ViewDefinition;
  network: StacksNetwork;
  startBlock: number;
  handlers: CompiledHandler[];
}

export class ViewValidationError extends Error {
  readonly code = "INVALID_VIEW";
  constructor(readonly details: FieldIssue[]) {
    super(details.map((d) => `${d.path}: ${d.message}`).join("; "));
  }
}

/**
 * Checks a definition against everything the processor relies on and compiles it. Throws
 * ViewValidationError listing each problem with its path (`handlers.0.do.1.add.balance`, ...).
 */
export function parseViewDefinition(input: unknown, defaultNetwork: StacksNetwork): CompiledView {
  const parsed = viewDefinitionSchema.safeParse(input);
  if (!parsed.success) throw new ViewValidationError(fieldIssues(parsed.error));
  const def = parsed.data;
  const network = def.network ?? defaultNetwork;
  const issues: FieldIssue[] = [];
  const issue = (path: (string | number)[], message: string) => issues.push({ path: path.join("."), message });

  for (const [name, table] of Object.entries(def.tables)) {
    const cols = table.columns;
    for (const [i, col] of (table.primaryKey ?? []).entries()) {
      if (!cols[col]) issue(["tables", name, "primaryKey", i], `no column ${col} in table ${name}`);
      else if (cols[col].nullable)
        issue(["tables", name, "primaryKey", i], `primary key column ${col} cannot be nullable`);
    }
    for (const [i, index] of (table.indexes ?? []).entries()) {
      for (const [j, col] of index.entries()) {
        if (!cols[col]) issue(["tables", name, "indexes", i, j], `no column ${col} in table ${name}`);
      }
    }
    for (const [col, spec] of Object.entries(cols)) {
      if (spec.default === undefined || spec.default === null) continue;
      try {
        toColumnValue(spec.type, spec.default, "default");
      } catch (err) {
        issue(["tables", name, "columns", col, "default"], (err as Error).message);
      }
    }
  }

  const handlers: CompiledHandler[] = [];
  for (const [h, handler] of def.handlers.entries()) {
    const filter = streamFilterSchema(network).safeParse(handler.on);
    if (!filter.success) {
      issues.push(...fieldIssues(filter.error, `handlers.${h}.on`));
      continue;
    }
    const type = filter.data.type;
    const compile = (value: unknown, path: (string | number)[]): Expr | null => {
      const expr = compileExpr(value, type);
      if (typeof expr === "string") {
        issue(path, expr);
        return null;
      }
      return expr;
    };
    const when: Comparison[] = [];
    for (const [source, ops] of Object.entries(handler.when ?? {})) {
      const expr = compile(source, ["handlers", h, "when", source]);
      if (!expr) continue;
      if (expr.kind !== "path") issue(["handlers", h, "when", source], "the left side of a condition is a path");
      for (const [op, value] of Object.entries(ops)) {
        if (value === undefined) continue;
        if (op === "in" && !Array.isArray(value)) issue(["handlers", h, "when", source, op], "`in` takes a list");
        when.push({ expr, op: op as Comparison["op"], value });
      }
    }
    const actions: CompiledAction[] = [];
    for (const [a, action] of handler.do.entries()) {
      const at = ["handlers", h, "do", a];
      const tableName = "insert" in action ? action.insert : "upsert" in action ? action.upsert : action.delete;
      const table = def.tables[tableName];
      if (!table) {
        issue([...at, Object.keys(action)[0] as string], `no table ${tableName} in this view`);
        continue;
      }
      const assign = (entries: Record<string, unknown> | undefined, field: string, numericOnly = false) => {
        const out: [string, Expr][] = [];
        for (const [col, value] of Object.entries(entries ?? {})) {
          const spec = table.columns[col];
          const path = [...at, field, col];
          if (!spec) {
            issue(path, `no column ${col} in table ${tableName}`);
            continue;
          }
          const expr = compile(value, path);
          if (!expr) continue;
          checkType(spec, expr, path, numericOnly, issue);
          out.push([col, expr]);
        }
        return out;
      };
      if ("insert" in action) {
        const values = assign(action.values, "values");
        for (const [col, spec] of Object.entries(table.columns)) {
          if (!spec.nullable && spec.default === undefined && !(col in action.values)) {
            issue([...at, "values", col], `column ${col} is not nullable and has no default: give it a value`);
          }
        }
        actions.push({ kind: "insert", table: tableName, values });
      } else if ("upsert" in action) {
        const pk = table.primaryKey;
        if (!pk) {
          issue([...at, "upsert"], `upsert needs a primary key on table ${tableName}`);
          continue;
        }
        const keyCols = Object.keys(action.key);
        if (keyCols.length !== pk.length || pk.some((c) => !keyCols.includes(c))) {
          issue([...at, "key"], `key must give exactly the primary key columns of ${tableName}: ${pk.join(", ")}`);
        }
        const key = assign(action.key, "key");
        const set = assign(action.set, "set");
        const add = assign(action.add, "add", true);
        for (const [col] of [...set, ...add]) {
          if (pk.includes(col))
            issue([...at, set.some(([c]) => c === col) ? "set" : "add", col], "a key column cannot be set or added to");
        }
        for (const [col] of add)
          if (set.some(([c]) => c === col)) issue([...at, "add", col], "a column is either set or added to, not both");
        const given = new Set([...keyCols, ...set.map(([c]) => c), ...add.map(([c]) => c)]);
        for (const [col, spec] of Object.entries(table.columns)) {
          if (!spec.nullable && spec.default === undefined && !given.has(col)) {
            issue([...at, "set", col], `column ${col} is not nullable and has no default: a new row needs a value`);
          }
        }
        actions.push({ kind: "upsert", table: tableName, key, set, add });
      } else {
        if (Object.keys(action.where).length === 0) issue([...at, "where"], "a delete needs at least one condition");
        actions.push({ kind: "delete", table: tableName, where: assign(action.where, "where") });
      }
    }
    handlers.push({ filter: filter.data, scope: scopeOfFilter(type), when, actions });
  }
  if (issues.length > 0) throw new ViewValidationError(issues);
  return { definition: def, network, startBlock: def.startBlock ?? 0, handlers };
}

function checkType(
  spec: ColumnSpec,
  expr: Expr,
  path: (string | number)[],
  numericOnly: boolean,
  issue: (path: (string | number)[], message: string) => void,
): void {
  if (numericOnly && spec.type !== "uint" && spec.type !== "int") {
    issue(path, `only uint and int columns can be added to; this one is ${spec.type}`);
    return;
  }
  if (expr.kind === "literal") {
    if (expr.value === null) {
      if (!spec.nullable) issue(path, "null in a column that is not nullable");
      return;
    }
    try {
      toColumnValue(spec.type as ColumnType, expr.value, "literal");
    } catch (err) {
      if (err instanceof ColumnValueError) issue(path, `${err.message} for a ${spec.type} column`);
    }
    return;
  }
  if (!accepts(spec.type, expr.path.type)) {
    issue(path, `${expr.path.source} is ${expr.path.type}; a ${spec.type} column cannot hold it`);
  }
}
