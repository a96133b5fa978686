import { expect, test } from "bun:test";
import { Batcher } from "../src/deliver/batcher.ts";

/** A flush that can be let go by the test, recording what each flush got. */
function controlledFlush() {
  const flushes: number[][] = [];
  const gates: (() => void)[] = [];
  const flush = async (items: number[]) => {
    flushes.push(items);
    await new Promise<void>((resolve) => gates.push(resolve));
    return items.map((n) => n * 10);
  };
  return { flushes, flush, release: () => gates.shift()?.() };
}

test("a lone item goes at once; items submitted while flushes run share the next flush, each gets its own result", async () => {
  const c = controlledFlush();
  const batcher = new Batcher(c.flush, { parallel: 1, max: 100 });
  const first = batcher.submit(1);
  const later = [2, 3, 4].map((n) => batcher.submit(n));
  expect(c.flushes).toEqual([[1]]);
  c.release();
  expect(await first).toBe(10);
  await Bun.sleep(0);
  expect(c.flushes).toEqual([[1], [2, 3, 4]]);
  c.release();
  expect(await Promise.all(later)).toEqual([20, 30, 40]);
});

test("up to `parallel` flushes run at once, each of at most `max` items", async () => {
  const c = controlledFlush();
  const batcher = new Batcher(c.flush, { parallel: 2, max: 2 });
  const results = [1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n));
  expect(c.flushes).toEqual([[1], [2]]);
  c.release();
  c.release();
  await Bun.sleep(0);
  expect(c.flushes.slice(2)).toEqual([
    [3, 4],
    [5, 6],
  ]);
  c.release();
  c.release();
  expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50, 60]);
});

test("a failed flush fails its own items only", async () => {
  let calls = 0;
  const batcher = new Batcher(
    async (items: number[]) => {
      calls++;
      if (items.includes(2)) throw new Error("boom");
      return items;
    },
    { parallel: 1, max: 10 },
  );
  const settled = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
  expect(settled.map((s) => (s.status === "fulfilled" ? s.value : (s.reason as Error).message))).toEqual([
    1,
    "boom",
    "boom",
  ]);
  expect(await batcher.submit(4)).toBe(4);
  expect(calls).toBe(3);
});
