import type { Sql } from "@second-layer/shared/db/connect";
import { toPostgresJson } from "@second-layer/shared/json-text";
import type { DeliveryPayload } from "@second-layer/shared/streams/delivery-body";

// Turning matches and rollbacks into delivery rows. Deliveries are planned in memory in the order the
// chain log gives them, then written in one statement that hands out each stream's ordinals from
// stream_state, so a stream's deliveries are ordered exactly as the log was.

export interface NewDelivery {
  streamId: string;
  kind: "apply" | "rollback";
  indexBlockHash: string;
  blockHeight: number;
  burnBlockHeight: number;
  chainSeq: number | null;
  isBackfill: boolean;
  holdUntilBurnHeight: number | null;
  payload: DeliveryPayload;
}

/**
 * Inserts deliveries with the next ordinals of their streams, in list order, and marks those streams
 * due for senders (unless they already wait for a retry). Runs in the caller's transaction.
 */
export async function writeDeliveries(sql: Sql, network: string, deliveries: NewDelivery[]): Promise<number> {
  if (deliveries.length === 0) return 0;
  const perStream = new Map<string, number>();
  const rows = deliveries.map((d) => {
    const rel = perStream.get(d.streamId) ?? 0;
    perStream.set(d.streamId, rel + 1);
    return {
      stream_id: d.streamId,
      rel,
      kind: d.kind,
      index_block_hash: d.indexBlockHash,
      block_height: d.blockHeight,
      burn_block_height: d.burnBlockHeight,
      chain_seq: d.chainSeq,
      is_backfill: d.isBackfill,
      hold_until_burn_height: d.holdUntilBurnHeight,
      payload: d.payload,
    };
  });
  const counts = [...perStream.entries()];
  const ids = counts.map(([id]) => id);
  const inserted = await sql`
    with locked as (
      -- In stream order, as senders recording many streams at once lock them: no deadlock between them.
      select stream_id from stream_state where stream_id = any(${ids}::uuid[]) order by stream_id for update
    ),
    claimed as (
      update stream_state s set next_ordinal = s.next_ordinal + c.n, due_at = coalesce(s.due_at, now())
      from unnest(${ids}::uuid[], ${counts.map(([, n]) => n)}::int[]) as c(stream_id, n)
      where s.stream_id = c.stream_id and s.stream_id = any(array(select stream_id from locked))
      returning s.stream_id, s.next_ordinal - c.n as base
    )
    insert into deliveries (stream_id, ordinal, kind, network, index_block_hash, block_height, burn_block_height,
      chain_seq, is_backfill, hold_until_burn_height, payload)
    select r.stream_id, claimed.base + r.rel, r.kind, ${network}, r.index_block_hash, r.block_height,
      r.burn_block_height, r.chain_seq, r.is_backfill, r.hold_until_burn_height, r.payload
    -- jsonb: the rows are parsed once, and each payload is taken as it is; json_to_recordset would
    -- validate the text, parse it again to split the rows, and parse every payload a third time.
    from jsonb_to_recordset(${toPostgresJson(rows)}::text::jsonb) as r(
      stream_id uuid, rel integer, kind text, index_block_hash text, block_height integer, burn_block_height integer,
      chain_seq bigint, is_backfill boolean, hold_until_burn_height integer, payload jsonb)
    join claimed on claimed.stream_id = r.stream_id`;
  return inserted.count;
}

interface DeliveryRow {
  id: string;
  stream_id: string;
  kind: "apply" | "rollback";
  seq: string | null;
  status: string;
  index_block_hash: string;
  block_height: number;
  burn_block_height: number;
  payload: DeliveryPayload;
}

/**
 * What rolling back `hashes` means for the streams told about them: per stream and block, the applies
 * not yet undone by a rollback. Unsent ones (no seq yet) are cancelled; if any was sent, the stream
 * gets a `block.rollback` carrying the matches of the last apply it was sent. With `streamId`, only
 * that stream (a catch-up reconciling its own applies).
 */
export async function planRollbacks(
  sql: Sql,
  network: string,
  hashes: string[],
  chainSeqOf: (hash: string) => number | null,
  streamId?: string,
): Promise<Map<string, NewDelivery[]>> {
  const out = new Map<string, NewDelivery[]>();
  if (hashes.length === 0) return out;
  const rows = await sql<DeliveryRow[]>`
    select id, stream_id, kind, seq, status, index_block_hash, block_height, burn_block_height, payload
    from deliveries
    where index_block_hash = any(${hashes}::text[]) and network = ${network} and status <> 'cancelled'
      and (${streamId ?? null}::uuid is null or stream_id = ${streamId ?? null}::uuid)
    order by stream_id, ordinal`;
  const groups = new Map<string, DeliveryRow[]>();
  for (const r of rows) {
    const key = `${r.stream_id} ${r.index_block_hash}`;
    const g = groups.get(key) ?? [];
    // A rollback undoes every apply before it: only applies after the last rollback are still live.
    if (r.kind === "rollback") g.length = 0;
    else g.push(r);
    groups.set(key, g);
  }
  const unsent = [...groups.values()].flat().filter((r) => r.seq === null && r.status === "pending");
  const cancelled = new Set<string>();
  if (unsent.length > 0) {
    // A sender may hand one of them its seq at this very moment; the row lock decides, and an apply
    // that got its seq first is rolled back like any sent one.
    const done = await sql<{ id: string }[]>`
      update deliveries set status = 'cancelled'
      where id = any(${unsent.map((r) => r.id)}::uuid[]) and seq is null and status = 'pending'
      returning id`;
    for (const r of done) cancelled.add(r.id);
  }
  for (const applies of groups.values()) {
    const sent = applies.filter((a) => !cancelled.has(a.id));
    const last = sent.at(-1);
    if (!last) continue;
    const rollback: NewDelivery = {
      streamId: last.stream_id,
      kind: "rollback",
      indexBlockHash: last.index_block_hash,
      blockHeight: last.block_height,
      burnBlockHeight: last.burn_block_height,
      chainSeq: chainSeqOf(last.index_block_hash),
      isBackfill: false,
      holdUntilBurnHeight: null,
      payload: { ...last.payload, type: "block.rollback", isBackfill: false },
    };
    out.set(last.index_block_hash, [...(out.get(last.index_block_hash) ?? []), rollback]);
  }
  return out;
}
