import type { BlockPayload, ClarityPayload, EventPayload, TransactionPayload } from "@second-layer/sdk/webhooks";
import { cvToString, hexToCV } from "@stacks/transactions";
import { clarityToPlain } from "../stacks/clarity-plain.ts";
import type { ChainBlock, ChainEvent, ChainTransaction } from "./chain-rows.ts";
import type { StreamOptions } from "./filters.ts";
import type { StreamMatch } from "./predicate.ts";

// The JSON of matched transactions, events and the block in a webhook body. Hex is always there (the
// exact form); decoded values sit beside it when `decodeClarityValues` is on. Absent facts are left
// out rather than sent as null, except where null is the fact (a transaction's `vmError`). The
// types are the SDK's: what consumers are promised is what this builds.

export type { BlockPayload, ClarityPayload, EventPayload, TransactionPayload };

type PayloadOptions = Pick<StreamOptions, "decodeClarityValues" | "includeRawTx" | "includeBlockMetadata">;

function clarity(hex: string, decode: boolean): ClarityPayload {
  if (!decode) return { hex };
  try {
    const cv = hexToCV(hex);
    return { hex, repr: cvToString(cv), value: clarityToPlain(cv) };
  } catch {
    // A value this library cannot decode still goes out as hex.
    return { hex };
  }
}

/** Copies the non-null columns of `row` under their payload names. */
function present<R, K extends keyof R>(row: R, names: Record<K, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const column of Object.keys(names) as K[]) {
    const value = row[column];
    if (value !== null && value !== undefined) out[names[column]] = String(value);
  }
  return out;
}

const EVENT_FIELDS = {
  asset_identifier: "assetIdentifier",
  contract_id: "contractId",
  topic: "topic",
  sender: "sender",
  recipient: "recipient",
  locked_address: "lockedAddress",
  amount: "amount",
  unlock_height: "unlockHeight",
  memo: "memo",
} as const;

export function eventPayload(e: ChainEvent, options: Pick<PayloadOptions, "decodeClarityValues">): EventPayload {
  const out: EventPayload = {
    type: e.type,
    txid: e.txid,
    eventIndex: e.event_index,
    committed: e.committed,
    txSuccess: e.tx_success,
    ...present(e, EVENT_FIELDS),
  };
  if (e.value_hex !== null) {
    out.rawValue = e.value_hex;
    const decoded = clarity(e.value_hex, options.decodeClarityValues);
    if (decoded.value !== undefined) out.value = decoded.value;
  }
  return out;
}

interface StoredArg {
  hex: string;
  repr?: string;
  type?: string;
}

function isStoredArg(arg: unknown): arg is StoredArg {
  return typeof arg === "object" && arg !== null && typeof (arg as StoredArg).hex === "string";
}

export function transactionPayload(
  t: ChainTransaction,
  options: Pick<PayloadOptions, "decodeClarityValues" | "includeRawTx">,
): TransactionPayload {
  const out: TransactionPayload = {
    txid: t.txid,
    txIndex: t.tx_index,
    type: t.tx_type,
    ...present(t, { sender_address: "sender", fee: "fee", nonce: "nonce", contract_id: "contractId" }),
    status: t.status,
    vmError: t.vm_error,
  };
  if (t.sponsored && t.sponsor_address !== null) out.sponsor = t.sponsor_address;
  if (t.tx_type === "contract_call" && t.function_name !== null) {
    out.functionName = t.function_name;
    out.args = (Array.isArray(t.function_args) ? t.function_args : []).filter(isStoredArg).map((arg) => {
      const decoded = clarity(arg.hex, options.decodeClarityValues);
      // The repr and type were decoded at ingest; they are sent whether or not values are decoded.
      return {
        ...decoded,
        ...(arg.repr === undefined ? {} : { repr: arg.repr }),
        ...(arg.type ? { type: arg.type } : {}),
      };
    });
  }
  if (t.token_transfer_recipient !== null && t.token_transfer_amount !== null) {
    out.tokenTransfer = {
      recipient: t.token_transfer_recipient,
      amount: t.token_transfer_amount,
      memo: t.token_transfer_memo,
    };
  }
  if (t.raw_result !== null) out.result = clarity(t.raw_result, options.decodeClarityValues);
  if (options.includeRawTx) out.rawTx = t.raw_tx;
  return out;
}

export function blockPayload(b: ChainBlock, options: Pick<PayloadOptions, "includeBlockMetadata">): BlockPayload {
  const out: BlockPayload = {
    height: b.block_height,
    hash: b.block_hash,
    indexBlockHash: b.index_block_hash,
    parentIndexBlockHash: b.parent_index_block_hash,
    burnBlockHeight: b.burn_block_height,
    timestamp: Number(b.block_time ?? b.burn_block_time),
  };
  if (options.includeBlockMetadata) {
    out.metadata = {
      parentBlockHash: b.parent_block_hash,
      burnBlockHash: b.burn_block_hash,
      burnBlockTime: Number(b.burn_block_time),
      tenureHeight: b.tenure_height,
      consensusHash: b.consensus_hash,
      minerTxid: b.miner_txid,
      cycleNumber: b.cycle_number,
      signerBitvec: b.signer_bitvec,
      signerSignatureHash: b.signer_signature_hash,
      executionCost: b.anchored_cost,
      txCount: b.tx_count,
      eventCount: b.event_count,
    };
  }
  return out;
}

/**
 * Renderings of rows kept for the next stream that matched the same row: a block's events go into
 * the payload of every stream that matched them, decoded once (per set of options), not per stream.
 * Keyed by the row object, so the renderings go when the rows do.
 */
export type PayloadCache = WeakMap<ChainEvent | ChainTransaction, Map<string, EventPayload | TransactionPayload>>;

function rendered<T extends EventPayload | TransactionPayload>(
  cache: PayloadCache | undefined,
  row: ChainEvent | ChainTransaction,
  options: string,
  render: () => T,
): T {
  if (!cache) return render();
  let byOptions = cache.get(row);
  if (!byOptions) {
    byOptions = new Map();
    cache.set(row, byOptions);
  }
  let out = byOptions.get(options) as T | undefined;
  if (out === undefined) {
    out = render();
    byOptions.set(options, out);
  }
  return out;
}

/** The `matches` of a webhook body for one stream's match in a block. */
export function matchesPayload(
  match: Pick<StreamMatch, "transactions" | "events">,
  options: PayloadOptions,
  cache?: PayloadCache,
): { transactions: TransactionPayload[]; events: EventPayload[] } {
  const { decodeClarityValues, includeRawTx } = options;
  return {
    transactions: match.transactions.map((t) =>
      rendered(cache, t, `${decodeClarityValues} ${includeRawTx}`, () => transactionPayload(t, options)),
    ),
    events: match.events.map((e) => rendered(cache, e, `${decodeClarityValues}`, () => eventPayload(e, options))),
  };
}
