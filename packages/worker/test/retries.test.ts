import { afterEach, describe, expect, test } from "bun:test";
import type { Sql } from "@second-layer/shared/db/connect";
import { redeliverParked } from "@second-layer/shared/streams/store";
import {
  expectGapFreeSeq,
  recordedDelivered,
  stopScenarioWorkers,
  streamScenario,
} from "../../../test/support/stream-scenario.ts";
import { hang, ok, status } from "../../../test/support/webhook-receiver.ts";

// A receiver that fails, hangs or asks for patience: every delivery still arrives, in order, with the
// same webhook-id and seq on each of its attempts, and every attempt is on record.

afterEach(stopScenarioWorkers);

interface AttemptRow {
  seq: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  started_at: Date;
}

async function attemptsOf(sql: Sql, streamId: string): Promise<AttemptRow[]> {
  return await sql<AttemptRow[]>`
    select d.seq, a.attempt, a.status_code, a.error, a.started_at from delivery_attempts a
    join deliveries d on d.id = a.delivery_id
    where a.stream_id = ${streamId} order by a.id`;
}

describe("retries", () => {
  test("receiver answers 500 for a while, then recovers: all delivered in order, webhook-id reused, attempts recorded", async () => {
    const s = await streamScenario();
    await s.startWorker();
    const streamId = await s.stream("flaky");
    // The retry schedule of the test worker has five waits: the head is far from being parked.
    const failures = 3;
    s.receiver.setBehavior("flaky", (n) => (n < failures ? status(500) : ok()));
    await s.extend("a", 1, 5, "g");
    await s.receiver.waitFor(() => s.receiver.acknowledged("flaky").length === 5, 20_000, "five deliveries");
    await recordedDelivered(s.db.sql, streamId, 5);

    const acked = s.receiver.acknowledged("flaky");
    expectGapFreeSeq(acked, streamId);
    expect(acked.map((r) => r.body.block.height)).toEqual([1, 2, 3, 4, 5]);
    // The head of line was retried with its id and seq until it went through; nothing overtook it.
    const all = s.receiver.at("flaky");
    expect(all).toHaveLength(5 + failures);
    const head = acked[0];
    expect(all.slice(0, failures + 1).map((r) => `${r.id} ${r.seq}`)).toEqual(
      Array(failures + 1).fill(`${head?.id} 1`),
    );
    expect(all.slice(failures + 1).map((r) => r.seq)).toEqual([2, 3, 4, 5]);

    const attempts = await attemptsOf(s.db.sql, streamId);
    expect(attempts.map((a) => [Number(a.seq), a.attempt, a.status_code])).toEqual([
      ...Array.from({ length: failures }, (_, i) => [1, i + 1, 500]),
      [1, failures + 1, 200],
      ...[2, 3, 4, 5].map((seq) => [seq, 1, 200]),
    ]);
    expect(attempts.slice(0, failures).every((a) => a.error === "HTTP 500")).toBe(true);
    const rows = await s.db.sql`
      select seq, status, attempts, last_status from deliveries where stream_id = ${streamId} order by ordinal`;
    expect(rows.map((r) => [Number(r.seq), r.status, r.attempts, r.last_status])).toEqual([
      [1, "delivered", failures + 1, 200],
      ...[2, 3, 4, 5].map((seq) => [seq, "delivered", 1, 200]),
    ]);
    const [state] = await s.db.sql`
      select consecutive_failures, failed_attempts, delivered_count, last_delivered_seq from stream_state
      where stream_id = ${streamId}`;
    expect(state).toEqual({
      consecutive_failures: 0,
      failed_attempts: String(failures),
      delivered_count: "5",
      last_delivered_seq: "5",
    });
  });

  test("receiver hangs: the attempt times out and is retried; once it answers, everything arrives in order", async () => {
    const s = await streamScenario();
    await s.startWorker({ WEBHOOK_TIMEOUT_SECONDS: "1" });
    const streamId = await s.stream("hangs");
    const hangs = 2;
    s.receiver.setBehavior("hangs", (n, _r, closed) => (n < hangs ? hang(closed) : ok()));
    await s.extend("a", 1, 3, "g");
    await s.receiver.waitFor(() => s.receiver.acknowledged("hangs").length === 3, 20_000, "three deliveries");
    await recordedDelivered(s.db.sql, streamId, 3);

    const acked = s.receiver.acknowledged("hangs");
    expectGapFreeSeq(acked, streamId);
    expect(acked.map((r) => r.body.block.height)).toEqual([1, 2, 3]);
    const all = s.receiver.at("hangs");
    // The two requests left hanging were the head's, and the worker gave up on each (it hung up).
    expect(all.slice(0, hangs + 1).map((r) => r.id)).toEqual(Array(hangs + 1).fill(acked[0]?.id));
    expect(all.slice(0, hangs).every((r) => !r.acked)).toBe(true);
    const attempts = await attemptsOf(s.db.sql, streamId);
    expect(attempts.slice(0, hangs + 1).map((a) => [Number(a.seq), a.attempt, a.status_code])).toEqual([
      [1, 1, null],
      [1, 2, null],
      [1, 3, 200],
    ]);
    for (const a of attempts.slice(0, hangs)) expect(a.error).toBe("timed out after 1000 ms");
  });

  test("Retry-After is honoured: a 429 asking for 1 s is not retried sooner, though the schedule says 100 ms", async () => {
    const s = await streamScenario();
    await s.startWorker();
    const streamId = await s.stream("busy");
    s.receiver.setBehavior("busy", (n) => (n === 0 ? status(429, { "retry-after": "1" }) : ok()));
    await s.extend("a", 1, 2, "g");
    await s.receiver.waitFor(() => s.receiver.acknowledged("busy").length === 2, 20_000, "two deliveries");
    await recordedDelivered(s.db.sql, streamId, 2);

    expectGapFreeSeq(s.receiver.acknowledged("busy"), streamId);
    const [first, second] = s.receiver.at("busy");
    expect(second?.id).toBe(first?.id as string);
    // Lower bounds only (slack for clock rounding); how much later it came is the machine's business.
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(900);
    const attempts = await attemptsOf(s.db.sql, streamId);
    expect(attempts.slice(0, 2).map((a) => a.status_code)).toEqual([429, 200]);
    const gap = (attempts[1]?.started_at.getTime() ?? 0) - (attempts[0]?.started_at.getTime() ?? 0);
    expect(gap).toBeGreaterThanOrEqual(900);
  });

  test("parking: a delivery that exhausts its retries is parked and the next goes on; redeliverParked sends it again, same id and seq", async () => {
    const s = await streamScenario();
    // Three attempts (two retries), then parked.
    await s.startWorker({ WEBHOOK_RETRY_SCHEDULE: "50ms,50ms" });
    const streamId = await s.stream("parks");
    let healed = false;
    s.receiver.setBehavior("parks", (_n, r) => (r.body.block.height === 1 && !healed ? status(503) : ok()));
    await s.extend("a", 1, 3, "g");
    await s.receiver.waitFor(
      () => s.receiver.acknowledged("parks").length === 2,
      20_000,
      "the two after the parked one",
    );
    await recordedDelivered(s.db.sql, streamId, 2);

    const parked = s.receiver.at("parks").filter((r) => r.body.block.height === 1);
    expect(parked).toHaveLength(3);
    expect(new Set(parked.map((r) => `${r.id} ${r.seq}`))).toEqual(new Set([`${parked[0]?.id} 1`]));
    expect(s.receiver.acknowledged("parks").map((r) => [r.seq, r.body.block.height])).toEqual([
      [2, 2],
      [3, 3],
    ]);
    const [row] = await s.db
      .sql`select status, attempts, seq, last_error from deliveries where id = ${parked[0]?.id as string}`;
    expect(row).toEqual({ status: "failed", attempts: 3, seq: "1", last_error: "HTTP 503" });
    const [stream] = await s.db.sql`select status from streams where id = ${streamId}`;
    expect(stream?.status).toBe("active");

    healed = true;
    expect(await redeliverParked(s.db.sql, null, streamId)).toBe(1);
    await s.receiver.waitFor(() => s.receiver.acknowledged("parks").length === 3, 20_000, "the parked delivery");
    await recordedDelivered(s.db.sql, streamId, 3);
    const again = s.receiver.acknowledged("parks")[2];
    expect([again?.id, again?.seq, again?.body.seq, again?.body.block.height]).toEqual([parked[0]?.id, 1, 1, 1]);
    expect(again?.signatureValid).toBe(true);
    const [after] = await s.db.sql`select status, attempts from deliveries where id = ${parked[0]?.id as string}`;
    expect(after).toEqual({ status: "delivered", attempts: 4 });
    expect(await redeliverParked(s.db.sql, null, streamId)).toBe(0);
  });
});
