import { beforeAll, describe, expect, test } from "bun:test";
import { LOG_BACKLOG } from "@second-layer/api/live/delivery-log";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { type ApiClient, startTestApi } from "../../../test/support/api.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { blocksOf, canonicalChain, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import type { SseEvent, SseStream } from "../../../test/support/sse.ts";
import { ok, WebhookReceiver } from "../../../test/support/webhook-receiver.ts";
import { startTestWorker } from "../../../test/support/worker.ts";

// A stream's live delivery log, with a real indexer, worker and receiver: the mocknet recording
// (testnet) goes in, a `block` stream gets a delivery per block, and the receiver fails the first
// POST of each, so every delivery has a failed attempt and a successful one.

const BLOCK_ROWS = fixture("mocknet.tsv").filter((r) => r.path === "/new_block");
const CHAIN = canonicalChain(blocksOf(BLOCK_ROWS));
/** Blocks posted while the first connection watches, and in all. */
const LIVE_BLOCKS = 4;
const BLOCKS = 10;

let db: TestDatabase;
let indexerUrl: string;
let alice: ApiClient;
let bob: ApiClient;
let receiver: WebhookReceiver;
let streamId: string;
/** The connection opened before any block: it sees the log happen. */
let live: SseStream;
const liveEvents: SseEvent[] = [];
/** The whole log once every block is delivered. */
let all: SseEvent[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  indexerUrl = (await startTestIndexer(db, { STACKS_NETWORK: "testnet" })).url;
  await startTestWorker(db, { STACKS_NETWORK: "testnet" });
  const api = await startTestApi(db);
  const admin = api.client();
  alice = api.client((await admin.post("/api/accounts", { name: "alice" })).json.key);
  bob = api.client((await admin.post("/api/accounts", { name: "bob" })).json.key);
  receiver = new WebhookReceiver();
  const seen = new Set<string>();
  receiver.setBehavior("logs", (_n, r) => {
    if (seen.has(r.id)) return ok();
    seen.add(r.id);
    return new Response("not yet", { status: 500 });
  });
  const created = await alice.post("/api/streams", {
    name: "every block",
    webhookUrl: receiver.url("logs"),
    filters: [{ type: "block" }],
    network: "testnet",
  });
  expect(created.status).toBe(201);
  streamId = created.json.stream.id;
});

async function openLog(c: ApiClient, headers: Record<string, string> = {}, id = streamId): Promise<SseStream> {
  const res = await c.sse(`/api/streams/${id}/logs`, headers);
  expect(res.status).toBe(200);
  return res.stream as SseStream;
}

const cursorOf = (e: SseEvent) => (e.id as string).split("-").map(Number) as [number, number];

/** Every event's id carries both cursors; each kind moves its own, strictly, and never the other. */
function expectWellFormed(events: SseEvent[], from: [number, number] = [0, 0]): void {
  let [attempt, ordinal] = from;
  const announced = new Set<string>();
  for (const e of events) {
    const [a, o] = cursorOf(e);
    if (e.event === "delivery.queued") {
      expect([a, o > ordinal]).toEqual([attempt, true]);
      announced.add(e.json.deliveryId);
    } else {
      expect(e.event).toBe("delivery.attempt");
      expect([a > attempt, o]).toEqual([true, ordinal]);
      expect(e.json.attemptId).toBe(String(a));
      // Read from the start, no attempt comes before its delivery's announcement.
      if (from[0] === 0 && from[1] === 0) expect(announced.has(e.json.deliveryId)).toBe(true);
    }
    [attempt, ordinal] = [a, o];
  }
}

/** The stream's attempts as stored, oldest first. */
async function storedAttempts(): Promise<any[]> {
  return await db.sql`
    select a.id::text, a.delivery_id, a.attempt, a.status_code, a.duration_ms, d.block_height
    from delivery_attempts a join deliveries d on d.id = a.delivery_id
    where a.stream_id = ${streamId} order by a.id`;
}

async function waitUntilDelivered(n: number): Promise<void> {
  await receiver.waitFor(() => receiver.acknowledged("logs").length >= n, 30_000, `${n} deliveries`);
  // The worker records the attempt right after the receiver answers.
  for (let i = 0; i < 100; i++) {
    const [row] = await db.sql`
      select count(*)::int as n from deliveries where stream_id = ${streamId} and status = 'delivered'`;
    if (row?.n >= n) return;
    await Bun.sleep(50);
  }
  throw new Error(`${n} deliveries not recorded as delivered`);
}

describe("GET /api/streams/{id}/logs", () => {
  test("live: each delivery is announced when queued, then each POST to the receiver as it happens", async () => {
    live = await openLog(alice);
    expect(await live.quietFor(200)).toBe(true);
    await replayEventLog(BLOCK_ROWS.slice(0, LIVE_BLOCKS), { to: indexerUrl, maxAttempts: 1 });
    // Every block: queued, a failed attempt (500), a delivered one (200).
    liveEvents.push(...(await live.take(LIVE_BLOCKS * 3, 30_000)));
    expectWellFormed(liveEvents);
    const queued = liveEvents.filter((e) => e.event === "delivery.queued").map((e) => e.json);
    expect(queued.map((q) => [q.kind, q.blockHeight])).toEqual(
      CHAIN.slice(0, LIVE_BLOCKS).map((b) => ["apply", b.block_height]),
    );
    expect(queued.map((q) => q.indexBlockHash)).toEqual(CHAIN.slice(0, LIVE_BLOCKS).map((b) => b.index_block_hash));
    const attempts = liveEvents.filter((e) => e.event === "delivery.attempt").map((e) => e.json);
    expect(attempts.map((a) => [a.attempt, a.statusCode, a.ok])).toEqual(
      queued.flatMap(() => [
        [1, 500, false],
        [2, 200, true],
      ]),
    );
    expect(attempts.map((a) => a.deliveryId)).toEqual(queued.flatMap((q) => [q.deliveryId, q.deliveryId]));
    // Seq is the delivery's, the same on its retry.
    expect(attempts.map((a) => a.seq)).toEqual(queued.flatMap((_, i) => [i + 1, i + 1]));
    for (const a of attempts.filter((x) => !x.ok)) expect(a.error).toEqual(expect.any(String));
    const stored = await storedAttempts();
    expect(attempts.map((a) => [a.attemptId, a.deliveryId, a.attempt, a.statusCode, a.durationMs])).toEqual(
      stored.map((s) => [s.id, s.delivery_id, s.attempt, s.status_code, s.duration_ms]),
    );
  });

  test("resume: after any event id, exactly the rest of the log; the live connection saw the same", async () => {
    await replayEventLog(BLOCK_ROWS.slice(LIVE_BLOCKS, BLOCKS), { to: indexerUrl, maxAttempts: 1 });
    await waitUntilDelivered(BLOCKS);
    const total = BLOCKS * 3;
    const whole = await openLog(alice, { "last-event-id": "0-0" });
    all = await whole.take(total, 30_000);
    expect(await whole.quietFor(300)).toBe(true);
    whole.close();
    expectWellFormed(all);
    expect(all.filter((e) => e.event === "delivery.attempt").map((e) => e.json.attemptId)).toEqual(
      (await storedAttempts()).map((s) => s.id),
    );
    // The connection that watched it happen got the same events of each kind, in the same order.
    liveEvents.push(...(await live.take(total - liveEvents.length, 30_000)));
    expect(await live.quietFor(300)).toBe(true);
    for (const kind of ["delivery.queued", "delivery.attempt"]) {
      expect(liveEvents.filter((e) => e.event === kind).map((e) => e.data)).toEqual(
        all.filter((e) => e.event === kind).map((e) => e.data),
      );
    }
    for (const k of [1, 2, 3, 10, Math.floor(total / 2), total - 1, total]) {
      const after = all[k - 1] as SseEvent;
      const resumed = await openLog(alice, { "last-event-id": after.id as string });
      const rest = await resumed.take(total - k, 30_000);
      expect(rest.map((e) => [e.event, e.id, e.data])).toEqual(all.slice(k).map((e) => [e.event, e.id, e.data]));
      expect(await resumed.quietFor(200)).toBe(true);
      resumed.close();
    }
  });

  test(`without Last-Event-ID: the last \`backlog\` (default ${LOG_BACKLOG}) attempts and deliveries`, async () => {
    expect(all.length).toBeLessThan(LOG_BACKLOG);
    const byDefault = await openLog(alice);
    expect(await byDefault.take(all.length)).toEqual(all);
    expect(await byDefault.quietFor(300)).toBe(true);
    byDefault.close();

    const n = 3;
    const recent = (await alice.sse(`/api/streams/${streamId}/logs?backlog=${n}`)).stream as SseStream;
    const backlog = await recent.take(2 * n);
    expect(await recent.quietFor(300)).toBe(true);
    recent.close();
    const attempts = await storedAttempts();
    expect(backlog.filter((e) => e.event === "delivery.attempt").map((e) => e.json.attemptId)).toEqual(
      attempts.slice(-n).map((s) => s.id),
    );
    const deliveries = await db.sql<{ id: string; ordinal: string }[]>`
      select id, ordinal from deliveries where stream_id = ${streamId} order by ordinal`;
    expect(backlog.filter((e) => e.event === "delivery.queued").map((e) => e.json.deliveryId)).toEqual(
      deliveries.slice(-n).map((d) => d.id),
    );
    // Its ids count on from just before the backlog, so resuming from any of them works as usual.
    const start = [Number(attempts.at(-n - 1)?.id), Number(deliveries.at(-n - 1)?.ordinal)] as [number, number];
    expectWellFormed(backlog, start);

    const none = (await alice.sse(`/api/streams/${streamId}/logs?backlog=0`)).stream as SseStream;
    expect(await none.quietFor(300)).toBe(true);
    none.close();
    expect((await alice.sse(`/api/streams/${streamId}/logs?backlog=501`)).status).toBe(400);
  });

  test("another account's stream or an unknown one: 404; no key: 401; a malformed id: 400", async () => {
    for (const id of [streamId, crypto.randomUUID()]) {
      const res = await bob.sse(`/api/streams/${id}/logs`);
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("NOT_FOUND");
    }
    expect((await alice.withKey(null).sse(`/api/streams/${streamId}/logs`)).status).toBe(401);
    for (const [path, headers, field] of [
      [`/api/streams/${streamId}/logs`, { "last-event-id": "12" }, "last-event-id"],
      [`/api/streams/${streamId}/logs`, { "last-event-id": "1-x" }, "last-event-id"],
      ["/api/streams/not-a-uuid/logs", {}, "id"],
    ] as const) {
      const res = await alice.sse(path, headers);
      expect(res.status).toBe(400);
      expect(res.json.error.details[0].path).toBe(field);
    }
  });

  test("deleting the stream ends its log with NOT_FOUND", async () => {
    const other = await alice.post("/api/streams", {
      name: "short-lived",
      webhookUrl: receiver.url("short"),
      filters: [{ type: "block" }],
      network: "testnet",
    });
    const stream = await openLog(alice, {}, other.json.stream.id);
    expect((await alice.delete(`/api/streams/${other.json.stream.id}`)).status).toBe(204);
    const end = await stream.next(10_000);
    expect([end?.event, end?.json.error.code]).toEqual(["error", "NOT_FOUND"]);
    expect(await stream.next(5000)).toBeNull();
  });
});
