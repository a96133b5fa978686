import type { Sql } from "@second-layer/shared/db/connect";
import type { IngestOutcome, Ingestor } from "./ingestor.ts";

export interface ReprocessSelection {
  /** Only this journal entry. */
  id?: string;
  /** Every journal entry of the network, not only unresolved failures. */
  all?: boolean;
}

/** Journal ids to re-run, oldest first: blocks must go through fork choice in the order they arrived. */
export async function selectForReprocess(sql: Sql, network: string, sel: ReprocessSelection): Promise<string[]> {
  if (sel.id) return [sel.id];
  const rows = sel.all
    ? await sql<{ id: string }[]>`select id from journal where network = ${network} order by id`
    : await sql<{ id: string }[]>`
        select f.journal_id as id from journal_failures f join journal j on j.id = f.journal_id
        where f.resolved_at is null and j.network = ${network} order by f.journal_id`;
  return rows.map((r) => r.id);
}

export async function reprocessJournal(
  sql: Sql,
  ingestor: Ingestor,
  sel: ReprocessSelection,
  onEach?: (outcome: IngestOutcome) => void,
): Promise<{ total: number; succeeded: number; failed: number }> {
  const ids = await selectForReprocess(sql, ingestor.network, sel);
  let succeeded = 0;
  for (const id of ids) {
    const outcome = await ingestor.reprocess(id);
    if (outcome.ok) succeeded++;
    onEach?.(outcome);
  }
  return { total: ids.length, succeeded, failed: ids.length - succeeded };
}
