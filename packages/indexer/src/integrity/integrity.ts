import type { BlockRef } from "@second-layer/shared/chain-status";
import type { Sql } from "@second-layer/shared/db/connect";

export interface Gap {
  start: number;
  end: number;
  size: number;
}

export interface IntegrityReport {
  status: "empty" | "healthy" | "gaps_detected" | "unlinked_blocks" | "failed_bodies";
  network: string;
  lowestBlock: number | null;
  highestBlock: number | null;
  canonicalBlocks: number;
  gaps: Gap[];
  totalMissingBlocks: number;
  lastContiguousBlock: BlockRef | null;
  /** Canonical blocks whose parent was never received although lower heights were: a broken link. */
  unlinkedBlocks: { height: number; indexBlockHash: string; parentIndexBlockHash: string }[];
  failedBodies: { count: number; recent: FailedBody[] };
  /** Events and transactions stored but not understood by this version (see `sl rebuild`). */
  unknownItems: { count: number; recent: UnknownItemReport[] };
  blocksReceivedOutOfOrder: number;
  reorgs: number;
}

export interface UnknownItemReport {
  kind: "event" | "transaction";
  item: string;
  height: number;
  indexBlockHash: string;
  eventIndex: number | null;
  reason: string;
}

export interface FailedBody {
  journalId: string;
  path: string;
  code: string;
  error: string;
  failedAt: string;
  attempts: number;
}

/** Missing canonical heights between the lowest and the highest block indexed. */
export async function findGaps(sql: Sql, network: string, limit = 1000): Promise<Gap[]> {
  const rows = await sql<{ start: number; end: number }[]>`
    select block_height + 1 as start, next_height - 1 as "end"
    from (
      select block_height, lead(block_height) over (order by block_height) as next_height
      from blocks where network = ${network} and canonical
    ) h
    where next_height > block_height + 1
    order by block_height
    limit ${limit}`;
  return rows.map((r) => ({ start: r.start, end: r.end, size: r.end - r.start + 1 }));
}

export async function integrityReport(sql: Sql, network: string): Promise<IntegrityReport> {
  const [range] = await sql<{ lo: number | null; hi: number | null; n: number }[]>`
    select min(block_height) as lo, max(block_height) as hi, count(*)::int as n
    from blocks where network = ${network} and canonical`;
  const gaps = await findGaps(sql, network);
  const totalMissingBlocks = gaps.reduce((sum, g) => sum + g.size, 0);
  const contiguousTop = gaps[0] ? gaps[0].start - 1 : (range?.hi ?? null);
  const [last] =
    contiguousTop === null
      ? []
      : await sql<{ block_height: number; index_block_hash: string; block_hash: string }[]>`
          select block_height, index_block_hash, block_hash from blocks
          where network = ${network} and canonical and block_height = ${contiguousTop}`;
  const unlinked = await sql<{ block_height: number; index_block_hash: string; parent_index_block_hash: string }[]>`
    select b.block_height, b.index_block_hash, b.parent_index_block_hash
    from blocks b
    where b.network = ${network} and b.canonical and b.block_height > ${range?.lo ?? 0}
      and not exists (select 1 from blocks p where p.network = b.network and p.index_block_hash = b.parent_index_block_hash)
    order by b.block_height limit 100`;
  const failed = await sql<
    {
      journal_id: string;
      path: string;
      error_code: string;
      error: string;
      failed_at: Date;
      attempts: number;
    }[]
  >`
    select f.journal_id, j.path, f.error_code, f.error, f.failed_at, f.attempts
    from journal_failures f join journal j on j.id = f.journal_id
    where f.resolved_at is null and j.network = ${network}
    order by f.journal_id desc limit 50`;
  const unknown = await sql<
    {
      kind: "event" | "transaction";
      item: string;
      block_height: number;
      index_block_hash: string;
      event_index: number | null;
      reason: string;
    }[]
  >`
    select kind, item, block_height, index_block_hash, event_index, reason from unknown_items
    where network = ${network} order by block_height desc, index_block_hash, event_index limit 50`;
  const [counts] = await sql<{ failed: number; unknown: number; out_of_order: string | null; reorgs: number }[]>`
    select
      (select count(*)::int from journal_failures f join journal j on j.id = f.journal_id
        where f.resolved_at is null and j.network = ${network}) as failed,
      (select count(*)::int from unknown_items where network = ${network}) as unknown,
      (select blocks_out_of_order from chain_state where network = ${network}) as out_of_order,
      (select count(*)::int from reorgs where network = ${network}) as reorgs`;
  const failedCount = counts?.failed ?? 0;
  const status: IntegrityReport["status"] =
    (range?.n ?? 0) === 0
      ? failedCount > 0
        ? "failed_bodies"
        : "empty"
      : gaps.length > 0
        ? "gaps_detected"
        : unlinked.length > 0
          ? "unlinked_blocks"
          : failedCount > 0
            ? "failed_bodies"
            : "healthy";
  return {
    status,
    network,
    lowestBlock: range?.lo ?? null,
    highestBlock: range?.hi ?? null,
    canonicalBlocks: range?.n ?? 0,
    gaps,
    totalMissingBlocks,
    lastContiguousBlock: last
      ? { height: last.block_height, indexBlockHash: last.index_block_hash, blockHash: last.block_hash }
      : null,
    unlinkedBlocks: unlinked.map((u) => ({
      height: u.block_height,
      indexBlockHash: u.index_block_hash,
      parentIndexBlockHash: u.parent_index_block_hash,
    })),
    failedBodies: {
      count: failedCount,
      recent: failed.map((f) => ({
        journalId: f.journal_id,
        path: f.path,
        code: f.error_code,
        error: f.error,
        failedAt: f.failed_at.toISOString(),
        attempts: f.attempts,
      })),
    },
    unknownItems: {
      count: counts?.unknown ?? 0,
      recent: unknown.map((u) => ({
        kind: u.kind,
        item: u.item,
        height: u.block_height,
        indexBlockHash: u.index_block_hash,
        eventIndex: u.event_index,
        reason: u.reason,
      })),
    },
    blocksReceivedOutOfOrder: Number(counts?.out_of_order ?? 0),
    reorgs: counts?.reorgs ?? 0,
  };
}

export function describeGaps(gaps: Gap[]): string {
  return gaps.map((g) => (g.size === 1 ? `${g.start}` : `${g.start}-${g.end}`)).join(", ");
}
