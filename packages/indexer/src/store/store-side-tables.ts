import type { Sql } from "@second-layer/shared/db/connect";
import { toPostgresJson } from "@second-layer/shared/json-text";
import type {
  DropMempoolTxPayload,
  NewBurnBlockPayload,
  NewMicroblocksPayload,
} from "@second-layer/shared/stacks/node-payloads";
import type { BlockRows } from "./block-rows.ts";

// Everything the node sends besides anchored blocks: microblocks, burn blocks, mempool changes.
// Each write is idempotent, so a re-sent POST changes nothing.

/**
 * Unconfirmed microblocks (pre-Nakamoto). Their transactions become canonical chain data only when an
 * anchor block confirms them: that block's own payload carries them, with their microblock fields.
 */
export async function storeMicroblocks(
  sql: Sql,
  network: string,
  payload: NewMicroblocksPayload,
  rows: BlockRows,
  journalId: string | null,
): Promise<{ microblocks: number }> {
  const byHash = new Map<string, { seq: number; parent: string; txs: BlockRows["transactions"] }>();
  for (const tx of rows.transactions) {
    if (!tx.microblock_hash) continue;
    const entry = byHash.get(tx.microblock_hash) ?? {
      seq: tx.microblock_sequence ?? 0,
      parent: tx.microblock_parent_hash ?? "",
      txs: [],
    };
    entry.txs.push(tx);
    byHash.set(tx.microblock_hash, entry);
  }
  for (const [hash, mb] of byHash) {
    const txids = new Set(mb.txs.map((t) => t.txid));
    const events = rows.events.filter((e) => txids.has(e.txid));
    await sql`
      insert into microblocks (network, microblock_hash, microblock_sequence, microblock_parent_hash,
        parent_index_block_hash, burn_block_hash, burn_block_height, burn_block_time, tx_count,
        transactions, events, journal_id)
      values (${network}, ${hash}, ${mb.seq}, ${mb.parent}, ${payload.parent_index_block_hash},
        ${payload.burn_block_hash ?? null}, ${payload.burn_block_height ?? null},
        ${payload.burn_block_timestamp ?? null}, ${mb.txs.length}, ${toPostgresJson(mb.txs)}::text::jsonb,
        ${toPostgresJson(events)}::text::jsonb, ${journalId})
      on conflict (network, microblock_hash) do nothing`;
  }
  return { microblocks: byHash.size };
}

/**
 * A burn block. A new hash at a height we already have is a Bitcoin reorg: it becomes canonical and
 * every other burn block at or above its height stops being. A burn block we already hold is only
 * taken as the node's new word when it is at or above the canonical tip (a reorg back to a branch
 * seen before); below the tip it is a re-send (a node restart replays old burn blocks) and changes
 * nothing.
 */
export async function storeBurnBlock(
  sql: Sql,
  network: string,
  p: NewBurnBlockPayload,
): Promise<{ canonical: boolean; replaced: number }> {
  const [known] = await sql<{ canonical: boolean; below_tip: boolean }[]>`
    select canonical, burn_block_height < (
      select coalesce(max(burn_block_height), -1) from burn_blocks where network = ${network} and canonical) as below_tip
    from burn_blocks where network = ${network} and burn_block_hash = ${p.burn_block_hash}`;
  if (known && (known.canonical || known.below_tip)) return { canonical: known.canonical, replaced: 0 };
  if (!known) {
    await sql`
      insert into burn_blocks (network, burn_block_hash, burn_block_height, parent_burn_block_hash,
        consensus_hash, burn_amount, reward_recipients, reward_slot_holders, canonical)
      values (${network}, ${p.burn_block_hash}, ${p.burn_block_height}, ${p.parent_burn_block_hash ?? null},
        ${p.consensus_hash ?? null}, ${p.burn_amount == null ? null : String(p.burn_amount)},
        ${toPostgresJson(p.reward_recipients)}::text::jsonb, ${toPostgresJson(p.reward_slot_holders)}::text::jsonb,
        false)`;
  }
  const replaced = await sql`
    update burn_blocks set canonical = false
    where network = ${network} and canonical and burn_block_height >= ${p.burn_block_height}`;
  await sql`update burn_blocks set canonical = true where network = ${network} and burn_block_hash = ${p.burn_block_hash}`;
  return { canonical: true, replaced: replaced.count };
}

export interface MempoolTxRow {
  txid: string;
  raw_tx: string;
  tx_type: string | null;
  sender_address: string | null;
  nonce: string | null;
  fee: string | null;
}

/**
 * Adds transactions to the mempool; one that was dropped and is broadcast again is pending again. One
 * that a canonical block already holds (the block arrived first) goes in as mined.
 */
export async function storeMempoolTxs(sql: Sql, network: string, txs: MempoolTxRow[]): Promise<void> {
  if (txs.length === 0) return;
  await sql`
    insert into mempool_txs (network, txid, raw_tx, tx_type, sender_address, nonce, fee, mined_index_block_hash,
      mined_block_height)
    select ${network}, r.txid, r.raw_tx, r.tx_type, r.sender_address, r.nonce, r.fee, t.index_block_hash, t.block_height
    from json_to_recordset(${toPostgresJson(txs)}::text::json)
      as r(txid text, raw_tx text, tx_type text, sender_address text, nonce numeric, fee numeric)
    left join lateral (
      select index_block_hash, block_height from transactions
      where network = ${network} and txid = r.txid and canonical limit 1
    ) t on true
    on conflict (network, txid) do update
      set dropped_at = null, drop_reason = null, replaced_by_txid = null, received_at = now()
      where mempool_txs.dropped_at is not null`;
}

export async function dropMempoolTxs(sql: Sql, network: string, p: DropMempoolTxPayload): Promise<number> {
  const res = await sql`
    update mempool_txs set dropped_at = now(), drop_reason = ${p.reason}, replaced_by_txid = ${p.new_txid ?? null}
    where network = ${network} and txid = any(${p.dropped_txids}::text[]) and dropped_at is null`;
  return res.count;
}
