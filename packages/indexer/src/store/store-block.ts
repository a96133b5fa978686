import type { Sql } from "@second-layer/shared/db/connect";
import { toPostgresJson } from "@second-layer/shared/json-text";
import type { NewBlockPayload } from "@second-layer/shared/stacks/node-payloads";
import { type BlockRows, blockRow } from "./block-rows.ts";
import { type ChainTip, decideForkChoice, setCanonical } from "./fork-choice.ts";

export const CHAIN_CHANNEL = "second_layer_chain";

export interface StoreBlockOptions {
  network: string;
  journalId: string | null;
  source: "node" | "backfill";
}

export type StoreBlockResult =
  | { status: "duplicate"; indexBlockHash: string; height: number }
  | {
      status: "stored";
      indexBlockHash: string;
      height: number;
      canonical: boolean;
      outOfOrder: boolean;
      reorg: { id: string; depth: number; orphaned: string[]; restored: string[] } | null;
    };

interface ChainStateRow {
  tip_index_block_hash: string | null;
  tip_height: number | null;
  highest_height_seen: number | null;
  lowest_height: number | null;
  contiguous_height: number | null;
}

/**
 * Stores one block with its transactions and events, runs fork choice and enqueues the worker's
 * job, all inside the caller's transaction. A block already stored is a no-op.
 */
export async function storeBlock(
  sql: Sql,
  block: NewBlockPayload,
  rows: BlockRows,
  opts: StoreBlockOptions,
): Promise<StoreBlockResult> {
  const { network } = opts;
  const hash = block.index_block_hash;
  const height = block.block_height;
  // Upsert-with-update takes the row lock: this serializes block ingestion per network.
  const [state] = await sql<ChainStateRow[]>`
    insert into chain_state (network) values (${network})
    on conflict (network) do update set network = excluded.network
    returning tip_index_block_hash, tip_height, highest_height_seen, lowest_height, contiguous_height`;
  if (!state) throw new Error("chain_state upsert returned no row");
  const [existing] = await sql`select 1 from blocks where network = ${network} and index_block_hash = ${hash}`;
  if (existing) return { status: "duplicate", indexBlockHash: hash, height };

  const tip: ChainTip | null =
    state.tip_index_block_hash !== null && state.tip_height !== null
      ? { indexBlockHash: state.tip_index_block_hash, height: state.tip_height }
      : null;
  const outOfOrder = state.highest_height_seen !== null && height < state.highest_height_seen;
  const choice = await decideForkChoice(
    sql,
    network,
    { indexBlockHash: hash, parentIndexBlockHash: block.parent_index_block_hash, height },
    tip,
  );

  await setCanonical(sql, network, choice.orphan, false);
  // Issued together, postgres.js pipelines them on the transaction's connection; the server still
  // runs them in order, so the block row exists before its transactions' foreign keys are checked.
  await Promise.all([
    insertBlockRow(sql, block, rows, opts, choice.canonical),
    insertTransactions(sql, network, block, rows, choice.canonical),
    insertEvents(sql, network, block, rows, choice.canonical),
  ]);
  await setCanonical(sql, network, choice.restore, true);

  let reorg: Extract<StoreBlockResult, { status: "stored" }>["reorg"] = null;
  if (choice.orphan.length > 0) {
    const restored = [...choice.restore, ...(choice.canonical ? [hash] : [])];
    const newTip = choice.newTip ?? { indexBlockHash: hash, height };
    const [row] = await sql<{ id: string }[]>`
      insert into reorgs (network, old_tip_hash, old_tip_height, new_tip_hash, new_tip_height,
                          fork_point_hash, fork_point_height, depth, orphaned_blocks, restored_blocks)
      values (${network}, ${tip?.indexBlockHash ?? null}, ${tip?.height ?? null}, ${newTip.indexBlockHash},
              ${newTip.height}, ${choice.forkPoint?.indexBlockHash ?? null}, ${choice.forkPoint?.height ?? null},
              ${choice.orphan.length}, ${choice.orphan}::text[], ${restored}::text[])
      returning id`;
    if (!row) throw new Error("reorg insert returned no row");
    reorg = { id: row.id, depth: choice.orphan.length, orphaned: choice.orphan, restored };
  }

  // The transactional outbox: the job and the notification exist iff this transaction commits.
  // One statement moves the tip, enqueues the job and notifies, to save round trips per block.
  const job = {
    network,
    indexBlockHash: hash,
    height,
    canonical: choice.canonical,
    reorgId: reorg?.id ?? null,
  };
  // Fork choice only ever swaps canonical blocks height for height, so the contiguous run never
  // shrinks: scan on from where it ended (or from a new lowest block) to the next missing height.
  const newLowest = choice.canonical && (state.lowest_height === null || height < state.lowest_height);
  const lowest = newLowest ? height : state.lowest_height;
  const scanFrom = newLowest ? height : (state.contiguous_height ?? lowest);
  const note = reorg
    ? { event: "reorg", ...job, depth: reorg.depth, orphaned: reorg.orphaned.length }
    : { event: "block", ...job };
  await sql`
    with state as (
      update chain_state set
        tip_index_block_hash = ${choice.newTip?.indexBlockHash ?? null},
        tip_height = ${choice.newTip?.height ?? null},
        highest_height_seen = greatest(coalesce(highest_height_seen, ${height}), ${height}),
        lowest_height = ${lowest},
        contiguous_height = (
          select b.block_height from blocks b
          where b.network = ${network} and b.canonical and b.block_height >= ${scanFrom}
            and not exists (
              select 1 from blocks x where x.network = ${network} and x.canonical and x.block_height = b.block_height + 1)
          order by b.block_height limit 1),
        blocks_out_of_order = blocks_out_of_order + ${outOfOrder ? 1 : 0},
        updated_at = now()
      where network = ${network}
      returning network
    )
    select graphile_worker.add_job('block', ${JSON.stringify(job)}::text::json), pg_notify(${CHAIN_CHANNEL}, ${JSON.stringify(note)})
    from state`;

  return { status: "stored", indexBlockHash: hash, height, canonical: choice.canonical, outOfOrder, reorg };
}

function jsonOrNull(v: unknown): string | null {
  return v === undefined || v === null ? null : toPostgresJson(v);
}

async function insertBlockRow(
  sql: Sql,
  b: NewBlockPayload,
  rows: BlockRows,
  opts: StoreBlockOptions,
  canonical: boolean,
): Promise<void> {
  const r = blockRow(b, rows);
  await sql`
    insert into blocks (
      network, index_block_hash, block_hash, block_height, parent_index_block_hash, parent_block_hash,
      parent_microblock_hash, parent_microblock_sequence, burn_block_hash, burn_block_height, burn_block_time,
      block_time, tenure_height, consensus_hash, miner_txid, signer_bitvec, signer_signature,
      signer_signature_hash, miner_signature, cycle_number, reward_set, matured_miner_rewards,
      anchored_cost, confirmed_microblocks_cost, tx_count, event_count, canonical, source, journal_id
    ) values (
      ${opts.network}, ${r.index_block_hash}, ${r.block_hash}, ${r.block_height}, ${r.parent_index_block_hash},
      ${r.parent_block_hash}, ${r.parent_microblock_hash}, ${r.parent_microblock_sequence},
      ${r.burn_block_hash}, ${r.burn_block_height}, ${r.burn_block_time}, ${r.block_time},
      ${r.tenure_height}, ${r.consensus_hash}, ${r.miner_txid}, ${r.signer_bitvec},
      ${jsonOrNull(r.signer_signature)}::text::jsonb, ${r.signer_signature_hash}, ${r.miner_signature},
      ${r.cycle_number}, ${jsonOrNull(r.reward_set)}::text::jsonb, ${jsonOrNull(r.matured_miner_rewards)}::text::jsonb,
      ${jsonOrNull(r.anchored_cost)}::text::jsonb, ${jsonOrNull(r.confirmed_microblocks_cost)}::text::jsonb,
      ${r.tx_count}, ${r.event_count}, ${canonical}, ${opts.source}, ${opts.journalId}
    )`;
}

// Rows travel as one JSON document and are expanded by json_to_recordset: one round trip and one
// parameter per table, whatever the block size (bind-parameter limits never come into play).
async function insertTransactions(
  sql: Sql,
  network: string,
  b: NewBlockPayload,
  rows: BlockRows,
  canonical: boolean,
): Promise<void> {
  if (rows.transactions.length === 0) return;
  await sql`
    insert into transactions (
      network, index_block_hash, block_height, canonical, txid, tx_index, tx_type, sender_address,
      sponsor_address, sponsored, nonce, sponsor_nonce, fee, anchor_mode, post_condition_mode, contract_id,
      function_name, function_args, token_transfer_recipient, token_transfer_amount, token_transfer_memo,
      status, raw_result, vm_error, execution_cost, contract_abi, microblock_hash, microblock_sequence,
      microblock_parent_hash, burnchain_op, raw_tx
    )
    select ${network}, ${b.index_block_hash}, ${b.block_height}, ${canonical}, r.txid, r.tx_index, r.tx_type,
      r.sender_address, r.sponsor_address, r.sponsored, r.nonce, r.sponsor_nonce, r.fee, r.anchor_mode,
      r.post_condition_mode, r.contract_id, r.function_name, r.function_args, r.token_transfer_recipient,
      r.token_transfer_amount, r.token_transfer_memo, r.status, r.raw_result, r.vm_error, r.execution_cost,
      r.contract_abi, r.microblock_hash, r.microblock_sequence, r.microblock_parent_hash, r.burnchain_op, r.raw_tx
    from json_to_recordset(${toPostgresJson(rows.transactions)}::text::json) as r(
      txid text, tx_index integer, tx_type text, sender_address text, sponsor_address text, sponsored boolean,
      nonce numeric, sponsor_nonce numeric, fee numeric, anchor_mode text, post_condition_mode text,
      contract_id text, function_name text, function_args jsonb, token_transfer_recipient text,
      token_transfer_amount numeric, token_transfer_memo text, status text, raw_result text, vm_error text,
      execution_cost jsonb, contract_abi jsonb, microblock_hash text, microblock_sequence integer,
      microblock_parent_hash text, burnchain_op jsonb, raw_tx text
    )`;
}

async function insertEvents(
  sql: Sql,
  network: string,
  b: NewBlockPayload,
  rows: BlockRows,
  canonical: boolean,
): Promise<void> {
  if (rows.events.length === 0) return;
  await sql`
    insert into events (
      network, index_block_hash, block_height, canonical, event_index, txid, committed, tx_success, type,
      asset_identifier, contract_id, sender, recipient, amount, value_hex, topic, memo, locked_address,
      unlock_height, data
    )
    select ${network}, ${b.index_block_hash}, ${b.block_height}, ${canonical}, r.event_index, r.txid,
      r.committed, r.tx_success, r.type, r.asset_identifier, r.contract_id, r.sender, r.recipient, r.amount,
      r.value_hex, r.topic, r.memo, r.locked_address, r.unlock_height, r.data
    from json_to_recordset(${toPostgresJson(rows.events)}::text::json) as r(
      event_index integer, txid text, committed boolean, tx_success boolean, type text, asset_identifier text,
      contract_id text, sender text, recipient text, amount numeric, value_hex text, topic text, memo text,
      locked_address text, unlock_height numeric, data jsonb
    )`;
}
