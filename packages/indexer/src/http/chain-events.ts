import { readChainLog } from "@second-layer/shared/chain-log";
import type { Sql } from "@second-layer/shared/db/connect";
import { databaseUnavailableBody, errorBody } from "@second-layer/shared/error-body";
import type { Logger } from "@second-layer/shared/logger";
import { describeIssues } from "@second-layer/shared/stacks/node-payloads";
import { z } from "zod";

// `GET /chain/events?after=SEQ&limit=N`: the chain log, read-only. `next` is the `after` to ask with
// next time (the last seq returned, or `after` itself when nothing is newer).

export const MAX_CHAIN_EVENTS = 1000;

const querySchema = z.object({
  after: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(MAX_CHAIN_EVENTS).default(100),
});

export async function chainEventsResponse(
  sql: Sql,
  network: string,
  query: Record<string, string>,
  log: Logger,
): Promise<Response> {
  const parsed = querySchema.safeParse(query);
  if (!parsed.success) {
    const details = describeIssues(parsed.error);
    return Response.json(errorBody("INVALID_QUERY", `${details[0]?.path}: ${details[0]?.message}`, details), {
      status: 400,
    });
  }
  const { after, limit } = parsed.data;
  try {
    const events = await readChainLog(sql, network, after, limit);
    return Response.json({ events, next: events.at(-1)?.seq ?? after });
  } catch (err) {
    log.error({ err }, "reading the chain log failed");
    return Response.json(databaseUnavailableBody(), { status: 503 });
  }
}
