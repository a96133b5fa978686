import { expect, test } from "bun:test";
import { join } from "node:path";
import { parseEventLog } from "@second-layer/shared/event-log";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { createTestDatabase } from "../../../test/support/database.ts";
import { fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";

const CLI = join(import.meta.dir, "../../cli/src/main.ts");

test("`sl export` writes the journal as an event log that `replay` imports into an identical chain", async () => {
  const source = await createTestDatabase();
  const a = await startTestIndexer(source, { STACKS_NETWORK: "testnet" });
  const rows = fixture("regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv");
  await replayEventLog(rows, { to: a.url, maxAttempts: 1 });

  const exported = Bun.spawnSync(["bun", CLI, "export"], {
    env: { ...process.env, DATABASE_URL: source.url, STACKS_NETWORK: "testnet", LOG_LEVEL: "silent" },
  });
  expect(exported.exitCode).toBe(0);
  const exportedRows = parseEventLog(exported.stdout.toString());
  expect(exportedRows.map((r) => r.path)).toEqual(rows.map((r) => r.path));
  expect(exportedRows.map((r) => JSON.parse(r.payload))).toEqual(rows.map((r) => JSON.parse(r.payload)));

  const target = await createTestDatabase();
  const b = await startTestIndexer(target, { STACKS_NETWORK: "testnet" });
  const summary = await replayEventLog(exportedRows, { to: b.url, maxAttempts: 1 });
  expect(summary.rejected).toEqual([]);
  const digest = (db: typeof source) => db.sql`
    select
      (select md5(string_agg(index_block_hash || canonical, ',' order by index_block_hash)) from blocks) as blocks,
      (select md5(string_agg(txid || index_block_hash || canonical || coalesce(sender_address, ''), ',' order by index_block_hash, txid)) from transactions) as txs,
      (select md5(string_agg(index_block_hash || event_index || data::text, ',' order by index_block_hash, event_index)) from events) as events`;
  expect(await digest(target)).toEqual(await digest(source));
});
