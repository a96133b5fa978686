import type { Sql } from "@second-layer/shared/db/connect";
import { type EventLogRow, jsonOnOneLine } from "@second-layer/shared/event-log";
import { type JournalEntry, readJournal } from "./journal.ts";

// Journal entries as event-log rows (the format `replay` reads). One exporter serves `sl export` and
// `GET /journal/blocks`, so a backfilled block and a replayed export carry the same bytes.

export interface ExportOptions {
  fromId?: string;
  paths?: string[];
  batch?: number;
}

const decoder = new TextDecoder();

/**
 * One entry as an event-log row: the body byte for byte except line breaks between JSON tokens.
 * A body that is not JSON at all cannot be replayed: null.
 */
function eventLogRowOf(entry: JournalEntry): EventLogRow | null {
  const text = decoder.decode(entry.body);
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  return { id: entry.id, receivedAt: entry.receivedAt.toISOString(), path: entry.path, payload: jsonOnOneLine(text) };
}

/** The rows of some journal entries in the order given, reading one body at a time; non-JSON bodies are skipped. */
export async function* journalEventLog(
  sql: Sql,
  ids: Iterable<string> | AsyncIterable<string>,
): AsyncGenerator<EventLogRow> {
  for await (const id of ids) {
    const row = eventLogRowOf(await readJournal(sql, id));
    if (row) yield row;
  }
}

/** The journal of a network, oldest first, optionally from an id on and limited to some paths. */
export function exportJournal(sql: Sql, network: string, opts: ExportOptions = {}): AsyncGenerator<EventLogRow> {
  return journalEventLog(sql, journalIds(sql, network, opts));
}

async function* journalIds(sql: Sql, network: string, opts: ExportOptions): AsyncGenerator<string> {
  let after = opts.fromId ? BigInt(opts.fromId) - 1n : 0n;
  const batch = opts.batch ?? 500;
  const paths = opts.paths ?? null;
  for (;;) {
    const ids = await sql<{ id: string }[]>`
      select id from journal
      where network = ${network} and id > ${after.toString()}
        and (${paths}::text[] is null or path = any(${paths}::text[]))
      order by id limit ${batch}`;
    if (ids.length === 0) return;
    for (const { id } of ids) yield id;
    after = BigInt(ids.at(-1)?.id ?? after);
  }
}
