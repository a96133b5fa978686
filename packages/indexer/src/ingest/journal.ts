import type { Sql } from "@second-layer/shared/db/connect";
import type { JournalTable } from "@second-layer/shared/db/tables";
import { toPostgresJson } from "@second-layer/shared/json-text";

/** Bodies are stored in pieces of this size (see the journal_chunks comment in migration 001). */
export const JOURNAL_CHUNK_BYTES = 16 * 1024 * 1024;

export interface JournalEntry {
  id: string;
  network: string;
  path: string;
  source: JournalSource;
  receivedAt: Date;
  body: Uint8Array;
}

export type JournalSource = JournalTable["source"];

export function sha256Hex(body: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(body).digest("hex");
}

/** Appends one POST body to the journal. Runs inside the caller's transaction. */
export async function appendJournal(
  sql: Sql,
  network: string,
  path: string,
  body: Uint8Array,
  source: JournalSource = "node",
  digest: string = sha256Hex(body),
): Promise<string> {
  const stored = Bun.zstdCompressSync(body, { level: 1 });
  const chunkCount = Math.max(1, Math.ceil(stored.byteLength / JOURNAL_CHUNK_BYTES));
  const first = stored.subarray(0, JOURNAL_CHUNK_BYTES);
  const [row] = await sql<{ id: string }[]>`
    with j as (
      insert into journal (network, path, source, byte_size, sha256, encoding, stored_size, chunk_count)
      values (${network}, ${path}, ${source}, ${body.byteLength}, ${digest}, 'zstd', ${stored.byteLength},
              ${chunkCount})
      returning id
    )
    insert into journal_chunks (journal_id, seq, data) select id, 0, ${first} from j
    returning journal_id as id`;
  if (!row) throw new Error("journal insert returned no row");
  for (let seq = 1; seq < chunkCount; seq++) {
    const piece = stored.subarray(seq * JOURNAL_CHUNK_BYTES, (seq + 1) * JOURNAL_CHUNK_BYTES);
    await sql`insert into journal_chunks (journal_id, seq, data) values (${row.id}, ${seq}, ${piece})`;
  }
  return row.id;
}

export async function readJournal(sql: Sql, id: string): Promise<JournalEntry> {
  const [meta] = await sql<
    {
      network: string;
      path: string;
      source: JournalSource;
      received_at: Date;
      byte_size: string;
      encoding: "identity" | "zstd";
      stored_size: string;
    }[]
  >`select network, path, source, received_at, byte_size, encoding, stored_size from journal where id = ${id}`;
  if (!meta) throw new Error(`journal entry ${id} not found`);
  const stored = new Uint8Array(Number(meta.stored_size));
  let offset = 0;
  // One chunk per query: memory holds the stored body and one chunk, never a whole result set.
  const seqs = await sql<{ seq: number }[]>`select seq from journal_chunks where journal_id = ${id} order by seq`;
  for (const { seq } of seqs) {
    const [chunk] = await sql<{ data: Buffer }[]>`
      select data from journal_chunks where journal_id = ${id} and seq = ${seq}`;
    if (!chunk) throw new Error(`journal entry ${id} is missing chunk ${seq}`);
    stored.set(chunk.data, offset);
    offset += chunk.data.byteLength;
  }
  if (offset !== stored.byteLength) throw new Error(`journal entry ${id} has ${offset} of ${stored.byteLength} bytes`);
  const body = meta.encoding === "zstd" ? new Uint8Array(Bun.zstdDecompressSync(stored)) : stored;
  if (body.byteLength !== Number(meta.byte_size)) {
    throw new Error(`journal entry ${id} decompressed to ${body.byteLength} bytes, expected ${meta.byte_size}`);
  }
  return {
    id,
    network: meta.network,
    path: meta.path,
    source: meta.source,
    receivedAt: meta.received_at,
    body,
  };
}

export interface FailureInfo {
  code: string;
  message: string;
  details?: unknown;
}

export async function recordFailure(sql: Sql, journalId: string, failure: FailureInfo): Promise<void> {
  // Error text can quote the body, and Postgres text cannot hold NUL.
  const details = failure.details === undefined ? null : toPostgresJson(failure.details);
  const message = failure.message.replaceAll("\u0000", "");
  await sql`
    insert into journal_failures (journal_id, error_code, error, details)
    values (${journalId}, ${failure.code}, ${message}, ${details}::text::jsonb)
    on conflict (journal_id) do update
      set error_code = excluded.error_code, error = excluded.error, details = excluded.details,
          failed_at = now(), attempts = journal_failures.attempts + 1, resolved_at = null`;
}

/**
 * The journal id of an earlier copy of this body when it is the newest one the node sent: the node
 * retries a POST (after its 1 s timeout, say) before it sends anything else, so a retry is exactly
 * that. An identical body after other POSTs is not a retry (a dropped transaction re-broadcast).
 */
export async function retriedBody(sql: Sql, network: string, path: string, digest: string): Promise<string | null> {
  const [newest] = await sql<{ id: string; path: string; sha256: string }[]>`
    select id, path, sha256 from journal where network = ${network} and source = 'node' order by id desc limit 1`;
  return newest && newest.path === path && newest.sha256 === digest ? newest.id : null;
}

export async function resolveFailure(sql: Sql, journalId: string): Promise<void> {
  await sql`update journal_failures set resolved_at = now() where journal_id = ${journalId}`;
}
