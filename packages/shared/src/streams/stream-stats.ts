import type { Sql } from "../db/connect.ts";

/** How a stream is doing: what waits, what went out, and how far behind the chain it is. */
export interface StreamStats {
  streamId: string;
  network: string;
  status: string;
  pending: number;
  parked: number;
  delivered: number;
  failedAttempts: number;
  lastDeliveredAt: string | null;
  lastDeliveredSeq: number | null;
  lastDeliveredHeight: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** The chain tip's height minus that of the oldest delivery still waiting; 0 when none waits. */
  lagBlocks: number;
}

interface StatsRow {
  id: string;
  network: string;
  status: string;
  pending: number;
  parked: number;
  oldest_pending: number | null;
  tip: number | null;
  delivered_count: string;
  failed_attempts: string;
  last_delivered_at: Date | null;
  last_delivered_seq: string | null;
  last_delivered_height: number | null;
  last_error: string | null;
  last_error_at: Date | null;
}

/** Stats of the given streams (all streams when `ids` is null). Index lookups per stream, no scans of deliveries. */
export async function streamStats(sql: Sql, ids: string[] | null): Promise<StreamStats[]> {
  const rows = await sql<StatsRow[]>`
    select s.id, s.network, s.status,
      (select count(*)::int from deliveries d where d.stream_id = s.id and d.status = 'pending') as pending,
      (select count(*)::int from deliveries d where d.stream_id = s.id and d.status = 'failed') as parked,
      (select d.block_height from deliveries d where d.stream_id = s.id and d.status = 'pending'
        order by d.ordinal limit 1) as oldest_pending,
      (select tip_height from chain_state c where c.network = s.network) as tip,
      st.delivered_count, st.failed_attempts, st.last_delivered_at, st.last_delivered_seq, st.last_delivered_height,
      st.last_error, st.last_error_at
    from streams s join stream_state st on st.stream_id = s.id
    where ${ids}::uuid[] is null or s.id = any(${ids}::uuid[])
    order by s.created_at, s.id`;
  return rows.map((r) => ({
    streamId: r.id,
    network: r.network,
    status: r.status,
    pending: r.pending,
    parked: r.parked,
    delivered: Number(r.delivered_count),
    failedAttempts: Number(r.failed_attempts),
    lastDeliveredAt: r.last_delivered_at?.toISOString() ?? null,
    lastDeliveredSeq: r.last_delivered_seq === null ? null : Number(r.last_delivered_seq),
    lastDeliveredHeight: r.last_delivered_height,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at?.toISOString() ?? null,
    lagBlocks: r.oldest_pending !== null && r.tip !== null ? Math.max(0, r.tip - r.oldest_pending) : 0,
  }));
}
