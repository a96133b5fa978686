import { loadBlocks } from "@second-layer/shared/chain-blocks";
import type { StacksNetwork } from "@second-layer/shared/config";
import type { Db, Sql } from "@second-layer/shared/db/connect";
import { matchStream } from "@second-layer/shared/streams/predicate";
import { type NewDelivery, planRollbacks, writeDeliveries } from "./delivery-plan.ts";
import { applyDelivery } from "./payloads.ts";
import type { RegisteredStream } from "./stream-registry.ts";

// A stream whose startBlock is below the tip is first fed the stored canonical blocks from there, in
// order (`isBackfill: true`), then joins the live chain log without gap or repeat. The matcher runs a
// step only when it has matched the whole log, and a step commits only if the log did not move while
// it ran: the canonical flags it read are then exactly the chain as the log has it at the cursor, so
// when the catch-up reaches the tip, "live from the cursor" continues it seamlessly.

export type CatchUpOutcome =
  | { status: "progress"; deliveries: number }
  | { status: "live"; deliveries: number }
  /** The log moved on: match it first, then try again. */
  | { status: "behind"; deliveries: 0 };

class LogMoved extends Error {}

export async function catchUpStep(
  db: Db,
  network: StacksNetwork,
  stream: RegisteredStream,
  cursor: number,
  maxBlocks: number,
): Promise<CatchUpOutcome> {
  try {
    return await db.sql.begin(async (tx) => {
      if ((await logHead(tx, network)) !== cursor) throw new LogMoved();
      const [state] = await tx<{ catchup_hash: string | null; catchup_height: number | null }[]>`
        select catchup_hash, catchup_height from stream_state where stream_id = ${stream.id} for update`;
      let from = await resumePoint(tx, network, stream, state?.catchup_hash ?? null, state?.catchup_height ?? null);
      const blocks = await tx<{ index_block_hash: string; block_height: number }[]>`
        select index_block_hash, block_height from blocks
        where network = ${network} and canonical and block_height > ${from.height}
          and (${stream.endBlock}::int is null or block_height <= ${stream.endBlock}::int)
        order by block_height limit ${maxBlocks}`;
      const live = blocks.length < maxBlocks;
      // Blocks this stream was sent that a reorg has since orphaned are rolled back before anything
      // else, highest first: looked for when the catch-up's own last block left the chain, and once
      // more before the stream goes live (a reorg below a gap can leave that block canonical).
      const deliveries: NewDelivery[] = from.reorged || live ? await rollbacksOfOrphaned(tx, network, stream.id) : [];
      const hashes = blocks.map((b) => b.index_block_hash);
      const [data, alreadySent] = await Promise.all([
        loadBlocks(tx, network, hashes),
        activeApplies(tx, stream.id, hashes),
      ]);
      for (const b of blocks) {
        const block = data.get(b.index_block_hash);
        if (!block || alreadySent.has(b.index_block_hash)) continue;
        const match = matchStream(stream.filters, stream.options, block.rows, network);
        if (match) deliveries.push(applyDelivery(network, stream, block, match, { chainSeq: null, isBackfill: true }));
      }
      const last = blocks.at(-1);
      if (last) from = { hash: last.index_block_hash, height: last.block_height, reorged: false };
      const written = await writeDeliveries(tx, network, deliveries);
      await tx`
        update stream_state set catchup_hash = ${from.hash}, catchup_height = ${from.height},
          live_from_seq = ${live ? cursor : null}
        where stream_id = ${stream.id}`;
      // Everything above was read while the log stood still, or it is all rolled back.
      if ((await logHead(tx, network)) !== cursor) throw new LogMoved();
      return { status: live ? "live" : "progress", deliveries: written } as const;
    });
  } catch (err) {
    if (err instanceof LogMoved) return { status: "behind", deliveries: 0 };
    throw err;
  }
}

async function logHead(sql: Sql, network: string): Promise<number> {
  const [row] = await sql<{ log_seq: string }[]>`select log_seq from chain_state where network = ${network}`;
  return Number(row?.log_seq ?? 0);
}

/**
 * Where the catch-up goes on from: after the last block it handled if that is still canonical,
 * else after the highest canonical ancestor of it (a reorg moved the chain under the catch-up).
 */
async function resumePoint(
  sql: Sql,
  network: string,
  stream: RegisteredStream,
  hash: string | null,
  height: number | null,
): Promise<{ hash: string | null; height: number; reorged: boolean }> {
  const start = { hash: null, height: (stream.startBlock ?? 0) - 1, reorged: hash !== null };
  if (hash === null || height === null) return { ...start, reorged: false };
  const [fork] = await sql<{ index_block_hash: string; block_height: number }[]>`
    with recursive up as (
      select index_block_hash, parent_index_block_hash, block_height, canonical from blocks
      where network = ${network} and index_block_hash = ${hash}
      union all
      select b.index_block_hash, b.parent_index_block_hash, b.block_height, b.canonical
      from blocks b join up on b.network = ${network} and b.index_block_hash = up.parent_index_block_hash
      where not up.canonical
    )
    select index_block_hash, block_height from up where canonical order by block_height desc limit 1`;
  if (!fork) return start;
  return { hash: fork.index_block_hash, height: fork.block_height, reorged: fork.index_block_hash !== hash };
}

async function rollbacksOfOrphaned(sql: Sql, network: string, streamId: string): Promise<NewDelivery[]> {
  const orphaned = await sql<{ index_block_hash: string; block_height: number }[]>`
    select distinct d.index_block_hash, d.block_height from deliveries d
    join blocks b on b.network = d.network and b.index_block_hash = d.index_block_hash
    where d.stream_id = ${streamId} and d.kind = 'apply' and d.status <> 'cancelled' and not b.canonical
    order by d.block_height desc`;
  if (orphaned.length === 0) return [];
  const hashes = orphaned.map((o) => o.index_block_hash);
  const planned = await planRollbacks(sql, network, hashes, () => null, streamId);
  return hashes.flatMap((h) => planned.get(h) ?? []);
}

/** Blocks of which the stream holds an apply that no rollback undid. */
async function activeApplies(sql: Sql, streamId: string, hashes: string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await sql<{ index_block_hash: string }[]>`
    select index_block_hash from deliveries
    where stream_id = ${streamId} and index_block_hash = any(${hashes}::text[]) and status <> 'cancelled'
    group by index_block_hash
    having max(ordinal) filter (where kind = 'apply') > coalesce(max(ordinal) filter (where kind = 'rollback'), 0)`;
  return new Set(rows.map((r) => r.index_block_hash));
}
