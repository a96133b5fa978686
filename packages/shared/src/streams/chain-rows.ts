// The columns of `transactions`, `events` and `blocks` that matching and payloads read, named and
// typed as postgres.js returns them (numeric and bigint columns arrive as strings). The worker selects
// exactly these columns; the column lists below are the single source for that select.

export interface ChainTransaction {
  txid: string;
  tx_index: number;
  tx_type: string;
  sender_address: string | null;
  sponsor_address: string | null;
  sponsored: boolean;
  nonce: string | null;
  fee: string | null;
  contract_id: string | null;
  function_name: string | null;
  /** `[{hex, repr, type}]` as decoded at ingest, for contract calls. */
  function_args: unknown;
  token_transfer_recipient: string | null;
  token_transfer_amount: string | null;
  token_transfer_memo: string | null;
  status: string;
  raw_result: string | null;
  vm_error: string | null;
  raw_tx: string;
}

export interface ChainEvent {
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
}

export interface ChainBlock {
  index_block_hash: string;
  block_hash: string;
  block_height: number;
  parent_index_block_hash: string;
  parent_block_hash: string;
  burn_block_hash: string;
  burn_block_height: number;
  burn_block_time: string | number;
  block_time: string | number | null;
  tenure_height: number | null;
  consensus_hash: string | null;
  miner_txid: string | null;
  cycle_number: number | null;
  signer_bitvec: string | null;
  signer_signature_hash: string | null;
  anchored_cost: unknown;
  tx_count: number;
  event_count: number;
}

/** The rows of one block that matching reads, transactions by tx_index and events by event_index. */
export interface ChainBlockRows {
  transactions: readonly ChainTransaction[];
  events: readonly ChainEvent[];
}

/** A list of column names that the compiler checks against every key of `T`, so the select cannot drift. */
function everyColumnOf<T>() {
  return <const K extends readonly (keyof T)[]>(
    columns: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, K[number]> }),
  ): K => columns;
}

export const CHAIN_TRANSACTION_COLUMNS = everyColumnOf<ChainTransaction>()([
  "txid",
  "tx_index",
  "tx_type",
  "sender_address",
  "sponsor_address",
  "sponsored",
  "nonce",
  "fee",
  "contract_id",
  "function_name",
  "function_args",
  "token_transfer_recipient",
  "token_transfer_amount",
  "token_transfer_memo",
  "status",
  "raw_result",
  "vm_error",
  "raw_tx",
]);

export const CHAIN_EVENT_COLUMNS = everyColumnOf<ChainEvent>()([
  "event_index",
  "txid",
  "committed",
  "tx_success",
  "type",
  "asset_identifier",
  "contract_id",
  "sender",
  "recipient",
  "amount",
  "value_hex",
  "topic",
  "memo",
  "locked_address",
  "unlock_height",
]);

export const CHAIN_BLOCK_COLUMNS = everyColumnOf<ChainBlock>()([
  "index_block_hash",
  "block_hash",
  "block_height",
  "parent_index_block_hash",
  "parent_block_hash",
  "burn_block_hash",
  "burn_block_height",
  "burn_block_time",
  "block_time",
  "tenure_height",
  "consensus_hash",
  "miner_txid",
  "cycle_number",
  "signer_bitvec",
  "signer_signature_hash",
  "anchored_cost",
  "tx_count",
  "event_count",
]);
