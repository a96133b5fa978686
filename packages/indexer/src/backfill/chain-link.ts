import type { Sql } from "@second-layer/shared/db/connect";
import type { NewBlockPayload } from "@second-layer/shared/stacks/node-payloads";

/**
 * Whether a fetched block fits the chain we have: our canonical block below it must be its parent, and our
 * canonical block above it must name it as parent. A source on another network or another fork fails
 * this, and its block is not stored. A block with neither neighbour has nothing to check against.
 */
export async function linksToChain(
  sql: Sql,
  network: string,
  block: Pick<NewBlockPayload, "block_height" | "index_block_hash" | "parent_index_block_hash">,
): Promise<boolean> {
  const neighbours = await sql<{ block_height: number; index_block_hash: string; parent_index_block_hash: string }[]>`
    select block_height, index_block_hash, parent_index_block_hash from blocks
    where network = ${network} and canonical and block_height in (${block.block_height - 1}, ${block.block_height + 1})`;
  return neighbours.every((n) =>
    n.block_height < block.block_height
      ? n.index_block_hash === block.parent_index_block_hash
      : n.parent_index_block_hash === block.index_block_hash,
  );
}
