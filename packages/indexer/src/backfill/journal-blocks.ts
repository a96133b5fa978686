import type { Sql } from "@second-layer/shared/db/connect";
import { formatEventLogRow, jsonOnOneLine } from "@second-layer/shared/event-log";
import type { Logger } from "@second-layer/shared/logger";
import { z } from "zod";
import { databaseUnavailableBody, errorBody } from "../http/errors.ts";
import { readJournal } from "../ingest/journal.ts";

// `GET /journal/blocks?from=H&to=H`: the journaled `/new_block` bodies of this indexer's canonical blocks
// in a height range, as event-log rows (the format `replay` reads). Another indexer backfills from it.

/** Heights per request: bodies can be tens of MB, and a backfiller asks for one height at a time anyway. */
export const MAX_JOURNAL_BLOCKS_RANGE = 100;

const rangeSchema = z
  .object({ from: z.coerce.number().int().nonnegative(), to: z.coerce.number().int().nonnegative() })
  .refine((r) => r.to >= r.from && r.to - r.from < MAX_JOURNAL_BLOCKS_RANGE, {
    message: `need from <= to and at most ${MAX_JOURNAL_BLOCKS_RANGE} heights`,
  });

const decoder = new TextDecoder();
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
  let blocks: { block_height: number; journal_id: string }[];
  try {
    blocks = await sql`
      select block_height, journal_id from blocks
      where network = ${network} and canonical and journal_id is not null
        and block_height between ${range.data.from} and ${range.data.to}
      order by block_height`;
  } catch (err) {
    log.error({ err }, "journal export could not reach the database");
    return Response.json(databaseUnavailableBody(), { status: 503 });
  }
  // One body in memory at a time, however large the range's bodies are.
  const pending = [...blocks];
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = pending.shift();
      if (!next) return controller.close();
      try {
        const entry = await readJournal(sql, next.journal_id);
        const payload = jsonOnOneLine(decoder.decode(entry.body));
        const row = { id: entry.id, receivedAt: entry.receivedAt.toISOString(), path: entry.path, payload };
        controller.enqueue(encoder.encode(`${formatEventLogRow(row)}\n`));
      } catch (err) {
        // Headers are already sent: cutting the response short is the only signal left.
        log.error({ err, height: next.block_height, journalId: next.journal_id }, "journal export failed mid-response");
        controller.error(err);
      }
    },
  });
  return new Response(body, { headers: { "content-type": "text/tab-separated-values; charset=utf-8" } });
}
