import { blockRow, blockRows } from "@second-layer/indexer/store/block-rows";
import { connect, type Db } from "@second-layer/shared/db/connect";
import { newBlockSchema } from "@second-layer/shared/stacks/node-payloads";
import { generateChain, signTransactionPool } from "@second-layer/simulator/generate-chain";
import { type BenchCluster, expectChainRows, settle, startBenchCluster } from "./bench-postgres.ts";
import { benchSetting } from "./bench-setting.ts";
import { replayFixtures } from "./fixture-replay.ts";
import { killIndexers, startIndexerProcess } from "./indexer-process.ts";
import { onInterrupt } from "./on-interrupt.ts";
import { percentile } from "./percentile.ts";
import type { BenchResult } from "./run.ts";

// Sequential `/new_block` ingest, one POST at a time as a node delivers blocks, against the machine's
// raw insert limit for the same rows measured in the same run. Both databases first take the same
// untimed warm-up blocks (an indexer on an existing chain, not an empty one). Then the timed blocks
// go in rounds, raw and ingest alternating and swapping who goes first, each phase after a VACUUM
// ANALYZE and a CHECKPOINT (`settle`): neither side profits from running second, from a cleaner
// table or from the other's flushed pages. Last, the recorded node logs are replayed (real data).
// BENCH_BLOCKS=10000 gives the full figure; the default keeps `bun run bench` to a few minutes.

const NETWORK = "mainnet";
const POOL_SIZE = 400;
const WARMUP_BLOCKS = 500;
// Blocks per phase at most. Short phases keep the two sides close in time, so a change in the
// machine's load between phases moves both; the bound also limits the raw rows prepared (parsed,
// decoded) ahead of a timed phase.
const PHASE_BLOCKS = 250;
const MIN_ROUNDS = 4;
const P99_TARGET_MS = 10;
const RATIO_TARGET = 0.6;

async function postBlocks(base: string, bodies: string[]): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const started = performance.now();
  for (const body of bodies) {
    const t = performance.now();
    const res = await fetch(`${base}/new_block`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    const answer = (await res.json()) as { ok?: boolean };
    latencies.push(performance.now() - t);
    // The indexer answers 200 even for a body it could not store (journaled with its error): check `ok`.
    if (res.status !== 200 || !answer.ok) throw new Error(`/new_block failed: ${res.status} ${JSON.stringify(answer)}`);
  }
  return { seconds: (performance.now() - started) / 1000, latencies };
}

/** A row for postgres.js's insert helper; the JSON-typed fields are plain objects and arrays. */
type Row = Record<string, Parameters<Db["sql"]["json"]>[0]>;
type RawBlock = { block: Row; transactions: Row[]; events: Row[] };

/**
 * The block, transaction and event rows the indexer stores for a body, column for column. JSON columns
 * get their values as they are: postgres.js encodes them for jsonb (a pre-stringified value would be
 * stored as a JSON string).
 */
function rowsOf(body: string): RawBlock {
  const b = newBlockSchema.parse(JSON.parse(body));
  const rows = blockRows(b);
  const { transactions, events } = rows;
  const common = {
    network: NETWORK,
    index_block_hash: b.index_block_hash,
    block_height: b.block_height,
    canonical: true,
  };
  const block = { ...common, ...blockRow(b, rows), source: "node" };
  return {
    block: block as Row,
    transactions: transactions.map((t) => ({ ...common, ...t }) as Row),
    events: events.map((e) => ({ ...common, ...e }) as Row),
  };
}

/**
 * The same rows as plain multi-row INSERT ... VALUES, one transaction per block, the three statements
 * pipelined as the indexer does: no journal, no fork choice, no chain log. Returns seconds inserting.
 */
async function rawInsert(db: Db, blocks: RawBlock[]): Promise<number> {
  const started = performance.now();
  for (const rows of blocks) {
    await db.sql.begin((tx) => [
      tx`insert into blocks ${tx(rows.block)}`,
      tx`insert into transactions ${tx(rows.transactions)}`,
      tx`insert into events ${tx(rows.events)}`,
    ]);
  }
  return (performance.now() - started) / 1000;
}

function chunks<T>(items: T[], count: number): T[][] {
  const size = Math.ceil(items.length / count);
  return Array.from({ length: count }, (_, i) => items.slice(i * size, (i + 1) * size)).filter((c) => c.length > 0);
}

async function generatedChain(cluster: BenchCluster, blocks: number): Promise<BenchResult[]> {
  const warmup: string[] = [];
  const measured: string[] = [];
  let stored = 0;
  let txs = 0;
  let events = 0;
  for (const block of generateChain(WARMUP_BLOCKS + blocks, await signTransactionPool(POOL_SIZE))) {
    const body = JSON.stringify(block);
    stored += 1 + block.transactions.length + block.events.length;
    if (block.block_height <= WARMUP_BLOCKS) {
      warmup.push(body);
      continue;
    }
    measured.push(body);
    txs += block.transactions.length;
    events += block.events.length;
  }
  const rows = blocks + txs + events;
  const shape = `${blocks} blocks of ${Math.round(txs / blocks)} txs + ${Math.round(events / blocks)} events`;

  const roundCount = Math.max(MIN_ROUNDS, Math.ceil(measured.length / PHASE_BLOCKS));

  const ingestUrl = await cluster.createDatabase("bench_ingest");
  const rawUrl = await cluster.createDatabase("bench_raw");
  const indexer = await startIndexerProcess(ingestUrl, NETWORK);
  const raw = connect(rawUrl, { max: 1 });
  let ingestSeconds = 0;
  let rawSeconds = 0;
  const latencies: number[] = [];
  try {
    await postBlocks(indexer.base, warmup);
    for (const chunk of chunks(warmup, Math.ceil(warmup.length / PHASE_BLOCKS)))
      await rawInsert(raw, chunk.map(rowsOf));

    for (const [i, chunk] of chunks(measured, roundCount).entries()) {
      const rawPhase = async () => {
        const prepared = chunk.map(rowsOf);
        await settle(rawUrl);
        rawSeconds += await rawInsert(raw, prepared);
      };
      const ingestPhase = async () => {
        await settle(ingestUrl);
        const posted = await postBlocks(indexer.base, chunk);
        ingestSeconds += posted.seconds;
        latencies.push(...posted.latencies);
      };
      for (const phase of i % 2 === 0 ? [rawPhase, ingestPhase] : [ingestPhase, rawPhase]) await phase();
    }
    if (indexer.logLines() < warmup.length + measured.length) {
      throw new Error(
        `the indexer wrote ${indexer.logLines()} log lines for ${warmup.length + measured.length} blocks`,
      );
    }
  } finally {
    await raw.close();
    await indexer.kill();
  }
  await expectChainRows(ingestUrl, stored);
  await expectChainRows(rawUrl, stored);

  latencies.sort((a, b) => a - b);
  const ingestRowsPerSecond = rows / ingestSeconds;
  const rawRowsPerSecond = rows / rawSeconds;
  const p99 = percentile(latencies, 99);
  return [
    {
      name: `ingest: blocks/s (${shape}, after ${WARMUP_BLOCKS} warm-up, ${roundCount} rounds)`,
      value: blocks / ingestSeconds,
      unit: "blocks/s",
    },
    {
      name: "ingest: rows/s (baseline: raw INSERT of the same rows, alternating)",
      value: ingestRowsPerSecond,
      unit: "rows/s",
      baseline: rawRowsPerSecond,
      ratio: ingestRowsPerSecond / rawRowsPerSecond,
      target: { of: "ratio", atLeast: RATIO_TARGET },
    },
    { name: "raw multi-row INSERT of the same rows", value: rawRowsPerSecond, unit: "rows/s" },
    { name: "ingest: POST /new_block p50", value: percentile(latencies, 50), unit: "ms" },
    {
      name: "ingest: POST /new_block p99 (baseline: target)",
      value: p99,
      unit: "ms",
      baseline: P99_TARGET_MS,
      ratio: p99 / P99_TARGET_MS,
      target: { of: "value", atMost: P99_TARGET_MS },
    },
  ];
}

export async function run(): Promise<BenchResult[]> {
  const blocks = benchSetting("BENCH_BLOCKS", 2000);
  const cluster = await startBenchCluster();
  const cleanup = () => {
    killIndexers();
    cluster.remove();
  };
  const uninstall = onInterrupt(cleanup);
  try {
    return [...(await generatedChain(cluster, blocks)), ...(await replayFixtures(cluster))];
  } finally {
    uninstall();
    cleanup();
  }
}
