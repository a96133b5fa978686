import type { BlockData } from "../chain-blocks.ts";
import type { ChainEvent, ChainTransaction } from "../streams/chain-rows.ts";
import { FilterIndex } from "../streams/match.ts";
import {
  blockPayload,
  type EventPayload,
  eventPayload,
  type TransactionPayload,
  transactionPayload,
} from "../streams/payload.ts";
import { ColumnValueError, toColumnValue } from "./column-values.ts";
import type { Comparison, CompiledAction, CompiledView, TableSpec } from "./definition.ts";
import { decodedRoot, type Expr, evaluate, type MatchContext } from "./expressions.ts";

// What a view's handlers do with one block, as a list of row operations in chain order: block
// handlers first, then transaction by transaction — the transaction's own handlers, then its events
// in order. Pure: the processor writes the operations.

export type Row = Record<string, unknown>;

export type RowOp =
  | { kind: "insert"; table: string; row: Row; blockHeight: number; txId: string | null }
  | { kind: "upsert"; table: string; key: Row; set: Row; add: Row; blockHeight: number; txId: string | null }
  | { kind: "delete"; table: string; where: Row; blockHeight: number; txId: string | null };

export class ViewHandlerError extends Error {
  readonly code = "VIEW_HANDLER_FAILED";
  constructor(
    message: string,
    readonly height: number,
  ) {
    super(message);
  }
}

const OPTIONS = { includeFailed: false, decodeClarityValues: true, includeRawTx: false, includeBlockMetadata: false };
const RAW = { ...OPTIONS, decodeClarityValues: false };

/** The index of a view's handlers (ids are handler positions), for matching a block once for all of them. */
export function handlerIndex(view: CompiledView): FilterIndex {
  const index = new FilterIndex(view.network);
  for (const [i, h] of view.handlers.entries()) index.set(String(i), [h.filter], OPTIONS);
  return index;
}

const decoding = new WeakMap<CompiledView, { tx: typeof OPTIONS; event: typeof OPTIONS }>();

/** Payload options for a view's transactions and events: Clarity values decoded only where it reads them. */
function payloadOptions(view: CompiledView): { tx: typeof OPTIONS; event: typeof OPTIONS } {
  let options = decoding.get(view);
  if (!options) {
    const roots = new Set(
      view.handlers.flatMap((h) => [
        ...h.when.map((c) => decodedRoot(c.expr)),
        ...h.actions.flatMap((a) =>
          (a.kind === "insert" ? a.values : a.kind === "upsert" ? [...a.key, ...a.set, ...a.add] : a.where).map(
            ([, expr]) => decodedRoot(expr),
          ),
        ),
      ]),
    );
    options = { tx: roots.has("tx") ? OPTIONS : RAW, event: roots.has("event") ? OPTIONS : RAW };
    decoding.set(view, options);
  }
  return options;
}

export function planBlock(view: CompiledView, index: FilterIndex, data: BlockData): RowOp[] {
  const height = data.block.block_height;
  const block = blockPayload(data.block, OPTIONS);
  const matches = index.match(data.rows);
  if (matches.size === 0) return [];
  const options = payloadOptions(view);
  const txHandlers = new Map<string, number[]>();
  const eventHandlers = new Map<number, number[]>();
  const blockHandlers: number[] = [];
  for (const [id, match] of [...matches].sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const h = Number(id);
    const scope = view.handlers[h]?.scope;
    if (scope === "block") blockHandlers.push(h);
    else if (scope === "transaction") for (const tx of match.transactions) push(txHandlers, tx.txid, h);
    else for (const ev of match.events) push(eventHandlers, ev.event_index, h);
  }
  const txPayloads = new Map<string, TransactionPayload>();
  const txPayload = (tx: ChainTransaction) => {
    let p = txPayloads.get(tx.txid);
    if (!p) {
      p = transactionPayload(tx, options.tx);
      txPayloads.set(tx.txid, p);
    }
    return p;
  };
  const ops: RowOp[] = [];
  const run = (h: number, ctx: MatchContext, txId: string | null) => {
    const handler = view.handlers[h];
    if (!handler) return;
    let applies: boolean;
    try {
      applies = handler.when.every((c) => holds(c, ctx));
    } catch (err) {
      // A condition on a value that cannot be evaluated (a negated path that is not a number).
      throw new ViewHandlerError(`handlers.${h}.when: ${(err as Error).message}`, height);
    }
    if (!applies) return;
    for (const [a, action] of handler.actions.entries()) {
      ops.push(
        resolve(
          action,
          view.definition.tables[action.table] as TableSpec,
          ctx,
          height,
          txId,
          () => `handlers.${h}.do.${a}`,
        ),
      );
    }
  };
  for (const h of blockHandlers) run(h, { block }, null);
  const eventsByTx = new Map<string, ChainEvent[]>();
  for (const ev of data.rows.events) if (eventHandlers.has(ev.event_index)) push(eventsByTx, ev.txid, ev);
  for (const tx of data.rows.transactions) {
    for (const h of txHandlers.get(tx.txid) ?? []) run(h, { block, tx: txPayload(tx) }, tx.txid);
    for (const ev of eventsByTx.get(tx.txid) ?? []) {
      const event: EventPayload = eventPayload(ev, options.event);
      for (const h of eventHandlers.get(ev.event_index) ?? []) run(h, { block, tx: txPayload(tx), event }, tx.txid);
    }
  }
  return ops;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** An integer as a bigint when the value is one (a decimal string or a safe integer), else null. */
function integer(v: unknown): bigint | null {
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
  return null;
}

function equal(a: unknown, b: unknown): boolean {
  const x = integer(a);
  const y = integer(b);
  if (x !== null && y !== null) return x === y;
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function compare(a: unknown, b: unknown): number | null {
  const x = integer(a);
  const y = integer(b);
  if (x !== null && y !== null) return x < y ? -1 : x > y ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

/** `when`: integers compare exactly, strings lexically; anything else only by (in)equality. */
export function holds(c: Comparison, ctx: MatchContext): boolean {
  const v = evaluate(c.expr, ctx);
  switch (c.op) {
    case "eq":
      return equal(v, c.value);
    case "ne":
      return !equal(v, c.value);
    case "in":
      return Array.isArray(c.value) && c.value.some((x) => equal(v, x));
    default: {
      const order = compare(v, c.value);
      if (order === null) return false;
      return c.op === "gt" ? order > 0 : c.op === "gte" ? order >= 0 : c.op === "lt" ? order < 0 : order <= 0;
    }
  }
}

function resolve(
  action: CompiledAction,
  table: TableSpec,
  ctx: MatchContext,
  blockHeight: number,
  txId: string | null,
  at: () => string,
): RowOp {
  // Where a value went wrong is spelled out only when it did: this runs for every column of every match.
  const value = (col: string, expr: Expr, field: string, required: boolean): unknown => {
    const spec = table.columns[col];
    if (!spec) throw new ViewHandlerError(`${at()}.${field}.${col}: no such column`, blockHeight);
    let v: unknown;
    try {
      v = toColumnValue(spec.type, evaluate(expr, ctx), col);
    } catch (err) {
      const message = err instanceof ColumnValueError ? err.message : `${col}: ${(err as Error).message}`;
      throw new ViewHandlerError(`${at()}.${field}.${message}`, blockHeight);
    }
    if (v === null && (required || !spec.nullable)) {
      throw new ViewHandlerError(
        `${at()}.${field}.${col}: the value is missing and column ${col} cannot be null`,
        blockHeight,
      );
    }
    return v;
  };
  const row = (entries: [string, Expr][], field: string, required = false) =>
    Object.fromEntries(entries.map(([col, expr]) => [col, value(col, expr, field, required)]));
  switch (action.kind) {
    case "insert":
      return { kind: "insert", table: action.table, row: row(action.values, "values"), blockHeight, txId };
    case "upsert":
      return {
        kind: "upsert",
        table: action.table,
        key: row(action.key, "key", true),
        set: row(action.set, "set"),
        add: row(action.add, "add", true),
        blockHeight,
        txId,
      };
    case "delete":
      return { kind: "delete", table: action.table, where: row(action.where, "where"), blockHeight, txId };
  }
}
