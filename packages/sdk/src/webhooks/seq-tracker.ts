// Every delivery of a stream carries the next `seq` (1, 2, 3, ...), kept on retries. A consumer that
// feeds each body it receives to a SeqTracker, in arrival order, learns at once when one is missing
// (fetch it with `streams.iterateDeliveries(id, { afterSeq })`), when one came again (a retry of
// something already handled: acknowledge it and skip it) or late (it fills a reported gap).

/** What one body means for its stream's sequence. */
export type SeqObservation =
  | { kind: "next"; streamId: string; seq: number }
  /** `seq` skipped `missing` (inclusive ranges, lowest first). */
  | { kind: "gap"; streamId: string; seq: number; missing: SeqRange[] }
  /** Already seen: a retry or a duplicate. */
  | { kind: "duplicate"; streamId: string; seq: number }
  /** Below the highest seen, and one of the missing: it fills (part of) a gap. */
  | { kind: "out_of_order"; streamId: string; seq: number }
  /** A `stream.test` body (seq 0): outside the sequence. */
  | { kind: "test"; streamId: string; seq: 0 };

export interface SeqRange {
  from: number;
  to: number;
}

interface StreamSeqs {
  highest: number;
  /** Seqs below `highest` not seen yet, as disjoint inclusive ranges in order. */
  missing: SeqRange[];
}

export interface SeqTrackerOptions {
  /**
   * The last seq already handled per stream (from the consumer's own storage, after a restart).
   * A stream not named starts before 1, so a first body with seq 5 reports 1-4 missing.
   */
  lastSeq?: Record<string, number>;
}

/** Follows the seq of each stream seen, in arrival order. Pure bookkeeping: no I/O. */
export class SeqTracker {
  private readonly streams = new Map<string, StreamSeqs>();

  constructor(options: SeqTrackerOptions = {}) {
    for (const [streamId, seq] of Object.entries(options.lastSeq ?? {})) {
      this.streams.set(streamId, { highest: seq, missing: [] });
    }
  }

  /** Records one received body (`streamId` and `seq`, as every webhook body has them). */
  observe(body: { streamId: string; seq: number; type?: string }): SeqObservation {
    const { streamId, seq } = body;
    if (body.type === "stream.test" || seq === 0) return { kind: "test", streamId, seq: 0 };
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`seq ${seq} is not a whole number`);
    let state = this.streams.get(streamId);
    if (!state) {
      state = { highest: 0, missing: [] };
      this.streams.set(streamId, state);
    }
    if (seq === state.highest + 1) {
      state.highest = seq;
      return { kind: "next", streamId, seq };
    }
    if (seq > state.highest) {
      const gap = { from: state.highest + 1, to: seq - 1 };
      state.missing.push(gap);
      state.highest = seq;
      return { kind: "gap", streamId, seq, missing: [{ ...gap }] };
    }
    const at = state.missing.findIndex((r) => r.from <= seq && seq <= r.to);
    if (at === -1) return { kind: "duplicate", streamId, seq };
    const range = state.missing[at] as SeqRange;
    const rest = [
      ...(range.from < seq ? [{ from: range.from, to: seq - 1 }] : []),
      ...(seq < range.to ? [{ from: seq + 1, to: range.to }] : []),
    ];
    state.missing.splice(at, 1, ...rest);
    return { kind: "out_of_order", streamId, seq };
  }

  /** The highest seq seen for a stream (0 before any); persist it to resume with `lastSeq`. */
  highest(streamId: string): number {
    return this.streams.get(streamId)?.highest ?? 0;
  }

  /** The seqs of a stream still missing below its highest, as inclusive ranges. */
  missing(streamId: string): SeqRange[] {
    return (this.streams.get(streamId)?.missing ?? []).map((r) => ({ ...r }));
  }

  /**
   * The last seq up to which nothing is missing: everything at or below it has been seen. Persist
   * this (not `highest`) when handling bodies out of order must not hide a gap after a restart.
   */
  contiguous(streamId: string): number {
    const state = this.streams.get(streamId);
    if (!state) return 0;
    return state.missing.length > 0 ? (state.missing[0] as SeqRange).from - 1 : state.highest;
  }
}
