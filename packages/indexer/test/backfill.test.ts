import { describe, expect, test } from "bun:test";
import { Backfiller } from "@second-layer/indexer/backfill/backfiller";
import { StacksApiSource } from "@second-layer/indexer/backfill/stacks-api-source";
import { freePort } from "@second-layer/shared/db/local-postgres";
import { type EventLogRow, parseEventLog } from "@second-layer/shared/event-log";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { blocksOf, fixture } from "../../../test/support/fixtures.ts";
import { getJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { canonicalByHeight, serveFakeStacksApi } from "./backfill-fake-stacks-api.ts";

// Regtest recording: heights 0-8 with contract deploys (ABIs), versioned contracts and mint events.
// Indexer A misses some of its blocks and backfills them; indexer B got every block from the node.
const FILE = "regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv";
const NETWORK = "testnet";
const MISSING = [1, 3, 5, 6];

/** Columns that say how and when a row arrived, not what it holds. */
const ARRIVAL = ["journal_id", "received_at", "source"];
/** Block fields a stacks-blockchain-api does not serve (see map-stacks-api-block.ts). */
const NOT_IN_STACKS_API = [
  "consensus_hash",
  "signer_bitvec",
  "signer_signature",
  "signer_signature_hash",
  "miner_signature",
  "cycle_number",
  "reward_set",
  "matured_miner_rewards",
  "confirmed_microblocks_cost",
];

function withoutBlocks(rows: EventLogRow[], heights: number[]): EventLogRow[] {
  return rows.filter((r) => r.path !== "/new_block" || !heights.includes(JSON.parse(r.payload).block_height));
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

function omit(rows: any[], columns: string[]): any[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !columns.includes(k))));
}

/** The canonical rows at some heights, in a stable order. */
async function chainRows(db: TestDatabase, heights: number[]) {
  const [blocks, transactions, events] = await Promise.all([
    db.sql`select * from blocks where network = ${NETWORK} and canonical and block_height = any(${heights}::int[])
           order by block_height`,
    db.sql`select * from transactions where network = ${NETWORK} and canonical and block_height = any(${heights}::int[])
           order by block_height, tx_index`,
    db.sql`select * from events where network = ${NETWORK} and canonical and block_height = any(${heights}::int[])
           order by block_height, event_index`,
  ]);
  return { blocks: [...blocks], transactions: [...transactions], events: [...events] };
}

/** Indexer B: every recorded POST, as the node sent it. */
async function fullIndexer(rows: EventLogRow[]) {
  const db = await createTestDatabase();
  const indexer = await startTestIndexer(db, { STACKS_NETWORK: NETWORK });
  await replayEventLog(rows, { to: indexer.url, maxAttempts: 1 });
  return { db, indexer };
}

/** Indexer A: the recording minus MISSING, backfilling from `source` until its gaps close. */
async function backfillFromGappedReplay(rows: EventLogRow[], source: string, type: "stacks-api" | "second-layer") {
  const dbA = await createTestDatabase();
  const a = await startTestIndexer(dbA, {
    STACKS_NETWORK: NETWORK,
    AUTO_BACKFILL: "true",
    AUTO_BACKFILL_SOURCE: source,
    AUTO_BACKFILL_SOURCE_TYPE: type,
    AUTO_BACKFILL_RATE: "1000",
    AUTO_BACKFILL_GRACE_SECONDS: "0",
  });
  await replayEventLog(withoutBlocks(rows, MISSING), { to: a.url, maxAttempts: 1 });
  await waitFor("A's gaps to close", () => healthy(a.url));
  await a.stop();
  return dbA;
}

async function healthy(url: string): Promise<boolean> {
  return (await getJson(`${url}/health/integrity`)).status === "healthy";
}

function recordingLogger() {
  const entries: Record<string, any>[] = [];
  const at = (level: string) => (fields: object, msg?: string) => entries.push({ level, msg, ...fields });
  const log: any = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  log.child = () => log;
  return { entries, log };
}

describe("AUTO_BACKFILL", () => {
  test("stacks-api source: the gaps close and the backfilled rows equal the node-pushed ones", async () => {
    const rows = fixture(FILE);
    const { api, url: apiUrl } = serveFakeStacksApi(rows);
    const b = await fullIndexer(rows);
    const dbA = await backfillFromGappedReplay(rows, apiUrl, "stacks-api");

    const got = await chainRows(dbA, MISSING);
    const want = await chainRows(b.db, MISSING);
    expect(got.transactions.length).toBeGreaterThan(MISSING.length);
    expect(got.events.length).toBeGreaterThan(0);
    expect(got.transactions).toEqual(want.transactions);
    expect(got.events).toEqual(want.events);
    expect(omit(got.blocks, [...ARRIVAL, ...NOT_IN_STACKS_API])).toEqual(
      omit(want.blocks, [...ARRIVAL, ...NOT_IN_STACKS_API]),
    );
    // Each block says where it came from: this source is the lossy kind.
    expect(got.blocks.map((r) => r.source)).toEqual(MISSING.map(() => "stacks-api"));
    const journal =
      await dbA.sql`select source, count(*)::int as n from journal where path = '/new_block' group by source`;
    expect(journal.find((j) => j.source === "stacks-api")?.n).toBe(MISSING.length);
    // Only the missing heights were asked for.
    const asked = api.requests
      .filter((r) => /^\/extended\/v2\/blocks\/\d+$/.test(r))
      .map((r) => Number(r.split("/").pop()));
    expect([...new Set(asked)].sort()).toEqual(MISSING);
  });

  test("second-layer source: the gaps close with B's journaled bodies, byte for byte", async () => {
    const rows = fixture(FILE);
    const b = await fullIndexer(rows);
    const dbA = await backfillFromGappedReplay(rows, b.indexer.url, "second-layer");

    const got = await chainRows(dbA, MISSING);
    const want = await chainRows(b.db, MISSING);
    expect(got.transactions).toEqual(want.transactions);
    expect(got.events).toEqual(want.events);
    expect(omit(got.blocks, ARRIVAL)).toEqual(omit(want.blocks, ARRIVAL));
    const stored = await dbA.sql`select sha256 from journal where source = 'second-layer' order by sha256`;
    const sent = await b.db.sql`
      select j.sha256 from blocks k join journal j on j.id = k.journal_id
      where k.network = ${NETWORK} and k.canonical and k.block_height = any(${MISSING}::int[]) order by j.sha256`;
    expect(stored.length).toBe(MISSING.length);
    expect([...stored]).toEqual([...sent]);
  });

  test("blocks inside the grace period are left to the node; once it has passed they are fetched", async () => {
    const rows = fixture(FILE);
    const { api, url } = serveFakeStacksApi(rows);
    const db = await createTestDatabase();
    const a = await startTestIndexer(db, { STACKS_NETWORK: NETWORK });
    await replayEventLog(withoutBlocks(rows, [3]), { to: a.url, maxAttempts: 1 });
    const backfiller = new Backfiller({
      sql: db.sql,
      network: NETWORK,
      ingestor: a.ingestor,
      source: new StacksApiSource(url),
      log: recordingLogger().log,
      rate: 100,
      graceSeconds: 2,
    });
    backfiller.start();
    await Bun.sleep(1000);
    expect(api.requests).toEqual([]);
    expect((await getJson(`${a.url}/health/integrity`)).gaps).toEqual([{ start: 3, end: 3, size: 1 }]);
    await waitFor("the gap to close after the grace period", () => healthy(a.url), 10_000);
    await backfiller.stop();
    expect(api.requests[0]).toBe("/extended/v2/blocks/3");
  });

  test("a failing source is retried with backoff, and the loop carries on", async () => {
    const rows = fixture(FILE);
    const { api, url } = serveFakeStacksApi(rows);
    const db = await createTestDatabase();
    const a = await startTestIndexer(db, { STACKS_NETWORK: NETWORK });
    await replayEventLog(withoutBlocks(rows, [3]), { to: a.url, maxAttempts: 1 });
    api.failNext(3);
    const { entries, log } = recordingLogger();
    const backfiller = new Backfiller({
      sql: db.sql,
      network: NETWORK,
      ingestor: a.ingestor,
      source: new StacksApiSource(url),
      log,
      rate: 100,
      graceSeconds: 0,
      retry: { attempts: 5, baseDelayMs: 20, maxDelayMs: 100 },
    });
    backfiller.start();
    await waitFor("the gap to close", () => healthy(a.url));
    await backfiller.stop();
    const retries = entries.filter((e) => e.msg === "backfill: source failed; retrying");
    expect(retries.map((e) => [e.height, e.attempt, e.delayMs])).toEqual([
      [3, 1, 20],
      [3, 2, 40],
      [3, 3, 80],
    ]);
    expect(entries.find((e) => e.msg === "backfilled block")).toMatchObject({ height: 3, txs: 1, events: 2 });
  });

  test("an unreachable source does not crash anything, and stop() returns promptly", async () => {
    const rows = fixture(FILE);
    const db = await createTestDatabase();
    const a = await startTestIndexer(db, { STACKS_NETWORK: NETWORK });
    await replayEventLog(withoutBlocks(rows, [3]), { to: a.url, maxAttempts: 1 });
    const { entries, log } = recordingLogger();
    const backfiller = new Backfiller({
      sql: db.sql,
      network: NETWORK,
      ingestor: a.ingestor,
      source: new StacksApiSource(`http://127.0.0.1:${await freePort()}`),
      log,
      rate: 100,
      graceSeconds: 0,
      retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
      cooldown: { baseDelayMs: 10, maxDelayMs: 10 },
      pollIntervalMs: 20,
    });
    backfiller.start();
    await waitFor(
      "two failed passes",
      async () => entries.filter((e) => e.msg === "backfill: could not fill block").length >= 2,
    );
    const started = performance.now();
    await backfiller.stop();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(entries.find((e) => e.msg === "backfill: could not fill block")).toMatchObject({ level: "warn", height: 3 });
    expect((await getJson(`${a.url}/health`)).status).toBe("ok");
    expect((await getJson(`${a.url}/health/integrity`)).totalMissingBlocks).toBe(1);
  });
});

describe("GET /journal/blocks", () => {
  test("serves the journaled bodies of canonical blocks in a height range, as the node sent them", async () => {
    const rows = fixture(FILE);
    const { indexer } = await fullIndexer(rows);
    const res = await fetch(`${indexer.url}/journal/blocks?from=2&to=8`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/tab-separated-values");
    const served = parseEventLog(await res.text());
    const canonical = canonicalByHeight(blocksOf(rows));
    const sentBodies = new Map(
      rows.filter((r) => r.path === "/new_block").map((r) => [JSON.parse(r.payload).index_block_hash, r.payload]),
    );
    expect(served.map((r) => JSON.parse(r.payload).block_height)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    for (const row of served) {
      expect(row.path).toBe("/new_block");
      const height = JSON.parse(row.payload).block_height;
      expect(sentBodies.get(canonical.get(height).index_block_hash)).toBe(row.payload);
    }
    expect(await (await fetch(`${indexer.url}/journal/blocks?from=100&to=120`)).text()).toBe("");
  });

  test.each([["from=5&to=4"], ["from=0&to=100"], ["from=a&to=1"], ["to=3"]])(
    "refuses a bad range (%s) with 400",
    async (query) => {
      const db = await createTestDatabase();
      const indexer = await startTestIndexer(db, { STACKS_NETWORK: NETWORK });
      const res = await fetch(`${indexer.url}/journal/blocks?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.code).toBe("INVALID_RANGE");
    },
  );
});
