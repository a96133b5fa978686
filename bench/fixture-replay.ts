import type { EventLogRow } from "@second-layer/shared/event-log";
import { ALL_FIXTURES, fixture, fixtureNetwork } from "../test/support/fixtures.ts";
import { type BenchCluster, emptyDatabase, expectChainRows } from "./bench-postgres.ts";
import { startIndexerProcess } from "./indexer-process.ts";
import type { BenchResult } from "./run.ts";

// The recorded node logs (test/fixtures/stacks-node) replayed through the indexer process, every row
// in file order: real data beside the generated chain (a 285 KB genesis block, poison microblocks,
// forks, burn blocks, mempool traffic). The logs are small, so each is replayed several times by one
// indexer process, its database emptied in between, and the figures summed; the first pass only
// warms the process up (a fresh process compiles its code on the first blocks) and is not counted.

const TIMED_PASSES = 3;

/** The blocks the recorded log stores: a re-sent block is stored once. */
function storedBlocks(rows: EventLogRow[]): { transactions: unknown[]; events: unknown[] }[] {
  const blocks = new Map<string, { transactions: unknown[]; events: unknown[] }>();
  for (const row of rows) {
    if (row.path !== "/new_block") continue;
    const b = JSON.parse(row.payload);
    blocks.set(b.index_block_hash, b);
  }
  return [...blocks.values()];
}

interface Totals {
  posts: number;
  seconds: number;
  blockPosts: number;
  blockSeconds: number;
  chainRows: number;
}

/** Posts the rows in order; adds their times to `totals` unless it is null (the warm-up pass). */
async function postRows(base: string, file: string, rows: EventLogRow[], totals: Totals | null): Promise<void> {
  for (const row of rows) {
    const started = performance.now();
    const res = await fetch(`${base}${row.path}`, {
      method: "POST",
      body: row.payload,
      headers: { "content-type": "application/json" },
    });
    const answer = (await res.json()) as { ok?: boolean };
    const seconds = (performance.now() - started) / 1000;
    // 200 with ok: false is a body journaled with an error: it stored nothing, so it cannot count.
    if (res.status !== 200 || answer.ok !== true) {
      throw new Error(`${file} row ${row.id} (${row.path}): ${res.status} ${JSON.stringify(answer)}`);
    }
    if (!totals) continue;
    totals.posts++;
    totals.seconds += seconds;
    if (row.path === "/new_block") {
      totals.blockPosts++;
      totals.blockSeconds += seconds;
    }
  }
}

async function replayLog(cluster: BenchCluster, name: string, file: string, totals: Totals): Promise<void> {
  const rows = fixture(file);
  const blocks = storedBlocks(rows);
  const chainRows = blocks.reduce((n, b) => n + 1 + b.transactions.length + b.events.length, 0);
  const url = await cluster.createDatabase(name);
  const indexer = await startIndexerProcess(url, fixtureNetwork(file));
  try {
    for (let pass = 0; pass <= TIMED_PASSES; pass++) {
      if (pass > 0) await emptyDatabase(url);
      await postRows(indexer.base, file, rows, pass > 0 ? totals : null);
      await expectChainRows(url, chainRows);
      if (pass > 0) totals.chainRows += chainRows;
    }
    // One info line per block stored.
    const stored = (TIMED_PASSES + 1) * blocks.length;
    if (indexer.logLines() < stored) {
      throw new Error(`${file}: the indexer wrote ${indexer.logLines()} log lines for ${stored} blocks`);
    }
  } finally {
    await indexer.kill();
  }
}

export async function replayFixtures(cluster: BenchCluster): Promise<BenchResult[]> {
  const totals: Totals = { posts: 0, seconds: 0, blockPosts: 0, blockSeconds: 0, chainRows: 0 };
  for (const [i, file] of ALL_FIXTURES.entries()) await replayLog(cluster, `bench_fixture_${i}`, file, totals);
  const logs = `${ALL_FIXTURES.length} recorded node logs ×${TIMED_PASSES}, after a warm-up pass`;
  return [
    {
      name: `fixtures: POSTs/s (${totals.posts} POSTs of ${logs}, every path)`,
      value: totals.posts / totals.seconds,
      unit: "POSTs/s",
    },
    {
      name: `fixtures: /new_block blocks/s (${totals.blockPosts} POSTs)`,
      value: totals.blockPosts / totals.blockSeconds,
      unit: "blocks/s",
    },
    {
      name: "fixtures: /new_block rows/s (blocks + txs + events stored)",
      value: totals.chainRows / totals.blockSeconds,
      unit: "rows/s",
    },
  ];
}
