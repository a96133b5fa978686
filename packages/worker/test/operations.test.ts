import { afterEach, describe, expect, test } from "bun:test";
import { chainLogHead } from "@second-layer/shared/chain-log";
import { changeStreamStatus } from "@second-layer/shared/streams/store";
import { pruneDeliveries } from "@second-layer/worker/maintenance/prune";
import { getJson } from "../../../test/support/indexer.ts";
import { sample } from "../../../test/support/prometheus.ts";
import {
  eventually,
  expectGapFreeSeq,
  recordedDelivered,
  stopScenarioWorkers,
  streamScenario,
} from "../../../test/support/stream-scenario.ts";
import { ok, status } from "../../../test/support/webhook-receiver.ts";

// What operators rely on: old deliveries are pruned without touching what is still owed, and the
// worker reports itself on /health and /metrics.

afterEach(stopScenarioWorkers);

describe("retention", () => {
  test("pruning removes old delivered and cancelled deliveries with their attempts, keeps pending and parked ones", async () => {
    const s = await streamScenario();
    // Two attempts, then parked.
    await s.startWorker({ WEBHOOK_RETRY_SCHEDULE: "50ms" });
    const streamId = await s.stream("kept");
    s.receiver.setBehavior("kept", (_n, r) => (r.body.block.height === 4 ? status(500) : ok()));
    await s.extend("a", 1, 4, "g");
    await recordedDelivered(s.db.sql, streamId, 3);
    await eventually("block 4 parked", async () => {
      const [row] = await s.db.sql`select status from deliveries where stream_id = ${streamId} and block_height = 4`;
      return row?.status === "failed";
    });
    // Paused: a5 waits; a6 is orphaned before it was sent (cancelled); b6 and b7 wait.
    await changeStreamStatus(s.db.sql, null, streamId, "pause");
    await s.extend("a", 5, 6, "a4");
    await s.extend("b", 6, 7, "a5");
    const byStatus = async () =>
      (
        await s.db.sql<{ label: string }[]>`
          select status || ' ' || block_height as label from deliveries where stream_id = ${streamId} order by ordinal`
      ).map((r) => r.label);
    const before = [
      "delivered 1",
      "delivered 2",
      "delivered 3",
      "failed 4",
      "pending 5",
      "cancelled 6",
      "pending 6",
      "pending 7",
    ];
    await eventually("the reorg matched", async () => JSON.stringify(await byStatus()) === JSON.stringify(before));

    // Everything is old except delivered block 3.
    await s.db.sql`update deliveries set created_at = now() - interval '40 days' where block_height <> 3`;
    const attemptsBefore = await s.db.sql`select delivery_id from delivery_attempts where stream_id = ${streamId}`;
    expect(attemptsBefore).toHaveLength(3 + 2);
    // In slices of two, so the loop over slices runs too.
    expect(await pruneDeliveries(s.db.sql, 30, 2)).toBe(3);
    expect(await byStatus()).toEqual(["delivered 3", "failed 4", "pending 5", "pending 6", "pending 7"]);
    const [attempts] = await s.db.sql`
      select count(*)::int as n, count(*) filter (where d.id is null)::int as orphaned
      from delivery_attempts a left join deliveries d on d.id = a.delivery_id where a.stream_id = ${streamId}`;
    expect(attempts).toEqual({ n: 1 + 2, orphaned: 0 });
    expect(await pruneDeliveries(s.db.sql, 30, 2)).toBe(0);

    // What was kept is still owed, and goes out in order after the parked one's seq.
    await changeStreamStatus(s.db.sql, null, streamId, "resume");
    await s.receiver.waitFor(() => s.receiver.acknowledged("kept").length === 6, 20_000, "the kept deliveries");
    const acked = s.receiver.acknowledged("kept");
    expect(acked.map((r) => [r.seq, r.body.block.height])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [5, 5],
      [6, 6],
      [7, 7],
    ]);
  });
});

describe("worker /health and /metrics", () => {
  test("health says what the worker does; metrics carry attempt counters and per-stream gauges with the right values", async () => {
    const s = await streamScenario();
    const worker = await s.startWorker();
    const base = `http://127.0.0.1:${worker.port}`;
    const sending = await s.stream("sending");
    const waiting = await s.stream("waiting");
    s.receiver.setBehavior("sending", (n) => (n === 0 ? status(500) : ok()));
    await changeStreamStatus(s.db.sql, null, waiting, "pause");
    await s.extend("a", 1, 3, "g");
    await recordedDelivered(s.db.sql, sending, 3);
    expectGapFreeSeq(s.receiver.acknowledged("sending"), sending);
    const head = await chainLogHead(s.db.sql, "mainnet");

    const health = await eventually("the matcher at the log head", async () => {
      const h = await getJson(`${base}/health`);
      return h.matchers?.[0]?.cursor === head && h;
    });
    expect(health).toMatchObject({
      status: "ok",
      workerId: worker.workerId,
      matchers: [{ network: "mainnet", leading: true, cursor: head }],
      senders: { busy: expect.any(Number) },
      uptimeSeconds: expect.any(Number),
    });

    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    const net = { network: "mainnet" };
    expect(sample(text, "second_layer_webhook_attempts_total", { ...net, outcome: "success" })).toBe(3);
    expect(sample(text, "second_layer_webhook_attempts_total", { ...net, outcome: "failure" })).toBe(1);
    expect(sample(text, "second_layer_webhook_attempt_duration_seconds_count", net)).toBe(4);
    expect(sample(text, "second_layer_deliveries_delivered_total", { kind: "apply" })).toBe(3);
    expect(sample(text, "second_layer_deliveries_created_total", net)).toBe(6);
    expect(sample(text, "second_layer_stream_matcher_cursor", net)).toBe(head);
    const of = (id: string) => ({ stream_id: id, network: "mainnet" });
    const gauges = (id: string) =>
      ["pending_deliveries", "parked_deliveries", "delivered", "last_delivered_seq", "active", "lag_blocks"].map((g) =>
        sample(text, `second_layer_stream_${g}`, of(id)),
      );
    // pending, parked, delivered, last seq, active, lag (tip 3 minus the oldest waiting block, 1)
    expect(gauges(sending)).toEqual([0, 0, 3, 3, 1, 0]);
    expect(gauges(waiting)).toEqual([3, 0, 0, 0, 0, 2]);

    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });
});
