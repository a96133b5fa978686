import type { ColumnType, Generated } from "kysely";

/** numeric and bigint columns come back from postgres.js as strings: exact, never a lossy JS number. */
type Numeric = ColumnType<string, string | bigint, string | bigint>;
type Json = ColumnType<unknown, string, string>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface JournalTable {
  id: Generated<string>;
  network: string;
  path: string;
  /** `backfill` only on bodies journaled before the source of backfilled blocks was recorded. */
  source: BlockSource | "backfill";
  received_at: Timestamp;
  byte_size: Numeric;
  sha256: string;
  encoding: "identity" | "zstd";
  stored_size: Numeric;
  chunk_count: number;
}

export interface JournalFailuresTable {
  journal_id: string;
  error_code: string;
  error: string;
  details: Json | null;
  failed_at: Timestamp;
  attempts: number;
  resolved_at: Timestamp | null;
}

export interface BlocksTable {
  network: string;
  index_block_hash: string;
  block_hash: string;
  block_height: number;
  parent_index_block_hash: string;
  parent_block_hash: string;
  parent_microblock_hash: string | null;
  parent_microblock_sequence: number | null;
  burn_block_hash: string;
  burn_block_height: number;
  burn_block_time: Numeric;
  block_time: Numeric | null;
  tenure_height: number | null;
  consensus_hash: string | null;
  miner_txid: string | null;
  signer_bitvec: string | null;
  signer_signature: Json | null;
  signer_signature_hash: string | null;
  miner_signature: string | null;
  cycle_number: number | null;
  reward_set: Json | null;
  matured_miner_rewards: Json | null;
  anchored_cost: Json | null;
  confirmed_microblocks_cost: Json | null;
  tx_count: number;
  event_count: number;
  canonical: boolean;
  received_at: Timestamp;
  source: BlockSource;
  journal_id: string | null;
}

/** Where a block's rows came from; `stacks-api` is lossy and gives way to the node's own copy. */
export type BlockSource = "node" | "second-layer" | "stacks-api";

export interface TransactionsTable {
  network: string;
  index_block_hash: string;
  txid: string;
  tx_index: number;
  block_height: number;
  canonical: boolean;
  tx_type: string;
  sender_address: string | null;
  sponsor_address: string | null;
  sponsored: boolean;
  nonce: Numeric | null;
  sponsor_nonce: Numeric | null;
  fee: Numeric | null;
  anchor_mode: string | null;
  post_condition_mode: string | null;
  contract_id: string | null;
  function_name: string | null;
  function_args: Json | null;
  token_transfer_recipient: string | null;
  token_transfer_amount: Numeric | null;
  token_transfer_memo: string | null;
  status: string;
  raw_result: string | null;
  vm_error: string | null;
  execution_cost: Json | null;
  contract_abi: Json | null;
  microblock_hash: string | null;
  microblock_sequence: number | null;
  microblock_parent_hash: string | null;
  burnchain_op: Json | null;
  raw_tx: string;
}

export interface EventsTable {
  network: string;
  index_block_hash: string;
  event_index: number;
  txid: string;
  block_height: number;
  canonical: boolean;
  committed: boolean;
  tx_success: boolean;
  type: string;
  asset_identifier: string | null;
  contract_id: string | null;
  sender: string | null;
  recipient: string | null;
  amount: Numeric | null;
  value_hex: string | null;
  topic: string | null;
  memo: string | null;
  locked_address: string | null;
  unlock_height: Numeric | null;
  data: Json;
}

export interface MicroblocksTable {
  network: string;
  microblock_hash: string;
  microblock_sequence: number;
  microblock_parent_hash: string;
  parent_index_block_hash: string;
  burn_block_hash: string | null;
  burn_block_height: number | null;
  burn_block_time: Numeric | null;
  tx_count: number;
  transactions: Json;
  events: Json;
  received_at: Timestamp;
  journal_id: string | null;
}

export interface BurnBlocksTable {
  network: string;
  burn_block_hash: string;
  burn_block_height: number;
  parent_burn_block_hash: string | null;
  consensus_hash: string | null;
  burn_amount: Numeric | null;
  reward_recipients: Json;
  reward_slot_holders: Json;
  received_at: Timestamp;
  canonical: boolean;
}

export interface MempoolTxsTable {
  network: string;
  txid: string;
  raw_tx: string;
  tx_type: string | null;
  sender_address: string | null;
  nonce: Numeric | null;
  fee: Numeric | null;
  received_at: Timestamp;
  dropped_at: Timestamp | null;
  drop_reason: string | null;
  replaced_by_txid: string | null;
  mined_index_block_hash: string | null;
  mined_block_height: number | null;
}

export interface ChainStateTable {
  network: string;
  tip_index_block_hash: string | null;
  tip_height: number | null;
  highest_height_seen: number | null;
  lowest_height: number | null;
  contiguous_height: number | null;
  blocks_out_of_order: Numeric;
  log_seq: Numeric;
  updated_at: Timestamp;
}

export interface ChainLogTable {
  network: string;
  seq: Numeric;
  kind: "apply" | "rollback";
  index_block_hash: string;
  block_hash: string;
  block_height: number;
  parent_index_block_hash: string;
  burn_block_height: number;
  reorg_id: string | null;
  created_at: Timestamp;
}

export interface UnknownItemsTable {
  network: string;
  index_block_hash: string;
  block_height: number;
  kind: "event" | "transaction";
  item: string;
  event_index: number | null;
  reason: string;
  detected_at: Timestamp;
}

export interface RebuildRunsTable {
  network: string;
  from_height: number;
  to_height: number;
  done_height: number | null;
  done_hash: string | null;
  blocks_done: Numeric;
  blocks_changed: Numeric;
  started_at: Timestamp;
  finished_at: Timestamp | null;
}

export interface ReorgsTable {
  id: Generated<string>;
  network: string;
  detected_at: Timestamp;
  old_tip_hash: string | null;
  old_tip_height: number | null;
  new_tip_hash: string;
  new_tip_height: number;
  fork_point_hash: string | null;
  fork_point_height: number | null;
  depth: number;
  orphaned_blocks: string[];
  restored_blocks: string[];
}

export interface AccountsTable {
  id: Generated<string>;
  name: string;
  is_admin: Generated<boolean>;
  created_at: Timestamp;
}

export interface ApiKeysTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface StreamsTable {
  id: Generated<string>;
  account_id: string;
  network: string;
  name: string;
  webhook_url: string;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_expires_at: Timestamp | null;
  filters: Json;
  options: Json;
  status: "active" | "paused" | "failed" | "disabled";
  status_reason: string | null;
  start_block: number | null;
  end_block: number | null;
  confirmations: number;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface StreamStateTable {
  stream_id: string;
  live_from_seq: Numeric | null;
  catchup_hash: string | null;
  catchup_height: number | null;
  next_ordinal: Numeric;
  last_seq: Numeric;
  due_at: Timestamp | null;
  lease_owner: string | null;
  lease_until: Timestamp | null;
  consecutive_failures: number;
  delivered_count: Numeric;
  failed_attempts: Numeric;
  last_delivered_at: Timestamp | null;
  last_delivered_seq: Numeric | null;
  last_delivered_height: number | null;
  last_error: string | null;
  last_error_at: Timestamp | null;
}

export interface DeliveriesTable {
  id: Generated<string>;
  stream_id: string;
  ordinal: Numeric;
  seq: Numeric | null;
  kind: "apply" | "rollback";
  network: string;
  index_block_hash: string;
  block_height: number;
  burn_block_height: number;
  chain_seq: Numeric | null;
  is_backfill: boolean;
  hold_until_burn_height: number | null;
  payload: Json;
  status: "pending" | "delivered" | "failed" | "cancelled";
  attempts: number;
  next_attempt_at: Timestamp | null;
  created_at: Timestamp;
  first_sent_at: Timestamp | null;
  delivered_at: Timestamp | null;
  last_status: number | null;
  last_error: string | null;
}

export interface DeliveryAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  stream_id: string;
  attempt: number;
  started_at: Timestamp;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_snippet: string | null;
  worker: string;
}

export interface ChainCursorsTable {
  consumer: string;
  network: string;
  last_seq: Numeric;
  updated_at: Timestamp;
}

export interface Database {
  journal: JournalTable;
  journal_failures: JournalFailuresTable;
  blocks: BlocksTable;
  transactions: TransactionsTable;
  events: EventsTable;
  microblocks: MicroblocksTable;
  burn_blocks: BurnBlocksTable;
  mempool_txs: MempoolTxsTable;
  chain_state: ChainStateTable;
  reorgs: ReorgsTable;
  chain_log: ChainLogTable;
  unknown_items: UnknownItemsTable;
  rebuild_runs: RebuildRunsTable;
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  streams: StreamsTable;
  stream_state: StreamStateTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  chain_cursors: ChainCursorsTable;
}
