import type { Sql } from "@second-layer/shared/db/connect";
import { databaseUnavailableBody, errorBody } from "@second-layer/shared/error-body";
import { formatEventLogRow } from "@second-layer/shared/event-log";
import type { Logger } from "@second-layer/shared/logger";
import { z } from "zod";
import { journalEventLog } from "../ingest/journal-export.ts";

// `GET /journal/blocks?from=H&to=H`: the journaled `/new_block` bodies of this indexer's canonical blocks
// in a height range, as event-log rows (the format `replay` reads). Another indexer backfills from it.

/** Heights per request: bodies can be tens of MB, and a backfiller asks for one height at a time anyway. */
export const MAX_JOURNAL_BLOCKS_RANGE = 100;

const rangeSchema = z
  .object({ from: z.coerce.number().int().nonnegative(), to: z.coerce.number().int().nonnegative() })
  .refine((r) => r.to >= r.from && r.to - r.from < MAX_JOURNAL_BLOCKS_RANGE, {
    message: `need from <= to and at most ${MAX_JOURNAL_BLOCKS_RANGE} heights`,
  });

const encoder = new TextEncoder();

export async function journalBlocksResponse(
  sql: Sql,
  network: string,
  query: Record<string, string>,
  log: Logger,
): Promise<Response> {
  const range = rangeSchema.safeParse(query);
  if (!range.success) {
    return Response.json(errorBody("INVALID_RANGE", range.error.issues[0]?.message ?? "invalid range"), {
      status: 400,
    });
  }
  let journalIds: string[];
  try {
    const blocks = await sql<{ journal_id: string }[]>`
      select journal_id from blocks
      where network = ${network} and canonical and journal_id is not null
        and block_height between ${range.data.from} and ${range.data.to}
      order by block_height`;
    journalIds = blocks.map((b) => b.journal_id);
  } catch (err) {
    log.error({ err }, "journal export could not reach the database");
    return Response.json(databaseUnavailableBody(), { status: 503 });
  }
  // One body in memory at a time, however large the range's bodies are: the stream pulls the next row
  // only when the previous one has been taken.
  const rows = journalEventLog(sql, journalIds);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await rows.next();
        if (next.done) return controller.close();
        controller.enqueue(encoder.encode(`${formatEventLogRow(next.value)}\n`));
      } catch (err) {
        // Headers are already sent: cutting the response short is the only signal left.
        log.error({ err, from: range.data.from, to: range.data.to }, "journal export failed mid-response");
        controller.error(err);
      }
    },
    async cancel() {
      await rows.return(undefined);
    },
  });
  return new Response(body, { headers: { "content-type": "text/tab-separated-values; charset=utf-8" } });
}
