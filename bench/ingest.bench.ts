import { join } from "node:path";
import { blockRows } from "@second-layer/indexer/store/block-rows";
import { connect, type Db } from "@second-layer/shared/db/connect";
import { freePort, removeLocalPostgres, startLocalPostgres } from "@second-layer/shared/db/local-postgres";
import { migrate } from "@second-layer/shared/db/migrate";
import { toPostgresJson } from "@second-layer/shared/json-text";
import { newBlockSchema } from "@second-layer/shared/stacks/node-payloads";
import { generateChain, signTransactionPool } from "./generate-chain.ts";
import type { BenchResult } from "./run.ts";

// Sequential `/new_block` ingest, as a node delivers it, against the machine's raw insert limit for
// the same rows measured in the same run. BENCH_BLOCKS=10000 for the full figure (default 2000).

const MAIN = join(import.meta.dir, "../packages/indexer/src/main.ts");

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function freshDatabase(adminUrl: string, name: string): Promise<{ db: Db; url: string }> {
  const admin = connect(adminUrl, { max: 1 });
  await admin.sql.unsafe(`create database ${name}`);
  await admin.close();
  const url = withDatabase(adminUrl, name);
  const db = connect(url, { max: 2 });
  await migrate(db.sql, url);
  return { db, url };
}

async function ingestThroughIndexer(url: string, bodies: string[]) {
  const port = await freePort();
  const proc = Bun.spawn(["bun", MAIN], {
    env: { ...process.env, DATABASE_URL: url, PORT: String(port), STACKS_NETWORK: "mainnet", LOG_LEVEL: "warn" },
    stdout: "inherit",
    stderr: "inherit",
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if ((await fetch(`${base}/health`).catch(() => null))?.ok) break;
      if (i > 200) throw new Error("indexer did not start");
      await Bun.sleep(50);
    }
    const latencies: number[] = [];
    const started = performance.now();
    for (const body of bodies) {
      const t = performance.now();
      const res = await fetch(`${base}/new_block`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
      const answer = (await res.json()) as { ok?: boolean; error?: unknown };
      latencies.push(performance.now() - t);
      if (res.status !== 200 || !answer.ok) throw new Error(`ingest failed: ${res.status} ${JSON.stringify(answer)}`);
    }
    return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

/** The same rows with plain multi-row INSERT ... VALUES, one transaction per block: no journal, no decoding. */
async function rawInsert(db: Db, bodies: string[]): Promise<number> {
  const prepared = bodies.map((body) => {
    const b = newBlockSchema.parse(JSON.parse(body));
    const rows = blockRows(b);
    const common = {
      network: "mainnet",
      index_block_hash: b.index_block_hash,
      block_height: b.block_height,
      canonical: true,
    };
    const json = (v: unknown) => (v == null ? null : toPostgresJson(v));
    return {
      block: {
        ...common,
        block_hash: b.block_hash,
        parent_index_block_hash: b.parent_index_block_hash,
        parent_block_hash: b.parent_block_hash,
        burn_block_hash: b.burn_block_hash,
        burn_block_height: b.burn_block_height,
        burn_block_time: b.burn_block_time,
        block_time: b.block_time ?? null,
        tenure_height: b.tenure_height ?? null,
        miner_txid: b.miner_txid ?? null,
        signer_bitvec: b.signer_bitvec ?? null,
        signer_signature: json(b.signer_signature),
        anchored_cost: json(b.anchored_cost),
        tx_count: rows.transactions.length,
        event_count: rows.events.length,
      },
      txs: rows.transactions.map((t) => ({
        ...common,
        ...t,
        function_args: json(t.function_args),
        execution_cost: json(t.execution_cost),
        contract_abi: json(t.contract_abi),
        burnchain_op: json(t.burnchain_op),
      })),
      events: rows.events.map((e) => ({ ...common, ...e, data: json(e.data) })),
    };
  });
  const started = performance.now();
  for (const p of prepared) {
    await db.sql.begin(async (tx) => {
      await tx`insert into blocks ${tx(p.block)}`;
      await tx`insert into transactions ${tx(p.txs)}`;
      await tx`insert into events ${tx(p.events)}`;
    });
  }
  return (performance.now() - started) / 1000;
}

export async function run(): Promise<BenchResult[]> {
  const blocks = Number(process.env.BENCH_BLOCKS ?? 2000);
  const pool = await signTransactionPool(400);
  const bodies = [...generateChain({ blocks, pool })].map((b) => JSON.stringify(b));
  const rowsPerBlock = 1 + 20 + 60;
  const totalRows = blocks * rowsPerBlock;
  // Real durability settings (fsync, synchronous_commit): the figure an operator would see.
  const pg = await startLocalPostgres();
  try {
    const ingestDb = await freshDatabase(pg.url, "bench_ingest");
    const rawDb = await freshDatabase(pg.url, "bench_raw");
    await ingestDb.db.close();
    const ingest = await ingestThroughIndexer(ingestDb.url, bodies);
    const rawSeconds = await rawInsert(rawDb.db, bodies);
    await rawDb.db.close();
    const ingestRowsPerSecond = totalRows / ingest.seconds;
    const rawRowsPerSecond = totalRows / rawSeconds;
    const p99 = percentile(ingest.latencies, 99);
    return [
      {
        name: `ingest: blocks/s (${blocks} blocks, 20 txs + 60 events each)`,
        value: blocks / ingest.seconds,
        unit: "blocks/s",
      },
      {
        name: "ingest: rows/s vs raw multi-row INSERT of the same rows",
        value: ingestRowsPerSecond,
        unit: "rows/s",
        baseline: rawRowsPerSecond,
        ratio: ingestRowsPerSecond / rawRowsPerSecond,
      },
      { name: "raw multi-row INSERT limit (same run)", value: rawRowsPerSecond, unit: "rows/s" },
      { name: "POST /new_block latency p50", value: percentile(ingest.latencies, 50), unit: "ms" },
      { name: "POST /new_block latency p99 (target 50 ms)", value: p99, unit: "ms", baseline: 50, ratio: p99 / 50 },
    ];
  } finally {
    removeLocalPostgres(pg);
  }
}
