import type { Sql } from "@second-layer/shared/db/connect";
import type { BlockSource } from "@second-layer/shared/db/tables";
import type { NewBlockPayload } from "@second-layer/shared/stacks/node-payloads";
import type { BlockRows } from "./block-rows.ts";
import { type ChainChanges, type ChainState, saveChainState, unchanged } from "./chain-state.ts";
import { decideForkChoice, type ForkChoice, setCanonical } from "./fork-choice.ts";
import { insertBlockRow, insertDerivedRows, replaceDerivedRows } from "./write-block-rows.ts";

/** Everything a route's `store` needs besides its own payload; the chain lock is already held. */
export interface StoreContext {
  network: string;
  journalId: string | null;
  source: BlockSource;
  state: ChainState;
  /**
   * The block's stored row (null: none), when the caller read it under the chain lock in the round
   * trip that took the lock; otherwise storeBlock reads it.
   */
  stored?: StoredBlock | null;
}

export interface StoredBlock {
  source: BlockSource;
  canonical: boolean;
  journalId: string | null;
}

export async function storedBlock(sql: Sql, network: string, indexBlockHash: string): Promise<StoredBlock | null> {
  const [row] = await sql<{ source: BlockSource; canonical: boolean; journal_id: string | null }[]>`
    select source, canonical, journal_id from blocks where network = ${network} and index_block_hash = ${indexBlockHash}`;
  return row ? { source: row.source, canonical: row.canonical, journalId: row.journal_id } : null;
}

export type StoreBlockResult =
  | { status: "duplicate"; indexBlockHash: string; height: number; journalId: string | null }
  | { status: "replaced"; indexBlockHash: string; height: number; canonical: boolean; seq: number }
  | {
      status: "stored";
      indexBlockHash: string;
      height: number;
      canonical: boolean;
      outOfOrder: boolean;
      reorg: { id: string; depth: number; orphaned: string[]; restored: string[] } | null;
      /** The chain log's newest seq after this block. */
      seq: number;
    };

/**
 * Stores one block with its transactions and events, runs fork choice and writes what changed to
 * the chain log, all inside the caller's transaction. A block already stored is a duplicate, except
 * that the node's own copy replaces one rebuilt from a lossy source.
 */
export async function storeBlock(
  sql: Sql,
  block: NewBlockPayload,
  rows: BlockRows,
  ctx: StoreContext,
): Promise<StoreBlockResult> {
  const { network, state } = ctx;
  const hash = block.index_block_hash;
  const height = block.block_height;
  const existing = ctx.stored !== undefined ? ctx.stored : await storedBlock(sql, network, hash);
  if (existing) {
    if (!replacesLossyCopy(existing.source, ctx.source)) {
      return { status: "duplicate", indexBlockHash: hash, height, journalId: existing.journalId };
    }
    await replaceDerivedRows(sql, network, block, rows, { ...ctx, canonical: existing.canonical });
    const changes = { rollback: [hash], apply: [hash], reorgId: null };
    const seq = await saveChainState(sql, network, existing.canonical ? changes : NONE, unchanged(state));
    return { status: "replaced", indexBlockHash: hash, height, canonical: existing.canonical, seq };
  }

  const outOfOrder = state.highestHeightSeen !== null && height < state.highestHeightSeen;
  const choice = await decideForkChoice(
    sql,
    network,
    { indexBlockHash: hash, parentIndexBlockHash: block.parent_index_block_hash, height },
    state.tip,
  );
  // Issued together, postgres.js pipelines them on the transaction's connection; the server still
  // runs them in order, so the block row exists before its transactions' foreign keys are checked.
  const writes = Promise.all([
    setCanonical(sql, network, choice.orphan, false),
    insertBlockRow(sql, network, block, rows, ctx, choice.canonical),
    ...insertDerivedRows(sql, network, block, rows, choice.canonical),
    setCanonical(sql, network, choice.restore, true),
  ]);
  // A block that flips no other block (the usual case): the chain state follows the writes in the
  // same pipeline, one round trip for the whole block. Otherwise the flips (each three updates in turn)
  // and the reorg row, which the chain log names, come back first.
  const flipsOthers = choice.orphan.length > 0 || choice.restore.length > 0;
  const reorg = choice.orphan.length > 0 ? recordReorg(sql, network, state, choice, hash) : null;
  const reorgRow = flipsOthers ? (await Promise.all([writes, reorg]))[1] : null;
  const changes: ChainChanges = {
    rollback: choice.orphan,
    apply: choice.canonical ? [...choice.restore, hash] : [],
    reorgId: reorgRow?.id ?? null,
  };
  // Fork choice only ever swaps canonical blocks height for height, so the contiguous run never
  // shrinks: scan on from where it ended (or from a new lowest block) to the next missing height.
  const newLowest = choice.canonical && (state.lowestHeight === null || height < state.lowestHeight);
  const lowest = newLowest ? height : state.lowestHeight;
  const [seq] = await Promise.all([
    saveChainState(sql, network, changes, {
      tip: choice.newTip,
      lowestHeight: lowest,
      seenHeight: height,
      contiguousFrom: newLowest ? height : (state.contiguousHeight ?? lowest),
      outOfOrder,
    }),
    markMined(sql, network, choice.orphan, changes.apply),
    writes,
  ]);
  return {
    status: "stored",
    indexBlockHash: hash,
    height,
    canonical: choice.canonical,
    outOfOrder,
    reorg: reorgRow
      ? { id: reorgRow.id, depth: choice.orphan.length, orphaned: choice.orphan, restored: changes.apply }
      : null,
    seq,
  };
}

const NONE: ChainChanges = { rollback: [], apply: [], reorgId: null };

/** A block rebuilt from Hiro's API misses failed transactions' events and uncommitted events. */
export function replacesLossyCopy(stored: BlockSource, incoming: BlockSource): boolean {
  return stored === "stacks-api" && incoming !== "stacks-api";
}

/** Writes the reorgs row: orphaned blocks highest first, restored ones lowest first (chain order). */
export async function recordReorg(
  sql: Sql,
  network: string,
  state: ChainState,
  choice: ForkChoice,
  hash: string,
): Promise<{ id: string }> {
  const restored = choice.canonical ? [...choice.restore, hash] : choice.restore;
  const newTip = choice.newTip ?? { indexBlockHash: hash, height: 0 };
  const [row] = await sql<{ id: string }[]>`
    insert into reorgs (network, old_tip_hash, old_tip_height, new_tip_hash, new_tip_height,
                        fork_point_hash, fork_point_height, depth, orphaned_blocks, restored_blocks)
    values (${network}, ${state.tip?.indexBlockHash ?? null}, ${state.tip?.height ?? null}, ${newTip.indexBlockHash},
            ${newTip.height}, ${choice.forkPoint?.indexBlockHash ?? null}, ${choice.forkPoint?.height ?? null},
            ${choice.orphan.length}, ${choice.orphan}::text[], ${restored}::text[])
    returning id`;
  if (!row) throw new Error("reorg insert returned no row");
  return row;
}

/**
 * Keeps the mempool in step with the chain: transactions of orphaned blocks go back to pending, then
 * those of the blocks that became canonical are marked mined (a transaction in both stays mined).
 */
export async function markMined(sql: Sql, network: string, orphaned: string[], applied: string[]): Promise<void> {
  if (orphaned.length > 0) {
    await sql`
      update mempool_txs set mined_index_block_hash = null, mined_block_height = null
      where network = ${network} and mined_index_block_hash = any(${orphaned}::text[])`;
  }
  if (applied.length > 0) {
    await sql`
      update mempool_txs m set mined_index_block_hash = t.index_block_hash, mined_block_height = t.block_height
      from transactions t
      where t.network = ${network} and t.index_block_hash = any(${applied}::text[])
        and m.network = ${network} and m.txid = t.txid`;
  }
}
