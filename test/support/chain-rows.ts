import { blockRows, type EventRow, type TransactionRow } from "@second-layer/indexer/store/block-rows";
import type { StacksNetwork } from "@second-layer/shared/config";
import { blocksOf, fixture } from "./fixtures.ts";

/** The network each recorded log comes from (its addresses are of that network). */
export const FIXTURE_NETWORKS: Record<string, StacksNetwork> = {
  "mocknet.tsv": "testnet",
  "mainnet-block0.tsv": "mainnet",
  "poisonmicroblock.tsv": "mainnet",
  "fuzzed-transactions-1.tsv": "devnet",
  "regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv": "testnet",
  "mainnet-reorg-scenario2.tsv": "mainnet",
};

export interface FixtureBlock {
  height: number;
  indexBlockHash: string;
  payload: any;
  /** Stored rows: a superset of the columns matching reads (ChainTransaction, ChainEvent). */
  transactions: TransactionRow[];
  events: EventRow[];
}

/**
 * The `/new_block` bodies of a recorded log as the rows the indexer stores (the same pure mapping it
 * uses), ordered as selected from the tables, one entry per distinct block: a node's retried POST of the same block is kept once.
 */
export function fixtureBlocks(name: string): FixtureBlock[] {
  const seen = new Set<string>();
  const out: FixtureBlock[] = [];
  for (const payload of blocksOf(fixture(name))) {
    if (seen.has(payload.index_block_hash)) continue;
    seen.add(payload.index_block_hash);
    const rows = blockRows(payload);
    out.push({
      height: payload.block_height,
      indexBlockHash: payload.index_block_hash,
      payload,
      // In the order the worker reads them: the node does not always post events by index.
      transactions: rows.transactions.sort((a, b) => a.tx_index - b.tx_index),
      events: rows.events.sort((a, b) => a.event_index - b.event_index),
    });
  }
  return out;
}
