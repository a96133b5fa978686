import type { Sql } from "./db/connect.ts";

// The chain log is how every consumer (the stream matcher, each view) learns what the canonical chain
// did: `apply` adds a block, `rollback` removes one. Entries are numbered per network by a gap-free
// `seq` in commit order, so a reader that remembers the last seq it handled resumes exactly.

/** NOTIFY channel and graphile-worker task the indexer uses as wake-ups when the log grows. */
export const CHAIN_CHANNEL = "second_layer_chain";
export const CHAIN_TASK = "chain";

/** The chain_cursors consumer name of the stream matcher. */
export const STREAMS_CONSUMER = "streams";

/** The body of a wake-up (NOTIFY payload and job payload). The log, not the wake-up, is the truth. */
export interface ChainWakeUp {
  network: string;
  seq: number;
}

export interface ChainLogEntry {
  seq: number;
  kind: "apply" | "rollback";
  indexBlockHash: string;
  blockHash: string;
  height: number;
  parentIndexBlockHash: string;
  burnBlockHeight: number;
  /** The reorg (reorgs.id) this change belongs to, when it is part of one. */
  reorgId: string | null;
  createdAt: string;
}

interface ChainLogRow {
  seq: string;
  kind: "apply" | "rollback";
  index_block_hash: string;
  block_hash: string;
  block_height: number;
  parent_index_block_hash: string;
  burn_block_height: number;
  reorg_id: string | null;
  created_at: Date;
}

/** Log entries of `network` after `afterSeq`, oldest first, at most `limit`. */
export async function readChainLog(
  sql: Sql,
  network: string,
  afterSeq: number,
  limit: number,
): Promise<ChainLogEntry[]> {
  const rows = await sql<ChainLogRow[]>`
    select seq, kind, index_block_hash, block_hash, block_height, parent_index_block_hash, burn_block_height,
      reorg_id, created_at
    from chain_log where network = ${network} and seq > ${afterSeq}
    order by seq limit ${limit}`;
  return rows.map((r) => ({
    seq: Number(r.seq),
    kind: r.kind,
    indexBlockHash: r.index_block_hash,
    blockHash: r.block_hash,
    height: r.block_height,
    parentIndexBlockHash: r.parent_index_block_hash,
    burnBlockHeight: r.burn_block_height,
    reorgId: r.reorg_id,
    createdAt: r.created_at.toISOString(),
  }));
}

/** The newest seq of `network`'s log (0 when it is empty). */
export async function chainLogHead(sql: Sql, network: string): Promise<number> {
  const [row] = await sql<{ log_seq: string }[]>`select log_seq from chain_state where network = ${network}`;
  return Number(row?.log_seq ?? 0);
}

/**
 * Folds log entries into a set of canonical block hashes. Throws when an entry contradicts the set
 * (an apply of a block already applied, a rollback of one that is not): the log must never do that.
 */
export function foldChainLog(
  entries: Pick<ChainLogEntry, "seq" | "kind" | "indexBlockHash">[],
  into = new Set<string>(),
) {
  for (const e of entries) {
    if (e.kind === "apply") {
      if (into.has(e.indexBlockHash)) throw new Error(`seq ${e.seq}: apply of ${e.indexBlockHash}, already applied`);
      into.add(e.indexBlockHash);
    } else {
      if (!into.delete(e.indexBlockHash)) throw new Error(`seq ${e.seq}: rollback of ${e.indexBlockHash}, not applied`);
    }
  }
  return into;
}

/**
 * Drops each apply that a later rollback in the same batch undoes, with that rollback: no consumer
 * has acted on the block yet, so neither needs acting on.
 */
export function withoutUndoneApplies(entries: ChainLogEntry[]): ChainLogEntry[] {
  const dropped = new Set<number>();
  const openApply = new Map<string, number>();
  for (const e of entries) {
    if (e.kind === "apply") {
      openApply.set(e.indexBlockHash, e.seq);
      continue;
    }
    const applySeq = openApply.get(e.indexBlockHash);
    if (applySeq !== undefined) {
      dropped.add(applySeq);
      dropped.add(e.seq);
      openApply.delete(e.indexBlockHash);
    }
  }
  return entries.filter((e) => !dropped.has(e.seq));
}
