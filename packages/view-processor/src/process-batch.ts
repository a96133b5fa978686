import { loadBlocks } from "@second-layer/shared/chain-blocks";
import { type ChainLogEntry, readChainLog, withoutUndoneApplies } from "@second-layer/shared/chain-log";
import { type Db, isTransientDbError, type Sql } from "@second-layer/shared/db/connect";
import type { FilterIndex } from "@second-layer/shared/streams/match";
import { quoteIdent } from "@second-layer/shared/views/ddl";
import type { CompiledView } from "@second-layer/shared/views/definition";
import { planBlock, ViewHandlerError } from "@second-layer/shared/views/plan-block";
import { viewLockKey } from "@second-layer/shared/views/store";
import { OpWriter } from "./write-ops.ts";

/** A deployed view as the processor holds it: its compiled definition at a version. */
export interface LoadedView {
  id: string;
  name: string;
  schema: string;
  version: number;
  compiled: CompiledView;
  index: FilterIndex;
}

export interface BatchOptions {
  /** Chain log entries per transaction. */
  batchSize: number;
  /** Blocks this close to the tip are applied with undo data (they may still be rolled back). */
  undoDepth: number;
  /** Write each block's rows on their own (to find the block a failing write belongs to). */
  perBlock: boolean;
}

export type BatchOutcome =
  | { status: "progress"; entries: number; ops: number; events: number }
  | { status: "idle" }
  /** Another processor holds the view, or its definition changed: reload and move on. */
  | { status: "busy" }
  | { status: "stale" };

class Stale extends Error {}

/**
 * One transaction of a view's work: the next chain log entries after its cursor, applied (rows
 * written) or rolled back (its undo restored), and the cursor moved — all or nothing, so a crash
 * resumes exactly. Holds the view's advisory lock: one processor per view at a time, and no schema
 * change (deploy, rebuild) in the middle of it. Throws ViewHandlerError for a block whose handlers
 * cannot be applied; the caller records it.
 */
export async function processBatch(db: Db, view: LoadedView, opts: BatchOptions): Promise<BatchOutcome> {
  const { network, startBlock, definition } = view.compiled;
  try {
    return await db.sql.begin(async (tx) => {
      const [lock] = await tx<
        { ok: boolean }[]
      >`select pg_try_advisory_xact_lock(${viewLockKey(view.id).toString()}::bigint) as ok`;
      if (!lock?.ok) return { status: "busy" } as const;
      const [row] = await tx<{ version: number; status: string; last_seq: string }[]>`
        select version, status, last_seq from views where id = ${view.id}`;
      if (!row || row.version !== view.version || row.status !== "active") throw new Stale();
      const cursor = Number(row.last_seq);
      const read = await readChainLog(tx, network, cursor, opts.batchSize);
      if (read.length === 0) return { status: "idle" } as const;
      const [[state], rolledBack] = await Promise.all([
        tx<{ tip_height: number | null }[]>`select tip_height from chain_state where network = ${network}`,
        // Applied blocks the log rolls back after the cursor: for an apply the batch keeps, later on
        // (a rollback just after it in the batch drops them both; one before it, of an earlier apply,
        // only makes the re-apply undoable for nothing).
        tx<{ index_block_hash: string }[]>`
          select distinct index_block_hash from chain_log
          where network = ${network} and kind = 'rollback' and seq > ${cursor}
            and index_block_hash = any(${read.filter((e) => e.kind === "apply").map((e) => e.indexBlockHash)}::text[])`,
      ]);
      const tip = state?.tip_height ?? 0;
      const willRollBack = new Set(rolledBack.map((r) => r.index_block_hash));
      const undoable = (e: ChainLogEntry) => tip - e.height < opts.undoDepth || willRollBack.has(e.indexBlockHash);
      const entries = withinUndoBudget(read, (e) => e.kind === "apply" && e.height >= startBlock && undoable(e));
      const last = entries.at(-1) as ChainLogEntry;
      const kept = withoutUndoneApplies(entries).filter((e) => e.height >= startBlock);
      const blocks = await loadBlocks(
        tx,
        network,
        kept.filter((e) => e.kind === "apply").map((e) => e.indexBlockHash),
      );
      const schema = quoteIdent(view.schema);
      const writer = new OpWriter(view.schema, definition);
      let height = 0;
      let ops = 0;
      let events = 0;
      // A write that fails is reported at the block being written (exact in per-block mode). Queuing
      // a block's operations writes too (a change of operation on a table writes what it had).
      const written = async (write: Promise<void>) => {
        try {
          await write;
        } catch (err) {
          if (isTransientDbError(err)) throw err;
          throw new ViewHandlerError(`writing the view's rows failed: ${(err as Error).message}`, height);
        }
      };
      const flush = () => written(writer.flush(tx));
      for (const entry of kept) {
        height = entry.height;
        if (entry.kind === "rollback") {
          await flush();
          const [marker] = await tx.unsafe(
            `select exists (select 1 from ${schema}."_undo" where index_block_hash = $1 and table_name = '') as ok`,
            [entry.indexBlockHash],
          );
          if (!marker?.ok) {
            throw new ViewHandlerError(
              `block ${entry.indexBlockHash} was rolled back, but it was applied without undo data (it was deeper than VIEW_UNDO_DEPTH below the tip); reindex the view`,
              entry.height,
            );
          }
          await tx`select second_layer_view_undo(${view.schema}, ${entry.indexBlockHash})`;
          continue;
        }
        const data = blocks.get(entry.indexBlockHash);
        if (!data) throw new Error(`chain log seq ${entry.seq}: block ${entry.indexBlockHash} is not stored`);
        const planned = planBlock(view.compiled, view.index, data);
        ops += planned.length;
        events += data.rows.events.length;
        await written(writer.add(tx, planned, undoable(entry) ? entry : null));
        if (opts.perBlock) await flush();
      }
      await flush();
      // Undo data deeper than undoDepth goes, except a block's that the log rolls back further on: a
      // view behind the tip (catching up, rebuilt, stopped for a while) still needs it then.
      await tx.unsafe(
        `delete from ${schema}."_undo" u where u.block_height < $1 and not exists (
           select 1 from chain_log l where l.index_block_hash = u.index_block_hash and l.network = $2
             and l.kind = 'rollback' and l.seq > $3)`,
        [tip - opts.undoDepth, network, last.seq],
      );
      // The newest block the tables reflect: the last applied, or the parent of the last rolled back.
      const newest = kept.at(-1);
      const reached = newest ? (newest.kind === "apply" ? newest.height : newest.height - 1) : null;
      const moved = await tx`
        update views set last_seq = ${last.seq}, updated_at = now(),
          processed_height = coalesce(${reached}::int, processed_height)
        where id = ${view.id} and last_seq = ${cursor} and version = ${view.version}`;
      if (moved.count !== 1) throw new Stale();
      return { status: "progress", entries: entries.length, ops, events } as const;
    });
  } catch (err) {
    if (err instanceof Stale) return { status: "stale" };
    throw err;
  }
}

/**
 * Undoable blocks per transaction. Their upserts are written block by block (see write-ops.ts), so a
 * row written in every block gets a new version per block, and in one transaction none of them can
 * be pruned: each write of the row walks all its versions. Committing every so many blocks keeps
 * that walk short.
 */
const UNDOABLE_BLOCKS_PER_BATCH = 50;

/** The entries up to (not including) the one that would make too many undoable blocks for a transaction. */
function withinUndoBudget(entries: ChainLogEntry[], undoable: (e: ChainLogEntry) => boolean): ChainLogEntry[] {
  let count = 0;
  const cut = entries.findIndex((e) => undoable(e) && ++count > UNDOABLE_BLOCKS_PER_BATCH);
  return cut < 0 ? entries : entries.slice(0, cut);
}

/** Stops a view at the block it could not apply, with a reason a person can act on. */
export async function recordViewError(sql: Sql, view: LoadedView, err: ViewHandlerError): Promise<void> {
  await sql`
    update views set status = 'error', status_reason = ${err.message.slice(0, 2000)}, error_height = ${err.height},
      updated_at = now()
    where id = ${view.id} and version = ${view.version}`;
}
