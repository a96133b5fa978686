import { z } from "@hono/zod-openapi";
import { isTransientDbError } from "@second-layer/shared/db/connect";
import { databaseUnavailableBody, errorBody } from "@second-layer/shared/error-body";
import type { Logger } from "@second-layer/shared/logger";
import type { SSEMessage, SSEStreamingApi } from "hono/streaming";
import type { Waker } from "./live-hub.ts";

/** The OpenAPI answer of an SSE route (the event types are in the route's description). */
export const EVENT_STREAM_RESPONSE = {
  description: "An endless stream of Server-Sent Events",
  content: { "text/event-stream": { schema: z.string().openapi({ description: "Server-Sent Events" }) } },
};

/** The `Last-Event-ID` request header of an SSE route, with the form its event ids have. */
export const lastEventIdHeader = (description: string, pattern: RegExp, message: string) =>
  z.object({
    "last-event-id": z
      .string()
      .regex(pattern, message)
      .optional()
      .openapi({ param: { name: "last-event-id", in: "header" }, description }),
  });

/** One read of a feed: what to send, the cursor after it, and whether more is waiting already. */
export interface FeedPage<C> {
  events: SSEMessage[];
  cursor: C;
  more: boolean;
}

export interface Feed<C> {
  /** What is new after `cursor`; null when the feed is gone (its stream was deleted). */
  read(cursor: C): Promise<FeedPage<C> | null>;
  /** Why a feed that is gone ended, for the final `error` event (NOT_FOUND). */
  goneMessage?: string;
}

export interface FollowOptions {
  waker: Waker;
  /** Longest wait between reads without a wake-up. */
  pollMs: number;
  heartbeatMs: number;
  /** Aborted when the server stops. */
  closing: AbortSignal;
  /** Whether the caller's key still works; asked once per heartbeat interval. */
  authorized(): Promise<boolean>;
  log: Logger;
}

/** A client reconnecting after a drop waits this long (the SSE `retry` field). */
const RETRY_MS = 2000;

/**
 * Sends a feed as Server-Sent Events until the client goes away or the server stops: everything after
 * `cursor`, then whatever is new after each wake-up or poll, with a comment line when nothing was
 * written for `heartbeatMs`; the key is checked again at that interval. A failure ends the stream
 * with an `error` event (the usual error body); the client reconnects with Last-Event-ID and loses
 * nothing.
 */
export async function follow<C>(stream: SSEStreamingApi, feed: Feed<C>, cursor: C, opts: FollowOptions) {
  const { waker, closing } = opts;
  stream.onAbort(() => waker.poke());
  const ended = () => stream.aborted || closing.aborted;
  let lastWrite = Date.now();
  let lastAuth = Date.now();
  try {
    // Headers and the first bytes go out at once, so the client knows the stream is open.
    await stream.write(`retry: ${RETRY_MS}\n\n`);
    while (!ended()) {
      // A revoked key's stream ends within a heartbeat interval, busy or idle.
      if (Date.now() - lastAuth >= opts.heartbeatMs) {
        if (!(await opts.authorized())) {
          await sendError(stream, errorBody("UNAUTHORIZED", "this API key is unknown or revoked"));
          return;
        }
        lastAuth = Date.now();
      }
      const page = await feed.read(cursor);
      if (!page) {
        await sendError(stream, errorBody("NOT_FOUND", feed.goneMessage ?? "gone"));
        return;
      }
      for (const event of page.events) {
        if (ended()) return;
        await stream.writeSSE(event);
        lastWrite = Date.now();
      }
      cursor = page.cursor;
      if (page.more) continue;
      let untilHeartbeat = lastWrite + opts.heartbeatMs - Date.now();
      if (untilHeartbeat <= 0) {
        await stream.write(": keep-alive\n\n");
        lastWrite = Date.now();
        untilHeartbeat = opts.heartbeatMs;
      }
      await waker.wait(Math.min(opts.pollMs, untilHeartbeat));
    }
  } catch (err) {
    if (ended()) return;
    const transient = isTransientDbError(err);
    opts.log[transient ? "warn" : "error"]({ err }, "live stream failed; the client can resume with Last-Event-ID");
    await sendError(
      stream,
      transient
        ? databaseUnavailableBody()
        : errorBody("INTERNAL", "the stream failed on our side; reconnect to resume"),
    );
  } finally {
    waker.release();
  }
}

async function sendError(stream: SSEStreamingApi, body: ReturnType<typeof errorBody>): Promise<void> {
  await stream.writeSSE({ event: "error", data: JSON.stringify(body) });
}
