import { createRoute } from "@hono/zod-openapi";
import { chainLogHead } from "@second-layer/shared/chain-log";
import { streamSSE } from "hono/streaming";
import { keyIsActive } from "../auth/api-keys.ts";
import { chainEvents } from "../chain/chain-reads.ts";
import { COMMON_ERRORS } from "../http/api-error.ts";
import type { ApiApp, ApiDeps } from "../http/app-env.ts";
import { EVENT_STREAM_RESPONSE, follow, lastEventIdHeader } from "../live/follow.ts";
import { ChainEventListSchema, ChainEventsQuery, ChainStreamQuery } from "../schemas/chain-schemas.ts";

const security = [{ bearer: [] }];

/** Entries read per batch when the SSE stream catches up. */
const STREAM_BATCH = 200;

/**
 * The chain log as a firehose: every apply and rollback of the canonical chain with its block, in
 * seq order. Folding it (apply adds a block, rollback removes it) follows the canonical chain, with
 * no webhook endpoint needed.
 */
export function registerChainEventRoutes(app: ApiApp, deps: ApiDeps): void {
  const { db, config, live, log } = deps;

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/chain/events",
      tags: ["chain log"],
      summary: "The chain log after a seq: apply and rollback of canonical blocks, each with its block",
      security,
      request: { query: ChainEventsQuery },
      responses: {
        200: {
          description: "Entries in seq order; ask again with `after=next`",
          content: { "application/json": { schema: ChainEventListSchema } },
        },
        ...COMMON_ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const network = q.network ?? config.STACKS_NETWORK;
      const [events, head] = await Promise.all([
        chainEvents(db, network, q.after, q.limit),
        chainLogHead(db.sql, network),
      ]);
      return c.json(
        { events, next: events.at(-1)?.seq ?? q.after, head: Math.max(head, events.at(-1)?.seq ?? 0) },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/chain/events/stream",
      tags: ["chain log"],
      summary: "The chain log as Server-Sent Events, live",
      description: [
        "Each log entry is an event named `block.apply` or `block.rollback` whose `id` is its seq and whose",
        "`data` is a `ChainEvent` (as in `GET /api/chain/events`). It starts after `Last-Event-ID` if sent",
        "(a reconnecting EventSource does), else after `?after=`, else at the current head; then it follows",
        "the log as the indexer commits (woken by its NOTIFY, and reading at least every",
        "`API_SSE_POLL_SECONDS`). A comment line (`: keep-alive`) is sent when idle for",
        "`API_SSE_HEARTBEAT_SECONDS`. On a failure an `error` event carries the usual error body and the",
        "stream closes; reconnect with Last-Event-ID to resume without gap or repeat.",
      ].join(" "),
      security,
      request: {
        query: ChainStreamQuery,
        headers: lastEventIdHeader("The seq of the last event handled", /^\d{1,15}$/, "expected a seq"),
      },
      responses: {
        200: EVENT_STREAM_RESPONSE,
        ...COMMON_ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const lastEventId = c.req.valid("header")["last-event-id"];
      const network = q.network ?? config.STACKS_NETWORK;
      const caller = c.get("caller");
      const start =
        lastEventId !== undefined ? Number(lastEventId) : (q.after ?? (await chainLogHead(db.sql, network)));
      // Listening before the first read: whatever commits after that read wakes the stream.
      const waker = await live.chainWaker(network);
      return streamSSE(c, (stream) =>
        follow(
          stream,
          {
            async read(after: number) {
              const events = await chainEvents(db, network, after, STREAM_BATCH);
              return {
                events: events.map((e) => ({ event: `block.${e.kind}`, id: String(e.seq), data: JSON.stringify(e) })),
                cursor: events.at(-1)?.seq ?? after,
                more: events.length === STREAM_BATCH,
              };
            },
          },
          start,
          {
            waker,
            pollMs: config.API_SSE_POLL_SECONDS * 1000,
            heartbeatMs: config.API_SSE_HEARTBEAT_SECONDS * 1000,
            closing: live.signal,
            authorized: () => keyIsActive(db.sql, caller.keyId),
            log,
          },
        ),
      );
    },
  );
}
