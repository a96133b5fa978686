import type { Sql } from "@second-layer/shared/db/connect";

// Fork choice, as DESIGN.md fixes it: a block is canonical iff it is on the chain ending at the tip
// (the highest block; first seen wins a tie). A missing parent is a gap, not a fork: blocks below it
// keep their status until the missing blocks arrive, and then this runs again for each of them.

export interface ChainTip {
  indexBlockHash: string;
  height: number;
}

export interface IncomingBlock {
  indexBlockHash: string;
  parentIndexBlockHash: string;
  height: number;
}

export interface ForkChoice {
  /** Whether the incoming block goes in as canonical. */
  canonical: boolean;
  /** Known ancestors that become canonical with it, lowest first. */
  restore: string[];
  /** Canonical blocks that leave the canonical chain, highest first. */
  orphan: string[];
  /** Parent of the lowest restored block, when known and canonical. */
  forkPoint: ChainTip | null;
  newTip: ChainTip | null;
}

/** Decides what an incoming block changes. Reads only; the caller holds the network's ingest lock. */
export async function decideForkChoice(
  sql: Sql,
  network: string,
  block: IncomingBlock,
  tip: ChainTip | null,
): Promise<ForkChoice> {
  const self: ChainTip = { indexBlockHash: block.indexBlockHash, height: block.height };
  // The common case by far: the block extends the tip. Nothing to walk, nothing to orphan.
  if (tip && block.parentIndexBlockHash === tip.indexBlockHash && block.height > tip.height) {
    return { canonical: true, restore: [], orphan: [], forkPoint: tip, newTip: self };
  }
  const [facts] = await sql<
    { parent_canonical: boolean | null; height_taken: boolean; has_canonical_child: boolean }[]
  >`
    select
      (select canonical from blocks where network = ${network} and index_block_hash = ${block.parentIndexBlockHash}) as parent_canonical,
      exists (select 1 from blocks where network = ${network} and block_height = ${block.height} and canonical) as height_taken,
      exists (select 1 from blocks where network = ${network} and parent_index_block_hash = ${block.indexBlockHash} and canonical) as has_canonical_child`;
  if (!facts) throw new Error("fork-choice query returned no row");

  const extendsTip = tip === null || block.height > tip.height;
  // A gap filler: nothing canonical at its height and it hangs off the canonical chain (or off a gap).
  const fillsGap = !facts.height_taken && facts.parent_canonical !== false;
  if (!extendsTip && !facts.has_canonical_child && !fillsGap) {
    return { canonical: false, restore: [], orphan: [], forkPoint: null, newTip: tip };
  }

  const branch = await joinCanonical(sql, network, block, block.height);
  return { canonical: true, ...branch, newTip: extendsTip ? self : tip };
}

/**
 * Fork choice following the node (STACKS_NODE_RPC_URL): the node says `block` is its tip, and we hold
 * it as non-canonical (a Nakamoto tenure fork can leave the node's tip level with, or below, a branch
 * it abandoned). The block becomes the tip; every canonical block above it leaves the chain.
 */
export async function decideNodeTip(sql: Sql, network: string, block: IncomingBlock): Promise<ForkChoice> {
  const branch = await joinCanonical(sql, network, block, null);
  return {
    canonical: true,
    ...branch,
    newTip: { indexBlockHash: block.indexBlockHash, height: block.height },
  };
}

/**
 * The block joins the canonical chain: it and its non-canonical ancestors down to the canonical chain
 * (the fork point) or a gap become canonical, and the canonical blocks they displace, at heights from
 * the lowest of them up to `upTo` (no limit when null), leave it.
 */
async function joinCanonical(
  sql: Sql,
  network: string,
  block: IncomingBlock,
  upTo: number | null,
): Promise<Pick<ForkChoice, "restore" | "orphan" | "forkPoint">> {
  const ancestors = await sql<{ index_block_hash: string; parent_index_block_hash: string; block_height: number }[]>`
    with recursive path as (
      select index_block_hash, parent_index_block_hash, block_height
      from blocks
      where network = ${network} and index_block_hash = ${block.parentIndexBlockHash} and not canonical
      union all
      select b.index_block_hash, b.parent_index_block_hash, b.block_height
      from blocks b join path p on b.network = ${network} and b.index_block_hash = p.parent_index_block_hash
      where not b.canonical
    )
    select * from path order by block_height`;
  const lowest = ancestors[0];
  const lowestHeight = lowest?.block_height ?? block.height;
  const forkParent = lowest?.parent_index_block_hash ?? block.parentIndexBlockHash;
  const [fork] = await sql<{ index_block_hash: string; block_height: number }[]>`
    select index_block_hash, block_height from blocks
    where network = ${network} and index_block_hash = ${forkParent} and canonical`;
  const restore = ancestors.map((a) => a.index_block_hash);
  const orphaned = await sql<{ index_block_hash: string }[]>`
    select index_block_hash from blocks
    where network = ${network} and canonical and block_height >= ${lowestHeight}
      and (${upTo}::int is null or block_height <= ${upTo}::int)
      and index_block_hash <> ${block.indexBlockHash} and index_block_hash <> all(${restore}::text[])
    order by block_height desc`;
  return {
    restore,
    orphan: orphaned.map((o) => o.index_block_hash),
    forkPoint: fork ? { indexBlockHash: fork.index_block_hash, height: fork.block_height } : null,
  };
}

/** Flips `canonical` on blocks and on everything hanging off them. */
export async function setCanonical(sql: Sql, network: string, hashes: string[], canonical: boolean): Promise<void> {
  if (hashes.length === 0) return;
  await sql`update blocks set canonical = ${canonical} where network = ${network} and index_block_hash = any(${hashes}::text[])`;
  await sql`update transactions set canonical = ${canonical} where network = ${network} and index_block_hash = any(${hashes}::text[])`;
  await sql`update events set canonical = ${canonical} where network = ${network} and index_block_hash = any(${hashes}::text[])`;
}
