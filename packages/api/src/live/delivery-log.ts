import { z } from "@hono/zod-openapi";
import type { Db, Sql } from "@second-layer/shared/db/connect";
import type { SSEMessage } from "hono/streaming";
import type { Feed, FeedPage } from "./follow.ts";

// A stream's delivery log as Server-Sent Events: `delivery.queued` when the matcher writes a delivery,
// `delivery.attempt` for every POST a sender made. Two tables, so the position is two cursors: the
// last delivery ordinal and the last attempt id announced, written `<attemptId>-<ordinal>` as every
// event's id. Both are in commit order within one stream: ordinals are handed out under the
// stream_state row lock, and a stream's attempts are made one at a time by the sender holding its
// lease. So "after this id" is exact: nothing skipped, nothing twice.

/** Attempts and deliveries a log with no Last-Event-ID starts with (each), unless `backlog` says. */
export const LOG_BACKLOG = 50;
export const MAX_LOG_BACKLOG = 500;
/** How often an open log looks for new attempts (they come with no wake-up). */
export const LOG_POLL_MS = 1000;
const BATCH = 200;

export const LOG_EVENT_ID = /^(\d{1,15})-(\d{1,15})$/;

export interface LogCursor {
  attemptId: number;
  ordinal: number;
}

export const parseLogEventId = (id: string): LogCursor => {
  const [, attemptId, ordinal] = LOG_EVENT_ID.exec(id) ?? [];
  return { attemptId: Number(attemptId), ordinal: Number(ordinal) };
};
const logEventId = (c: LogCursor) => `${c.attemptId}-${c.ordinal}`;

export const DeliveryQueuedEvent = z
  .object({
    deliveryId: z.string().uuid(),
    kind: z.enum(["apply", "rollback"]),
    blockHeight: z.number().int(),
    indexBlockHash: z.string(),
    isBackfill: z.boolean(),
    heldUntilBurnHeight: z.number().int().nullable().openapi({ description: "With `confirmations`" }),
    queuedAt: z.string(),
  })
  .openapi("DeliveryQueuedEvent");

export const DeliveryAttemptEvent = z
  .object({
    attemptId: z.string(),
    deliveryId: z.string().uuid(),
    seq: z.number().int().nullable(),
    kind: z.enum(["apply", "rollback"]),
    blockHeight: z.number().int(),
    indexBlockHash: z.string(),
    attempt: z.number().int().openapi({ description: "1 for the first POST of the delivery" }),
    startedAt: z.string(),
    durationMs: z.number().int(),
    statusCode: z.number().int().nullable().openapi({ description: "Null when no answer came" }),
    ok: z.boolean().openapi({ description: "A 2xx answer: delivered" }),
    error: z.string().nullable(),
  })
  .openapi("DeliveryAttemptEvent");

interface QueuedRow {
  id: string;
  ordinal: string;
  kind: "apply" | "rollback";
  block_height: number;
  index_block_hash: string;
  is_backfill: boolean;
  hold_until_burn_height: number | null;
  created_at: Date;
}

interface AttemptRow {
  id: string;
  delivery_id: string;
  ordinal: string;
  seq: string | null;
  kind: "apply" | "rollback";
  block_height: number;
  index_block_hash: string;
  attempt: number;
  started_at: Date;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

/** Where a log without Last-Event-ID starts: just before the stream's last `n` attempts and deliveries. */
export async function backlogStart(sql: Sql, streamId: string, n: number): Promise<LogCursor> {
  // The newest row left out of the backlog is the cursor: what follows it is exactly the last n.
  const [row] = await sql<{ attempt: string | null; ordinal: string | null }[]>`
    select
      (select id from delivery_attempts where stream_id = ${streamId} order by id desc offset ${n} limit 1) as attempt,
      (select ordinal from deliveries where stream_id = ${streamId} order by ordinal desc offset ${n} limit 1) as ordinal`;
  return { attemptId: Number(row?.attempt ?? 0), ordinal: Number(row?.ordinal ?? 0) };
}

/**
 * Deliveries and attempts after `cursor`, merged by time. Each kind stays in its cursor's order, and
 * an attempt never comes before the `delivery.queued` of its delivery.
 */
export function mergeLog(queued: QueuedRow[], attempts: AttemptRow[], cursor: LogCursor): FeedPage<LogCursor> {
  const at = { ...cursor };
  const lastOrdinal = queued.length > 0 ? Number(queued.at(-1)?.ordinal) : cursor.ordinal;
  const cut = attempts.findIndex((t) => Number(t.ordinal) > lastOrdinal);
  const announced = cut === -1 ? attempts : attempts.slice(0, cut);
  const events: SSEMessage[] = [];
  let q = 0;
  let a = 0;
  while (q < queued.length || a < announced.length) {
    const d = queued[q];
    const t = announced[a];
    // By time; but an attempt whose delivery is still to be announced always waits for it.
    if (d && (!t || Number(t.ordinal) >= Number(d.ordinal) || d.created_at <= t.started_at)) {
      at.ordinal = Number(d.ordinal);
      events.push({ event: "delivery.queued", id: logEventId(at), data: JSON.stringify(queuedEvent(d)) });
      q++;
    } else if (t) {
      at.attemptId = Number(t.id);
      events.push({ event: "delivery.attempt", id: logEventId(at), data: JSON.stringify(attemptEvent(t)) });
      a++;
    }
  }
  return { events, cursor: at, more: queued.length === BATCH || attempts.length === BATCH };
}

function queuedEvent(d: QueuedRow): z.infer<typeof DeliveryQueuedEvent> {
  return {
    deliveryId: d.id,
    kind: d.kind,
    blockHeight: d.block_height,
    indexBlockHash: d.index_block_hash,
    isBackfill: d.is_backfill,
    heldUntilBurnHeight: d.hold_until_burn_height,
    queuedAt: d.created_at.toISOString(),
  };
}

function attemptEvent(t: AttemptRow): z.infer<typeof DeliveryAttemptEvent> {
  return {
    attemptId: t.id,
    deliveryId: t.delivery_id,
    seq: t.seq === null ? null : Number(t.seq),
    kind: t.kind,
    blockHeight: t.block_height,
    indexBlockHash: t.index_block_hash,
    attempt: t.attempt,
    startedAt: t.started_at.toISOString(),
    durationMs: t.duration_ms,
    statusCode: t.status_code,
    ok: t.status_code !== null && t.status_code >= 200 && t.status_code < 300,
    error: t.error,
  };
}

/** The feed of one stream's log; it ends when the stream is deleted. */
export function deliveryLogFeed(sql: Db["sql"], streamId: string): Feed<LogCursor> {
  return {
    goneMessage: "the stream was deleted",
    async read(cursor) {
      // One snapshot: every attempt read has its delivery visible too.
      const [exists, queued, attempts] = await sql.begin("isolation level repeatable read read only", (tx) => [
        tx`select 1 from streams where id = ${streamId}`,
        tx<QueuedRow[]>`
          select id, ordinal, kind, block_height, index_block_hash, is_backfill, hold_until_burn_height, created_at
          from deliveries where stream_id = ${streamId} and ordinal > ${cursor.ordinal}
          order by ordinal limit ${BATCH}`,
        tx<AttemptRow[]>`
          select a.id, a.delivery_id, d.ordinal, d.seq, d.kind, d.block_height, d.index_block_hash, a.attempt,
            a.started_at, a.duration_ms, a.status_code, a.error
          from delivery_attempts a join deliveries d on d.id = a.delivery_id
          where a.stream_id = ${streamId} and a.id > ${cursor.attemptId}
          order by a.id limit ${BATCH}`,
      ]);
      if (exists.length === 0) return null;
      return mergeLog(queued, attempts, cursor);
    },
  };
}
