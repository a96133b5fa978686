import type { EventLogRow } from "@second-layer/shared/event-log";
import { ALL_FIXTURES, fixture, fixtureNetwork } from "../test/support/fixtures.ts";
import { type BenchCluster, expectChainRows } from "./bench-postgres.ts";
import { startIndexerProcess } from "./indexer-process.ts";
import type { BenchResult } from "./run.ts";

// The recorded node logs (test/fixtures/stacks-node) replayed through the indexer process, every row
// in file order, each log into a fresh database: real data beside the generated chain (a 285 KB
// genesis block, poison microblocks, forks, burn blocks, mempool traffic). The logs are small, so
// they are replayed several times and the figures summed.

const PASSES = 3;

/** Blocks, transactions and events the recorded blocks store: a re-sent block is stored once. */
function expectedChainRows(rows: EventLogRow[]): number {
  const blocks = new Map<string, { transactions: unknown[]; events: unknown[] }>();
  for (const row of rows) {
    if (row.path !== "/new_block") continue;
    const b = JSON.parse(row.payload);
    blocks.set(b.index_block_hash, b);
  }
  return [...blocks.values()].reduce((n, b) => n + 1 + b.transactions.length + b.events.length, 0);
}

interface Totals {
  posts: number;
  seconds: number;
  blockPosts: number;
  blockSeconds: number;
  chainRows: number;
}

async function replayOnce(cluster: BenchCluster, name: string, file: string, totals: Totals): Promise<void> {
  const rows = fixture(file);
  const url = await cluster.createDatabase(name);
  const indexer = await startIndexerProcess(url, fixtureNetwork(file));
  try {
    for (const row of rows) {
      const started = performance.now();
      const res = await fetch(`${indexer.base}${row.path}`, {
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
      totals.posts++;
      totals.seconds += seconds;
      if (row.path === "/new_block") {
        totals.blockPosts++;
        totals.blockSeconds += seconds;
      }
    }
    if (indexer.logLines() < rows.filter((r) => r.path === "/new_block").length) {
      throw new Error(`${file}: the indexer wrote ${indexer.logLines()} log lines, fewer than the blocks it took`);
    }
  } finally {
    await indexer.kill();
  }
  const chainRows = expectedChainRows(rows);
  await expectChainRows(url, chainRows);
  totals.chainRows += chainRows;
}

export async function replayFixtures(cluster: BenchCluster): Promise<BenchResult[]> {
  const totals: Totals = { posts: 0, seconds: 0, blockPosts: 0, blockSeconds: 0, chainRows: 0 };
  for (let pass = 0; pass < PASSES; pass++) {
    for (const [i, file] of ALL_FIXTURES.entries())
      await replayOnce(cluster, `bench_fixture_${pass}_${i}`, file, totals);
  }
  const logs = `${ALL_FIXTURES.length} recorded node logs ×${PASSES}`;
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
