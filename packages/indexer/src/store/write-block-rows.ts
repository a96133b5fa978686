import type { Sql } from "@second-layer/shared/db/connect";
import type { BlockSource } from "@second-layer/shared/db/tables";
import { toPostgresJson } from "@second-layer/shared/json-text";
import type { NewBlockPayload } from "@second-layer/shared/stacks/node-payloads";
import { type BlockRows, blockRow } from "./block-rows.ts";

// The writes of one block's rows: the blocks row, then everything derived from its payload
// (transactions, events, unknown items). Rows travel as one JSON document per table, expanded by
// json_to_recordset: one round trip and one parameter per table whatever the block size.

function jsonOrNull(v: unknown): string | null {
  return v === undefined || v === null ? null : toPostgresJson(v);
}

export interface BlockRowOptions {
  journalId: string | null;
  source: BlockSource;
}

/** Inserts the blocks row; with `replace`, rewrites an existing one (its canonical flag included). */
export function insertBlockRow(
  sql: Sql,
  network: string,
  b: NewBlockPayload,
  rows: BlockRows,
  opts: BlockRowOptions,
  canonical: boolean,
  replace = false,
) {
  const r = blockRow(b, rows);
  return sql`
    insert into blocks (
      network, index_block_hash, block_hash, block_height, parent_index_block_hash, parent_block_hash,
      parent_microblock_hash, parent_microblock_sequence, burn_block_hash, burn_block_height, burn_block_time,
      block_time, tenure_height, consensus_hash, miner_txid, signer_bitvec, signer_signature,
      signer_signature_hash, miner_signature, cycle_number, reward_set, matured_miner_rewards,
      anchored_cost, confirmed_microblocks_cost, tx_count, event_count, canonical, source, journal_id
    ) values (
      ${network}, ${r.index_block_hash}, ${r.block_hash}, ${r.block_height}, ${r.parent_index_block_hash},
      ${r.parent_block_hash}, ${r.parent_microblock_hash}, ${r.parent_microblock_sequence},
      ${r.burn_block_hash}, ${r.burn_block_height}, ${r.burn_block_time}, ${r.block_time},
      ${r.tenure_height}, ${r.consensus_hash}, ${r.miner_txid}, ${r.signer_bitvec},
      ${jsonOrNull(r.signer_signature)}::text::jsonb, ${r.signer_signature_hash}, ${r.miner_signature},
      ${r.cycle_number}, ${jsonOrNull(r.reward_set)}::text::jsonb, ${jsonOrNull(r.matured_miner_rewards)}::text::jsonb,
      ${jsonOrNull(r.anchored_cost)}::text::jsonb, ${jsonOrNull(r.confirmed_microblocks_cost)}::text::jsonb,
      ${r.tx_count}, ${r.event_count}, ${canonical}, ${opts.source}, ${opts.journalId}
    )
    ${
      replace
        ? sql`on conflict (network, index_block_hash) do update set
      (block_hash, block_height, parent_index_block_hash, parent_block_hash, parent_microblock_hash,
       parent_microblock_sequence, burn_block_hash, burn_block_height, burn_block_time, block_time, tenure_height,
       consensus_hash, miner_txid, signer_bitvec, signer_signature, signer_signature_hash, miner_signature,
       cycle_number, reward_set, matured_miner_rewards, anchored_cost, confirmed_microblocks_cost, tx_count,
       event_count, canonical, source, journal_id) =
      (excluded.block_hash, excluded.block_height, excluded.parent_index_block_hash, excluded.parent_block_hash,
       excluded.parent_microblock_hash, excluded.parent_microblock_sequence, excluded.burn_block_hash,
       excluded.burn_block_height, excluded.burn_block_time, excluded.block_time, excluded.tenure_height,
       excluded.consensus_hash, excluded.miner_txid, excluded.signer_bitvec, excluded.signer_signature,
       excluded.signer_signature_hash, excluded.miner_signature, excluded.cycle_number, excluded.reward_set,
       excluded.matured_miner_rewards, excluded.anchored_cost, excluded.confirmed_microblocks_cost,
       excluded.tx_count, excluded.event_count, excluded.canonical, excluded.source, excluded.journal_id)`
        : sql``
    }`;
}

/** The statements that insert a block's derived rows; the caller awaits them together (pipelined). */
export function insertDerivedRows(
  sql: Sql,
  network: string,
  b: NewBlockPayload,
  rows: BlockRows,
  canonical: boolean,
): Promise<unknown>[] {
  const writes: Promise<unknown>[] = [];
  if (rows.transactions.length > 0) {
    writes.push(sql`
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
      )`);
  }
  if (rows.events.length > 0) {
    writes.push(sql`
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
      )`);
  }
  if (rows.unknown.length > 0) {
    writes.push(sql`
      insert into unknown_items (network, index_block_hash, block_height, kind, item, event_index, reason)
      select ${network}, ${b.index_block_hash}, ${b.block_height}, r.kind, r.item, r."eventIndex", r.reason
      from json_to_recordset(${toPostgresJson(rows.unknown)}::text::json)
        as r(kind text, item text, "eventIndex" integer, reason text)`);
  }
  return writes;
}

/**
 * Rewrites a stored block from a payload: its blocks row and all derived rows. Used when the node's
 * copy replaces one rebuilt from a lossy source, and by `sl rebuild` after a decoder upgrade.
 */
export async function replaceDerivedRows(
  sql: Sql,
  network: string,
  b: NewBlockPayload,
  rows: BlockRows,
  opts: BlockRowOptions & { canonical: boolean },
): Promise<void> {
  const hash = b.index_block_hash;
  await Promise.all([
    sql`delete from events where network = ${network} and index_block_hash = ${hash}`,
    sql`delete from transactions where network = ${network} and index_block_hash = ${hash}`,
    sql`delete from unknown_items where network = ${network} and index_block_hash = ${hash}`,
    insertBlockRow(sql, network, b, rows, opts, opts.canonical, true),
    ...insertDerivedRows(sql, network, b, rows, opts.canonical),
  ]);
}
