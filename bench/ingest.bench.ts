import { join } from "node:path";
import { blockRow, blockRows } from "@second-layer/indexer/store/block-rows";
import { connect, type Db } from "@second-layer/shared/db/connect";
import { freePort } from "@second-layer/shared/db/local-postgres";
import { newBlockSchema } from "@second-layer/shared/stacks/node-payloads";
import type { Subprocess } from "bun";
import { generateChain, signTransactionPool } from "./generate-chain.ts";
import { createDatabase, percentile, waitForHealth, withLocalPostgres } from "./harness.ts";
import type { BenchResult } from "./run.ts";

// Sequential `/new_block` ingest, one POST at a time as a node delivers blocks, against the machine's
// raw insert limit for the same rows measured in the same run, on a cluster with its default
// durability (fsync, synchronous_commit): the figures an operator would see. Both databases first
// take the same warm-up blocks, untimed (see `settle`).
// BENCH_BLOCKS=10000 gives the full figure; the default keeps `bun run bench` to a few minutes.

const MAIN = join(import.meta.dir, "../packages/indexer/src/main.ts");
const NETWORK = "mainnet";
const POOL_SIZE = 400;
const WARMUP_BLOCKS = 500;
// Preparing raw rows (parse, decode) is kept out of the timed inserts, a chunk at a time to bound memory.
const RAW_CHUNK = 500;
const P99_TARGET_MS = 50;

/**
 * Runs between the warm-up and the timed blocks. ANALYZE: with no statistics the planner cannot tell
 * the blocks primary key from (network, block_hash) for the foreign-key checks, and the plan it caches
 * scans every block, so each insert is slower than the last until autovacuum's first analyze a minute
 * in. That is a fresh-database artifact, not the steady state of an indexer on an existing chain; the
 * analyze also replans sessions already open. CHECKPOINT: the warm-up's dirty pages are not flushed on
 * the timed phase's clock.
 */
async function settle(url: string): Promise<void> {
  const db = connect(url, { max: 1 });
  try {
    await db.sql`analyze`;
    await db.sql`checkpoint`;
  } finally {
    await db.close();
  }
}

/** Guards the figures: a phase that skipped rows (duplicates, failures) would look faster than it is. */
async function expectRows(url: string, expected: number): Promise<void> {
  const db = connect(url, { max: 1 });
  try {
    const [row] = await db.sql<{ n: string }[]>`
      select (select count(*) from blocks) + (select count(*) from transactions) + (select count(*) from events) as n`;
    if (Number(row?.n) !== expected) throw new Error(`${url} holds ${row?.n} rows, expected ${expected}`);
  } finally {
    await db.close();
  }
}

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
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

/** A row for postgres.js's insert helper; the JSON-typed fields are plain objects and arrays. */
type Row = Record<string, Parameters<Db["sql"]["json"]>[0]>;

/**
 * The block, transaction and event rows the indexer stores for a body, column for column. JSON columns
 * get their values as they are: postgres.js encodes them for jsonb (a pre-stringified value would be
 * stored as a JSON string).
 */
function rowsOf(body: string): { block: Row; transactions: Row[]; events: Row[] } {
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
 * pipelined as the indexer does: no journal, no fork choice, no job. Returns seconds spent inserting.
 */
async function rawInsert(db: Db, bodies: string[]): Promise<number> {
  let seconds = 0;
  for (let i = 0; i < bodies.length; i += RAW_CHUNK) {
    const chunk = bodies.slice(i, i + RAW_CHUNK).map(rowsOf);
    const started = performance.now();
    for (const rows of chunk) {
      await db.sql.begin((tx) => [
        tx`insert into blocks ${tx(rows.block)}`,
        tx`insert into transactions ${tx(rows.transactions)}`,
        tx`insert into events ${tx(rows.events)}`,
      ]);
    }
    seconds += (performance.now() - started) / 1000;
  }
  return seconds;
}

export async function run(): Promise<BenchResult[]> {
  const blocks = Number(process.env.BENCH_BLOCKS ?? 2000);
  if (!Number.isInteger(blocks) || blocks < 1)
    throw new Error(`BENCH_BLOCKS must be a positive integer, got ${process.env.BENCH_BLOCKS}`);
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

  let indexer: Subprocess | null = null;
  // Its database is about to be deleted: a graceful shutdown would only wait on dead connections.
  const killIndexer = () => indexer?.kill("SIGKILL");
  return await withLocalPostgres(async (pg) => {
    const ingestUrl = await createDatabase(pg.url, "bench_ingest");
    const rawUrl = await createDatabase(pg.url, "bench_raw");

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    indexer = Bun.spawn(["bun", MAIN], {
      env: { ...process.env, DATABASE_URL: ingestUrl, PORT: String(port), STACKS_NETWORK: NETWORK, LOG_LEVEL: "warn" },
      stdout: "inherit",
      stderr: "inherit",
    });
    await waitForHealth(indexer, base, "indexer");
    await postBlocks(base, warmup);
    await settle(ingestUrl);
    const ingest = await postBlocks(base, measured);
    indexer.kill("SIGTERM");
    await indexer.exited;
    await expectRows(ingestUrl, stored);

    const raw = connect(rawUrl, { max: 1 });
    let rawSeconds: number;
    try {
      await rawInsert(raw, warmup);
      await settle(rawUrl);
      rawSeconds = await rawInsert(raw, measured);
    } finally {
      await raw.close();
    }
    await expectRows(rawUrl, stored);

    const ingestRowsPerSecond = rows / ingest.seconds;
    const rawRowsPerSecond = rows / rawSeconds;
    const p99 = percentile(ingest.latencies, 99);
    return [
      {
        name: `ingest: blocks/s (${shape}, after ${WARMUP_BLOCKS} warm-up)`,
        value: blocks / ingest.seconds,
        unit: "blocks/s",
      },
      {
        name: "ingest: rows/s (baseline: raw INSERT)",
        value: ingestRowsPerSecond,
        unit: "rows/s",
        baseline: rawRowsPerSecond,
        ratio: ingestRowsPerSecond / rawRowsPerSecond,
      },
      { name: "raw multi-row INSERT of the same rows", value: rawRowsPerSecond, unit: "rows/s" },
      { name: "ingest: POST /new_block p50", value: percentile(ingest.latencies, 50), unit: "ms" },
      {
        name: `ingest: POST /new_block p99 (target ${P99_TARGET_MS} ms)`,
        value: p99,
        unit: "ms",
        baseline: P99_TARGET_MS,
        ratio: p99 / P99_TARGET_MS,
      },
    ];
  }, killIndexer);
}
