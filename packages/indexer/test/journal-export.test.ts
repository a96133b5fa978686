import { expect, test } from "bun:test";
import { join } from "node:path";
import { exportJournal } from "@second-layer/indexer/ingest/journal-export";
import { parseEventLog } from "@second-layer/shared/event-log";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { createTestDatabase } from "../../../test/support/database.ts";
import { fixture } from "../../../test/support/fixtures.ts";
import { postJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { syntheticBlock } from "../../../test/support/synthetic-blocks.ts";

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

test("`sl export` and `/journal/blocks` give the same row: the body byte for byte but for line breaks; export skips non-JSON", async () => {
  const db = await createTestDatabase();
  const indexer = await startTestIndexer(db);
  // Tabs and CRLF between tokens, and a string holding escaped ones, which must survive untouched.
  const block = { ...syntheticBlock("a1", 1, "g"), note: "tab\there\r\n" };
  const blockBody = JSON.stringify(block, null, "\t").replaceAll("\n", "\r\n");
  const chunkBody = '{"chunk":\n[1,\t2]}';
  for (const [path, body] of [
    ["/new_block", blockBody],
    ["/attachments/new", "not json at all"],
    ["/stackerdb_chunks", chunkBody],
  ] as const) {
    expect((await postJson(`${indexer.url}${path}`, body)).status).toBe(200);
  }

  const exported = [];
  for await (const row of exportJournal(db.sql, "mainnet")) exported.push(row);
  const oneLine = (json: string) => json.replace(/[\t\r\n]/g, " ");
  expect(exported.map((r) => [r.path, r.payload])).toEqual([
    ["/new_block", oneLine(blockBody)],
    ["/stackerdb_chunks", oneLine(chunkBody)],
  ]);
  expect(JSON.parse(exported[0]!.payload).note).toBe("tab\there\r\n");

  const served = parseEventLog(await (await fetch(`${indexer.url}/journal/blocks?from=1&to=1`)).text());
  expect(served).toEqual([exported[0]!]);
});
