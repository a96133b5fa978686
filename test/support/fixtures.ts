import { existsSync } from "node:fs";
import { join } from "node:path";
import { type EventLogRow, readEventLog } from "@second-layer/shared/event-log";

/** Every recorded node log in ../shared/fixtures/stacks-node. */
export const ALL_FIXTURES = [
  "mocknet.tsv",
  "mainnet-block0.tsv",
  "poisonmicroblock.tsv",
  "fuzzed-transactions-1.tsv",
  "regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv",
  "mainnet-reorg-scenario2.tsv",
];

export const FIXTURES_DIR = join(import.meta.dir, "../../../shared/fixtures/stacks-node");

/**
 * Rows of a recorded node log from ../shared. Missing fixtures fail the test (never skip it): CI
 * always has ../shared beside the checkout, and a silent skip would hide lost coverage.
 */
export function fixture(name: string): EventLogRow[] {
  const file = join(FIXTURES_DIR, name);
  if (!existsSync(file)) {
    throw new Error(
      `fixture ${file} not found: tests need ../shared beside the checkout (CI=${process.env.CI ?? "unset"})`,
    );
  }
  return readEventLog(file);
}

export function blocksOf(rows: EventLogRow[]): any[] {
  return rows.filter((r) => r.path === "/new_block").map((r) => JSON.parse(r.payload));
}
