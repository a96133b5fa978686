import type { Sql } from "./db/connect.ts";

// The chain's state as chain_state keeps it, per block: read in one query without scanning the chain,
// so /health (indexer) and /status (api) can be polled freely.

export interface BlockRef {
  height: number;
  indexBlockHash: string;
  blockHash: string;
}

export interface HealthSummary {
  lastIndexedBlock: BlockRef | null;
  lastContiguousBlock: BlockRef | null;
  blocksReceivedOutOfOrder: number;
  /** Cheap verdict for /health; /health/integrity has the full report. */
  integrity: "empty" | "healthy" | "gaps_detected" | "failed_bodies";
  failedBodies: number;
  unknownItems: number;
  reorgs: number;
  chainLog: { seq: number };
}

/** What /health reports, read from chain_state in one query: no scan of the chain, so polling it is cheap. */
export async function healthSummary(sql: Sql, network: string): Promise<HealthSummary> {
  const [row] = await sql<
    {
      tip_height: number | null;
      tip_hash: string | null;
      tip_block_hash: string | null;
      contiguous_height: number | null;
      contiguous_hash: string | null;
      contiguous_block_hash: string | null;
      out_of_order: string | null;
      log_seq: string | null;
      failed: number;
      unknown: number;
      reorgs: number;
    }[]
  >`
    select t.block_height as tip_height, t.index_block_hash as tip_hash, t.block_hash as tip_block_hash,
      c.block_height as contiguous_height, c.index_block_hash as contiguous_hash, c.block_hash as contiguous_block_hash,
      s.blocks_out_of_order as out_of_order, s.log_seq,
      (select count(*)::int from journal_failures f join journal j on j.id = f.journal_id
        where f.resolved_at is null and j.network = ${network}) as failed,
      (select count(*)::int from unknown_items where network = ${network}) as unknown,
      (select count(*)::int from reorgs where network = ${network}) as reorgs
    from (select ${network}::text as network) n
    left join chain_state s on s.network = n.network
    left join blocks t on t.network = n.network and t.index_block_hash = s.tip_index_block_hash
    left join blocks c on c.network = n.network and c.canonical and c.block_height = s.contiguous_height`;
  const ref = (height: number | null, hash: string | null, blockHash: string | null): BlockRef | null =>
    height !== null && hash && blockHash ? { height, indexBlockHash: hash, blockHash } : null;
  const lastIndexedBlock = ref(row?.tip_height ?? null, row?.tip_hash ?? null, row?.tip_block_hash ?? null);
  const lastContiguousBlock = ref(
    row?.contiguous_height ?? null,
    row?.contiguous_hash ?? null,
    row?.contiguous_block_hash ?? null,
  );
  const failedBodies = row?.failed ?? 0;
  const integrity: HealthSummary["integrity"] = !lastIndexedBlock
    ? failedBodies > 0
      ? "failed_bodies"
      : "empty"
    : (lastContiguousBlock?.height ?? -1) < lastIndexedBlock.height
      ? "gaps_detected"
      : failedBodies > 0
        ? "failed_bodies"
        : "healthy";
  return {
    lastIndexedBlock,
    lastContiguousBlock,
    blocksReceivedOutOfOrder: Number(row?.out_of_order ?? 0),
    integrity,
    failedBodies,
    unknownItems: row?.unknown ?? 0,
    reorgs: row?.reorgs ?? 0,
    chainLog: { seq: Number(row?.log_seq ?? 0) },
  };
}
