import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { readJournal } from "@second-layer/indexer/ingest/journal";
import type { RunningIndexer } from "@second-layer/indexer/start";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { getJson, postJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { hashOf, syntheticBlock } from "../../../test/support/synthetic-blocks.ts";

let db: TestDatabase;
let indexer: RunningIndexer;

beforeAll(async () => {
  db = await createTestDatabase();
  indexer = await startTestIndexer(db);
});

async function integrity() {
  return await getJson(`${indexer.url}/health/integrity`);
}

describe("bad input is journaled with a clear error and answered 200", () => {
  test("malformed JSON", async () => {
    const res = await postJson(`${indexer.url}/new_block`, '{"block_height": 1,');
    expect(res.status).toBe(200);
    expect(res.json.ok).toBe(false);
    expect(res.json.error.code).toBe("INVALID_JSON");
    const [row] =
      await db.sql`select j.path, j.byte_size::int, f.error_code from journal j join journal_failures f on f.journal_id = j.id where j.id = ${res.json.journalId}`;
    expect(row).toEqual({ path: "/new_block", byte_size: 19, error_code: "INVALID_JSON" });
  });

  test("wrong types name the field path", async () => {
    const block = syntheticBlock("x1", 1, "g");
    const bad = { ...block, block_height: "one", transactions: [{ txid: "nope" }] };
    const res = await postJson(`${indexer.url}/new_block`, bad);
    expect(res.status).toBe(200);
    expect(res.json.error.code).toBe("INVALID_PAYLOAD");
    const paths = res.json.error.details.map((d: any) => d.path);
    expect(paths).toContain("block_height");
    expect(paths).toContain("transactions.0.txid");
    expect(res.json.error.message).toContain("block_height");
    const [stored] = await db.sql`select count(*)::int as n from blocks`;
    expect(stored?.n).toBe(0);
  });
});

describe("what a later node sends does not stop the block", () => {
  test("a raw_tx that does not decode is stored as an unknown transaction with the block", async () => {
    const block = syntheticBlock("x2", 1, "g", {
      transactions: [{ txid: hashOf("tx"), tx_index: 0, status: "success", raw_tx: "0x0102", raw_result: "0x03" }],
    });
    const res = await postJson(`${indexer.url}/new_block`, block);
    expect(res.json.ok).toBe(true);
    const [tx] = await db.sql`
      select tx_type, raw_tx, status, raw_result, sender_address, canonical from transactions where txid = ${hashOf("tx")}`;
    expect(tx).toEqual({
      tx_type: "unknown",
      raw_tx: "0x0102",
      status: "success",
      raw_result: "0x03",
      sender_address: null,
      canonical: true,
    });
    const report = await integrity();
    const item = report.unknownItems.recent.find((u: any) => u.kind === "transaction");
    expect(item).toMatchObject({ item: hashOf("tx"), height: 1, indexBlockHash: hashOf("x2") });
    expect(item.reason).toContain("raw_tx does not decode");
  });

  test("an event of a type this version does not know is stored with its data; a malformed known one too", async () => {
    const txid = hashOf("tx-ev");
    const block = syntheticBlock("x3", 2, "x2", {
      transactions: [{ txid, tx_index: 0, status: "success", raw_tx: "0x0102", raw_result: "0x03" }],
      events: [
        { txid, event_index: 0, committed: true, type: "sbtc_peg_event", sbtc_peg_event: { amount: "5", peg: "in" } },
        { txid, event_index: 1, committed: true, type: "stx_transfer_event", stx_transfer_event: { amount: "7" } },
      ],
    });
    const res = await postJson(`${indexer.url}/new_block`, block);
    expect(res.json.ok).toBe(true);
    const events = await db.sql`
      select event_index, type, amount::text, data from events where index_block_hash = ${hashOf("x3")} order by event_index`;
    expect([...events]).toEqual([
      { event_index: 0, type: "sbtc_peg_event", amount: "5", data: { amount: "5", peg: "in" } },
      { event_index: 1, type: "stx_transfer_event", amount: "7", data: { amount: "7" } },
    ]);
    const report = await integrity();
    expect(report.unknownItems.count).toBe(4);
    const byIndex = report.unknownItems.recent.filter((u: any) => u.kind === "event" && u.height === 2);
    expect(byIndex.map((u: any) => [u.eventIndex, u.item])).toEqual([
      [0, "sbtc_peg_event"],
      [1, "stx_transfer_event"],
    ]);
    expect(byIndex[0].reason).toContain("not known");
    expect(byIndex[1].reason).toContain("stx_transfer_event.sender");
    // Stored items are not failures (only the two bad bodies above are); /health counts them too.
    expect(report.status).toBe("failed_bodies");
    expect(report.failedBodies.count).toBe(2);
    const health = await getJson(`${indexer.url}/health`);
    expect(health.unknownItems).toBe(4);
  });
});

describe("bad input is journaled with a clear error and answered 200 (continued)", () => {
  test("an unknown path is journaled and answered 200", async () => {
    const res = await postJson(`${indexer.url}/some_future_event`, { hello: "node" });
    expect(res.status).toBe(200);
    expect(res.json.ok).toBe(true);
    const [row] = await db.sql`select path from journal where id = ${res.json.journalId}`;
    expect(row?.path).toBe("/some_future_event");
  });

  test("a 100 MB body is accepted, journaled in chunks and read back byte-exact", async () => {
    const size = 100 * 1024 * 1024;
    // Random bytes do not compress, so the stored body really spans several 16 MB chunks.
    const body = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(body.subarray(i, i + 65536));
    const res = await fetch(`${indexer.url}/attachments/new`, { method: "POST", body });
    expect(res.status).toBe(200);
    const json = (await res.json()) as any;
    const [row] = await db.sql`
      select byte_size::bigint::text as size, chunk_count, sha256 from journal where id = ${json.journalId}`;
    expect(row?.size).toBe(String(size));
    expect(row?.chunk_count).toBe(7);
    const sha = new Bun.CryptoHasher("sha256").update(body).digest("hex");
    expect(row?.sha256).toBe(sha);
    const entry = await readJournal(db.sql, json.journalId);
    expect(new Bun.CryptoHasher("sha256").update(entry.body).digest("hex")).toBe(sha);
  });

  test("failed bodies are counted and listed by /health/integrity", async () => {
    const report = await integrity();
    expect(report.failedBodies.count).toBe(2);
    expect(report.failedBodies.recent.map((f: any) => f.code).sort()).toEqual(["INVALID_JSON", "INVALID_PAYLOAD"]);
    expect(report.status).toBe("failed_bodies");
  });
});

describe("reprocess", () => {
  test("re-runs a body that failed to store once the cause is fixed, without rewriting the journal", async () => {
    // Simulate a storage bug: a trigger that rejects one block (a data error, not an outage).
    await db.sql.unsafe(`
      create function reject_block() returns trigger language plpgsql as $$
      begin
        if new.block_height = 7 then raise exception 'simulated bug' using errcode = '22023'; end if;
        return new;
      end $$;
      create trigger reject_block before insert on blocks for each row execute function reject_block();`);
    const res = await postJson(`${indexer.url}/new_block`, syntheticBlock("r7", 7, "r6"));
    expect(res.status).toBe(200);
    expect(res.json.ok).toBe(false);
    expect(res.json.error.code).toBe("PROCESSING_FAILED");
    expect(res.json.error.message).toContain("simulated bug");
    const [journalCountBefore] = await db.sql`select count(*)::int as n from journal`;

    await db.sql.unsafe("drop trigger reject_block on blocks; drop function reject_block();");
    const cli = spawnSync("bun", [join(import.meta.dir, "../../cli/src/main.ts"), "reprocess"], {
      env: { ...process.env, DATABASE_URL: db.url, STACKS_NETWORK: "mainnet", LOG_LEVEL: "silent" },
      encoding: "utf8",
    });
    // The two bodies that are genuinely bad fail again; the block now stores.
    expect(cli.stderr).toContain(`ok     #${res.json.journalId} /new_block`);
    expect(JSON.parse(cli.stdout.trim())).toEqual({ total: 3, succeeded: 1, failed: 2 });
    expect(cli.status).toBe(2);

    const [block] = await db.sql`select canonical, journal_id from blocks where index_block_hash = ${hashOf("r7")}`;
    expect(block).toEqual({ canonical: true, journal_id: res.json.journalId });
    const [failure] =
      await db.sql`select resolved_at is not null as resolved from journal_failures where journal_id = ${res.json.journalId}`;
    expect(failure?.resolved).toBe(true);
    const [journalCountAfter] = await db.sql`select count(*)::int as n from journal`;
    expect(journalCountAfter?.n).toBe(journalCountBefore?.n);
    const [attempts] = await db.sql`select max(attempts)::int as n from journal_failures where resolved_at is null`;
    expect(attempts?.n).toBe(2);
  });
});

describe("body size limit", () => {
  test("a body over MAX_BODY_BYTES gets 413 with the limit named, and nothing is journaled", async () => {
    const small = await createTestDatabase();
    const capped = await startTestIndexer(small, { MAX_BODY_BYTES: "1000" });
    const res = await fetch(`${capped.url}/new_block`, { method: "POST", body: "x".repeat(5000) });
    expect(res.status).toBe(413);
    const json = (await res.json()) as any;
    expect(json.error.code).toBe("BODY_TOO_LARGE");
    expect(json.error.message).toContain("MAX_BODY_BYTES=1000");
    const [journal] = await small.sql`select count(*)::int as n from journal`;
    expect(journal?.n).toBe(0);
  });
});
