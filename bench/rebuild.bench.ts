import { Ingestor } from "@second-layer/indexer/ingest/ingestor";
import { rebuildChain } from "@second-layer/indexer/ingest/rebuild";
import { blockRow, blockRows } from "@second-layer/indexer/store/block-rows";
import { connect, type Db } from "@second-layer/shared/db/connect";
import { removeLocalPostgres, startLocalPostgres } from "@second-layer/shared/db/local-postgres";
import { migrate } from "@second-layer/shared/db/migrate";
import { createLogger } from "@second-layer/shared/logger";
import { generateChain, signTransactionPool } from "@second-layer/simulator/generate-chain";
import { benchSetting } from "./bench-setting.ts";
import type { BenchResult } from "./run.ts";

// `sl rebuild` re-derives every stored block's rows from its journaled body. Its limit is writing
// those rows again, so the baseline is COPY of the same rows into empty tables, in the same run.
// BENCH_REBUILD_BLOCKS sets the chain length (default 1000 blocks of 20 txs + 60 events).

const NETWORK = "mainnet";

async function database(serverUrl: string, name: string): Promise<Db> {
  const admin = connect(serverUrl, { max: 1 });
  await admin.sql.unsafe(`create database ${name}`);
  await admin.close();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = connect(url.toString(), { max: 4 });
  await migrate(db.sql, url.toString());
  return db;
}

/** A value in COPY text format. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  const text = typeof v === "object" ? JSON.stringify(v) : String(v);
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
}

async function copyRows(db: Db, table: string, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] as object);
  const stream = await db.sql`copy ${db.sql(table)} (${db.sql(columns)}) from stdin`.writable();
  const lines = rows.map((r) => `${columns.map((c) => copyValue(r[c])).join("\t")}\n`).join("");
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.on("finish", resolve);
    stream.end(lines);
  });
}

export async function run(): Promise<BenchResult[]> {
  const count = benchSetting("BENCH_REBUILD_BLOCKS", 1000);
  const bodies = [...generateChain(count, await signTransactionPool(400))].map((b) => JSON.stringify(b));
  const pg = await startLocalPostgres();
  try {
    const db = await database(pg.url, "bench_rebuild");
    const ingestor = new Ingestor(db, NETWORK, createLogger("bench", "silent"));
    const encoder = new TextEncoder();
    for (const body of bodies) {
      const outcome = await ingestor.ingest("/new_block", encoder.encode(body));
      if (!outcome.ok) throw new Error(`ingest failed: ${JSON.stringify(outcome.error)}`);
    }
    await db.sql`vacuum analyze`;
    const started = performance.now();
    const result = await rebuildChain(db, NETWORK);
    const rebuildSeconds = (performance.now() - started) / 1000;
    if (result.done !== count) throw new Error(`rebuild did ${result.done} of ${count} blocks`);
    await db.close();

    // The same rows, prepared outside the clock, then COPY'd per table in one go.
    const raw = await database(pg.url, "bench_copy");
    const blocks: Record<string, unknown>[] = [];
    const transactions: Record<string, unknown>[] = [];
    const events: Record<string, unknown>[] = [];
    for (const body of bodies) {
      const b = JSON.parse(body);
      const rows = blockRows(b);
      const common = {
        network: NETWORK,
        index_block_hash: b.index_block_hash,
        block_height: b.block_height,
        canonical: true,
      };
      blocks.push({ ...common, ...blockRow(b, rows), source: "node" });
      for (const t of rows.transactions) transactions.push({ ...common, ...t });
      for (const e of rows.events) events.push({ ...common, ...e });
    }
    const copyStarted = performance.now();
    await copyRows(raw, "blocks", blocks);
    await copyRows(raw, "transactions", transactions);
    await copyRows(raw, "events", events);
    const copySeconds = (performance.now() - copyStarted) / 1000;
    const [n] = await raw.sql<{ n: string }[]>`
      select (select count(*) from blocks) + (select count(*) from transactions) + (select count(*) from events) as n`;
    if (Number(n?.n) !== blocks.length + transactions.length + events.length) throw new Error("COPY lost rows");
    await raw.close();

    const rebuildRate = count / rebuildSeconds;
    const copyRate = count / copySeconds;
    return [
      {
        name: `sl rebuild: blocks/s (${count} blocks of 20 txs + 60 events; baseline: COPY of the same rows)`,
        value: rebuildRate,
        unit: "blocks/s",
        baseline: copyRate,
        ratio: rebuildRate / copyRate,
      },
      { name: "raw COPY of the same rows", value: copyRate, unit: "blocks/s" },
    ];
  } finally {
    removeLocalPostgres(pg);
  }
}
