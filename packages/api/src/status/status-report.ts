import { STREAMS_CONSUMER } from "@second-layer/shared/chain-log";
import { healthSummary } from "@second-layer/shared/chain-status";
import type { Sql } from "@second-layer/shared/db/connect";

// GET /status: one cheap look at everything an operator watches. Every figure comes from an index or a
// small table (chain_state, stream and view counts, partial indexes on deliveries, attempts of the last day),
// never a scan of the chain; the route caches the answer for a few seconds on top.

export interface StatusReport {
  status: "ok" | "degraded";
  network: string;
  chainTip: { height: number; indexBlockHash: string; blockHash: string } | null;
  lastIndexedBlock: { height: number; indexBlockHash: string; blockHash: string } | null;
  lastContiguousBlock: { height: number; indexBlockHash: string; blockHash: string } | null;
  integrity: string;
  gaps: { start: number; end: number; size: number }[];
  totalMissingBlocks: number;
  blocksReceivedOutOfOrder: number;
  failedBodies: number;
  chainLog: { seq: number };
  queue: { pending: number; running: number; failed: number };
  streams: { active: number; paused: number; failed: number; disabled: number };
  views: { active: number; error: number };
  deliveries24h: { sent: number; failed: number };
  lag: { chainLogEntries: number; blocks: number };
  generatedAt: string;
}

/**
 * Gaps above the last contiguous block: the heights missing between it and the tip. Only the canonical
 * blocks above the contiguous run are read (none on a healthy chain).
 */
async function gapsAboveContiguous(sql: Sql, network: string, contiguous: number | null, tip: number | null) {
  if (contiguous === null || tip === null || tip <= contiguous) return [];
  const rows = await sql<{ block_height: number }[]>`
    select block_height from blocks
    where network = ${network} and canonical and block_height > ${contiguous}
    order by block_height`;
  const gaps: { start: number; end: number; size: number }[] = [];
  let previous = contiguous;
  for (const { block_height } of rows) {
    if (block_height > previous + 1) {
      gaps.push({ start: previous + 1, end: block_height - 1, size: block_height - previous - 1 });
    }
    previous = block_height;
  }
  return gaps;
}

export async function statusReport(sql: Sql, network: string): Promise<StatusReport> {
  const health = await healthSummary(sql, network);
  const [counts] = await sql<
    {
      pending: number;
      running: number;
      parked: number;
      active: number;
      paused: number;
      failed_streams: number;
      disabled: number;
      views_active: number;
      views_error: number;
      sent: number;
      failed_attempts: number;
      cursor: string | null;
      cursor_height: number | null;
    }[]
  >`
    select
      (select count(*)::int from deliveries where status = 'pending' and network = ${network}) as pending,
      (select count(*)::int from stream_state st join streams s on s.id = st.stream_id
        where s.network = ${network} and st.lease_until > now()) as running,
      (select count(*)::int from deliveries where status = 'failed' and network = ${network}) as parked,
      (select count(*)::int from streams where network = ${network} and status = 'active') as active,
      (select count(*)::int from streams where network = ${network} and status = 'paused') as paused,
      (select count(*)::int from streams where network = ${network} and status = 'failed') as failed_streams,
      (select count(*)::int from streams where network = ${network} and status = 'disabled') as disabled,
      (select count(*)::int from views where network = ${network} and status = 'active') as views_active,
      (select count(*)::int from views where network = ${network} and status = 'error') as views_error,
      (select count(*)::int from delivery_attempts a join streams s on s.id = a.stream_id
        where a.started_at > now() - interval '24 hours' and s.network = ${network}
          and a.status_code between 200 and 299) as sent,
      (select count(*)::int from delivery_attempts a join streams s on s.id = a.stream_id
        where a.started_at > now() - interval '24 hours' and s.network = ${network}
          and (a.status_code is null or a.status_code not between 200 and 299)) as failed_attempts,
      (select last_seq from chain_cursors where consumer = ${STREAMS_CONSUMER} and network = ${network}) as cursor,
      (select l.block_height from chain_cursors c
        join chain_log l on l.network = c.network and l.seq = c.last_seq
        where c.consumer = ${STREAMS_CONSUMER} and c.network = ${network}) as cursor_height`;
  const gaps = await gapsAboveContiguous(
    sql,
    network,
    health.lastContiguousBlock?.height ?? null,
    health.lastIndexedBlock?.height ?? null,
  );
  const tip = health.lastIndexedBlock?.height ?? null;
  const cursor = Number(counts?.cursor ?? 0);
  const degraded = health.integrity !== "healthy" && health.integrity !== "empty";
  return {
    status: degraded || (counts?.failed_streams ?? 0) > 0 || (counts?.views_error ?? 0) > 0 ? "degraded" : "ok",
    network,
    chainTip: health.lastIndexedBlock,
    lastIndexedBlock: health.lastIndexedBlock,
    lastContiguousBlock: health.lastContiguousBlock,
    integrity: health.integrity,
    gaps,
    totalMissingBlocks: gaps.reduce((n, g) => n + g.size, 0),
    blocksReceivedOutOfOrder: health.blocksReceivedOutOfOrder,
    failedBodies: health.failedBodies,
    chainLog: health.chainLog,
    queue: { pending: counts?.pending ?? 0, running: counts?.running ?? 0, failed: counts?.parked ?? 0 },
    streams: {
      active: counts?.active ?? 0,
      paused: counts?.paused ?? 0,
      failed: counts?.failed_streams ?? 0,
      disabled: counts?.disabled ?? 0,
    },
    views: { active: counts?.views_active ?? 0, error: counts?.views_error ?? 0 },
    deliveries24h: { sent: counts?.sent ?? 0, failed: counts?.failed_attempts ?? 0 },
    lag: {
      chainLogEntries: Math.max(0, health.chainLog.seq - cursor),
      blocks: tip !== null && counts?.cursor_height != null ? Math.max(0, tip - counts.cursor_height) : 0,
    },
    generatedAt: new Date().toISOString(),
  };
}
