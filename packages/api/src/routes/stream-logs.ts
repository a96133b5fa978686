import { createRoute, z } from "@hono/zod-openapi";
import { getStream } from "@second-layer/shared/streams/store";
import { streamSSE } from "hono/streaming";
import { keyIsActive } from "../auth/api-keys.ts";
import { COMMON_ERRORS, NOT_FOUND_ERROR, notFound } from "../http/api-error.ts";
import type { ApiApp, ApiDeps } from "../http/app-env.ts";
import {
  backlogStart,
  DeliveryAttemptEvent,
  DeliveryQueuedEvent,
  deliveryLogFeed,
  LOG_BACKLOG,
  LOG_EVENT_ID,
  LOG_POLL_MS,
  MAX_LOG_BACKLOG,
  parseLogEventId,
} from "../live/delivery-log.ts";
import { EVENT_STREAM_RESPONSE, follow, lastEventIdHeader } from "../live/follow.ts";
import { StreamIdParam } from "../schemas/stream-schemas.ts";

const security = [{ bearer: [] }];

/** `GET /api/streams/{id}/logs`: a stream's deliveries and attempts as they happen. */
export function registerStreamLogRoutes(app: ApiApp, deps: ApiDeps): void {
  const { db, live, log, config } = deps;
  app.openAPIRegistry.register("DeliveryQueuedEvent", DeliveryQueuedEvent);
  app.openAPIRegistry.register("DeliveryAttemptEvent", DeliveryAttemptEvent);

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/streams/{id}/logs",
      tags: ["deliveries"],
      summary: "A stream's deliveries and delivery attempts, live, as Server-Sent Events",
      description: [
        "Two event types: `delivery.queued` (data: `DeliveryQueuedEvent`) when a delivery is written for",
        "the stream, and `delivery.attempt` (data: `DeliveryAttemptEvent`) for every POST to the webhook",
        "URL: its status code, latency and error. Every event's `id` is `<attemptId>-<ordinal>`: the last",
        "attempt and the last delivery announced so far. With `Last-Event-ID` (a reconnecting EventSource",
        "sends it) the log resumes exactly after that event; without it, it starts with the stream's last",
        "`backlog` attempts and last `backlog` deliveries, oldest first. New attempts show within",
        `${LOG_POLL_MS / 1000} s. Idle streams get a \`: keep-alive\` comment every API_SSE_HEARTBEAT_SECONDS.`,
        "An `error` event (the usual error body) ends the stream, e.g. when the stream is deleted.",
      ].join(" "),
      security,
      request: {
        params: StreamIdParam,
        query: z.object({
          backlog: z.coerce
            .number()
            .int()
            .min(0)
            .max(MAX_LOG_BACKLOG)
            .default(LOG_BACKLOG)
            .openapi({ description: "Without Last-Event-ID: how many recent attempts and deliveries come first" }),
        }),
        headers: lastEventIdHeader(
          "The id of the last event handled: `<attemptId>-<ordinal>`",
          LOG_EVENT_ID,
          "expected an event id of this log: <attemptId>-<ordinal>",
        ),
      },
      responses: {
        200: EVENT_STREAM_RESPONSE,
        ...COMMON_ERRORS,
        ...NOT_FOUND_ERROR,
      },
    }),
    async (c) => {
      const streamId = c.req.valid("param").id;
      const lastEventId = c.req.valid("header")["last-event-id"];
      const caller = c.get("caller");
      if (!(await getStream(db.sql, caller.accountId, streamId))) throw notFound("stream");
      const start =
        lastEventId === undefined
          ? await backlogStart(db.sql, streamId, c.req.valid("query").backlog)
          : parseLogEventId(lastEventId);
      return streamSSE(c, (stream) =>
        follow(stream, deliveryLogFeed(db.sql, streamId), start, {
          waker: live.timer(),
          pollMs: LOG_POLL_MS,
          heartbeatMs: config.API_SSE_HEARTBEAT_SECONDS * 1000,
          closing: live.signal,
          authorized: () => keyIsActive(db.sql, caller.keyId),
          log,
        }),
      );
    },
  );
}
