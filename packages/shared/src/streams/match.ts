import type { StacksNetwork } from "../config.ts";
import type { ChainBlockRows, ChainEvent, ChainTransaction } from "./chain-rows.ts";
import type { StreamFilter, StreamOptions } from "./filters.ts";
import { literalOfGlob } from "./glob.ts";
import {
  type CompiledFilter,
  compileFilter,
  EventView,
  eventVisible,
  type StreamMatch,
  transactionVisible,
} from "./predicate.ts";
import { tokenIdHex } from "./token-id.ts";

// Matching a block against every active stream without scanning every filter per event. Each filter
// is filed under one selective key it requires: an event or transaction can only match filters filed
// under its own type and under the values of its own columns, so each one probes a few hash buckets
// and runs the full predicate on those candidates only. A filter without a usable key is filed under
// its type alone (such a filter genuinely wants every event of that type).

interface Entry {
  streamId: string;
  filterIndex: number;
  includeFailed: boolean;
  compiled: CompiledFilter;
}

/** Filters of one event or transaction kind: keyless ones, and the rest by (column, value). */
class Bucket {
  readonly keyless = new Set<Entry>();
  readonly byColumn = new Map<string, Map<string, Set<Entry>>>();

  add(entry: Entry, key: IndexKey | null): void {
    if (!key) {
      this.keyless.add(entry);
      return;
    }
    let values = this.byColumn.get(key.column);
    if (!values) {
      values = new Map();
      this.byColumn.set(key.column, values);
    }
    let set = values.get(key.value);
    if (!set) {
      set = new Set();
      values.set(key.value, set);
    }
    set.add(entry);
  }

  remove(entry: Entry, key: IndexKey | null): void {
    if (!key) {
      this.keyless.delete(entry);
      return;
    }
    const values = this.byColumn.get(key.column);
    const set = values?.get(key.value);
    if (!values || !set) return;
    set.delete(entry);
    if (set.size === 0) values.delete(key.value);
    if (values.size === 0) this.byColumn.delete(key.column);
  }

  get empty(): boolean {
    return this.keyless.size === 0 && this.byColumn.size === 0;
  }

  /** Calls `visit` with every entry that could match a row (each once), given a reader of the row's columns. */
  forEachCandidate(column: (name: string) => string | null, visit: (entry: Entry) => void): void {
    for (const entry of this.keyless) visit(entry);
    for (const [name, values] of this.byColumn) {
      const value = column(name);
      if (value === null) continue;
      const set = values.get(value);
      if (set) for (const entry of set) visit(entry);
    }
  }
}

/** A column the matched row must hold exactly `value` in. */
interface IndexKey {
  column: string;
  value: string;
}

/**
 * The key a filter is filed under: its most selective required field. Principals and transaction ids
 * come before contracts and assets (one popular contract is in many events; one account in few).
 */
function indexKey(filter: StreamFilter, network: StacksNetwork): IndexKey | null {
  const token = "tokenId" in filter && filter.tokenId !== undefined ? tokenIdHex(filter.tokenId, network) : undefined;
  const first = (...pairs: [string, string | undefined][]): IndexKey | null => {
    for (const [column, value] of pairs) if (value !== undefined) return { column, value };
    return null;
  };
  switch (filter.type) {
    case "stx_transfer":
      return first(["sender", filter.sender], ["recipient", filter.recipient]);
    case "stx_mint":
      return first(["recipient", filter.recipient]);
    case "stx_burn":
      return first(["sender", filter.sender]);
    case "stx_lock":
      return first(["locked_address", filter.lockedAddress]);
    case "ft_transfer":
    case "nft_transfer":
      return first(
        ["sender", filter.sender],
        ["recipient", filter.recipient],
        ["asset_identifier", filter.assetIdentifier],
        ["value_hex", token],
      );
    case "ft_mint":
    case "nft_mint":
      return first(["recipient", filter.recipient], ["asset_identifier", filter.assetIdentifier], ["value_hex", token]);
    case "ft_burn":
    case "nft_burn":
      return first(["sender", filter.sender], ["asset_identifier", filter.assetIdentifier], ["value_hex", token]);
    case "print_event":
      return first(["contract_id", filter.contractId]);
    case "contract_call":
      return first(
        ["sender_address", filter.caller],
        ["contract_id", filter.contractId],
        [
          "function_name",
          filter.functionName === undefined ? undefined : (literalOfGlob(filter.functionName) ?? undefined),
        ],
      );
    case "contract_deploy":
      return first(["sender_address", filter.deployer]);
    case "tx":
      return first(["txid", filter.txId], ["sender_address", filter.sender], ["tx_type", filter.txType]);
    case "block":
      return null;
  }
}

interface Accumulator {
  match: StreamMatch;
  filters: Set<number>;
  lastTransaction: ChainTransaction | null;
  lastEvent: ChainEvent | null;
}

interface StreamEntries<M> {
  entries: { entry: Entry; bucket: Bucket; key: IndexKey | null }[];
  meta: M | undefined;
  options: StreamOptions;
}

/**
 * The active streams of one network, indexed by their filters' selective keys. `set` a stream when it
 * is created or changed, `delete` it when it stops being active; `match` a block's rows.
 */
export class FilterIndex<M = undefined> {
  private readonly streams = new Map<string, StreamEntries<M>>();
  /** Event buckets by the node's event type name. */
  private readonly events = new Map<string, Bucket>();
  /** Transaction buckets by filter type: contract_call, contract_deploy, tx. */
  private readonly transactions = new Map<string, Bucket>();
  private readonly blockEntries = new Set<Entry>();
  private includeFailedCount = 0;

  constructor(readonly network: StacksNetwork) {}

  get size(): number {
    return this.streams.size;
  }

  has(streamId: string): boolean {
    return this.streams.has(streamId);
  }

  /** What `set` stored with the stream (e.g. its row), for the caller's use after a match. */
  meta(streamId: string): M | undefined {
    return this.streams.get(streamId)?.meta;
  }

  options(streamId: string): StreamOptions | undefined {
    return this.streams.get(streamId)?.options;
  }

  /** Adds a stream, or replaces its filters and options. Filters must be parsed with the network's schema. */
  set(streamId: string, filters: readonly StreamFilter[], options: StreamOptions, meta?: M): void {
    this.delete(streamId);
    const entries: StreamEntries<M>["entries"] = [];
    filters.forEach((filter, filterIndex) => {
      const compiled = compileFilter(filter, this.network);
      const entry: Entry = { streamId, filterIndex, includeFailed: options.includeFailed, compiled };
      if (compiled.target === "block") {
        this.blockEntries.add(entry);
        entries.push({ entry, bucket: BLOCK_BUCKET, key: null });
        return;
      }
      const group = compiled.target === "event" ? this.events : this.transactions;
      const name = compiled.target === "event" ? compiled.eventType : filter.type;
      let bucket = group.get(name);
      if (!bucket) {
        bucket = new Bucket();
        group.set(name, bucket);
      }
      const key = indexKey(filter, this.network);
      bucket.add(entry, key);
      entries.push({ entry, bucket, key });
    });
    if (options.includeFailed) this.includeFailedCount++;
    this.streams.set(streamId, { entries, meta, options });
  }

  delete(streamId: string): boolean {
    const stream = this.streams.get(streamId);
    if (!stream) return false;
    for (const { entry, bucket, key } of stream.entries) {
      if (bucket === BLOCK_BUCKET) this.blockEntries.delete(entry);
      else bucket.remove(entry, key);
    }
    for (const group of [this.events, this.transactions]) {
      for (const [name, bucket] of group) if (bucket.empty) group.delete(name);
    }
    if (stream.options.includeFailed) this.includeFailedCount--;
    this.streams.delete(streamId);
    return true;
  }

  /**
   * Every stream that matches something in the block, with what it matched (in the rows' order).
   * Each transaction and event is evaluated once, against its candidate filters only.
   */
  match(block: ChainBlockRows): Map<string, StreamMatch> {
    const found = new Map<string, Accumulator>();
    const hit = (entry: Entry): Accumulator => {
      let acc = found.get(entry.streamId);
      if (!acc) {
        acc = {
          match: { transactions: [], events: [], matchedFilters: [] },
          filters: new Set(),
          lastTransaction: null,
          lastEvent: null,
        };
        found.set(entry.streamId, acc);
      }
      acc.filters.add(entry.filterIndex);
      return acc;
    };

    for (const tx of block.transactions) {
      const failedTx = tx.status !== "success";
      const column = (name: string) => tx[name as keyof ChainTransaction] as string | null;
      for (const kind of transactionFilterTypes(tx)) {
        const bucket = this.transactions.get(kind);
        if (!bucket) continue;
        bucket.forEachCandidate(column, (entry) => {
          const c = entry.compiled;
          if (c.target !== "transaction") return;
          if (failedTx && !transactionVisible(tx, c.filter, entry.includeFailed)) return;
          if (!c.test(tx)) return;
          const acc = hit(entry);
          if (acc.lastTransaction !== tx) {
            acc.match.transactions.push(tx);
            acc.lastTransaction = tx;
          }
        });
      }
    }

    for (const row of block.events) {
      const bucket = this.events.get(row.type);
      if (!bucket) continue;
      const visibleToAll = eventVisible(row, false);
      if (!visibleToAll && this.includeFailedCount === 0) continue;
      const view = new EventView(row);
      const column = (name: string) => eventColumn(row, name);
      bucket.forEachCandidate(column, (entry) => {
        const c = entry.compiled;
        if (c.target !== "event") return;
        if (!visibleToAll && !entry.includeFailed) return;
        if (!c.test(view)) return;
        const acc = hit(entry);
        if (acc.lastEvent !== row) {
          acc.match.events.push(row);
          acc.lastEvent = row;
        }
      });
    }

    for (const entry of this.blockEntries) hit(entry);

    const result = new Map<string, StreamMatch>();
    for (const [streamId, acc] of found) {
      acc.match.matchedFilters = [...acc.filters].sort((a, b) => a - b);
      result.set(streamId, acc.match);
    }
    return result;
  }
}

/** Marks block-filter entries, which live in `blockEntries` rather than a bucket. */
const BLOCK_BUCKET = new Bucket();

function eventColumn(row: ChainEvent, name: string): string | null {
  const value = row[name as keyof ChainEvent] as string | null;
  // Token ids are filed by their lowercase hex; the node writes lowercase, but stored rows are not ours to trust.
  return name === "value_hex" && value !== null ? value.toLowerCase() : value;
}

const DEPLOY_KINDS = ["contract_deploy", "tx"];
const CALL_KINDS = ["contract_call", "tx"];
const TX_KINDS = ["tx"];

/** The transaction filter types that can match a transaction of this type. */
function transactionFilterTypes(tx: ChainTransaction): readonly string[] {
  if (tx.tx_type === "contract_call") return CALL_KINDS;
  if (tx.tx_type === "smart_contract" || tx.tx_type === "versioned_smart_contract") return DEPLOY_KINDS;
  return TX_KINDS;
}
