import type { Selectable } from "kysely";
import type { BlocksTable, EventsTable, TransactionsTable } from "../db/tables.ts";

// The columns of `transactions`, `events` and `blocks` that matching and payloads read. The worker
// selects exactly these lists; the row types follow from them and from the table types, as postgres.js
// returns them (numeric and bigint columns as strings).

export const CHAIN_TRANSACTION_COLUMNS = [
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
] as const satisfies readonly (keyof TransactionsTable)[];

export const CHAIN_EVENT_COLUMNS = [
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
] as const satisfies readonly (keyof EventsTable)[];

export const CHAIN_BLOCK_COLUMNS = [
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
] as const satisfies readonly (keyof BlocksTable)[];

export type ChainTransaction = Pick<Selectable<TransactionsTable>, (typeof CHAIN_TRANSACTION_COLUMNS)[number]>;
export type ChainEvent = Pick<Selectable<EventsTable>, (typeof CHAIN_EVENT_COLUMNS)[number]>;
/** Burn and block times may also be numbers (a block row built from a node payload). */
export type ChainBlock = Omit<
  Pick<Selectable<BlocksTable>, (typeof CHAIN_BLOCK_COLUMNS)[number]>,
  "burn_block_time" | "block_time"
> & {
  burn_block_time: string | number;
  block_time: string | number | null;
};

/** The rows of one block that matching reads, transactions by tx_index and events by event_index. */
export interface ChainBlockRows {
  transactions: readonly ChainTransaction[];
  events: readonly ChainEvent[];
}
