import type { StreamView } from "@second-layer/shared/streams/store";
import type { StreamStats } from "@second-layer/shared/streams/stream-stats";

/** The public shape of a stream (its account is implied by the key that asks). */
export function publicStream(s: StreamView, stats?: StreamStats) {
  const { accountId: _, ...rest } = s;
  if (!stats) return rest;
  const { streamId: _id, network: _n, status: _s, ...figures } = stats;
  return { ...rest, stats: figures };
}
