import { join } from "node:path";
import { type EventLogRow, readEventLog } from "@second-layer/shared/event-log";

/** Every recorded node log in test/fixtures/stacks-node (its README says what each holds). */
export const ALL_FIXTURES = [
  "mocknet.tsv",
  "mainnet-block0.tsv",
  "poisonmicroblock.tsv",
  "fuzzed-transactions-1.tsv",
  "regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv",
  "mainnet-reorg-scenario2.tsv",
];

export const FIXTURES_DIR = join(import.meta.dir, "../fixtures/stacks-node");

/** The network a recorded node log belongs to (its README says where each was recorded). */
export function fixtureNetwork(name: string): "mainnet" | "testnet" {
  return name.startsWith("mainnet") || name.startsWith("poison") ? "mainnet" : "testnet";
}

/** Rows of a recorded node log. A missing file throws (the test fails, never skips). */
export function fixture(name: string): EventLogRow[] {
  return readEventLog(join(FIXTURES_DIR, name));
}

export function blocksOf(rows: EventLogRow[]): any[] {
  return rows.filter((r) => r.path === "/new_block").map((r) => JSON.parse(r.payload));
}

/** The canonical chain of a recording's blocks: from the highest block back through parents, oldest first. */
export function canonicalChain(blocks: any[]): any[] {
  const byHash = new Map(blocks.map((b) => [b.index_block_hash, b]));
  const tip = [...byHash.values()].reduce((a, b) => (b.block_height > a.block_height ? b : a));
  const chain: any[] = [];
  for (let b: any = tip; b; b = byHash.get(b.parent_index_block_hash)) chain.unshift(b);
  return chain;
}
