import type { StacksNetwork } from "../config.ts";
import { decodeClarityPlain, type PlainClarity } from "../stacks/clarity-plain.ts";
import type { ChainBlockRows, ChainEvent, ChainTransaction } from "./chain-rows.ts";
import type { StreamFilter, StreamOptions } from "./filters.ts";
import { compileGlob } from "./glob.ts";
import { tokenIdHex } from "./token-id.ts";

// One filter as a predicate over stored rows. The rules that are the same for every filter type:
// - an event of a failed transaction (tx_success = false), or one the node marks uncommitted, is seen
//   only by streams with `includeFailed`;
// - a failed transaction (status other than `success`) is seen by `contract_call`, `contract_deploy`
//   and `tx` filters only with `includeFailed`, except by a `tx` filter that names a `status`: that
//   filter asks for exactly those transactions and sees them either way.

/** The node's event type that each event filter type matches. */
export const EVENT_TYPE_OF_FILTER = {
  stx_transfer: "stx_transfer_event",
  stx_mint: "stx_mint_event",
  stx_burn: "stx_burn_event",
  stx_lock: "stx_lock_event",
  ft_transfer: "ft_transfer_event",
  ft_mint: "ft_mint_event",
  ft_burn: "ft_burn_event",
  nft_transfer: "nft_transfer_event",
  nft_mint: "nft_mint_event",
  nft_burn: "nft_burn_event",
  print_event: "contract_event",
} as const;

type EventFilterType = keyof typeof EVENT_TYPE_OF_FILTER;
type EventFilter = Extract<StreamFilter, { type: EventFilterType }>;
type TransactionFilter = Extract<StreamFilter, { type: "contract_call" | "contract_deploy" | "tx" }>;

const DEPLOY_TX_TYPES: ReadonlySet<string> = new Set(["smart_contract", "versioned_smart_contract"]);

/**
 * An event with what filters derive from it, computed at most once and only when a filter asks:
 * the amount as bigint, the decoded value and its JSON text.
 */
export class EventView {
  private amountValue: bigint | null | undefined;
  private decodedValue: { value: PlainClarity; text: string } | null | undefined;

  constructor(readonly row: ChainEvent) {}

  amount(): bigint | null {
    if (this.amountValue === undefined) this.amountValue = this.row.amount === null ? null : BigInt(this.row.amount);
    return this.amountValue;
  }

  /** The value decoded to plain JSON; null when the event has none or it does not decode. */
  decoded(): { value: PlainClarity; text: string } | null {
    if (this.decodedValue === undefined) {
      this.decodedValue = null;
      if (this.row.value_hex !== null) {
        try {
          const value = decodeClarityPlain(this.row.value_hex);
          this.decodedValue = { value, text: JSON.stringify(value) };
        } catch {
          // A value this library cannot decode (a newer Clarity type) matches no content condition.
        }
      }
    }
    return this.decodedValue;
  }
}

type Check<T> = (item: T) => boolean;

export type CompiledFilter =
  | { target: "event"; eventType: string; filter: EventFilter; test: Check<EventView> }
  | { target: "transaction"; filter: TransactionFilter; test: Check<ChainTransaction> }
  | { target: "block"; filter: Extract<StreamFilter, { type: "block" }> };

/** All of `checks` (none: always true). */
function every<T>(checks: (Check<T> | null)[]): Check<T> {
  const list = checks.filter((c): c is Check<T> => c !== null);
  if (list.length === 0) return () => true;
  if (list.length === 1) return list[0] as Check<T>;
  return (item) => {
    for (const check of list) if (!check(item)) return false;
    return true;
  };
}

function equals<T>(expected: string | undefined, get: (item: T) => string | null): Check<T> | null {
  return expected === undefined ? null : (item) => get(item) === expected;
}

function atLeast(min: string | undefined): Check<EventView> | null {
  if (min === undefined) return null;
  const bound = BigInt(min);
  return (e) => {
    const amount = e.amount();
    return amount !== null && amount >= bound;
  };
}

function atMost(max: string | undefined): Check<EventView> | null {
  if (max === undefined) return null;
  const bound = BigInt(max);
  return (e) => {
    const amount = e.amount();
    return amount !== null && amount <= bound;
  };
}

/** The value at a dotted path of a decoded value (list items by index); undefined when absent. */
function valueAt(value: PlainClarity, path: string[]): PlainClarity | undefined {
  let at: PlainClarity | undefined = value;
  for (const key of path) {
    if (at === null || typeof at !== "object") return undefined;
    at = Array.isArray(at)
      ? /^\d+$/.test(key)
        ? at[Number(key)]
        : undefined
      : Object.hasOwn(at, key)
        ? at[key]
        : undefined;
  }
  return at;
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameJson((a as never)[k], (b as never)[k]));
}

function eventCheck(filter: EventFilter, network: StacksNetwork): Check<EventView> {
  const col = (name: keyof ChainEvent) => (e: EventView) => e.row[name] as string | null;
  switch (filter.type) {
    case "stx_transfer":
      return every([
        equals(filter.sender, col("sender")),
        equals(filter.recipient, col("recipient")),
        atLeast(filter.minAmount),
        atMost(filter.maxAmount),
      ]);
    case "stx_mint":
      return every([equals(filter.recipient, col("recipient")), atLeast(filter.minAmount)]);
    case "stx_burn":
      return every([equals(filter.sender, col("sender")), atLeast(filter.minAmount)]);
    case "stx_lock":
      return every([equals(filter.lockedAddress, col("locked_address")), atLeast(filter.minAmount)]);
    case "ft_transfer":
    case "ft_mint":
    case "ft_burn":
      return every([
        equals(filter.assetIdentifier, col("asset_identifier")),
        equals("sender" in filter ? filter.sender : undefined, col("sender")),
        equals("recipient" in filter ? filter.recipient : undefined, col("recipient")),
        atLeast(filter.minAmount),
      ]);
    case "nft_transfer":
    case "nft_mint":
    case "nft_burn":
      return every([
        equals(filter.assetIdentifier, col("asset_identifier")),
        equals("sender" in filter ? filter.sender : undefined, col("sender")),
        equals("recipient" in filter ? filter.recipient : undefined, col("recipient")),
        equals(filter.tokenId === undefined ? undefined : tokenIdHex(filter.tokenId, network), (e) =>
          e.row.value_hex === null ? null : e.row.value_hex.toLowerCase(),
        ),
      ]);
    case "print_event": {
      const { contains, where } = filter;
      const conditions = where ? Object.entries(where).map(([path, v]) => [path.split("."), v] as const) : [];
      return every([
        equals(filter.contractId, col("contract_id")),
        equals(filter.topic, col("topic")),
        contains === undefined ? null : (e) => e.decoded()?.text.includes(contains) ?? false,
        conditions.length === 0
          ? null
          : (e) => {
              const decoded = e.decoded();
              return decoded !== null && conditions.every(([path, v]) => sameJson(valueAt(decoded.value, path), v));
            },
      ]);
    }
  }
}

function transactionCheck(filter: TransactionFilter): Check<ChainTransaction> {
  switch (filter.type) {
    case "contract_call": {
      const name = filter.functionName === undefined ? null : compileGlob(filter.functionName);
      return every<ChainTransaction>([
        (t) => t.tx_type === "contract_call",
        equals(filter.contractId, (t) => t.contract_id),
        name && ((t) => t.function_name !== null && name(t.function_name)),
        equals(filter.caller, (t) => t.sender_address),
      ]);
    }
    case "contract_deploy": {
      const name = filter.contractName === undefined ? null : compileGlob(filter.contractName);
      return every<ChainTransaction>([
        (t) => DEPLOY_TX_TYPES.has(t.tx_type),
        equals(filter.deployer, (t) => t.sender_address),
        name && ((t) => t.contract_id !== null && name(t.contract_id.slice(t.contract_id.indexOf(".") + 1))),
      ]);
    }
    case "tx":
      return every<ChainTransaction>([
        equals(filter.txId, (t) => t.txid),
        equals(filter.txType, (t) => t.tx_type),
        equals(filter.sender, (t) => t.sender_address),
        equals(filter.status, (t) => t.status),
      ]);
  }
}

/** A filter, validated by streamFilterSchema(network), as a predicate. */
export function compileFilter(filter: StreamFilter, network: StacksNetwork): CompiledFilter {
  if (filter.type === "block") return { target: "block", filter };
  if (filter.type === "contract_call" || filter.type === "contract_deploy" || filter.type === "tx") {
    return { target: "transaction", filter, test: transactionCheck(filter) };
  }
  return { target: "event", eventType: EVENT_TYPE_OF_FILTER[filter.type], filter, test: eventCheck(filter, network) };
}

/** Whether a stream with `includeFailed` as given may see this event at all. */
export function eventVisible(event: ChainEvent, includeFailed: boolean): boolean {
  return includeFailed || (event.committed && event.tx_success);
}

/** Whether a transaction filter of a stream with `includeFailed` as given may see this transaction. */
export function transactionVisible(tx: ChainTransaction, filter: TransactionFilter, includeFailed: boolean): boolean {
  return tx.status === "success" || includeFailed || (filter.type === "tx" && filter.status !== undefined);
}

export function eventMatches(compiled: CompiledFilter, event: EventView, includeFailed: boolean): boolean {
  return (
    compiled.target === "event" &&
    event.row.type === compiled.eventType &&
    eventVisible(event.row, includeFailed) &&
    compiled.test(event)
  );
}

export function transactionMatches(compiled: CompiledFilter, tx: ChainTransaction, includeFailed: boolean): boolean {
  return (
    compiled.target === "transaction" && transactionVisible(tx, compiled.filter, includeFailed) && compiled.test(tx)
  );
}

/** What one stream's filters matched in a block. */
export interface StreamMatch {
  transactions: ChainTransaction[];
  events: ChainEvent[];
  /** Indexes into the stream's filters of every filter that matched, ascending. */
  matchedFilters: number[];
}

/**
 * One stream's filters against one block, filter by filter: for a single stream (catch-up, replay)
 * and as the reference the index must agree with. Null when nothing matched; a `block` filter
 * matches every block, with no transactions or events of its own.
 */
export function matchStream(
  filters: readonly StreamFilter[],
  options: Pick<StreamOptions, "includeFailed">,
  block: ChainBlockRows,
  network: StacksNetwork,
): StreamMatch | null {
  const compiled = filters.map((f) => compileFilter(f, network));
  const matched = new Set<number>();
  /** Whether any filter matches, noting every one that does. */
  const anyOf = (test: (c: CompiledFilter) => boolean): boolean => {
    let hit = false;
    compiled.forEach((c, i) => {
      if (test(c)) {
        matched.add(i);
        hit = true;
      }
    });
    return hit;
  };
  const transactions = block.transactions.filter((tx) =>
    anyOf((c) => transactionMatches(c, tx, options.includeFailed)),
  );
  const events = block.events.filter((row) => {
    const view = new EventView(row);
    return anyOf((c) => eventMatches(c, view, options.includeFailed));
  });
  compiled.forEach((c, i) => {
    if (c.target === "block") matched.add(i);
  });
  if (matched.size === 0) return null;
  return { transactions, events, matchedFilters: [...matched].sort((a, b) => a - b) };
}
