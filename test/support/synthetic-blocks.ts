import { createHash } from "node:crypto";

/** A deterministic 32-byte hash for a label, so tests can name blocks ("a3", "b4"). */
export function hashOf(label: string): string {
  return `0x${createHash("sha256").update(label).digest("hex")}`;
}

/** A minimal but schema-valid `/new_block` body with no transactions. */
export function syntheticBlock(
  label: string,
  height: number,
  parentLabel: string,
  extra: Record<string, unknown> = {},
) {
  return {
    block_hash: hashOf(`block-${label}`),
    block_height: height,
    index_block_hash: hashOf(label),
    parent_index_block_hash: hashOf(parentLabel),
    parent_block_hash: hashOf(`block-${parentLabel}`),
    parent_microblock: `0x${"00".repeat(32)}`,
    parent_microblock_sequence: 0,
    burn_block_hash: hashOf(`burn-${label}`),
    burn_block_height: 1000 + height,
    burn_block_time: 1_700_000_000 + height,
    block_time: 1_700_000_000 + height,
    tenure_height: height,
    miner_txid: hashOf(`miner-${label}`),
    transactions: [],
    events: [],
    ...extra,
  };
}
