import { afterEach, describe, expect, test } from "bun:test";
import { changeStreamStatus } from "@second-layer/shared/streams/store";
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

// `confirmations: N`: a stream's applies wait until the burn chain is N blocks past the block's burn
// block, so a block orphaned before that is never sent, and the stream never sees a rollback.

afterEach(stopScenarioWorkers);

const BURN = 100;

/** Makes the sender look at the stream now and waits until it has (it gives the lease back with a due time). */
async function senderLooked(s: Scenario, streamId: string): Promise<void> {
  // Resuming makes a stream due at once: the quickest honest way to have the sender check the hold.
  await changeStreamStatus(s.db.sql, null, streamId, "pause");
  await changeStreamStatus(s.db.sql, null, streamId, "resume");
  await eventually("the sender to look at the held delivery", async () => {
    const [row] = await s.db.sql`
      select due_at > now() and lease_owner is null as held from stream_state where stream_id = ${streamId}`;
    return row?.held;
  });
}

async function deliveriesOf(s: Scenario, streamId: string) {
  return await s.db.sql<{ block_height: number; status: string; seq: string | null; hold: number }[]>`
    select block_height, status, seq, hold_until_burn_height as hold from deliveries
    where stream_id = ${streamId} order by ordinal`;
}

describe("confirmations", () => {
  test("applies wait for N burn blocks; a block orphaned before then is never sent and spends no seq", async () => {
    const s = await streamScenario();
    await s.startWorker();
    const final = await s.stream("final", { confirmations: 2 });
    await s.stream("fast");
    // Every Stacks block here is anchored in burn block 100; only /new_burn_block moves the burn chain.
    const anchored = () => ({ burn_block_height: BURN });
    await s.burnBlock(BURN);
    await s.extend("a", 1, 2, "g", anchored);
    await s.receiver.waitFor(() => s.receiver.acknowledged("fast").length === 2, 20_000, "the unconfirmed stream");

    await s.burnBlock(BURN + 1);
    await senderLooked(s, final);
    expect((await deliveriesOf(s, final)).map((d) => [d.block_height, d.status, d.seq, d.hold])).toEqual([
      [1, "pending", null, BURN + 2],
      [2, "pending", null, BURN + 2],
    ]);
    expect(s.receiver.at("final")).toHaveLength(0);

    // a2 is orphaned while still unconfirmed: cancelled, never sent. The other stream is told.
    await s.extend("b", 2, 3, "a1", anchored);
    await s.receiver.waitFor(
      () => s.receiver.acknowledged("fast").length === 5,
      20_000,
      "the reorg on the other stream",
    );
    const label = labeller(["a1", "a2", "b2", "b3"]);
    expect(told(s.receiver.acknowledged("fast"), label)).toEqual([
      "apply a1",
      "apply a2",
      "rollback a2",
      "apply b2",
      "apply b3",
    ]);
    expect((await deliveriesOf(s, final)).map((d) => [d.block_height, d.status, d.seq])).toEqual([
      [1, "pending", null],
      [2, "cancelled", null],
      [2, "pending", null],
      [3, "pending", null],
    ]);

    // Two burn blocks past block 1's: out they go (the sender looks again on its own, within seconds).
    await s.burnBlock(BURN + 2);
    await s.receiver.waitFor(() => s.receiver.acknowledged("final").length === 3, 20_000, "the confirmed deliveries");
    await recordedDelivered(s.db.sql, final, 3);
    const acked = s.receiver.acknowledged("final");
    expectGapFreeSeq(acked, final);
    expect(told(acked, label)).toEqual(["apply a1", "apply b2", "apply b3"]);
    expect(s.receiver.at("final")).toHaveLength(3);
  });
});
