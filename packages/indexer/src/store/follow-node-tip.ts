import type { Sql } from "@second-layer/shared/db/connect";
import { lockChainState, saveChainState } from "./chain-state.ts";
import { decideNodeTip, setCanonical } from "./fork-choice.ts";
import { markMined, recordReorg } from "./store-block.ts";

/** The node's tip as `/v2/info` gives it: block hash and consensus hash make the index block hash. */
export interface NodeTip {
  blockHash: string;
  consensusHash: string;
  height: number;
}

export type NodeTipOutcome =
  | { status: "canonical"; indexBlockHash: string; height: number }
  /** We have not received the node's tip (yet): nothing to compare. */
  | { status: "unknown"; indexBlockHash: string; height: number }
  /** We held the node's tip as non-canonical; fork choice now follows the node. */
  | { status: "followed"; indexBlockHash: string; height: number; reorgId: string | null; orphaned: string[] };

function bytes(hex: string): Buffer {
  return Buffer.from(hex.replace(/^0x/, ""), "hex");
}

/** A Stacks block id: SHA-512/256 of the block hash followed by the consensus hash. */
export function indexBlockHashOf(blockHash: string, consensusHash: string): string {
  const digest = new Bun.CryptoHasher("sha512-256").update(Buffer.concat([bytes(blockHash), bytes(consensusHash)]));
  return `0x${digest.digest("hex")}`;
}

/**
 * Makes the node's tip canonical when we hold it as non-canonical: a Nakamoto tenure fork can leave
 * the node's new tip level with, or below, a branch it abandoned, which our highest-block rule would
 * keep. Runs in the caller's transaction under the chain lock, through the chain log like any reorg.
 */
export async function followNodeTip(sql: Sql, network: string, tip: NodeTip): Promise<NodeTipOutcome> {
  const indexBlockHash = indexBlockHashOf(tip.blockHash, tip.consensusHash);
  const state = await lockChainState(sql, network);
  const [block] = await sql<{ canonical: boolean; block_height: number; parent_index_block_hash: string }[]>`
    select canonical, block_height, parent_index_block_hash from blocks
    where network = ${network} and index_block_hash = ${indexBlockHash}`;
  if (!block) return { status: "unknown", indexBlockHash, height: tip.height };
  if (block.canonical) return { status: "canonical", indexBlockHash, height: block.block_height };
  const choice = await decideNodeTip(sql, network, {
    indexBlockHash,
    parentIndexBlockHash: block.parent_index_block_hash,
    height: block.block_height,
  });
  const apply = [...choice.restore, indexBlockHash];
  await setCanonical(sql, network, choice.orphan, false);
  await setCanonical(sql, network, apply, true);
  const reorg = choice.orphan.length > 0 ? await recordReorg(sql, network, state, choice, indexBlockHash) : null;
  await Promise.all([
    saveChainState(
      sql,
      network,
      { rollback: choice.orphan, apply, reorgId: reorg?.id ?? null },
      {
        tip: choice.newTip,
        lowestHeight: state.lowestHeight,
        seenHeight: null,
        // Blocks above the node's tip left the chain without replacements: the run may now end lower.
        contiguousFrom: state.lowestHeight,
        outOfOrder: false,
      },
    ),
    markMined(sql, network, choice.orphan, apply),
  ]);
  return {
    status: "followed",
    indexBlockHash,
    height: block.block_height,
    reorgId: reorg?.id ?? null,
    orphaned: choice.orphan,
  };
}
