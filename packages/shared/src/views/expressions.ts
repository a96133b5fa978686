import type { PlainClarity } from "../stacks/clarity-plain.ts";
import type { BlockPayload, EventPayload, TransactionPayload } from "../streams/payload.ts";

// Expressions of view handlers: paths into the match context (`$.event.amount`, `$.tx.args[0]`,
// `$.event.value.listing.price`), literals, and a negated path (`-$.event.amount`) for `add`. Paths
// are compiled once per definition into a list of steps; evaluation walks the context.

/** The type a path is known to have; `any` for decoded Clarity values, known only at run time. */
export type ExprType = "uint" | "int" | "text" | "principal" | "bool" | "timestamp" | "any";

/** The context a handler sees for one match. `event` only for event filters, `tx` for all but `block`. */
export interface MatchContext {
  block: BlockPayload;
  tx?: TransactionPayload & { args?: TransactionPayload["args"] };
  event?: EventPayload;
}

export type Scope = "block" | "transaction" | "event";

/** Which filter types produce which scope, and which event fields they carry. */
const EVENT_FIELDS: Record<string, Record<string, ExprType>> = {
  stx_transfer: { amount: "uint", sender: "principal", recipient: "principal", memo: "text" },
  stx_mint: { amount: "uint", recipient: "principal" },
  stx_burn: { amount: "uint", sender: "principal" },
  stx_lock: { amount: "uint", lockedAddress: "principal", unlockHeight: "uint", contractId: "text" },
  ft_transfer: { amount: "uint", sender: "principal", recipient: "principal", assetIdentifier: "text" },
  ft_mint: { amount: "uint", recipient: "principal", assetIdentifier: "text" },
  ft_burn: { amount: "uint", sender: "principal", assetIdentifier: "text" },
  nft_transfer: {
    sender: "principal",
    recipient: "principal",
    assetIdentifier: "text",
    tokenId: "any",
    rawValue: "text",
  },
  nft_mint: { recipient: "principal", assetIdentifier: "text", tokenId: "any", rawValue: "text" },
  nft_burn: { sender: "principal", assetIdentifier: "text", tokenId: "any", rawValue: "text" },
  print_event: { contractId: "text", topic: "text", value: "any", rawValue: "text" },
};
const EVENT_COMMON: Record<string, ExprType> = { txid: "text", eventIndex: "int", type: "text" };

const TX_FIELDS: Record<string, ExprType> = {
  id: "text",
  index: "int",
  sender: "principal",
  sponsor: "principal",
  type: "text",
  status: "text",
  fee: "uint",
  nonce: "uint",
  contractId: "text",
  functionName: "text",
  args: "any",
  result: "any",
};

const BLOCK_FIELDS: Record<string, ExprType> = {
  height: "uint",
  hash: "text",
  indexBlockHash: "text",
  parentIndexBlockHash: "text",
  burnBlockHeight: "uint",
  time: "timestamp",
};

/** Fields whose values nest (decoded Clarity): a path may go on into them. */
const NESTED = new Set(["event.value", "event.tokenId", "tx.args", "tx.result"]);

export function scopeOfFilter(type: string): Scope {
  if (type === "block") return "block";
  if (type === "contract_call" || type === "contract_deploy" || type === "tx") return "transaction";
  return "event";
}

export type Step = string | number;

export interface CompiledPath {
  source: string;
  root: "block" | "tx" | "event";
  steps: Step[];
  type: ExprType;
}

export type Expr = { kind: "path"; path: CompiledPath; negate: boolean } | { kind: "literal"; value: unknown };

const PATH = /^(-?)\$\.([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*)$/;

/** Is this JSON value written as a path (`$.x.y`, `-$.x`)? Other strings are literals. */
export function isPathExpr(value: unknown): value is string {
  return typeof value === "string" && (value.startsWith("$.") || value.startsWith("-$."));
}

/**
 * Compiles an expression for a handler whose filter has `filterType`, or returns why it cannot hold
 * there (a path that cannot exist for that filter type, a malformed path).
 */
export function compileExpr(value: unknown, filterType: string): Expr | string {
  if (!isPathExpr(value)) {
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "literal" in value) {
      return { kind: "literal", value: (value as { literal: unknown }).literal };
    }
    return { kind: "literal", value };
  }
  const m = PATH.exec(value);
  if (!m) return `${JSON.stringify(value)} is not a path such as $.event.amount or $.tx.args[0]`;
  const negate = m[1] === "-";
  const steps: Step[] = [];
  for (const part of (m[2] as string).matchAll(/([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/g)) {
    steps.push(part[1] !== undefined ? part[1] : Number(part[2]));
  }
  const [root, field, ...rest] = steps;
  const scope = scopeOfFilter(filterType);
  let type: ExprType | undefined;
  if (root === "block") {
    type = typeof field === "string" ? BLOCK_FIELDS[field] : undefined;
    if (!type) return `$.block has ${Object.keys(BLOCK_FIELDS).join(", ")}, not ${String(field)}`;
  } else if (root === "tx") {
    if (scope === "block") return "a block handler has no $.tx (match a transaction or an event)";
    type = typeof field === "string" ? TX_FIELDS[field] : undefined;
    if (!type) return `$.tx has ${Object.keys(TX_FIELDS).join(", ")}, not ${String(field)}`;
  } else if (root === "event") {
    if (scope !== "event") return `a ${filterType} handler has no $.event (only event filters have one)`;
    const fields = { ...EVENT_COMMON, ...(EVENT_FIELDS[filterType] ?? {}) };
    type = typeof field === "string" ? fields[field] : undefined;
    if (!type) return `a ${filterType} event has ${Object.keys(fields).join(", ")}, not ${String(field)}`;
  } else {
    return `a path starts with $.block, $.tx or $.event, not $.${String(root)}`;
  }
  const nested = NESTED.has(`${root}.${String(field)}`);
  if (rest.length > 0 && !nested) return `$.${root}.${String(field)} has no parts below it`;
  if (rest.length > 0 || nested) type = "any";
  if (negate && !["uint", "int", "any"].includes(type)) return `only numbers can be negated, and ${value} is ${type}`;
  if (negate) type = type === "any" ? "any" : "int";
  return {
    kind: "path",
    path: { source: value, root: root as CompiledPath["root"], steps: [field as Step, ...rest], type },
    negate,
  };
}

/**
 * Which payload's decoded Clarity values an expression reads (`$.tx.args[0]`, `$.event.value.price`),
 * if any. Decoding is most of the cost of planning a block, so payloads are decoded only for views
 * that read them.
 */
export function decodedRoot(expr: Expr): "tx" | "event" | null {
  if (expr.kind !== "path" || expr.path.root === "block") return null;
  return NESTED.has(`${expr.path.root}.${String(expr.path.steps[0])}`) ? expr.path.root : null;
}

// The view of a payload that paths walk, built once per payload: one match evaluates many paths.
const views = new WeakMap<object, Record<string, unknown>>();

function viewOf<T extends object>(payload: T, build: (p: T) => Record<string, unknown>): Record<string, unknown> {
  let view = views.get(payload);
  if (!view) {
    view = build(payload);
    views.set(payload, view);
  }
  return view;
}

/** The JSON-ish value an expression yields for a match; undefined when the path leads nowhere. */
export function evaluate(expr: Expr, ctx: MatchContext): unknown {
  if (expr.kind === "literal") return expr.value;
  const { root, steps } = expr.path;
  let value: unknown =
    root === "block"
      ? viewOf(ctx.block, blockView)
      : root === "tx"
        ? ctx.tx
          ? viewOf(ctx.tx, txView)
          : undefined
        : ctx.event
          ? viewOf(ctx.event, eventView)
          : undefined;
  for (const step of steps) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string | number, unknown>)[step];
  }
  if (!expr.negate || value === undefined || value === null) return value;
  return negated(value, expr.path.source);
}

function negated(value: unknown, source: string): string {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !/^-?\d+$/.test(text))
    throw new ExpressionError(`${source} is not an integer, so it cannot be negated`);
  return (-BigInt(text)).toString();
}

export class ExpressionError extends Error {
  readonly code = "VIEW_EXPRESSION_FAILED";
}

function blockView(b: BlockPayload) {
  return {
    height: b.height,
    hash: b.hash,
    indexBlockHash: b.indexBlockHash,
    parentIndexBlockHash: b.parentIndexBlockHash,
    burnBlockHeight: b.burnBlockHeight,
    time: b.timestamp,
  };
}

function txView(t: NonNullable<MatchContext["tx"]>) {
  return {
    id: t.txid,
    index: t.txIndex,
    sender: t.sender,
    sponsor: t.sponsor,
    type: t.type,
    status: t.status,
    fee: t.fee,
    nonce: t.nonce,
    contractId: t.contractId,
    functionName: t.functionName,
    args: (t.args ?? []).map((a) => a.value ?? a.hex) as PlainClarity[],
    result: t.result ? (t.result.value ?? t.result.hex) : undefined,
  };
}

function eventView(e: EventPayload) {
  // NFT events carry the token id as their Clarity value.
  return { ...e, tokenId: e.type.startsWith("nft_") ? (e.value ?? e.rawValue) : undefined };
}
