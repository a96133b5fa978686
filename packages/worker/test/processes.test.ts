import { afterEach, describe, expect, test } from "bun:test";
import { chainLogHead } from "@second-layer/shared/chain-log";
import { spawnWorker } from "../../../test/support/service-process.ts";
import {
  expectGapFreeSeq,
  labeller,
  recordedDelivered,
  stopAfterTest,
  stopScenarioWorkers,
  streamScenario,
  told,
} from "../../../test/support/stream-scenario.ts";
import { hang, ok, status } from "../../../test/support/webhook-receiver.ts";

// Worker processes (`bun packages/worker/src/main.ts`) on one database: one killed mid-delivery, and
// two or three sharing the work. Whatever happens, a delivery is acknowledged once, a stream's
// deliveries arrive in order, and nothing is lost.

afterEach(stopScenarioWorkers);

describe("worker processes", () => {
  test("a worker killed mid-delivery: the next one resends that delivery with the same webhook-id and seq, nothing lost, nothing else twice", async () => {
    const s = await streamScenario();
    const streamId = await s.stream("crash");
    // The second delivery is held open until the worker sending it dies.
    s.receiver.setBehavior("crash", (n, _r, closed) => (n === 1 ? hang(closed) : ok()));
    const first = await spawnWorker(s.db.url);
    stopAfterTest(first.kill);
    await s.extend("a", 1, 3, "g");
    await s.receiver.waitFor(() => s.receiver.at("crash").length === 2, 20_000, "the delivery held open");

    const held = s.receiver.at("crash")[1];
    expect([held?.seq, held?.body.block.height]).toEqual([2, 2]);
    await first.kill();
    // The delivery had its seq when it went out; the dead worker recorded no attempt and still holds the lease.
    const [row] = await s.db.sql`select seq, status, attempts from deliveries where id = ${held?.id as string}`;
    expect(row).toEqual({ seq: "2", status: "pending", attempts: 0 });
    const [lease] = await s.db.sql<{ lease_owner: string; expires_in_s: number }[]>`
      select lease_owner, extract(epoch from lease_until - now())::float8 as expires_in_s
      from stream_state where stream_id = ${streamId}`;
    expect(lease?.lease_owner).toContain(`:${first.proc.pid}:`);
    // The lease is the webhook timeout plus 30 s: a real successor waits that long. The test moves the
    // expiry to now instead of sleeping it out; what is checked is what happens once it has run out.
    expect(lease?.expires_in_s).toBeGreaterThan(5);
    await s.db.sql`update stream_state set lease_until = now() where stream_id = ${streamId}`;

    // A block arrives while no worker runs: the chain log keeps it for the next one.
    await s.extend("a", 4, 4, "a3");
    const second = await spawnWorker(s.db.url);
    stopAfterTest(second.kill);
    await s.receiver.waitFor(() => s.receiver.acknowledged("crash").length === 4, 20_000, "all four deliveries");
    await recordedDelivered(s.db.sql, streamId, 4);

    const acked = s.receiver.acknowledged("crash");
    expectGapFreeSeq(acked, streamId);
    expect(acked.map((r) => r.body.block.height)).toEqual([1, 2, 3, 4]);
    expect(acked[1]?.id).toBe(held?.id as string);
    // Exactly one request more than deliveries: the one in flight when the worker died.
    expect(s.receiver.at("crash").map((r) => r.seq)).toEqual([1, 2, 2, 3, 4]);
    expect([...s.receiver.ackCounts("crash").values()]).toEqual([1, 1, 1, 1]);
    const attempts = await s.db.sql<{ seq: string; attempt: number; worker: string }[]>`
      select d.seq, a.attempt, a.worker from delivery_attempts a join deliveries d on d.id = a.delivery_id
      where a.stream_id = ${streamId} order by d.seq`;
    expect(attempts.map((a) => [Number(a.seq), a.attempt])).toEqual([1, 2, 3, 4].map((seq) => [seq, 1]));
    expect(attempts.map((a) => a.worker.includes(`:${second.proc.pid}:`))).toEqual([false, true, true, true]);
  });

  test("two, then three worker processes share the streams: each delivery acknowledged once, every stream in order, a reorg included", async () => {
    const s = await streamScenario();
    const names = ["w0", "w1", "w2", "w3", "w4", "w5"];
    const ids = new Map<string, string>();
    for (const name of names) {
      ids.set(name, await s.stream(name));
      // Answers take a little while, so that several streams are in flight at once across the workers.
      s.receiver.setBehavior(name, async (n) => {
        await Bun.sleep(2 + (n % 5) * 3);
        return ok();
      });
    }
    // Two slots each: six streams cannot all sit with one process.
    const env = { WORKER_CONCURRENCY: "2" };
    const workers = [await spawnWorker(s.db.url, env), await spawnWorker(s.db.url, env)];
    for (const w of workers) stopAfterTest(w.kill);
    await s.extend("a", 1, 8, "g");
    workers.push(await spawnWorker(s.db.url, env));
    stopAfterTest((workers[2] as (typeof workers)[number]).kill);
    await s.extend("a", 9, 12, "a8");
    // Every stream has been sent a12 before the fork (an apply still unsent at a rollback is cancelled
    // instead); then b13 outgrows a12, and a12 and a11 are rolled back, newest first, before b11..b14.
    for (const id of ids.values()) await recordedDelivered(s.db.sql, id, 12);
    await s.extend("b", 11, 14, "a10");

    const expected = [
      ...Array.from({ length: 12 }, (_, i) => `apply a${i + 1}`),
      "rollback a12",
      "rollback a11",
      ...Array.from({ length: 4 }, (_, i) => `apply b${i + 11}`),
    ];
    const label = labeller([...Array.from({ length: 12 }, (_, i) => `a${i + 1}`), "b11", "b12", "b13", "b14"]);
    for (const name of names) {
      const streamId = ids.get(name) as string;
      await recordedDelivered(s.db.sql, streamId, expected.length);
      const acked = s.receiver.acknowledged(name);
      expectGapFreeSeq(acked, streamId);
      expect(told(acked, label)).toEqual(expected);
      // No failure happened, so no request may have been sent twice.
      expect(s.receiver.at(name)).toHaveLength(expected.length);
    }
    const [shared] = await s.db.sql<{ workers: number }[]>`
      select count(distinct worker)::int as workers from delivery_attempts`;
    expect(shared?.workers).toBeGreaterThanOrEqual(2);
  });

  test("SIGTERM: the delivery in flight is finished and recorded, nothing after it is sent, the lease is given back at once", async () => {
    const s = await streamScenario();
    const streamId = await s.stream("drain");
    const answer = s.receiver.holdFirst("drain");
    // Ten deliveries wait when the worker is told to stop during the first.
    await s.extend("a", 1, 10, "g");
    const first = await spawnWorker(s.db.url, { LOG_LEVEL: "info" });
    stopAfterTest(first.kill);
    await s.receiver.waitFor(() => s.receiver.at("drain").length === 1, 20_000, "the first delivery");
    first.proc.kill("SIGTERM");
    await first.logged("shutting down");
    answer();
    expect(await first.proc.exited).toBe(0);

    expect(s.receiver.at("drain")).toHaveLength(1);
    const rows = await s.db.sql`select status, seq from deliveries where stream_id = ${streamId} order by ordinal`;
    expect(rows.map((r) => [r.status, r.seq])).toEqual([
      ["delivered", "1"],
      ...Array.from({ length: 9 }, () => ["pending", null]),
    ]);
    const [lease] = await s.db.sql`select lease_owner, lease_until from stream_state where stream_id = ${streamId}`;
    expect(lease).toEqual({ lease_owner: null, lease_until: null });

    // No lease to wait out: the next worker goes on where the first stopped.
    const second = await spawnWorker(s.db.url);
    stopAfterTest(second.kill);
    await s.receiver.waitFor(() => s.receiver.acknowledged("drain").length === 10, 20_000, "the rest");
    const acked = s.receiver.acknowledged("drain");
    expectGapFreeSeq(acked, streamId);
    expect(acked.map((r) => r.body.block.height)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(s.receiver.at("drain")).toHaveLength(10);
  });

  test("SIGTERM while a receiver never answers: the worker exits before the webhook timeout; the delivery is cancelled, not recorded, and resent later with the same webhook-id and seq", async () => {
    const s = await streamScenario();
    const streamId = await s.stream("stuck");
    s.receiver.setBehavior("stuck", (n, _r, closed) => (n === 0 ? hang(closed) : ok()));
    await s.extend("a", 1, 3, "g");
    // A 15 s webhook timeout is longer than a shutdown may take.
    const first = await spawnWorker(s.db.url, { LOG_LEVEL: "info", WEBHOOK_TIMEOUT_SECONDS: "15" });
    stopAfterTest(first.kill);
    await s.receiver.waitFor(() => s.receiver.at("stuck").length === 1, 20_000, "the delivery that hangs");
    const cancelled = s.receiver.at("stuck")[0];
    first.proc.kill("SIGTERM");
    expect(await first.proc.exited).toBe(0);
    await first.logged("delivery cancelled by shutdown");

    // Waiting out the timeout would have recorded a failed attempt; cancelling records nothing.
    const rows = await s.db.sql`
      select status, seq, attempts, last_error from deliveries where stream_id = ${streamId} order by ordinal`;
    expect(rows.map((r) => [r.status, r.seq, r.attempts, r.last_error])).toEqual([
      ["pending", "1", 0, null],
      ["pending", null, 0, null],
      ["pending", null, 0, null],
    ]);
    const [attempts] = await s.db.sql`select count(*)::int as n from delivery_attempts where stream_id = ${streamId}`;
    expect(attempts?.n).toBe(0);
    const [lease] = await s.db.sql`select lease_owner, lease_until from stream_state where stream_id = ${streamId}`;
    expect(lease).toEqual({ lease_owner: null, lease_until: null });

    const second = await spawnWorker(s.db.url);
    stopAfterTest(second.kill);
    await s.receiver.waitFor(() => s.receiver.acknowledged("stuck").length === 3, 20_000, "all three deliveries");
    await recordedDelivered(s.db.sql, streamId, 3);
    const acked = s.receiver.acknowledged("stuck");
    expectGapFreeSeq(acked, streamId);
    expect(acked[0]?.id).toBe(cancelled?.id as string);
    expect(s.receiver.at("stuck").map((r) => r.seq)).toEqual([1, 1, 2, 3]);
  });

  for (const processes of [2, 3]) {
    test(`${processes} worker processes on one database: every delivery acknowledged once, each stream in order, all delivered`, async () => {
      const s = await streamScenario();
      const names = ["s1", "s2", "s3", "s4", "s5"];
      const ids = new Map<string, string>();
      for (const name of names) {
        ids.set(name, await s.stream(name));
        // Now and then a 500: retries move between slots and processes too.
        s.receiver.setBehavior(name, (n) => (n % 7 === 3 ? status(500) : ok()));
      }
      for (let i = 0; i < processes; i++) {
        const w = await spawnWorker(s.db.url, { WORKER_CONCURRENCY: "2" });
        stopAfterTest(w.kill);
      }
      const blocks = 30;
      await s.extend("a", 1, blocks, "g");
      for (const name of names) {
        await s.receiver.waitFor(() => s.receiver.acknowledged(name).length === blocks, 30_000, `${name}'s deliveries`);
      }
      for (const name of names) {
        const streamId = ids.get(name) as string;
        await recordedDelivered(s.db.sql, streamId, blocks);
        const acked = s.receiver.acknowledged(name);
        expectGapFreeSeq(acked, streamId);
        expect(acked.map((r) => r.body.block.height)).toEqual(Array.from({ length: blocks }, (_, i) => i + 1));
        expect([...s.receiver.ackCounts(name).values()].every((n) => n === 1)).toBe(true);
        // Requests (retries included) never went back in seq: a retry is always of the head of line.
        const seqs = s.receiver.at(name).map((r) => r.seq);
        expect(seqs.every((seq, i) => i === 0 || seq >= (seqs[i - 1] as number))).toBe(true);
      }
      // The log was matched once, by whichever process held the lead.
      const [cursor] = await s.db
        .sql`select last_seq from chain_cursors where consumer = 'streams' and network = 'mainnet'`;
      expect(Number(cursor?.last_seq)).toBe(await chainLogHead(s.db.sql, "mainnet"));
      const [counts] = await s.db.sql`
        select count(*)::int as deliveries, count(distinct (stream_id, index_block_hash))::int as distinct_blocks
        from deliveries`;
      expect(counts).toEqual({ deliveries: names.length * blocks, distinct_blocks: names.length * blocks });
    });
  }
});
