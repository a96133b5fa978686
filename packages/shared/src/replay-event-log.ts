import type { EventLogRow } from "./event-log.ts";

export interface ReplayOptions {
  to: string;
  /** Attempts per row before giving up (the node itself retries forever). */
  maxAttempts?: number;
  retryDelayMs?: number;
  onProgress?: (done: number, total: number, row: EventLogRow) => void;
  /** The indexer's parsed 200 answer to each row. */
  onAnswer?: (row: EventLogRow, answer: unknown) => void;
}

export interface ReplaySummary {
  posted: number;
  byPath: Record<string, number>;
  byStatus: Record<string, number>;
  /** Rows the indexer accepted (200) but journaled as failures: `{ok: false}` in its answer. */
  rejected: { id: string; path: string; code: string; message: string }[];
  retries: number;
  bytes: number;
  elapsedMs: number;
}

export class ReplayError extends Error {
  readonly code = "REPLAY_FAILED";
}

/** Posts recorded rows to an indexer one at a time, in order, retrying non-200 answers like the node does. */
export async function replayEventLog(rows: EventLogRow[], opts: ReplayOptions): Promise<ReplaySummary> {
  const base = opts.to.replace(/\/$/, "");
  const maxAttempts = opts.maxAttempts ?? 10;
  const summary: ReplaySummary = {
    posted: 0,
    byPath: {},
    byStatus: {},
    rejected: [],
    retries: 0,
    bytes: 0,
    elapsedMs: 0,
  };
  const started = performance.now();
  for (const [i, row] of rows.entries()) {
    let lastError = "";
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(`${base}${row.path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: row.payload,
        });
        const text = await res.text();
        summary.byStatus[res.status] = (summary.byStatus[res.status] ?? 0) + 1;
        if (res.status === 200) {
          const answer = safeJson(text) as { ok?: boolean; error?: { code: string; message: string } } | null;
          opts.onAnswer?.(row, answer);
          if (answer?.ok === false && answer.error) {
            summary.rejected.push({
              id: row.id,
              path: row.path,
              code: answer.error.code,
              message: answer.error.message,
            });
          }
          break;
        }
        lastError = `HTTP ${res.status}: ${text.slice(0, 300)}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (attempt >= maxAttempts) {
        throw new ReplayError(`row ${row.id} (${row.path}) failed after ${attempt} attempts: ${lastError}`);
      }
      summary.retries++;
      await Bun.sleep(Math.min(5000, (opts.retryDelayMs ?? 200) * 2 ** (attempt - 1)));
    }
    summary.posted++;
    summary.bytes += Buffer.byteLength(row.payload);
    summary.byPath[row.path] = (summary.byPath[row.path] ?? 0) + 1;
    opts.onProgress?.(i + 1, rows.length, row);
  }
  summary.elapsedMs = performance.now() - started;
  return summary;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
