import type { Sql } from "@second-layer/shared/db/connect";
import { type EventLogRow, jsonOnOneLine } from "@second-layer/shared/event-log";
import { readJournal } from "./journal.ts";

export interface ExportOptions {
  fromId?: string;
  paths?: string[];
  batch?: number;
}

const decoder = new TextDecoder();

/**
 * The journal as event-log rows (the format `replay` reads), oldest first, bodies byte for byte
 * except line breaks between JSON tokens. Bodies that are not JSON at all cannot be replayed and are skipped.
 */
export async function* exportJournal(sql: Sql, network: string, opts: ExportOptions = {}): AsyncGenerator<EventLogRow> {
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
    for (const { id } of ids) {
      const entry = await readJournal(sql, id);
      const text = decoder.decode(entry.body);
      try {
        JSON.parse(text);
      } catch {
        continue;
      }
      const payload = jsonOnOneLine(text);
      yield { id, receivedAt: entry.receivedAt.toISOString(), path: entry.path, payload };
    }
    after = BigInt(ids.at(-1)?.id ?? after);
  }
}
