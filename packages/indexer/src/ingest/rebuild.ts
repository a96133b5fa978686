import type { Db, Sql } from "@second-layer/shared/db/connect";
import type { BlockSource } from "@second-layer/shared/db/tables";
import { newBlockSchema } from "@second-layer/shared/stacks/node-payloads";
import { blockRows } from "../store/block-rows.ts";
import { lockChainState, saveChainState, unchanged } from "../store/chain-state.ts";
import { replaceDerivedRows } from "../store/write-block-rows.ts";
import { readJournal } from "./journal.ts";

// `sl rebuild`: after an upgrade (a decoder that learned a new payload type, say), re-derives the
// chain tables of stored blocks from their journaled bodies with today's code. Blocks go in
// (height, index_block_hash) order; progress is kept in rebuild_runs, committed with each batch, so an
// interrupted rebuild of the same range resumes where it stopped. A canonical block whose rows changed
// gets a rollback and an apply in the chain log, so consumers (streams, views) see the new rows.

export interface RebuildOptions {
  from?: number;
  to?: number;
  /** Blocks per transaction: the chain lock is held for one batch at a time. */
  batchSize?: number;
  /** Start over even when an unfinished run of the same range exists. */
  restart?: boolean;
  onProgress?: (p: RebuildProgress) => void;
}

export interface RebuildProgress {
  from: number;
  to: number;
  total: number;
  done: number;
  changed: number;
  /** Blocks whose journaled body no longer parses (left as they are). */
  unreadable: number;
  resumed: boolean;
}

interface RunRow {
  from_height: number;
  to_height: number;
  done_height: number | null;
  done_hash: string | null;
  blocks_done: string;
  blocks_changed: string;
  finished_at: Date | null;
}

interface StoredBlock {
  index_block_hash: string;
  block_height: number;
  canonical: boolean;
  source: BlockSource;
  journal_id: string;
}

const decoder = new TextDecoder();

export async function rebuildChain(db: Db, network: string, opts: RebuildOptions = {}): Promise<RebuildProgress> {
  const { sql } = db;
  const [range] = await sql<{ lo: number | null; hi: number | null }[]>`
    select min(block_height) as lo, max(block_height) as hi from blocks where network = ${network}`;
  const from = opts.from ?? range?.lo ?? 0;
  const to = opts.to ?? range?.hi ?? -1;
  const run = await openRun(sql, network, from, to, opts.restart ?? false);
  const [count] = await sql<{ n: number }[]>`
    select count(*)::int as n from blocks
    where network = ${network} and journal_id is not null and block_height between ${from} and ${to}`;
  const progress: RebuildProgress = {
    from,
    to,
    total: count?.n ?? 0,
    done: Number(run.blocks_done),
    changed: Number(run.blocks_changed),
    unreadable: 0,
    resumed: run.done_height !== null,
  };
  let after = { height: run.done_height ?? from - 1, hash: run.done_hash ?? "" };
  const batchSize = opts.batchSize ?? 50;
  opts.onProgress?.(progress);
  for (;;) {
    const batch = await sql<StoredBlock[]>`
      select index_block_hash, block_height, canonical, source, journal_id from blocks
      where network = ${network} and journal_id is not null and block_height <= ${to}
        and (block_height, index_block_hash) > (${after.height}, ${after.hash})
      order by block_height, index_block_hash limit ${batchSize}`;
    if (batch.length === 0) break;
    // Decoding happens outside the transaction, so the chain lock is held only while writing.
    const prepared = await Promise.all(batch.map((b) => derive(sql, b)));
    const last = batch.at(-1) as StoredBlock;
    const changed = await sql.begin(async (tx) => {
      const state = await lockChainState(tx, network);
      let changedBlocks = 0;
      const canonicalChanged: string[] = [];
      for (const p of prepared) {
        if (!p.payload) continue;
        // Stored rows may have moved since they were read (fork choice): the canonical flag is re-read here.
        const [now] = await tx<{ canonical: boolean }[]>`
          select canonical from blocks where network = ${network} and index_block_hash = ${p.block.index_block_hash}`;
        const canonical = now?.canonical ?? p.block.canonical;
        const before = await rowsDigest(tx, network, p.block.index_block_hash);
        await replaceDerivedRows(tx, network, p.payload, blockRows(p.payload), {
          journalId: p.block.journal_id,
          source: p.block.source,
          canonical,
        });
        if ((await rowsDigest(tx, network, p.block.index_block_hash)) === before) continue;
        changedBlocks++;
        if (canonical) canonicalChanged.push(p.block.index_block_hash);
      }
      // Rollbacks highest first, then applies lowest first: the order every log reader expects.
      await saveChainState(
        tx,
        network,
        { rollback: [...canonicalChanged].reverse(), apply: canonicalChanged, reorgId: null },
        unchanged(state),
      );
      await tx`
        update rebuild_runs set done_height = ${last.block_height}, done_hash = ${last.index_block_hash},
          blocks_done = blocks_done + ${batch.length}, blocks_changed = blocks_changed + ${changedBlocks}
        where network = ${network} and from_height = ${from} and to_height = ${to}`;
      return changedBlocks;
    });
    progress.done += batch.length;
    progress.changed += changed;
    progress.unreadable += prepared.filter((p) => !p.payload).length;
    after = { height: last.block_height, hash: last.index_block_hash };
    opts.onProgress?.(progress);
  }
  await sql`
    update rebuild_runs set finished_at = now()
    where network = ${network} and from_height = ${from} and to_height = ${to}`;
  return progress;
}

/** Resumes the unfinished run of this range, or starts one. */
async function openRun(sql: Sql, network: string, from: number, to: number, restart: boolean): Promise<RunRow> {
  const [row] = await sql<RunRow[]>`
    insert into rebuild_runs (network, from_height, to_height) values (${network}, ${from}, ${to})
    on conflict (network, from_height, to_height) do update set
      done_height = case when rebuild_runs.finished_at is not null or ${restart} then null else rebuild_runs.done_height end,
      done_hash = case when rebuild_runs.finished_at is not null or ${restart} then null else rebuild_runs.done_hash end,
      blocks_done = case when rebuild_runs.finished_at is not null or ${restart} then 0 else rebuild_runs.blocks_done end,
      blocks_changed = case when rebuild_runs.finished_at is not null or ${restart} then 0 else rebuild_runs.blocks_changed end,
      started_at = case when rebuild_runs.finished_at is not null or ${restart} then now() else rebuild_runs.started_at end,
      finished_at = null
    returning from_height, to_height, done_height, done_hash, blocks_done, blocks_changed, finished_at`;
  if (!row) throw new Error("rebuild_runs upsert returned no row");
  return row;
}

async function derive(sql: Sql, block: StoredBlock) {
  const entry = await readJournal(sql, block.journal_id);
  const parsed = newBlockSchema.safeParse(safeJson(decoder.decode(entry.body)));
  return { block, payload: parsed.success ? parsed.data : null };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A digest of everything derived from a block's payload (not its canonical flag or arrival time). */
async function rowsDigest(sql: Sql, network: string, hash: string): Promise<string> {
  const [row] = await sql<{ digest: string }[]>`
    select md5(concat_ws('#',
      (select (to_jsonb(b) - 'canonical' - 'received_at')::text from blocks b
        where b.network = ${network} and b.index_block_hash = ${hash}),
      (select string_agg((to_jsonb(t) - 'canonical')::text, '|' order by t.txid) from transactions t
        where t.network = ${network} and t.index_block_hash = ${hash}),
      (select string_agg((to_jsonb(e) - 'canonical')::text, '|' order by e.event_index) from events e
        where e.network = ${network} and e.index_block_hash = ${hash}),
      (select string_agg((to_jsonb(u) - 'detected_at')::text, '|' order by u.kind, u.item, u.event_index)
        from unknown_items u where u.network = ${network} and u.index_block_hash = ${hash})
    )) as digest`;
  return row?.digest ?? "";
}
