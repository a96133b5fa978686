import { describe, expect, test } from "bun:test";
import { mergeLog } from "@second-layer/api/live/delivery-log";

// mergeLog on hand-made rows: the cases a live database rarely shows (a batch that ends between a
// delivery and its attempts, clocks that put an attempt before its delivery).

const at = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms);

function delivery(ordinal: number, ms: number) {
  return {
    id: `d${ordinal}`,
    ordinal: String(ordinal),
    kind: "apply" as const,
    block_height: ordinal,
    index_block_hash: `0x${ordinal}`,
    is_backfill: false,
    hold_until_burn_height: null,
    created_at: at(ms),
  };
}

function attempt(id: number, ordinal: number, ms: number) {
  return {
    id: String(id),
    delivery_id: `d${ordinal}`,
    ordinal: String(ordinal),
    seq: String(ordinal),
    kind: "apply" as const,
    block_height: ordinal,
    index_block_hash: `0x${ordinal}`,
    attempt: 1,
    started_at: at(ms),
    duration_ms: 5,
    status_code: 200,
    error: null,
  };
}

const shape = (page: ReturnType<typeof mergeLog>) => page.events.map((e) => `${e.event}:${e.id}`);

describe("mergeLog", () => {
  test("by time, each event's id carrying both cursors", () => {
    const page = mergeLog(
      [delivery(3, 0), delivery(4, 30)],
      [attempt(10, 2, 10), attempt(11, 3, 20), attempt(12, 4, 40)],
      { attemptId: 9, ordinal: 2 },
    );
    expect(shape(page)).toEqual([
      "delivery.queued:9-3",
      "delivery.attempt:10-3",
      "delivery.attempt:11-3",
      "delivery.queued:11-4",
      "delivery.attempt:12-4",
    ]);
    expect(page.cursor).toEqual({ attemptId: 12, ordinal: 4 });
    expect(page.more).toBe(false);
  });

  test("an attempt stamped before its delivery still comes after the delivery's announcement", () => {
    const page = mergeLog([delivery(1, 50)], [attempt(1, 1, 40)], { attemptId: 0, ordinal: 0 });
    expect(shape(page)).toEqual(["delivery.queued:0-1", "delivery.attempt:1-1"]);
  });

  test("attempts of deliveries beyond the batch wait, and so do the attempts after them", () => {
    const first = mergeLog([delivery(1, 0)], [attempt(1, 1, 10), attempt(2, 2, 20), attempt(3, 1, 30)], {
      attemptId: 0,
      ordinal: 0,
    });
    expect(shape(first)).toEqual(["delivery.queued:0-1", "delivery.attempt:1-1"]);
    expect(first.cursor).toEqual({ attemptId: 1, ordinal: 1 });
    const second = mergeLog([delivery(2, 15)], [attempt(2, 2, 20), attempt(3, 1, 30)], first.cursor);
    expect(shape(second)).toEqual(["delivery.queued:1-2", "delivery.attempt:2-2", "delivery.attempt:3-2"]);
  });
});
