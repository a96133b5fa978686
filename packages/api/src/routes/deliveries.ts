import { createRoute, z } from "@hono/zod-openapi";
import { type DeliveryPayload, deliveryBody } from "@second-layer/shared/streams/delivery-body";
import { getStream } from "@second-layer/shared/streams/store";
import { COMMON_ERRORS, NOT_FOUND_ERROR, notFound } from "../http/api-error.ts";
import type { ApiApp, ApiDeps } from "../http/app-env.ts";
import { json, security } from "../http/openapi-parts.ts";
import { DeliveryDetailSchema, DeliveryListSchema, DeliveryStatus, StreamIdParam } from "../schemas/stream-schemas.ts";

const deliveryColumns = [
  "id",
  "stream_id",
  "ordinal",
  "seq",
  "kind",
  "status",
  "block_height",
  "index_block_hash",
  "is_backfill",
  "attempts",
  "next_attempt_at",
  "created_at",
  "first_sent_at",
  "delivered_at",
  "last_status",
  "last_error",
] as const;

interface DeliveryRow {
  id: string;
  stream_id: string;
  ordinal: string;
  seq: string | null;
  kind: "apply" | "rollback";
  status: "pending" | "delivered" | "failed" | "cancelled";
  block_height: number;
  index_block_hash: string;
  is_backfill: boolean;
  attempts: number;
  next_attempt_at: Date | null;
  created_at: Date;
  first_sent_at: Date | null;
  delivered_at: Date | null;
  last_status: number | null;
  last_error: string | null;
}

function deliveryView(r: DeliveryRow) {
  return {
    id: r.id,
    streamId: r.stream_id,
    seq: r.seq === null ? null : Number(r.seq),
    kind: r.kind,
    status: r.status,
    blockHeight: r.block_height,
    indexBlockHash: r.index_block_hash,
    isBackfill: r.is_backfill,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
    firstSentAt: r.first_sent_at?.toISOString() ?? null,
    deliveredAt: r.delivered_at?.toISOString() ?? null,
    lastStatus: r.last_status,
    lastError: r.last_error,
  };
}

const ListQuery = z.object({
  status: DeliveryStatus.optional(),
  fromBlock: z.coerce.number().int().nonnegative().optional(),
  toBlock: z.coerce.number().int().nonnegative().optional(),
  afterSeq: z.coerce.number().int().nonnegative().optional().openapi({
    description: "Only deliveries sent with a seq above this one: what a consumer that saw up to N missed",
  }),
  cursor: z.string().regex(/^\d+$/).optional().openapi({ description: "`next` of the previous page" }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export function registerDeliveryRoutes(app: ApiApp, deps: ApiDeps): void {
  const { db } = deps;

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/streams/{id}/deliveries",
      tags: ["deliveries"],
      summary: "A stream's deliveries in queue order (seq order for those sent)",
      security,
      request: { params: StreamIdParam, query: ListQuery },
      responses: { 200: json(DeliveryListSchema, "A page of deliveries"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const streamId = c.req.valid("param").id;
      const q = c.req.valid("query");
      if (!(await getStream(db.sql, c.get("caller").accountId, streamId))) throw notFound("stream");
      // Composed from optional filters: kysely keeps every value a bound parameter.
      let query = db.kysely
        .selectFrom("deliveries")
        .select(deliveryColumns)
        .where("stream_id", "=", streamId)
        .orderBy("ordinal")
        .limit(q.limit);
      if (q.status) query = query.where("status", "=", q.status);
      if (q.fromBlock !== undefined) query = query.where("block_height", ">=", q.fromBlock);
      if (q.toBlock !== undefined) query = query.where("block_height", "<=", q.toBlock);
      if (q.afterSeq !== undefined) query = query.where("seq", ">", String(q.afterSeq));
      if (q.cursor) query = query.where("ordinal", ">", q.cursor);
      const rows = (await query.execute()) as unknown as DeliveryRow[];
      const next = rows.length === q.limit ? (rows.at(-1)?.ordinal ?? null) : null;
      return c.json({ deliveries: rows.map(deliveryView), next }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/streams/{id}/deliveries/{deliveryId}",
      tags: ["deliveries"],
      summary: "One delivery: its body and every attempt",
      security,
      request: {
        params: StreamIdParam.extend({
          deliveryId: z
            .string()
            .uuid()
            .openapi({ param: { name: "deliveryId", in: "path" } }),
        }),
      },
      responses: { 200: json(DeliveryDetailSchema, "The delivery"), ...COMMON_ERRORS, ...NOT_FOUND_ERROR },
    }),
    async (c) => {
      const { id, deliveryId } = c.req.valid("param");
      if (!(await getStream(db.sql, c.get("caller").accountId, id))) throw notFound("stream");
      const row = (await db.kysely
        .selectFrom("deliveries")
        .select([...deliveryColumns, "payload"])
        .where("stream_id", "=", id)
        .where("id", "=", deliveryId)
        .executeTakeFirst()) as (DeliveryRow & { payload: DeliveryPayload }) | undefined;
      if (!row) throw notFound("delivery");
      const attempts = await db.kysely
        .selectFrom("delivery_attempts")
        .select(["id", "attempt", "started_at", "duration_ms", "status_code", "error", "response_snippet", "worker"])
        .where("delivery_id", "=", deliveryId)
        .orderBy("attempt")
        .execute();
      // What was (or will be) sent: the stored payload with its seq once it has one.
      const payload = row.seq === null ? row.payload : JSON.parse(deliveryBody(row.payload, Number(row.seq)));
      return c.json(
        {
          ...deliveryView(row),
          payload,
          attemptLog: attempts.map((a) => ({
            id: String(a.id),
            attempt: a.attempt,
            startedAt: new Date(a.started_at).toISOString(),
            durationMs: a.duration_ms,
            statusCode: a.status_code,
            error: a.error,
            responseSnippet: a.response_snippet,
            worker: a.worker,
          })),
        },
        200,
      );
    },
  );
}
