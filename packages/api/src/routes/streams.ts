import { createRoute, z } from "@hono/zod-openapi";
import { StreamValidationError } from "@second-layer/shared/streams/filters";
import {
  changeStreamStatus,
  createStream,
  deleteStream,
  getStream,
  listStreams,
  redeliverParked,
  requestReplay,
  rotateStreamSecret,
  type StreamAction,
  StreamConflictError,
  updateStream,
} from "@second-layer/shared/streams/store";
import { streamStats } from "@second-layer/shared/streams/stream-stats";
import {
  ApiError,
  COMMON_ERRORS,
  CONFLICT_ERROR,
  NOT_FOUND_ERROR,
  notFound,
  validationError,
} from "../http/api-error.ts";
import type { ApiApp, ApiDeps } from "../http/app-env.ts";
import { body, json, security } from "../http/openapi-parts.ts";
import {
  CreatedStreamSchema,
  CreateStreamBody,
  ReplayBody,
  RotatedSecretSchema,
  StreamIdParam,
  StreamListSchema,
  StreamSchema,
  TestDeliverySchema,
  UpdateStreamBody,
} from "../schemas/stream-schemas.ts";
import { publicStream } from "../streams/public-stream.ts";
import { sendTestDelivery } from "../streams/test-delivery.ts";

/** Store errors become API errors; anything else is left to the error handler. */
async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StreamValidationError) throw validationError(err.details, "stream");
    if (err instanceof StreamConflictError) throw new ApiError(409, err.code, err.message);
    throw err;
  }
}

export function registerStreamRoutes(app: ApiApp, deps: ApiDeps): void {
  const { db } = deps;

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/streams",
      tags: ["streams"],
      summary: "Create a stream; its signing secret is in the answer, once",
      security,
      request: { body: body(CreateStreamBody) },
      responses: { 201: json(CreatedStreamSchema, "The stream and its secret"), ...COMMON_ERRORS },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { stream, secret } = await storeCall(() =>
        createStream(db.sql, c.get("caller").accountId, input, deps.streams),
      );
      return c.json({ stream: publicStream(stream), secret }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/streams",
      tags: ["streams"],
      summary: "List the caller's streams, oldest first",
      security,
      request: {
        query: z.object({
          status: z.enum(["active", "paused", "failed", "disabled"]).optional(),
          cursor: z.string().uuid().optional().openapi({ description: "`next` of the previous page" }),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: { 200: json(StreamListSchema, "A page of streams"), ...COMMON_ERRORS },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const streams = await listStreams(db.sql, c.get("caller").accountId, {
        status: q.status,
        after: q.cursor,
        limit: q.limit,
      });
      const next = streams.length === q.limit ? (streams.at(-1)?.id ?? null) : null;
      return c.json({ streams: streams.map((s) => publicStream(s)), next }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/streams/{id}",
      tags: ["streams"],
      summary: "A stream with its delivery figures",
      security,
      request: { params: StreamIdParam },
      responses: { 200: json(StreamSchema, "The stream"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const stream = await getStream(db.sql, c.get("caller").accountId, c.req.valid("param").id);
      if (!stream) throw notFound("stream");
      const [stats] = await streamStats(db.sql, [stream.id]);
      return c.json(publicStream(stream, stats), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/api/streams/{id}",
      tags: ["streams"],
      summary: "Change a stream's name, URL, filters, options, endBlock or confirmations",
      security,
      request: { params: StreamIdParam, body: body(UpdateStreamBody) },
      responses: { 200: json(StreamSchema, "The stream"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const id = c.req.valid("param").id;
      const stream = await storeCall(() =>
        updateStream(db.sql, c.get("caller").accountId, id, c.req.valid("json"), deps.streams),
      );
      if (!stream) throw notFound("stream");
      return c.json(publicStream(stream), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/streams/{id}",
      tags: ["streams"],
      summary: "Delete a stream and its deliveries",
      security,
      request: { params: StreamIdParam },
      responses: { 204: { description: "Deleted" }, ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      if (!(await deleteStream(db.sql, c.get("caller").accountId, c.req.valid("param").id))) throw notFound("stream");
      return c.body(null, 204);
    },
  );

  const actions: { action: StreamAction; summary: string }[] = [
    { action: "pause", summary: "Pause: deliveries accumulate and go out in order on resume" },
    { action: "resume", summary: "Resume a paused or failed stream; what accumulated goes out in order" },
    { action: "disable", summary: "Disable: the stream is no longer matched" },
    { action: "enable", summary: "Enable a disabled stream: matched again from now on" },
  ];
  for (const { action, summary } of actions) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/api/streams/{id}/${action}`,
        tags: ["streams"],
        summary,
        security,
        request: { params: StreamIdParam },
        responses: { 200: json(StreamSchema, "The stream"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR, ...CONFLICT_ERROR },
      }),
      async (c) => {
        const stream = await storeCall(() =>
          changeStreamStatus(db.sql, c.get("caller").accountId, c.req.valid("param").id, action),
        );
        if (!stream) throw notFound("stream");
        return c.json(publicStream(stream), 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/streams/{id}/rotate-secret",
      tags: ["streams"],
      summary: "A new signing secret (shown once); the old one keeps signing for SECRET_ROTATION_GRACE_SECONDS",
      security,
      request: { params: StreamIdParam },
      responses: { 200: json(RotatedSecretSchema, "The new secret"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const rotated = await rotateStreamSecret(
        db.sql,
        c.get("caller").accountId,
        c.req.valid("param").id,
        deps.config.SECRET_ROTATION_GRACE_SECONDS,
        deps.streams,
      );
      if (!rotated) throw notFound("stream");
      return c.json({ secret: rotated.secret, previousSecretExpiresAt: rotated.previousExpiresAt }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/streams/{id}/replay",
      tags: ["streams"],
      summary: "Send the stored canonical blocks of a height range again (isBackfill: true)",
      security,
      request: { params: StreamIdParam, body: body(ReplayBody) },
      responses: {
        202: json(z.object({ queued: z.literal(true) }).openapi("ReplayQueued"), "The worker will queue them"),
        ...COMMON_ERRORS,
        ...NOT_FOUND_ERROR,
      },
    }),
    async (c) => {
      const ok = await storeCall(() =>
        requestReplay(db.sql, c.get("caller").accountId, c.req.valid("param").id, c.req.valid("json")),
      );
      if (!ok) throw notFound("stream");
      return c.json({ queued: true as const }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/streams/{id}/redeliver",
      tags: ["streams"],
      summary: "Put parked (failed) deliveries back in line, with their seq and webhook-id",
      security,
      request: { params: StreamIdParam },
      responses: {
        200: json(z.object({ redelivered: z.number().int() }).openapi("Redelivered"), "How many"),
        ...COMMON_ERRORS,
        ...NOT_FOUND_ERROR,
      },
    }),
    async (c) => {
      const n = await redeliverParked(db.sql, c.get("caller").accountId, c.req.valid("param").id);
      if (n === null) throw notFound("stream");
      return c.json({ redelivered: n }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/streams/{id}/test",
      tags: ["streams"],
      summary: "Send a signed test webhook now (type stream.test, outside the stream's seq)",
      security,
      request: { params: StreamIdParam },
      responses: { 200: json(TestDeliverySchema, "What the receiver answered"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const result = await sendTestDelivery(deps, c.get("caller").accountId, c.req.valid("param").id);
      if (!result) throw notFound("stream");
      return c.json(result, 200);
    },
  );
}
