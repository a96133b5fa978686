import { beforeAll, describe, expect, test } from "bun:test";
import { foldChainLog } from "@second-layer/shared/chain-log";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { type ApiClient, startTestApi } from "../../../test/support/api.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { blocksOf, canonicalChain, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import type { SseEvent, SseStream } from "../../../test/support/sse.ts";

// The chain log as a firehose, over the reorg recording: REST pages and Server-Sent Events, live,
// resumed, kept alive, and ended cleanly. Folding what either gives must be the canonical chain.

const ROWS = fixture("mainnet-reorg-scenario2.tsv");
const BLOCKS = blocksOf(ROWS);
const CHAIN = canonicalChain(BLOCKS);

let db: TestDatabase;
let client: ApiClient;
/** The whole log as the REST route serves it. */
let log: any[];

beforeAll(async () => {
  db = await createTestDatabase();
  const indexer = await startTestIndexer(db);
  await replayEventLog(ROWS, { to: indexer.url, maxAttempts: 1 });
  client = (await startTestApi(db)).client();
  log = (await client.get("/api/chain/events?limit=1000")).json.events;
});

async function openStream(c: ApiClient, path: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const res = await c.sse(path, headers);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/event-stream");
  return res.stream as SseStream;
}

/** An SSE event as the REST route has it. */
const asLogEntry = (e: SseEvent) => {
  expect(e.event).toBe(`block.${e.json.kind}`);
  expect(e.id).toBe(String(e.json.seq));
  return e.json;
};

describe("GET /api/chain/events", () => {
  test("the log page by page: gap-free seqs, each with its block; folded, it is the canonical chain", async () => {
    const seen: any[] = [];
    let after = 0;
    for (;;) {
      const page = await client.get(`/api/chain/events?after=${after}&limit=2`);
      expect(page.status).toBe(200);
      expect(page.json.head).toBe(log.length);
      if (page.json.events.length === 0) {
        expect(page.json.next).toBe(after);
        break;
      }
      seen.push(...page.json.events);
      after = page.json.next;
    }
    expect(seen).toEqual(log);
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(foldChainLog(seen.map((e) => ({ ...e, indexBlockHash: e.block.indexBlockHash })))).toEqual(
      new Set(CHAIN.map((b) => b.index_block_hash)),
    );
    for (const e of seen) {
      const b = BLOCKS.find((x) => x.index_block_hash === e.block.indexBlockHash);
      expect(e.block).toEqual({
        height: b.block_height,
        hash: b.block_hash,
        indexBlockHash: b.index_block_hash,
        parentIndexBlockHash: b.parent_index_block_hash,
        burnBlockHeight: b.burn_block_height,
        timestamp: b.burn_block_time,
        txCount: b.transactions.length,
        eventCount: b.events.length,
      });
    }
    // The reorg's changes name it; the others do not.
    const [reorg] = (await client.get("/api/reorgs")).json.reorgs;
    expect(seen.filter((e) => e.kind === "rollback").map((e) => e.reorgId)).toEqual([reorg.id]);
    expect(seen.filter((e) => e.reorgId !== null).map((e) => e.block.indexBlockHash)).toEqual([
      ...reorg.orphanedBlocks,
      ...reorg.restoredBlocks,
    ]);
  });

  test("invalid after or limit: 400 naming it; another network: empty", async () => {
    for (const q of ["after=-1", "after=x", "limit=0", "limit=1001"]) {
      const res = await client.get(`/api/chain/events?${q}`);
      expect(res.status).toBe(400);
      expect(res.json.error.details[0].path).toBe(q.split("=")[0]);
    }
    expect((await client.get("/api/chain/events?network=testnet")).json).toEqual({ events: [], next: 0, head: 0 });
  });
});

describe("GET /api/chain/events/stream", () => {
  test("live: each block's log entries arrive as the indexer commits it; other networks stay quiet", async () => {
    const liveDb = await createTestDatabase();
    const indexer = await startTestIndexer(liveDb);
    // No poll within the test's time: only the indexer's NOTIFY can wake the stream.
    const api = (await startTestApi(liveDb, { API_SSE_POLL_SECONDS: "600" })).client();
    const stream = await openStream(api, "/api/chain/events/stream");
    const testnet = await openStream(api, "/api/chain/events/stream?network=testnet");
    const received: any[] = [];
    for (const row of ROWS) {
      await replayEventLog([row], { to: indexer.url, maxAttempts: 1 });
      const head = (await api.get("/api/chain/events?limit=1")).json.head;
      const fresh = head - received.length;
      received.push(...(await stream.take(fresh)).map(asLogEntry));
    }
    expect(received.map((e) => e.seq)).toEqual(log.map((e) => e.seq));
    expect(received.map((e) => [e.kind, e.block])).toEqual(log.map((e) => [e.kind, e.block]));
    expect(await stream.quietFor(300)).toBe(true);
    expect(await testnet.quietFor(100)).toBe(true);
  });

  test("resume: after Last-Event-ID (over ?after=) exactly the rest, nothing twice", async () => {
    const first = await openStream(client, "/api/chain/events/stream?after=0");
    const all = (await first.take(log.length)).map(asLogEntry);
    expect(all).toEqual(log);
    first.close();
    for (let k = 0; k <= log.length; k++) {
      const again = await openStream(client, "/api/chain/events/stream?after=0", { "last-event-id": String(k) });
      expect((await again.take(log.length - k)).map(asLogEntry)).toEqual(log.slice(k));
      expect(await again.quietFor(150)).toBe(true);
      again.close();
    }
    const byQuery = await openStream(client, `/api/chain/events/stream?after=${log.length - 1}`);
    expect((await byQuery.take(1)).map(asLogEntry)).toEqual(log.slice(-1));
    byQuery.close();
  });

  test("without a NOTIFY the poll still finds new entries; idle streams get heartbeats", async () => {
    const api = await startTestApi(db, { API_SSE_POLL_SECONDS: "0.2", API_SSE_HEARTBEAT_SECONDS: "0.3" });
    const c = api.client();
    const stream = await openStream(c, "/api/chain/events/stream");
    expect(stream.retry).toBeUndefined();
    expect(await stream.nextComment(5000)).toBe("keep-alive");
    expect(stream.retry).toBe(2000);
    // A rewrite of the tip (rollback and apply), written without the indexer's NOTIFY.
    const tip = CHAIN.at(-1);
    const head = (await c.get("/api/chain/events?limit=1")).json.head;
    await db.sql.begin(async (tx) => {
      await tx`
        insert into chain_log (network, seq, kind, index_block_hash, block_hash, block_height, parent_index_block_hash,
          burn_block_height)
        select network, ${head} + k.n, k.kind, index_block_hash, block_hash, block_height, parent_index_block_hash,
          burn_block_height
        from blocks, (values (1, 'rollback'), (2, 'apply')) as k(n, kind)
        where network = 'mainnet' and index_block_hash = ${tip.index_block_hash}`;
      await tx`update chain_state set log_seq = ${head + 2} where network = 'mainnet'`;
    });
    const [rollback, apply] = (await stream.take(2)).map(asLogEntry);
    expect([rollback.seq, rollback.kind, apply.seq, apply.kind]).toEqual([head + 1, "rollback", head + 2, "apply"]);
    expect(apply.block.indexBlockHash).toBe(tip.index_block_hash);
    log.push(rollback, apply);
  });

  test("a revoked key's stream ends with UNAUTHORIZED; a stopping server ends every stream", async () => {
    const api = await startTestApi(db, { API_SSE_HEARTBEAT_SECONDS: "0.2" });
    const created = await api.client().post("/api/keys", { name: "sse" });
    const keyed = api.client(created.json.key);
    const revoked = await openStream(keyed, "/api/chain/events/stream");
    expect((await api.client().delete(`/api/keys/${created.json.apiKey.id}`)).status).toBe(204);
    const end = await revoked.next(5000);
    expect([end?.event, end?.json.error.code]).toEqual(["error", "UNAUTHORIZED"]);
    expect(await revoked.next(5000)).toBeNull();

    const open = [await openStream(api.client(), "/api/chain/events/stream")];
    open.push(await openStream(api.client(), "/api/chain/events/stream?after=0"));
    await open[1]?.take(log.length);
    await api.stop();
    for (const s of open) expect(await s.next(5000)).toBeNull();
  });

  test("a malformed Last-Event-ID or after: 400; no key: 401", async () => {
    for (const [path, headers, field] of [
      ["/api/chain/events/stream", { "last-event-id": "abc" }, "last-event-id"],
      ["/api/chain/events/stream?after=-5", {}, "after"],
      ["/api/chain/events/stream?network=nope", {}, "network"],
    ] as const) {
      const res = await client.sse(path, headers);
      expect(res.status).toBe(400);
      expect(res.json.error.details[0].path).toBe(field);
    }
    const anonymous = await client.withKey(null).sse("/api/chain/events/stream");
    expect(anonymous.status).toBe(401);
  });
});
