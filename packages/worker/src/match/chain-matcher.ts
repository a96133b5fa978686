import { type BlockData, loadBlocks } from "@second-layer/shared/chain-blocks";
import {
  type ChainLogEntry,
  readChainLog,
  STREAMS_CONSUMER,
  withoutUndoneApplies,
} from "@second-layer/shared/chain-log";
import type { StacksNetwork } from "@second-layer/shared/config";
import type { Db, Sql } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import { DELIVERIES_CHANNEL } from "@second-layer/shared/streams/delivery-body";
import type { WorkerMetrics } from "../metrics.ts";
import { catchUpStep } from "./catch-up.ts";
import { type NewDelivery, planRollbacks, writeDeliveries } from "./delivery-plan.ts";
import { applyDelivery } from "./payloads.ts";
import { StreamRegistry } from "./stream-registry.ts";

/** Advisory lock keys: one matcher per network across every worker process. */
export const MATCHER_LOCK_KEYS: Record<StacksNetwork, number> = {
  mainnet: 7_241_978_001,
  testnet: 7_241_978_002,
  devnet: 7_241_978_003,
};

export interface ChainMatcherOptions {
  db: Db;
  network: StacksNetwork;
  log: Logger;
  metrics: WorkerMetrics;
  /** Log entries per transaction. */
  batchSize?: number;
  /** Blocks per catch-up step of a stream with a startBlock below the tip. */
  catchUpBlocks?: number;
  /** Safety net when a wake-up is missed; and how often a standby tries to take over. */
  pollMs?: number;
}

/** The cursor moved under us: another matcher wrote it (this one lost its lock). */
class CursorMoved extends Error {}

/**
 * Follows one network's chain log and turns each change into deliveries. Every worker process runs
 * one per network it serves, but only the holder of the network's advisory lock works; the others
 * stand by and take over if it goes away. For each batch of log entries, one transaction writes the
 * deliveries and advances the durable cursor, so a crash resumes exactly where it stopped.
 */
export class ChainMatcher {
  private readonly registry: StreamRegistry;
  private readonly batchSize: number;
  private readonly catchUpBlocks: number;
  private readonly pollMs: number;
  private stopping = false;
  private wake: (() => void) | null = null;
  /** A poke came since the loop last started looking: it must look again before it sleeps. */
  private poked = false;
  private running: Promise<void> | null = null;
  private lockConn: Awaited<ReturnType<Db["sql"]["reserve"]>> | null = null;
  /** The last seq whose changes were matched (the durable cursor, as this process last wrote it). */
  cursor = 0;
  leading = false;

  constructor(private readonly opts: ChainMatcherOptions) {
    this.registry = new StreamRegistry(opts.network, opts.log);
    this.batchSize = opts.batchSize ?? 200;
    this.catchUpBlocks = opts.catchUpBlocks ?? 100;
    this.pollMs = opts.pollMs ?? 1000;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Something happened (the log grew, a stream changed): look now instead of at the next poll. */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.poke();
    await this.running;
    await this.releaseLock();
  }

  private async loop(): Promise<void> {
    const { log, network } = this.opts;
    while (!this.stopping) {
      this.poked = false;
      try {
        if (!this.leading) this.leading = await this.tryLead();
        if (this.leading) {
          await this.matchAvailable();
          // Catch-up works on the chain as the log has it right now, so it waits for the head.
          while (!this.stopping && (await this.catchUpOnce())) await this.matchAvailable();
        }
      } catch (err) {
        if (err instanceof CursorMoved) {
          log.warn({ network }, "chain cursor moved under this matcher: another one took over");
          await this.releaseLock();
        } else {
          log.error({ network, err }, "matching failed; retrying");
          this.opts.metrics.matchErrors.inc({ network });
          // A connection that broke took the lock with it: decide afresh who leads.
          if (this.lockConn && !(await this.lockAlive())) await this.releaseLock();
        }
      }
      // A wake-up that came while it worked (e.g. a block committed just after it read the log)
      // would otherwise wait for the next poll.
      if (this.poked) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private async tryLead(): Promise<boolean> {
    const conn = await this.opts.db.sql.reserve();
    const key = MATCHER_LOCK_KEYS[this.opts.network];
    const [row] = await conn<{ ok: boolean }[]>`select pg_try_advisory_lock(${key}) as ok`;
    if (!row?.ok) {
      conn.release();
      return false;
    }
    this.lockConn = conn;
    const [cursor] = await this.opts.db.sql<{ last_seq: string }[]>`
      insert into chain_cursors (consumer, network) values (${STREAMS_CONSUMER}, ${this.opts.network})
      on conflict (consumer, network) do update set consumer = excluded.consumer
      returning last_seq`;
    this.cursor = Number(cursor?.last_seq ?? 0);
    this.opts.log.info({ network: this.opts.network, cursor: this.cursor }, "matching the chain log");
    return true;
  }

  private async lockAlive(): Promise<boolean> {
    if (!this.lockConn) return false;
    try {
      await this.lockConn`select 1`;
      return true;
    } catch {
      return false;
    }
  }

  private async releaseLock(): Promise<void> {
    const conn = this.lockConn;
    this.lockConn = null;
    this.leading = false;
    if (!conn) return;
    await conn`select pg_advisory_unlock(${MATCHER_LOCK_KEYS[this.opts.network]})`.catch(() => {});
    conn.release();
  }

  /** Matches every log entry after the cursor, a batch per transaction. */
  private async matchAvailable(): Promise<void> {
    const { db, network } = this.opts;
    while (!this.stopping) {
      await this.registry.refresh(db.sql);
      const entries = await readChainLog(db.sql, network, this.cursor, this.batchSize);
      if (entries.length === 0) return;
      const started = performance.now();
      const written = await this.matchBatch(entries);
      this.opts.metrics.matchSeconds.observe({ network }, (performance.now() - started) / 1000);
      this.opts.metrics.deliveriesCreated.inc({ network }, written);
    }
  }

  private async matchBatch(entries: ChainLogEntry[]): Promise<number> {
    const { db, network } = this.opts;
    const kept = withoutUndoneApplies(entries);
    const last = entries.at(-1) as ChainLogEntry;
    const written = await db.sql.begin(async (tx) => {
      const applies = kept.filter((e) => e.kind === "apply").map((e) => e.indexBlockHash);
      const rollbacks = kept.filter((e) => e.kind === "rollback");
      const seqOfRollback = new Map(rollbacks.map((e) => [e.indexBlockHash, e.seq]));
      const [blocks, undone] = await Promise.all([
        loadBlocks(tx, network, applies),
        planRollbacks(
          tx,
          network,
          rollbacks.map((e) => e.indexBlockHash),
          (h) => seqOfRollback.get(h) ?? null,
        ),
      ]);
      const deliveries: NewDelivery[] = [];
      for (const entry of kept) {
        if (entry.kind === "rollback") {
          deliveries.push(...(undone.get(entry.indexBlockHash) ?? []));
          continue;
        }
        const data = blocks.get(entry.indexBlockHash);
        if (!data) throw new Error(`chain log seq ${entry.seq}: block ${entry.indexBlockHash} is not stored`);
        deliveries.push(...this.matchApply(entry, data));
      }
      const count = await writeDeliveries(tx, network, deliveries);
      await this.advanceCursor(tx, last.seq);
      if (count > 0) await tx`select pg_notify(${DELIVERIES_CHANNEL}, ${network})`;
      return count;
    });
    this.cursor = last.seq;
    this.opts.metrics.cursor.set({ network }, last.seq);
    return written;
  }

  private matchApply(entry: ChainLogEntry, data: BlockData): NewDelivery[] {
    const out: NewDelivery[] = [];
    for (const [streamId, match] of this.registry.index.match(data.rows)) {
      const stream = this.registry.streams.get(streamId);
      if (!stream || stream.liveFromSeq === null || entry.seq <= stream.liveFromSeq) continue;
      if (stream.startBlock !== null && entry.height < stream.startBlock) continue;
      if (stream.endBlock !== null && entry.height > stream.endBlock) continue;
      out.push(applyDelivery(this.opts.network, stream, data, match, { chainSeq: entry.seq, isBackfill: false }));
    }
    return out;
  }

  /** Moves the durable cursor, fenced: if it is not where this matcher left it, someone else leads. */
  private async advanceCursor(tx: Sql, seq: number): Promise<void> {
    const moved = await tx`
      update chain_cursors set last_seq = ${seq}, updated_at = now()
      where consumer = ${STREAMS_CONSUMER} and network = ${this.opts.network} and last_seq = ${this.cursor}`;
    if (moved.count !== 1) throw new CursorMoved();
  }

  /** One step of one catching-up stream; true when there may be more to do. */
  private async catchUpOnce(): Promise<boolean> {
    const stream = this.registry.catchingUp()[0];
    if (!stream) return false;
    const outcome = await catchUpStep(this.opts.db, this.opts.network, stream, this.cursor, this.catchUpBlocks);
    if (outcome.status === "live") {
      this.registry.markLive(stream.id, this.cursor);
      this.opts.log.info(
        { streamId: stream.id, network: this.opts.network, seq: this.cursor },
        "stream caught up: live",
      );
    }
    if (outcome.deliveries > 0) {
      this.opts.metrics.deliveriesCreated.inc({ network: this.opts.network }, outcome.deliveries);
      await this.opts.db.sql`select pg_notify(${DELIVERIES_CHANNEL}, ${this.opts.network})`;
    }
    // "behind": the log moved on meanwhile; the caller matches it first, then comes back.
    return true;
  }
}
