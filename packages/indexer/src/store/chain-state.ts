import { CHAIN_CHANNEL, CHAIN_TASK } from "@second-layer/shared/chain-log";
import type { Sql } from "@second-layer/shared/db/connect";
import type { ChainTip } from "./fork-choice.ts";

// chain_state holds one row per network: the tip, the figures /health reads without scanning, and
// the chain log's counter. Its row lock serializes everything that changes the canonical chain.

export interface ChainState {
  tip: ChainTip | null;
  highestHeightSeen: number | null;
  lowestHeight: number | null;
  contiguousHeight: number | null;
}

interface ChainStateRow {
  tip_index_block_hash: string | null;
  tip_height: number | null;
  highest_height_seen: number | null;
  lowest_height: number | null;
  contiguous_height: number | null;
}

/** Takes the network's chain lock (held until the caller's transaction ends) and reads the state. */
export async function lockChainState(sql: Sql, network: string): Promise<ChainState> {
  // An upsert that updates takes the row lock even when the row is new.
  const [row] = await sql<ChainStateRow[]>`
    insert into chain_state (network) values (${network})
    on conflict (network) do update set network = excluded.network
    returning tip_index_block_hash, tip_height, highest_height_seen, lowest_height, contiguous_height`;
  if (!row) throw new Error("chain_state upsert returned no row");
  return {
    tip:
      row.tip_index_block_hash !== null && row.tip_height !== null
        ? { indexBlockHash: row.tip_index_block_hash, height: row.tip_height }
        : null,
    highestHeightSeen: row.highest_height_seen,
    lowestHeight: row.lowest_height,
    contiguousHeight: row.contiguous_height,
  };
}

/** What one locked change did to the canonical chain: rollbacks highest first, then applies lowest first. */
export interface ChainChanges {
  rollback: string[];
  apply: string[];
  reorgId: string | null;
}

export interface StateUpdate {
  tip: ChainTip | null;
  lowestHeight: number | null;
  /** A block height that arrived (raises highest_height_seen); null when no block arrived. */
  seenHeight: number | null;
  /** Where the scan for the end of the contiguous run starts; null keeps the stored value. */
  contiguousFrom: number | null;
  outOfOrder: boolean;
}

/** The update that leaves the figures as they are (log entries only). */
export function unchanged(state: ChainState): StateUpdate {
  return {
    tip: state.tip,
    lowestHeight: state.lowestHeight,
    seenHeight: null,
    contiguousFrom: null,
    outOfOrder: false,
  };
}

/**
 * Appends the changes to the chain log with the next seqs, saves the state and, when the log grew,
 * adds the wake-ups (a graphile-worker job, one per network thanks to its key, and a NOTIFY). One
 * statement, so the hot path pays one round trip; it all commits with the caller's transaction.
 * Returns the newest seq.
 */
export async function saveChainState(
  sql: Sql,
  network: string,
  changes: ChainChanges,
  update: StateUpdate,
): Promise<number> {
  const kinds = [...changes.rollback.map(() => "rollback"), ...changes.apply.map(() => "apply")];
  const hashes = [...changes.rollback, ...changes.apply];
  const n = hashes.length;
  const [row] = await sql<{ log_seq: string; logged: number }[]>`
    with state as (
      update chain_state set
        tip_index_block_hash = ${update.tip?.indexBlockHash ?? null},
        tip_height = ${update.tip?.height ?? null},
        highest_height_seen = greatest(highest_height_seen, ${update.seenHeight}::int),
        lowest_height = ${update.lowestHeight},
        contiguous_height = case when ${update.contiguousFrom}::int is null then contiguous_height else (
          select b.block_height from blocks b
          where b.network = ${network} and b.canonical and b.block_height >= ${update.contiguousFrom}::int
            and not exists (
              select 1 from blocks x where x.network = ${network} and x.canonical and x.block_height = b.block_height + 1)
          order by b.block_height limit 1) end,
        blocks_out_of_order = blocks_out_of_order + ${update.outOfOrder ? 1 : 0},
        log_seq = log_seq + ${n},
        updated_at = now()
      where network = ${network}
      returning log_seq
    ),
    logged as (
      insert into chain_log (network, seq, kind, index_block_hash, block_hash, block_height, parent_index_block_hash,
                             burn_block_height, reorg_id)
      select ${network}, state.log_seq - ${n} + e.ord, e.kind, b.index_block_hash, b.block_hash, b.block_height,
        b.parent_index_block_hash, b.burn_block_height, ${changes.reorgId}::bigint
      from state
      cross join unnest(${kinds}::text[], ${hashes}::text[]) with ordinality as e(kind, hash, ord)
      join blocks b on b.network = ${network} and b.index_block_hash = e.hash
      returning 1
    ),
    wake as (
      select json_build_object('network', ${network}::text, 'seq', state.log_seq) as note from state where ${n} > 0
    )
    select state.log_seq, (select count(*)::int from logged) as logged,
      (select count(*) from wake,
        lateral graphile_worker.add_job(${CHAIN_TASK}, wake.note, job_key := ${`${CHAIN_TASK}:${network}`})) as jobs,
      (select count(*) from wake, lateral pg_notify(${CHAIN_CHANNEL}, wake.note::text)) as notes
    from state`;
  if (!row) throw new Error(`chain_state row of ${network} is missing`);
  if (row.logged !== n) throw new Error(`chain log: ${row.logged} of ${n} entries written (unknown block)`);
  return Number(row.log_seq);
}
