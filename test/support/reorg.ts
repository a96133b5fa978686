import type { EventLogRow } from "@second-layer/shared/event-log";
import type { Received } from "./webhook-receiver.ts";

/** A recording cut after the /new_block of `indexBlockHash`: what comes before (with it) and after. */
export function splitAfterBlock(rows: EventLogRow[], indexBlockHash: string): [EventLogRow[], EventLogRow[]] {
  const cut = rows.findIndex(
    (r) => r.path === "/new_block" && JSON.parse(r.payload).index_block_hash === indexBlockHash,
  );
  if (cut < 0) throw new Error(`no /new_block for ${indexBlockHash} in the recording`);
  return [rows.slice(0, cut + 1), rows.slice(cut + 1)];
}

/**
 * Where in what a receiver got (-1: nowhere) are the rollback of the orphaned block and the apply of
 * the canonical block that replaced it at its height.
 */
export function rollbackAndReplacement(
  received: Received[],
  orphan: { index_block_hash: string; block_height: number },
  canonical: ReadonlySet<string>,
): { rollback: number; replacement: number } {
  return {
    rollback: received.findIndex(
      (r) => r.body.type === "block.rollback" && r.body.block.indexBlockHash === orphan.index_block_hash,
    ),
    replacement: received.findIndex(
      (r) =>
        r.body.type === "block.apply" &&
        r.body.block.height === orphan.block_height &&
        canonical.has(r.body.block.indexBlockHash),
    ),
  };
}
