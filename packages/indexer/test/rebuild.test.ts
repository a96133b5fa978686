import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { rebuildChain } from "@second-layer/indexer/ingest/rebuild";
import { readChainLog } from "@second-layer/shared/chain-log";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";

const FILE = "regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv";
const CLI = join(import.meta.dir, "../../cli/src/main.ts");

async function indexed(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  const indexer = await startTestIndexer(db, { STACKS_NETWORK: "testnet" });
  await replayEventLog(fixture(FILE), { to: indexer.url, maxAttempts: 1 });
  await indexer.stop();
  return db;
}

async function tables(sql: any) {
  const txs = await sql`select to_jsonb(t) as r from transactions t order by index_block_hash, txid`;
  const events = await sql`select to_jsonb(e) as r from events e order by index_block_hash, event_index`;
  const blocks = await sql`select to_jsonb(b) - 'received_at' as r from blocks b order by index_block_hash`;
  const unknown = await sql`select count(*)::int as n from unknown_items`;
  return { txs: txs.map((x: any) => x.r), events: events.map((x: any) => x.r), blocks, unknown: unknown[0].n };
}

/** What an older version without a decoder for contract calls would have stored. */
async function degrade(sql: any): Promise<string[]> {
  const rows = await sql`
    update transactions set tx_type = 'unknown', sender_address = null, contract_id = null, function_name = null,
      function_args = null, nonce = null, fee = null
    where tx_type = 'contract_call' returning index_block_hash, txid, block_height`;
  for (const r of rows) {
    await sql`
      insert into unknown_items (network, index_block_hash, block_height, kind, item, reason)
      values ('testnet', ${r.index_block_hash}, ${r.block_height}, 'transaction', ${r.txid}, 'old decoder')`;
  }
  const blocks = await sql`
    select distinct t.index_block_hash, b.block_height from transactions t join blocks b using (network, index_block_hash)
    where t.tx_type = 'unknown' and b.canonical order by b.block_height`;
  return blocks.map((b: any) => b.index_block_hash);
}

test("sl rebuild re-derives degraded rows from the journal; changed canonical blocks get rollback+apply in the log", async () => {
  const reference = await indexed();
  const db = await indexed();
  const want = await tables(reference.sql);
  const touched = await degrade(db.sql);
  expect(touched.length).toBeGreaterThan(0);
  expect(await tables(db.sql)).not.toEqual(want);
  const seqBefore = (await readChainLog(db.sql, "testnet", 0, 10_000)).length;

  const cli = spawnSync("bun", [CLI, "rebuild"], {
    env: { ...process.env, DATABASE_URL: db.url, STACKS_NETWORK: "testnet", LOG_LEVEL: "silent" },
    encoding: "utf8",
  });
  expect(cli.status).toBe(0);
  const [blocks] = await db.sql`select count(*)::int as n from blocks`;
  expect(JSON.parse(cli.stdout.trim())).toMatchObject({ done: blocks?.n, total: blocks?.n, changed: touched.length });
  expect(cli.stderr).toContain("rebuild [");
  expect(await tables(db.sql)).toEqual(want);

  const log = await readChainLog(db.sql, "testnet", seqBefore, 10_000);
  expect(
    log
      .filter((e) => e.kind === "rollback")
      .map((e) => e.indexBlockHash)
      .sort(),
  ).toEqual([...touched].sort());
  expect(
    log
      .filter((e) => e.kind === "apply")
      .map((e) => e.indexBlockHash)
      .sort(),
  ).toEqual([...touched].sort());
  // Within each batch: rollbacks (highest first) before applies (lowest first).
  const firstApply = log.findIndex((e) => e.kind === "apply");
  expect(log.slice(0, firstApply).every((e) => e.kind === "rollback")).toBe(true);

  // Nothing left to change: a second rebuild writes nothing to the log.
  const again = await rebuildChain(db, "testnet");
  expect(again.changed).toBe(0);
  expect(await readChainLog(db.sql, "testnet", seqBefore + log.length, 100)).toEqual([]);
});

test("an interrupted rebuild resumes where it stopped", async () => {
  const reference = await indexed();
  const db = await indexed();
  const want = await tables(reference.sql);
  await degrade(db.sql);
  let batches = 0;
  const crash = new Error("killed");
  await expect(
    rebuildChain(db, "testnet", {
      batchSize: 2,
      onProgress: () => {
        if (++batches === 3) throw crash;
      },
    }),
  ).rejects.toBe(crash);
  const [run] = await db.sql`select blocks_done::int, finished_at from rebuild_runs`;
  expect(run?.blocks_done).toBe(4);
  expect(run?.finished_at).toBeNull();

  const seen: number[] = [];
  const result = await rebuildChain(db, "testnet", { batchSize: 2, onProgress: (p) => seen.push(p.done) });
  expect(result.resumed).toBe(true);
  expect(seen[0]).toBe(4);
  expect(await tables(db.sql)).toEqual(want);
  const [done] = await db.sql`select finished_at is not null as finished, blocks_done::int from rebuild_runs`;
  expect(done).toEqual({ finished: true, blocks_done: result.total });
});

test("sl rebuild refuses a bad range with a clear message", () => {
  const cli = spawnSync("bun", [CLI, "rebuild", "--from", "9", "--to", "3"], {
    env: { ...process.env, DATABASE_URL: "postgres://127.0.0.1:1/none", LOG_LEVEL: "silent" },
    encoding: "utf8",
  });
  expect(cli.status).toBe(1);
  expect(cli.stderr).toContain("--from 9 is above --to 3");
});
