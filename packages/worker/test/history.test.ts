import { afterEach, describe, expect, test } from "bun:test";
import { chainLogHead } from "@second-layer/shared/chain-log";
import { createLogger } from "@second-layer/shared/logger";
import { DELIVERIES_CHANNEL } from "@second-layer/shared/streams/delivery-body";
import { changeStreamStatus, requestReplay } from "@second-layer/shared/streams/store";
import { catchUpStep } from "@second-layer/worker/match/catch-up";
import { MATCHER_LOCK_KEYS } from "@second-layer/worker/match/chain-matcher";
import { StreamRegistry } from "@second-layer/worker/match/stream-registry";
import {
  eventually,
  expectGapFreeSeq,
  labeller,
  recordedDelivered,
  type Scenario,
  stopScenarioWorkers,
  streamScenario,
  told,
} from "../../../test/support/stream-scenario.ts";
import type { Received } from "../../../test/support/webhook-receiver.ts";

// Streams that start in the past: stored canonical blocks first (isBackfill), then the live log,
// without gap or repeat, also when the chain reorganises under the catch-up; endBlock ends a stream;
// a replay re-sends a stored range after what is queued.

afterEach(stopScenarioWorkers);

/** The blocks a receiver holds once rollbacks are netted out, by height; a height told twice fails. */
function netChain(received: Received[]): Map<number, string> {
  const net = new Map<number, string>();
  for (const r of received) {
    const { height, indexBlockHash } = r.body.block;
    if (r.body.type === "block.apply") {
      expect(net.has(height)).toBe(false);
      net.set(height, indexBlockHash);
    } else {
      expect(net.get(height)).toBe(indexBlockHash);
      net.delete(height);
    }
  }
  return net;
}

async function canonicalFrom(s: Scenario, height: number): Promise<Map<number, string>> {
  const rows = await s.db.sql<{ block_height: number; index_block_hash: string }[]>`
    select block_height, index_block_hash from blocks
    where network = 'mainnet' and canonical and block_height >= ${height} order by block_height`;
  return new Map(rows.map((r) => [r.block_height, r.index_block_hash]));
}

describe("historical range", () => {
  test("catch-up from startBlock, a reorg under it, then live: every canonical height exactly once, in order", async () => {
    const s = await streamScenario();
    await s.extend("a", 1, 8, "g");
    // The test leads the matching for a while, as another worker's matcher would: it holds the
    // network's lock and runs the first catch-up step itself. The worker's matcher stands by.
    const lock = await s.db.sql.reserve();
    await lock`select pg_advisory_lock(${MATCHER_LOCK_KEYS.mainnet})`;
    await s.startWorker();
    const streamId = await s.stream("history", { startBlock: 2 });
    const registry = new StreamRegistry("mainnet", createLogger("test", "silent"));
    await registry.refresh(s.db.sql);
    const stream = registry.catchingUp().find((x) => x.id === streamId);
    if (!stream) throw new Error("the stream is not catching up");
    const first = await catchUpStep(s.db, "mainnet", stream, await chainLogHead(s.db.sql, "mainnet"), 3);
    expect(first).toEqual({ status: "progress", deliveries: 3 });
    await s.db.sql`select pg_notify(${DELIVERIES_CHANNEL}, 'mainnet')`;
    await s.receiver.waitFor(() => s.receiver.acknowledged("history").length === 3, 20_000, "the first catch-up step");

    // A reorg from height 4: a4, which the stream was just sent, leaves the chain with a5..a8.
    await s.extend("b", 4, 9, "a3");
    await lock`select pg_advisory_unlock(${MATCHER_LOCK_KEYS.mainnet})`;
    lock.release();
    // The worker's matcher takes over the catch-up where the test left it, and the stream goes live.
    await eventually("the stream live", async () => {
      const [row] = await s.db.sql`select live_from_seq from stream_state where stream_id = ${streamId}`;
      return row?.live_from_seq !== null;
    });
    await s.extend("b", 10, 11, "b9");
    await s.receiver.waitFor(() => s.receiver.acknowledged("history").length === 12, 20_000, "every delivery");
    await recordedDelivered(s.db.sql, streamId, 12);

    const acked = s.receiver.acknowledged("history");
    expectGapFreeSeq(acked, streamId);
    const label = labeller(
      [..."12345678"]
        .map((h) => `a${h}`)
        .concat(
          [..."456789"].map((h) => `b${h}`),
          "b10",
          "b11",
        ),
    );
    expect(told(acked, label)).toEqual([
      "apply a2",
      "apply a3",
      "apply a4",
      "rollback a4",
      ...[4, 5, 6, 7, 8, 9, 10, 11].map((h) => `apply b${h}`),
    ]);
    // Stored blocks are backfill; live ones and the rollback are not.
    expect(acked.map((r) => r.body.isBackfill)).toEqual([
      ...[true, true, true, false],
      ...[true, true, true, true, true, true],
      ...[false, false],
    ]);
    expect(netChain(acked)).toEqual(await canonicalFrom(s, 2));
    expect(s.receiver.at("history")).toHaveLength(12);
  });

  test("endBlock ends a stream, in the catch-up and live alike: nothing above it", async () => {
    const s = await streamScenario();
    await s.startWorker();
    await s.extend("a", 1, 3, "g");
    const live = await s.stream("ends-live", { startBlock: 2, endBlock: 5 });
    const stored = await s.stream("ends-stored", { startBlock: 1, endBlock: 2 });
    await s.stream("witness");
    // Blocks stored before a stream's catch-up reaches the tip are fed to it as backfill; wait for
    // both to be live so that what comes next is live.
    await eventually("both streams live", async () => {
      const rows = await s.db.sql`
        select 1 from stream_state where stream_id in (${live}, ${stored}) and live_from_seq is not null`;
      return rows.length === 2;
    });
    await s.extend("a", 4, 7, "a3");
    await s.receiver.waitFor(
      () => s.receiver.acknowledged("witness").some((r) => r.body.block.height === 7),
      20_000,
      "the witness stream's block 7",
    );
    await recordedDelivered(s.db.sql, live, 4);
    await recordedDelivered(s.db.sql, stored, 2);

    const heights = async (id: string) =>
      (await s.db.sql`select block_height from deliveries where stream_id = ${id} order by ordinal`).map(
        (r) => r.block_height,
      );
    expect(await heights(live)).toEqual([2, 3, 4, 5]);
    expect(await heights(stored)).toEqual([1, 2]);
    const acked = s.receiver.acknowledged("ends-live");
    expectGapFreeSeq(acked, live);
    expect(acked.map((r) => [r.body.block.height, r.body.isBackfill])).toEqual([
      [2, true],
      [3, true],
      [4, false],
      [5, false],
    ]);
    expect(s.receiver.acknowledged("ends-stored").map((r) => [r.body.block.height, r.body.isBackfill])).toEqual([
      [1, true],
      [2, true],
    ]);
    // The witness, created at height 3 without a startBlock, is live from then on only.
    expect(s.receiver.acknowledged("witness").map((r) => r.body.block.height)).toEqual([4, 5, 6, 7]);
  });

  test("replay re-sends a stored range as backfill, after what is already queued", async () => {
    const s = await streamScenario();
    await s.startWorker();
    const streamId = await s.stream("replay");
    await s.extend("a", 1, 3, "g");
    await s.receiver.waitFor(() => s.receiver.acknowledged("replay").length === 3, 20_000, "the live deliveries");
    // Two deliveries wait while the stream is paused; the replay is queued behind them.
    await changeStreamStatus(s.db.sql, null, streamId, "pause");
    await s.extend("a", 4, 5, "a3");
    await eventually("the paused stream's deliveries", async () => {
      const [row] = await s.db.sql`select count(*)::int as n from deliveries where stream_id = ${streamId}`;
      return row?.n === 5;
    });
    expect(await requestReplay(s.db.sql, null, streamId, { fromBlock: 1, toBlock: 2 })).toBe(true);
    await eventually("the replay's deliveries (graphile-worker job)", async () => {
      const [row] = await s.db.sql`select count(*)::int as n from deliveries where stream_id = ${streamId}`;
      return row?.n === 7;
    });
    await changeStreamStatus(s.db.sql, null, streamId, "resume");
    await s.receiver.waitFor(() => s.receiver.acknowledged("replay").length === 7, 20_000, "everything");

    const acked = s.receiver.acknowledged("replay");
    expectGapFreeSeq(acked, streamId);
    expect(acked.map((r) => [r.body.block.height, r.body.isBackfill])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, false],
      [5, false],
      [1, true],
      [2, true],
    ]);
    // A replay is a new delivery (its own webhook-id), with the same block and matches.
    expect(acked[5]?.id).not.toBe(acked[0]?.id as string);
    expect(acked[5]?.body.block).toEqual(acked[0]?.body.block);
    expect(acked[5]?.body.matches).toEqual(acked[0]?.body.matches);
  });
});
