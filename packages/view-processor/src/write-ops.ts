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
// Blocks that may be rolled back are written with undo data: the statements themselves record, in
// the view's _undo table, each row they insert (to delete it) and the previous version of each row
// they update or delete (to restore it), under the block that wrote it. An upsert's previous version
// must be the one before its own block, so upserts of such a block are not collapsed with another
// block's; inserts need no such care and still go many blocks to a statement.
//
// Identifiers come from the checked definition (see ddl.ts); every value travels as a bound JSON
// document, expanded by json_to_recordset.

/** A block applied with undo data, so that it can be rolled back. */
export interface UndoBlock {
  indexBlockHash: string;
  height: number;
}

type ColumnState = { mode: "set"; value: unknown } | { mode: "add"; delta: bigint };

interface Collapsed {
  key: Row;
  columns: Map<string, ColumnState>;
  blockHeight: number;
  txId: string | null;
  /** The block of an undoable upsert: it collapses only with upserts of that block. */
  undo: string | null;
}

interface Pending {
  kind: RowOp["kind"] | null;
  inserts: Row[];
  upserts: Map<string, Collapsed>;
  deletes: Row[];
  /** Pending deletes of an undoable block: they go in a statement of their own. */
  deleteUndo: UndoBlock | null;
}

export class OpWriter {
  private readonly pending = new Map<string, Pending>();
  private readonly defaults = new Map<string, Row>();
  /**
   * Undoable blocks added since the last flush, by height. A statement's rows name their block by
   * height (`_block_height`, which RETURNING gives back): between two flushes there is no rollback,
   * so the blocks added are on one chain, one per height.
   */
  private readonly undoBlocks = new Map<number, string>();
  /** Undoable blocks whose marker is not written yet. */
  private markers: UndoBlock[] = [];

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

  /**
   * Queues one block's operations; statements run when a table's kind changes, when an undoable
   * block's upsert meets another block's for the same key, or on flush. The caller flushes before a
   * rollback. An undoable block leaves a marker even if it writes nothing.
   */
  async add(sql: Sql, ops: RowOp[], undo: UndoBlock | null): Promise<void> {
    if (undo) {
      this.undoBlocks.set(undo.height, undo.indexBlockHash);
      this.markers.push({ indexBlockHash: undo.indexBlockHash, height: undo.height });
    }
    const block = undo?.indexBlockHash ?? null;
    for (const op of ops) {
      let p = this.pending.get(op.table);
      if (!p) {
        p = { kind: null, inserts: [], upserts: new Map(), deletes: [], deleteUndo: null };
        this.pending.set(op.table, p);
      }
      if (p.kind !== null && p.kind !== op.kind) await this.flushTable(sql, op.table, p);
      if (op.kind === "insert") {
        p.inserts.push({ ...this.defaults.get(op.table), ...op.row, _block_height: op.blockHeight, _tx_id: op.txId });
      } else if (op.kind === "delete") {
        if (
          p.deletes.length > 0 &&
          (p.deleteUndo !== null || undo !== null) &&
          p.deleteUndo?.indexBlockHash !== block
        ) {
          await this.flushTable(sql, op.table, p);
        }
        p.deleteUndo = undo;
        p.deletes.push(op.where);
      } else {
        const key = (this.def.tables[op.table] as TableSpec).primaryKey as string[];
        const id = JSON.stringify(key.map((k) => op.key[k]));
        const queued = p.upserts.get(id);
        if (queued && queued.undo !== block) await this.flushTable(sql, op.table, p);
        collapse(p.upserts, id, op, block);
      }
      p.kind = op.kind;
    }
  }

  async flush(sql: Sql): Promise<void> {
    for (const [table, p] of this.pending) await this.flushTable(sql, table, p);
    if (this.markers.length > 0) {
      // A marker tells a rollback that the block was applied with undo data, even if it wrote nothing.
      await sql.unsafe(
        `insert into ${this.undoTable()} (index_block_hash, block_height, table_name, row_id)
         select m."indexBlockHash", m.height, '', 0 from json_to_recordset($1::text::json) as m("indexBlockHash" text, height integer)`,
        [JSON.stringify(this.markers)],
      );
      this.markers = [];
    }
    this.undoBlocks.clear();
  }

  private undoTable(): string {
    return `${quoteIdent(this.schema)}."_undo"`;
  }

  private async flushTable(sql: Sql, name: string, p: Pending): Promise<void> {
    const table = this.def.tables[name] as TableSpec;
    const target = `${quoteIdent(this.schema)}.${quoteIdent(name)}`;
    if (p.inserts.length > 0) await this.insertRows(sql, target, name, table, p.inserts);
    if (p.upserts.size > 0) await this.upsertRows(sql, target, name, table, [...p.upserts.values()]);
    if (p.deletes.length > 0) await this.deleteRows(sql, target, name, table, p.deletes, p.deleteUndo);
    p.kind = null;
    p.inserts = [];
    p.upserts = new Map();
    p.deletes = [];
    p.deleteUndo = null;
  }

  private recordType(table: TableSpec, cols: string[]): string {
    return cols
      .map(
        (c) =>
          `${quoteIdent(c)} ${c === "_block_height" ? "integer" : c === "_tx_id" ? "text" : SQL_TYPES[(table.columns[c] as { type: keyof typeof SQL_TYPES }).type]}`,
      )
      .join(", ");
  }

  /** The undoable blocks among `heights` as a JSON document for `undoRowsSql`, or null when there are none. */
  private undoBlocksOf(heights: Iterable<number>): string | null {
    const blocks = new Map<number, string>();
    for (const height of heights) {
      const block = this.undoBlocks.get(height);
      if (block !== undefined) blocks.set(height, block);
    }
    return blocks.size === 0 ? null : JSON.stringify([...blocks].map(([height, block]) => ({ height, block })));
  }

  /**
   * The undo rows of a data-modifying CTE `w` returning `_id` and `_block_height`: one per row of an
   * undoable block, found by height in $2, with the row's previous version from a CTE `old` (`_id`,
   * `old_row`) if there is one; $3 is the table's name.
   */
  private undoRowsSql(withOld: boolean): string {
    return `insert into ${this.undoTable()} (index_block_hash, block_height, table_name, row_id, old_row)
      select u.block, w."_block_height", $3, w."_id", ${withOld ? "old.old_row" : "null"}
      from w join json_to_recordset($2::text::json) as u(height integer, block text) on u.height = w."_block_height"
      ${withOld ? `left join old on old."_id" = w."_id"` : ""}`;
  }

  private async insertRows(sql: Sql, target: string, name: string, table: TableSpec, rows: Row[]): Promise<void> {
    const cols = [...Object.keys(table.columns), "_block_height", "_tx_id"];
    const list = cols.map(quoteIdent).join(", ");
    const insert = `insert into ${target} (${list}) select ${list} from json_to_recordset($1::text::json) as r(${this.recordType(table, cols)})`;
    const undo = this.undoBlocksOf(rows.map((r) => r._block_height as number));
    if (!undo) {
      await sql.unsafe(insert, [toPostgresJson(rows)]);
      return;
    }
    await sql.unsafe(`with w as (${insert} returning "_id", "_block_height") ${this.undoRowsSql(false)}`, [
      toPostgresJson(rows),
      undo,
      name,
    ]);
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
      const records = `json_to_recordset($1::text::json) as r(${this.recordType(table, cols)})`;
      const conflict = `on conflict (${key.map(quoteIdent).join(", ")}) do update set ${updates.join(", ")}`;
      const undo = this.undoBlocksOf(group.filter((e) => e.undo !== null).map((e) => e.blockHeight));
      if (!undo) {
        await sql.unsafe(`insert into ${target} as t (${list}) select ${list} from ${records} ${conflict}`, [
          toPostgresJson(rows),
        ]);
        continue;
      }
      // `old` reads the rows as they were before this statement (its CTEs share one snapshot).
      const match = key.map((c) => `t.${quoteIdent(c)} = r.${quoteIdent(c)}`).join(" and ");
      await sql.unsafe(
        `with r as (select ${list} from ${records}),
           old as (select t."_id", to_jsonb(t) as old_row from ${target} t join r on ${match}),
           w as (insert into ${target} as t (${list}) select ${list} from r ${conflict} returning t."_id", t."_block_height")
         ${this.undoRowsSql(true)}`,
        [toPostgresJson(rows), undo, name],
      );
    }
  }

  private async deleteRows(
    sql: Sql,
    target: string,
    name: string,
    table: TableSpec,
    wheres: Row[],
    undo: UndoBlock | null,
  ): Promise<void> {
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
      const del = `delete from ${target} as t using json_to_recordset($1::text::json) as r(${this.recordType(table, cols)}) where ${match}`;
      if (!undo) {
        await sql.unsafe(del, [toPostgresJson(rows)]);
        continue;
      }
      // A deleted row's _block_height is its last writer's: the deleting block comes as $2, $3.
      await sql.unsafe(
        `with w as (${del} returning t."_id", to_jsonb(t) as old_row)
         insert into ${this.undoTable()} (index_block_hash, block_height, table_name, row_id, old_row)
         select $2, $3, $4, w."_id", w.old_row from w`,
        [toPostgresJson(rows), undo.indexBlockHash, undo.height, name],
      );
    }
  }
}

/** Folds an upsert into what is pending for its key: the last set wins, adds sum (onto a set value too). */
function collapse(
  upserts: Map<string, Collapsed>,
  id: string,
  op: Extract<RowOp, { kind: "upsert" }>,
  undo: string | null,
): void {
  let entry = upserts.get(id);
  if (!entry) {
    entry = { key: op.key, columns: new Map(), blockHeight: op.blockHeight, txId: op.txId, undo };
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
