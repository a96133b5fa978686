// The bodies Second Layer POSTs to a stream's webhook URL. These types are the contract: the worker
// builds its bodies against them (packages/shared/src/streams/payload.ts and delivery-body.ts import
// them from here), so a consumer's types cannot drift from what is sent.

/**
 * A Clarity value as plain, exact JSON:
 * - `uint`, `int` → decimal string (exact at any size: uint128 does not fit a JSON number)
 * - `bool` → boolean; principal → its string (`SP...` or `SP....name`)
 * - `buff` → `"0x<hex>"`; `string-ascii`, `string-utf8` → string
 * - `none` → `null`; `(some v)` → `v`
 * - `(ok v)` → `{"ok": v}`; `(err v)` → `{"err": v}`
 * - list → array; tuple → object with the tuple's keys
 * It is meant for reading and filtering, not for round trips: `(some none)` and `none` both become
 * `null`, and `{"ok": v}` looks like a one-field tuple named `ok`. The hex stays the exact form.
 */
export type PlainClarity = string | boolean | null | PlainClarity[] | { [key: string]: PlainClarity };

export interface ClarityPayload {
  hex: string;
  /** Clarity notation, e.g. `(ok u1)`; with decodeClarityValues. */
  repr?: string;
  /** Plain JSON; with decodeClarityValues. */
  value?: PlainClarity;
}

export interface EventPayload {
  /** The node's event type name: `stx_transfer_event`, `contract_event`, ... */
  type: string;
  txid: string;
  eventIndex: number;
  /** False only for events of failed transactions or uncommitted events (streams with includeFailed). */
  committed: boolean;
  txSuccess: boolean;
  assetIdentifier?: string;
  contractId?: string;
  topic?: string;
  sender?: string;
  recipient?: string;
  lockedAddress?: string;
  /** Decimal string (uint128). For `stx_lock_event`, the locked amount. */
  amount?: string;
  unlockHeight?: string;
  memo?: string;
  /** Hex of the event's Clarity value (print payload, NFT token id). */
  rawValue?: string;
  /** The decoded value, with decodeClarityValues; left out when it does not decode. */
  value?: PlainClarity;
}

export interface TransactionPayload {
  txid: string;
  txIndex: number;
  /** `token_transfer`, `contract_call`, `smart_contract`, `coinbase`, ... */
  type: string;
  sender?: string;
  sponsor?: string;
  status: string;
  fee?: string;
  nonce?: string;
  contractId?: string;
  functionName?: string;
  args?: (ClarityPayload & { type?: string })[];
  tokenTransfer?: { recipient: string; amount: string; memo: string | null };
  result?: ClarityPayload;
  vmError: string | null;
  rawTx?: string;
}

export interface BlockPayload {
  height: number;
  hash: string;
  indexBlockHash: string;
  parentIndexBlockHash: string;
  burnBlockHeight: number;
  /** Unix seconds: the block's own time (Nakamoto) or else its burn block's. */
  timestamp: number;
  /** With the stream option includeBlockMetadata. */
  metadata?: {
    parentBlockHash: string;
    burnBlockHash: string;
    burnBlockTime: number;
    tenureHeight: number | null;
    consensusHash: string | null;
    minerTxid: string | null;
    cycleNumber: number | null;
    signerBitvec: string | null;
    signerSignatureHash: string | null;
    executionCost: unknown;
    txCount: number;
    eventCount: number;
  };
}

interface BlockBody<T extends string> {
  type: T;
  streamId: string;
  /** Per stream: 1, 2, 3, ... in the order sent; the same on every retry of one delivery. */
  seq: number;
  network: string;
  block: BlockPayload;
  matches: { transactions: TransactionPayload[]; events: EventPayload[] };
  /** Indexes into the stream's `filters` of the filters that matched. */
  matchedFilters: number[];
  /** True for blocks fed from storage (a `startBlock` below the tip, a replay), false for live ones. */
  isBackfill: boolean;
}

/** A canonical block with matches: apply it. */
export type BlockApplyBody = BlockBody<"block.apply">;
/** A block this stream was told about left the canonical chain: undo what its apply did. */
export type BlockRollbackBody = BlockBody<"block.rollback">;
/** A delivery: what a stream's seq numbers. */
export type DeliveryBody = BlockApplyBody | BlockRollbackBody;

/** `POST /api/streams/{id}/test`: a signed check of the receiver, outside the stream's seq (always 0). */
export interface StreamTestBody {
  type: "stream.test";
  streamId: string;
  seq: 0;
  network: string;
  /** ISO 8601. */
  sentAt: string;
}

/** Any body a webhook URL receives; switch on `type`. */
export type WebhookBody = DeliveryBody | StreamTestBody;
