import { afterEach, describe, expect, test } from "bun:test";
import { changeStreamStatus, getStream } from "@second-layer/shared/streams/store";
import { sample } from "../../../test/support/prometheus.ts";
import {
  eventually,
  expectGapFreeSeq,
  recordedDelivered,
  type Scenario,
  stopScenarioWorkers,
  streamScenario,
} from "../../../test/support/stream-scenario.ts";
import { ok, status } from "../../../test/support/webhook-receiver.ts";

// What a stream's status does to matching and sending: a 410 disables it, the circuit breaker fails
// it, its owner pauses it; what it was owed waits and goes out in order when it is active again.

afterEach(stopScenarioWorkers);

/** A second stream on every block: once it has block `height`, the matcher has handled the log to there. */
async function witness(s: Scenario): Promise<(height: number) => Promise<void>> {
  await s.stream("witness");
  return async (height) =>
    await s.receiver.waitFor(
      () => s.receiver.acknowledged("witness").some((r) => r.body.block.height === height),
      20_000,
      `the witness stream's block ${height}`,
    );
}

async function deliveriesOf(s: Scenario, streamId: string) {
  return await s.db.sql<{ block_height: number; status: string; seq: string | null }[]>`
    select block_height, status, seq from deliveries where stream_id = ${streamId} order by ordinal`;
}

describe("stream status", () => {
  test("410 Gone disables the stream: nothing more is matched or sent; enabled, it is matched again for new blocks", async () => {
    const s = await streamScenario();
    await s.startWorker();
    const streamId = await s.stream("gone");
    const seen = await witness(s);
    let gone = true;
    s.receiver.setBehavior("gone", (_n, r) => (gone && r.body.block.height === 2 ? status(410) : ok()));
    await s.extend("a", 1, 2, "g");
    await eventually(
      "the stream disabled",
      async () => (await getStream(s.db.sql, null, streamId))?.status === "disabled",
    );
    expect((await getStream(s.db.sql, null, streamId))?.statusReason).toBe("the receiver answered 410 Gone");

    await s.extend("a", 3, 4, "a2");
    await seen(4);
    // Blocks 3 and 4 were not matched for the disabled stream; block 2 is still owed.
    expect((await deliveriesOf(s, streamId)).map((d) => [d.block_height, d.status, d.seq])).toEqual([
      [1, "delivered", "1"],
      [2, "pending", "2"],
    ]);
    expect(s.receiver.at("gone").map((r) => [r.seq, r.body.block.height])).toEqual([
      [1, 1],
      [2, 2],
    ]);

    gone = false;
    await changeStreamStatus(s.db.sql, null, streamId, "enable");
    await s.extend("a", 5, 5, "a4");
    await s.receiver.waitFor(() => s.receiver.acknowledged("gone").length === 3, 20_000, "deliveries after enabling");
    const acked = s.receiver.acknowledged("gone");
    expectGapFreeSeq(acked, streamId);
    expect(acked.map((r) => r.body.block.height)).toEqual([1, 2, 5]);
    // The owed delivery went again as itself; nothing else was sent twice.
    const all = s.receiver.at("gone");
    expect(all.map((r) => r.id)).toEqual([0, 1, 1, 2].map((i) => acked[i]?.id ?? "missing"));
  });

  test("circuit breaker: N consecutive failed attempts fail the stream, its deliveries wait; resumed, all go out in order at once", async () => {
    const s = await streamScenario();
    // The attempt that opens the breaker schedules its retry an hour out: resuming must not wait for it.
    await s.startWorker({ STREAM_FAILURE_THRESHOLD: "3", WEBHOOK_RETRY_SCHEDULE: "50ms,50ms,1h,1h" });
    const streamId = await s.stream("breaker");
    const seen = await witness(s);
    let down = true;
    s.receiver.setBehavior("breaker", () => (down ? status(500) : ok()));
    await s.extend("a", 1, 3, "g");
    await eventually("the stream failed", async () => (await getStream(s.db.sql, null, streamId))?.status === "failed");
    const failed = await getStream(s.db.sql, null, streamId);
    expect(failed?.statusReason).toBe("3 consecutive failed attempts; last: HTTP 500");
    // A failed stream is still matched: what arrives meanwhile is kept for it.
    await s.extend("a", 4, 4, "a3");
    await seen(4);
    expect((await deliveriesOf(s, streamId)).map((d) => [d.block_height, d.status])).toEqual(
      [1, 2, 3, 4].map((h) => [h, "pending"]),
    );
    expect(s.receiver.at("breaker").map((r) => r.seq)).toEqual([1, 1, 1]);

    down = false;
    await changeStreamStatus(s.db.sql, null, streamId, "resume");
    await s.receiver.waitFor(() => s.receiver.acknowledged("breaker").length === 4, 20_000, "the held deliveries");
    const acked = s.receiver.acknowledged("breaker");
    expectGapFreeSeq(acked, streamId);
    expect(acked.map((r) => r.body.block.height)).toEqual([1, 2, 3, 4]);
    expect(s.receiver.at("breaker")).toHaveLength(3 + 4);
    await recordedDelivered(s.db.sql, streamId, 4);
    const [state] = await s.db.sql`select consecutive_failures from stream_state where stream_id = ${streamId}`;
    expect(state?.consecutive_failures).toBe(0);
  });

  test("the attempt that parks a delivery can also open the breaker: parked and counted, stream failed; resumed, the next goes on", async () => {
    const s = await streamScenario();
    // Two attempts per delivery, and two consecutive failures open the breaker: the same attempt does both.
    const worker = await s.startWorker({ STREAM_FAILURE_THRESHOLD: "2", WEBHOOK_RETRY_SCHEDULE: "50ms" });
    const streamId = await s.stream("both");
    s.receiver.setBehavior("both", (_n, r) => (r.body.block.height === 1 ? status(500) : ok()));
    await s.extend("a", 1, 2, "g");
    await eventually("the stream failed", async () => (await getStream(s.db.sql, null, streamId))?.status === "failed");
    expect((await deliveriesOf(s, streamId)).map((d) => [d.block_height, d.status, d.seq])).toEqual([
      [1, "failed", "1"],
      [2, "pending", null],
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
    expect(sample(metrics, "second_layer_deliveries_parked_total")).toBe(1);
    expect(sample(metrics, "second_layer_stream_parked_deliveries", { stream_id: streamId, network: "mainnet" })).toBe(
      1,
    );

    await changeStreamStatus(s.db.sql, null, streamId, "resume");
    await recordedDelivered(s.db.sql, streamId, 1);
    expect(s.receiver.acknowledged("both").map((r) => [r.seq, r.body.block.height])).toEqual([[2, 2]]);
  });

  test("a paused stream accumulates deliveries and catches up in order on resume", async () => {
    const s = await streamScenario();
    await s.startWorker();
    const streamId = await s.stream("paused");
    const seen = await witness(s);
    await s.extend("a", 1, 1, "g");
    await s.receiver.waitFor(() => s.receiver.acknowledged("paused").length === 1, 20_000, "the first delivery");

    const paused = await changeStreamStatus(s.db.sql, null, streamId, "pause");
    expect([paused?.status, paused?.statusReason]).toEqual(["paused", "paused by its owner"]);
    await s.extend("a", 2, 4, "a1");
    await seen(4);
    expect((await deliveriesOf(s, streamId)).map((d) => [d.block_height, d.status, d.seq])).toEqual([
      [1, "delivered", "1"],
      [2, "pending", null],
      [3, "pending", null],
      [4, "pending", null],
    ]);
    expect(s.receiver.at("paused")).toHaveLength(1);

    await changeStreamStatus(s.db.sql, null, streamId, "resume");
    await s.receiver.waitFor(
      () => s.receiver.acknowledged("paused").length === 4,
      20_000,
      "the accumulated deliveries",
    );
    const acked = s.receiver.acknowledged("paused");
    expectGapFreeSeq(acked, streamId);
    expect(acked.map((r) => [r.body.block.height, r.body.isBackfill])).toEqual([1, 2, 3, 4].map((h) => [h, false]));
    expect(s.receiver.at("paused")).toHaveLength(4);
  });

  test("paused while a delivery is in flight: that one is recorded, the next ones get no seq until they go out", async () => {
    const s = await streamScenario();
    await s.startWorker();
    const streamId = await s.stream("paused");
    const seen = await witness(s);
    // Block 1's POST is answered only after the stream is paused and blocks 2-4 are matched, so its
    // success is recorded with the next heads already waiting behind it.
    const answer = s.receiver.holdFirst("paused");
    await s.extend("a", 1, 1, "g");
    await s.receiver.waitFor(() => s.receiver.at("paused").length === 1, 20_000, "the first POST");
    await changeStreamStatus(s.db.sql, null, streamId, "pause");
    await s.extend("a", 2, 4, "a1");
    await seen(4);
    answer();
    await recordedDelivered(s.db.sql, streamId, 1);
    expect((await deliveriesOf(s, streamId)).map((d) => [d.block_height, d.status, d.seq])).toEqual([
      [1, "delivered", "1"],
      [2, "pending", null],
      [3, "pending", null],
      [4, "pending", null],
    ]);
    expect(s.receiver.at("paused")).toHaveLength(1);

    await changeStreamStatus(s.db.sql, null, streamId, "resume");
    await s.receiver.waitFor(() => s.receiver.acknowledged("paused").length === 4, 20_000, "the rest");
    const acked = s.receiver.acknowledged("paused");
    expectGapFreeSeq(acked, streamId);
    expect(acked.map((r) => r.body.block.height)).toEqual([1, 2, 3, 4]);
    expect(s.receiver.at("paused")).toHaveLength(4);
  });
});
