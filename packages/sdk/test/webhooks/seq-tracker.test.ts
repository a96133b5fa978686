import { describe, expect, test } from "bun:test";
import { SeqTracker } from "../../src/webhooks/seq-tracker.ts";

const body = (seq: number, streamId = "s1") => ({ type: "block.apply", streamId, seq });

describe("SeqTracker", () => {
  test("in order: every body is next; the contiguous and highest seq follow", () => {
    const t = new SeqTracker();
    expect([1, 2, 3].map((s) => t.observe(body(s)).kind)).toEqual(["next", "next", "next"]);
    expect([t.highest("s1"), t.contiguous("s1"), t.missing("s1")]).toEqual([3, 3, []]);
  });

  test("a gap is reported with its range; late arrivals fill it, splitting ranges; repeats are duplicates", () => {
    const t = new SeqTracker();
    t.observe(body(1));
    expect(t.observe(body(6))).toEqual({ kind: "gap", streamId: "s1", seq: 6, missing: [{ from: 2, to: 5 }] });
    expect(t.contiguous("s1")).toBe(1);
    expect(t.observe(body(4)).kind).toBe("out_of_order");
    expect(t.missing("s1")).toEqual([
      { from: 2, to: 3 },
      { from: 5, to: 5 },
    ]);
    expect(t.observe(body(4)).kind).toBe("duplicate");
    expect(t.observe(body(6)).kind).toBe("duplicate");
    expect(t.observe(body(1)).kind).toBe("duplicate");
    for (const s of [2, 3, 5]) expect(t.observe(body(s)).kind).toBe("out_of_order");
    expect([t.missing("s1"), t.contiguous("s1"), t.highest("s1")]).toEqual([[], 6, 6]);
    expect(t.observe(body(9)).kind).toBe("gap");
    expect(t.missing("s1")).toEqual([{ from: 7, to: 8 }]);
  });

  test("streams are tracked apart; a first body above 1 reports the seqs before it", () => {
    const t = new SeqTracker();
    t.observe(body(1, "a"));
    expect(t.observe(body(3, "b"))).toEqual({ kind: "gap", streamId: "b", seq: 3, missing: [{ from: 1, to: 2 }] });
    expect(t.observe(body(2, "a")).kind).toBe("next");
    expect([t.highest("a"), t.highest("b"), t.highest("never seen")]).toEqual([2, 3, 0]);
  });

  test("resuming from stored positions: at or below them is a duplicate, the next one is next", () => {
    const t = new SeqTracker({ lastSeq: { s1: 41 } });
    expect(t.observe(body(41)).kind).toBe("duplicate");
    expect(t.observe(body(42)).kind).toBe("next");
    expect(t.observe(body(44)).kind).toBe("gap");
  });

  test("stream.test bodies (seq 0) stand outside the sequence; a malformed seq is refused", () => {
    const t = new SeqTracker();
    expect(t.observe({ type: "stream.test", streamId: "s1", seq: 0 }).kind).toBe("test");
    expect(t.highest("s1")).toBe(0);
    expect(() => t.observe(body(1.5))).toThrow(RangeError);
  });
});
