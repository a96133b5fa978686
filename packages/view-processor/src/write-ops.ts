import type { Sql } from "@second-layer/shared/db/connect";
import { toPostgresJson } from "@second-layer/shared/json-text";
import { SQL_TYPES, toColumnValue } from "@second-layer/shared/views/column-values";
import { quoteIdent } from "@second-layer/shared/views/ddl";
import type { TableSpec, ViewDefinition } from "@second-layer/shared/views/definition";
import type { Row, RowOp } from "@second-layer/shared/views/plan-block";

// Writes a view's row operations with few statements, keeping their meaning. Operations on one table
// are applied in order; operations on different tables never read each other, so each table is
// batched on its own: consecutive inserts become one multi-row INSERT, consecutive upserts collapse
// per key (the last `set` wins, `add`s sum) into one INSERT ... ON CONFLICT per shape, consecutive
// deletes one DELETE per shape. A change of kind on a table flushes what it had.
//
// Identifiers come from the checked definition (see ddl.ts); every value travels as one bound JSON
// document per statement, expanded by json_to_recordset.

type ColumnState = { mode: "set"; value: unknown } | { mode: "add"; delta: bigint };

interface Collapsed {
  key: Row;
  columns: Map<string, ColumnState>;
  blockHeight: number;
  txId: string | null;
}

interface Pending {
  kind: RowOp["kind"] | null;
  inserts: Row[];
  upserts: Map<string, Collapsed>;
  deletes: Row[];
}

export class OpWriter {
  private readonly pending = new Map<string, Pending>();
  private readonly defaults = new Map<string, Row>();

  constructor(
    private readonly schema: string,
    private readonly def: ViewDefinition,
  ) {
    for (const [name, table] of Object.entries(def.tables)) {
      const row: Row = {};
      for (const [col, spec] of Object.entries(table.columns)) {
        row[col] =
          spec.default === undefined
            ? null
            : toColumnValue(spec.type, spec.default, `tables.${name}.columns.${col}.default`);
      }
      this.defaults.set(name, row);
    }
  }

  /** Queues operations; statements run when a table's kind changes or on flush. */
  async add(sql: Sql, ops: RowOp[]): Promise<void> {
    for (const op of ops) {
      let p = this.pending.get(op.table);
      if (!p) {
        p = { kind: null, inserts: [], upserts: new Map(), deletes: [] };
        this.pending.set(op.table, p);
      }
      if (p.kind !== null && p.kind !== op.kind) await this.flushTable(sql, op.table, p);
      p.kind = op.kind;
      if (op.kind === "insert") {
        p.inserts.push({ ...this.defaults.get(op.table), ...op.row, _block_height: op.blockHeight, _tx_id: op.txId });
      } else if (op.kind === "delete") {
        p.deletes.push(op.where);
      } else {
        collapse(p.upserts, op);
      }
    }
  }

  async flush(sql: Sql): Promise<void> {
    for (const [table, p] of this.pending) await this.flushTable(sql, table, p);
  }

  private async flushTable(sql: Sql, name: string, p: Pending): Promise<void> {
    const table = this.def.tables[name] as TableSpec;
    const target = `${quoteIdent(this.schema)}.${quoteIdent(name)}`;
    if (p.inserts.length > 0) await this.insertRows(sql, target, table, p.inserts);
    if (p.upserts.size > 0) await this.upsertRows(sql, target, name, table, [...p.upserts.values()]);
    if (p.deletes.length > 0) await this.deleteRows(sql, target, table, p.deletes);
    p.kind = null;
    p.inserts = [];
    p.upserts = new Map();
    p.deletes = [];
  }

  private recordType(table: TableSpec, cols: string[]): string {
    return cols
      .map(
        (c) =>
          `${quoteIdent(c)} ${c === "_block_height" ? "integer" : c === "_tx_id" ? "text" : SQL_TYPES[(table.columns[c] as { type: keyof typeof SQL_TYPES }).type]}`,
      )
      .join(", ");
  }

  private async insertRows(sql: Sql, target: string, table: TableSpec, rows: Row[]): Promise<void> {
    const cols = [...Object.keys(table.columns), "_block_height", "_tx_id"];
    const list = cols.map(quoteIdent).join(", ");
    await sql.unsafe(
      `insert into ${target} (${list}) select ${list} from json_to_recordset($1::text::json) as r(${this.recordType(table, cols)})`,
      [toPostgresJson(rows)],
    );
  }

  private async upsertRows(
    sql: Sql,
    target: string,
    name: string,
    table: TableSpec,
    entries: Collapsed[],
  ): Promise<void> {
    const defaults = this.defaults.get(name) as Row;
    const key = table.primaryKey as string[];
    // One statement per shape: which columns are set and which are added to.
    const shapes = new Map<string, Collapsed[]>();
    for (const e of entries) {
      const shape = [...e.columns]
        .map(([c, s]) => `${c}:${s.mode}`)
        .sort()
        .join(",");
      const list = shapes.get(shape);
      if (list) list.push(e);
      else shapes.set(shape, [e]);
    }
    for (const group of shapes.values()) {
      const states = [...(group[0] as Collapsed).columns];
      const cols = [...Object.keys(table.columns), "_block_height", "_tx_id"];
      const rows = group.map((e) => {
        const row: Row = { ...defaults, ...e.key, _block_height: e.blockHeight, _tx_id: e.txId };
        for (const [col, s] of e.columns) {
          // A new row starts from the column's default (0 without one) and takes the sum of the adds.
          row[col] = s.mode === "set" ? s.value : (BigInt(String(defaults[col] ?? 0)) + s.delta).toString();
        }
        return row;
      });
      const updates = [
        ...states.map(([col, s]) =>
          s.mode === "set"
            ? `${quoteIdent(col)} = excluded.${quoteIdent(col)}`
            : `${quoteIdent(col)} = t.${quoteIdent(col)} + excluded.${quoteIdent(col)} - ${BigInt(String(defaults[col] ?? 0))}`,
        ),
        `"_block_height" = excluded."_block_height"`,
        `"_tx_id" = excluded."_tx_id"`,
      ];
      const list = cols.map(quoteIdent).join(", ");
      await sql.unsafe(
        `insert into ${target} as t (${list}) select ${list} from json_to_recordset($1::text::json) as r(${this.recordType(table, cols)})
         on conflict (${key.map(quoteIdent).join(", ")}) do update set ${updates.join(", ")}`,
        [toPostgresJson(rows)],
      );
    }
  }

  private async deleteRows(sql: Sql, target: string, table: TableSpec, wheres: Row[]): Promise<void> {
    const shapes = new Map<string, Row[]>();
    for (const w of wheres) {
      const shape = Object.keys(w).sort().join(",");
      const list = shapes.get(shape);
      if (list) list.push(w);
      else shapes.set(shape, [w]);
    }
    for (const [shape, rows] of shapes) {
      const cols = shape.split(",");
      const match = cols.map((c) => `t.${quoteIdent(c)} = r.${quoteIdent(c)}`).join(" and ");
      await sql.unsafe(
        `delete from ${target} as t using json_to_recordset($1::text::json) as r(${this.recordType(table, cols)}) where ${match}`,
        [toPostgresJson(rows)],
      );
    }
  }
}

/** Folds an upsert into what is pending for its key: the last set wins, adds sum (onto a set value too). */
function collapse(upserts: Map<string, Collapsed>, op: Extract<RowOp, { kind: "upsert" }>): void {
  const id = JSON.stringify(
    Object.keys(op.key)
      .sort()
      .map((k) => op.key[k]),
  );
  let entry = upserts.get(id);
  if (!entry) {
    entry = { key: op.key, columns: new Map(), blockHeight: op.blockHeight, txId: op.txId };
    upserts.set(id, entry);
  }
  entry.blockHeight = op.blockHeight;
  entry.txId = op.txId;
  for (const [col, value] of Object.entries(op.set)) entry.columns.set(col, { mode: "set", value });
  for (const [col, value] of Object.entries(op.add)) {
    const delta = BigInt(String(value));
    const current = entry.columns.get(col);
    if (!current) entry.columns.set(col, { mode: "add", delta });
    else if (current.mode === "add") current.delta += delta;
    else entry.columns.set(col, { mode: "set", value: (BigInt(String(current.value ?? 0)) + delta).toString() });
  }
}
