import type { Sql } from "@second-layer/shared/db/connect";
import { findGaps } from "../integrity/integrity.ts";

export interface GapScan {
  /** Missing heights, lowest first, whose gap is older than the grace period. */
  heights: number[];
  /** When the next gap still inside its grace period leaves it; null when there is none. */
  nextEligibleInMs: number | null;
}

/**
 * Missing heights the backfiller may fetch. A gap's age is that of the block just above it: the node
 * usually delivers late blocks itself (after a restart, say), so a gap younger than the grace period is
 * left to it. Ages come from the database clock, the one that stamped `received_at`.
 */
export async function scanGaps(sql: Sql, network: string, graceSeconds: number, maxHeights: number): Promise<GapScan> {
  const gaps = await findGaps(sql, network);
  if (gaps.length === 0) return { heights: [], nextEligibleInMs: null };
  const above = await sql<{ block_height: number; wait_ms: number }[]>`
    select block_height,
      greatest(0, extract(epoch from received_at + make_interval(secs => ${graceSeconds}) - now()) * 1000)::float8 as wait_ms
    from blocks
    where network = ${network} and canonical and block_height = any(${gaps.map((g) => g.end + 1)}::int[])`;
  const waits = new Map(above.map((a) => [a.block_height, a.wait_ms]));
  const heights: number[] = [];
  let nextEligibleInMs: number | null = null;
  for (const gap of gaps) {
    const wait = waits.get(gap.end + 1) ?? 0;
    if (wait > 0) {
      nextEligibleInMs = Math.min(nextEligibleInMs ?? wait, wait);
      continue;
    }
    for (let h = gap.start; h <= gap.end && heights.length < maxHeights; h++) heights.push(h);
  }
  return { heights, nextEligibleInMs };
}
