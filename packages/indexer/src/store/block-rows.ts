import { type DecodedTransaction, decodeTransaction } from "@second-layer/shared/stacks/decode-transaction";
import {
  describeIssues,
  EVENT_BODY_SCHEMAS,
  isKnownEventType,
  type NewBlockPayload,
  type NodeEvent,
  type NodeTransaction,
} from "@second-layer/shared/stacks/node-payloads";

// Pure mapping from a node payload to the rows we store. No I/O here: easy to test, and the same
// code serves node-pushed, backfilled and reprocessed blocks, so they end up identical.

export interface TransactionRow {
  txid: string;
  tx_index: number;
  tx_type: string;
  sender_address: string | null;
  sponsor_address: string | null;
  sponsored: boolean;
  nonce: string | null;
  sponsor_nonce: string | null;
  fee: string | null;
  anchor_mode: string | null;
  post_condition_mode: string | null;
  contract_id: string | null;
  function_name: string | null;
  function_args: unknown;
  token_transfer_recipient: string | null;
  token_transfer_amount: string | null;
  token_transfer_memo: string | null;
  status: string;
  raw_result: string | null;
  vm_error: string | null;
  execution_cost: unknown;
  contract_abi: unknown;
  microblock_hash: string | null;
  microblock_sequence: number | null;
  microblock_parent_hash: string | null;
  burnchain_op: unknown;
  raw_tx: string;
}

export interface EventRow {
  event_index: number;
  txid: string;
  committed: boolean;
  tx_success: boolean;
  type: string;
  asset_identifier: string | null;
  contract_id: string | null;
  sender: string | null;
  recipient: string | null;
  amount: string | null;
  value_hex: string | null;
  topic: string | null;
  memo: string | null;
  locked_address: string | null;
  unlock_height: string | null;
  data: unknown;
}

/** Burnchain operations (raw_tx 0x00) are not Stacks transactions: nothing to decode. */
export function isBurnchainOp(tx: Pick<NodeTransaction, "raw_tx" | "burnchain_op">): boolean {
  return (
    tx.raw_tx === "0x00" || tx.raw_tx === "0x" || (tx.burnchain_op != null && Object.keys(tx.burnchain_op).length > 0)
  );
}

function burnchainOpRow(op: Record<string, unknown> | null | undefined): Partial<TransactionRow> {
  const [kind, body] = Object.entries(op ?? {})[0] ?? [];
  const b = (body ?? {}) as Record<string, unknown>;
  const addr = (v: unknown) =>
    typeof v === "object" && v !== null && typeof (v as { address?: unknown }).address === "string"
      ? (v as { address: string }).address
      : null;
  return {
    tx_type: "burnchain_op",
    sender_address: addr(b.sender),
    token_transfer_recipient: kind === "transfer_stx" ? addr(b.recipient) : null,
    token_transfer_amount: kind === "transfer_stx" && b.transfer_amount != null ? String(b.transfer_amount) : null,
  };
}

function decodedRow(d: DecodedTransaction): Partial<TransactionRow> {
  return {
    tx_type: d.txType,
    sender_address: d.senderAddress,
    sponsor_address: d.sponsorAddress,
    sponsored: d.sponsored,
    nonce: d.nonce,
    sponsor_nonce: d.sponsorNonce,
    fee: d.fee,
    anchor_mode: d.anchorMode,
    post_condition_mode: d.postConditionMode,
    contract_id: d.contractId,
    function_name: d.functionName,
    function_args: d.functionArgs,
    token_transfer_recipient: d.tokenTransfer?.recipient ?? null,
    token_transfer_amount: d.tokenTransfer?.amount ?? null,
    token_transfer_memo: d.tokenTransfer?.memo ?? null,
  };
}

/** Something in a block this version cannot interpret; the block is stored with it all the same. */
export interface UnknownItem {
  kind: "event" | "transaction";
  /** The event type, or the transaction id. */
  item: string;
  eventIndex: number | null;
  reason: string;
}

/**
 * The row of one node transaction. A raw_tx that does not decode (a payload type a later node
 * release adds, say) keeps tx_type `unknown`, its raw bytes and the node's own fields.
 */
export function transactionRow(tx: NodeTransaction): { row: TransactionRow; unknown: UnknownItem | null } {
  let specific: Partial<TransactionRow> = {};
  let unknown: UnknownItem | null = null;
  if (isBurnchainOp(tx)) {
    specific = burnchainOpRow(tx.burnchain_op);
  } else {
    try {
      specific = decodedRow(decodeTransaction(tx.raw_tx));
    } catch (err) {
      const reason = `raw_tx does not decode: ${(err as Error)?.message ?? err}`;
      unknown = { kind: "transaction", item: tx.txid, eventIndex: null, reason };
    }
  }
  const row: TransactionRow = {
    txid: tx.txid,
    tx_index: tx.tx_index,
    tx_type: "unknown",
    sender_address: null,
    sponsor_address: null,
    sponsored: false,
    nonce: null,
    sponsor_nonce: null,
    fee: null,
    anchor_mode: null,
    post_condition_mode: null,
    contract_id: null,
    function_name: null,
    function_args: null,
    token_transfer_recipient: null,
    token_transfer_amount: null,
    token_transfer_memo: null,
    ...specific,
    status: tx.status,
    raw_result: tx.raw_result ?? null,
    vm_error: tx.vm_error ?? null,
    execution_cost: tx.execution_cost ?? null,
    contract_abi: tx.contract_abi ?? tx.contract_interface ?? null,
    microblock_hash: tx.microblock_hash ?? null,
    microblock_sequence: tx.microblock_sequence ?? null,
    microblock_parent_hash: tx.microblock_parent_hash ?? null,
    burnchain_op: tx.burnchain_op ?? null,
    raw_tx: tx.raw_tx,
  };
  return { row, unknown };
}

function str(v: unknown): string | null {
  return v === undefined || v === null ? null : String(v);
}

/**
 * The row of one node event. The typed columns come from the body under the key named like the type;
 * an event of a type we do not know keeps its type name and its whole body in `data`.
 */
export function eventRow(ev: NodeEvent, txSuccess: boolean): EventRow {
  const { txid: _t, event_index: _i, committed: _c, type: _type, ...rest } = ev;
  const nested = (ev as Record<string, unknown>)[ev.type];
  const body = (typeof nested === "object" && nested !== null ? nested : rest) as Record<string, unknown>;
  // The node also sends a serde rendering of Clarity values (`value`); raw_value is the exact
  // encoding and decodes back to it, so only the raw form is kept.
  const { value: _serde, ...data } = body;
  const amount = body.amount ?? body.locked_amount;
  return {
    event_index: ev.event_index,
    txid: ev.txid,
    committed: ev.committed,
    tx_success: txSuccess,
    type: ev.type,
    asset_identifier: str(body.asset_identifier),
    contract_id: str(body.contract_identifier),
    sender: str(body.sender),
    recipient: str(body.recipient),
    amount: str(amount),
    value_hex: str(body.raw_value),
    topic: str(body.topic),
    memo: str(body.memo),
    locked_address: str(body.locked_address),
    unlock_height: str(body.unlock_height),
    data: body.raw_value === undefined ? body : data,
  };
}

/** Why an event cannot be interpreted, or null when its type is known and its body checks out. */
export function unknownEventReason(ev: NodeEvent): string | null {
  if (!isKnownEventType(ev.type)) return `event type ${JSON.stringify(ev.type)} is not known to this version`;
  const parsed = EVENT_BODY_SCHEMAS[ev.type].safeParse((ev as Record<string, unknown>)[ev.type]);
  if (parsed.success) return null;
  const first = describeIssues(parsed.error)[0];
  return `${ev.type} body does not have the expected shape at ${ev.type}.${first?.path}: ${first?.message}`;
}

export interface BlockRows {
  transactions: TransactionRow[];
  events: EventRow[];
  unknown: UnknownItem[];
}

export function blockRows(block: Pick<NewBlockPayload, "transactions" | "events">): BlockRows {
  const unknown: UnknownItem[] = [];
  const transactions = block.transactions.map((tx) => {
    const t = transactionRow(tx);
    if (t.unknown) unknown.push(t.unknown);
    return t.row;
  });
  const success = new Map(transactions.map((t) => [t.txid, t.status === "success"]));
  const events = block.events.map((ev) => {
    const reason = unknownEventReason(ev);
    if (reason) unknown.push({ kind: "event", item: ev.type, eventIndex: ev.event_index, reason });
    return eventRow(ev, success.get(ev.txid) ?? false);
  });
  return { transactions, events, unknown };
}

/** The `blocks` columns that come from the payload; JSON-typed ones keep their parsed values. */
export function blockRow(b: NewBlockPayload, rows: BlockRows) {
  return {
    index_block_hash: b.index_block_hash,
    block_hash: b.block_hash,
    block_height: b.block_height,
    parent_index_block_hash: b.parent_index_block_hash,
    parent_block_hash: b.parent_block_hash,
    parent_microblock_hash: b.parent_microblock ?? null,
    parent_microblock_sequence: b.parent_microblock_sequence ?? null,
    burn_block_hash: b.burn_block_hash,
    burn_block_height: b.burn_block_height,
    burn_block_time: b.burn_block_time,
    block_time: b.block_time ?? null,
    tenure_height: b.tenure_height ?? null,
    consensus_hash: b.consensus_hash ?? null,
    miner_txid: b.miner_txid ?? null,
    signer_bitvec: b.signer_bitvec ?? null,
    signer_signature: b.signer_signature ?? null,
    signer_signature_hash: b.signer_signature_hash ?? null,
    miner_signature: b.miner_signature ?? null,
    cycle_number: b.cycle_number ?? null,
    reward_set: b.reward_set ?? null,
    matured_miner_rewards: b.matured_miner_rewards ?? null,
    anchored_cost: b.anchored_cost ?? null,
    confirmed_microblocks_cost: b.confirmed_microblocks_cost ?? null,
    tx_count: rows.transactions.length,
    event_count: rows.events.length,
  };
}
