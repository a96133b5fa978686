import type { Sql } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import type { Ingestor } from "../ingest/ingestor.ts";
import type { StoreBlockResult } from "../store/store-block.ts";
import { type BlockSource, type SourceBlock, SourceError } from "./block-source.ts";
import { linksToChain } from "./chain-link.ts";
import { scanGaps } from "./gap-heights.ts";
import { type Backoff, backoffDelay, RateLimiter, sleep } from "./pacing.ts";

export interface BackfillerOptions {
  sql: Sql;
  network: string;
  ingestor: Ingestor;
  source: BlockSource;
  log: Logger;
  /** Blocks fetched per second, at most. */
  rate: number;
  /** Gaps younger than this are left for the node to fill itself. */
  graceSeconds: number;
  /** Retries of one fetch after a retryable source error (timeout, 5xx, 429). */
  retry?: Backoff & { attempts: number };
  /** Pause before a height that could not be filled is tried again; grows with each failure. */
  cooldown?: Backoff;
  /** Longest sleep between two looks for gaps. */
  pollIntervalMs?: number;
}

/** Heights tried per look at the gaps: a huge gap is worked through in slices, rescanning in between. */
const HEIGHTS_PER_SCAN = 500;
const encoder = new TextEncoder();

/**
 * Fills gaps in the canonical chain from a block source. Fetched blocks go through the ingestor like a
 * node's POST (journal, rows, fork choice, chain log) with the source's kind, so they end up stored
 * exactly like pushed ones. One loop, one block at a time, paced by a rate limit; it never throws.
 */
export class Backfiller {
  private readonly abort = new AbortController();
  private readonly limiter: RateLimiter;
  private readonly retry: Backoff & { attempts: number };
  private readonly cooldown: Backoff;
  private readonly pollIntervalMs: number;
  private readonly failures = new Map<number, { count: number; retryAt: number }>();
  private running: Promise<void> | null = null;

  constructor(private readonly opts: BackfillerOptions) {
    this.limiter = new RateLimiter(opts.rate);
    this.retry = opts.retry ?? { attempts: 5, baseDelayMs: 250, maxDelayMs: 30_000 };
    this.cooldown = opts.cooldown ?? { baseDelayMs: 5_000, maxDelayMs: 5 * 60_000 };
    // Half the grace period is soon enough to notice a gap; the scan reads every canonical height.
    this.pollIntervalMs = opts.pollIntervalMs ?? Math.min(30_000, Math.max(1_000, opts.graceSeconds * 500));
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Stops after the block in hand: fetches and sleeps are cut short, a started ingest completes. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const { log, source, rate, graceSeconds } = this.opts;
    const signal = this.abort.signal;
    log.info({ source: source.kind, rate, graceSeconds }, "backfiller started");
    while (!signal.aborted) {
      let waitMs = this.pollIntervalMs;
      try {
        const scan = await scanGaps(this.opts.sql, this.opts.network, graceSeconds, HEIGHTS_PER_SCAN);
        this.forgetFilled(scan.heights);
        if ((await this.fillAll(scan.heights)) > 0) waitMs = 0;
        else if (scan.nextEligibleInMs !== null) waitMs = Math.min(waitMs, scan.nextEligibleInMs);
      } catch (err) {
        log.error({ err }, "backfill: looking for gaps failed");
      }
      await sleep(waitMs, signal);
    }
    log.info("backfiller stopped");
  }

  /** Drops the failure counts of heights no longer missing (the node or a later pass filled them). */
  private forgetFilled(missing: number[]): void {
    const stillMissing = new Set(missing);
    for (const height of this.failures.keys()) if (!stillMissing.has(height)) this.failures.delete(height);
  }

  private async fillAll(heights: number[]): Promise<number> {
    const signal = this.abort.signal;
    let filled = 0;
    for (const height of heights) {
      const failure = this.failures.get(height);
      if (failure && failure.retryAt > Date.now()) continue;
      await this.limiter.take(signal);
      if (signal.aborted) break;
      try {
        await this.fill(height);
        this.failures.delete(height);
        filled++;
      } catch (err) {
        if (signal.aborted) break;
        const count = (failure?.count ?? 0) + 1;
        const retryInMs = backoffDelay(this.cooldown, count);
        this.failures.set(height, { count, retryAt: Date.now() + retryInMs });
        // A source that is down or behind is expected now and then; anything else needs a look.
        const level = err instanceof SourceError && err.retryable ? "warn" : "error";
        this.opts.log[level]({ height, failures: count, retryInMs, err }, "backfill: could not fill block");
      }
    }
    return filled;
  }

  private async fill(height: number): Promise<void> {
    const { sql, network, ingestor, source, log } = this.opts;
    const block = await this.fetchWithRetries(height);
    if (!block) throw new SourceError(`${source.kind} does not have block ${height} (yet)`, true);
    const hash = block.payload.index_block_hash;
    if (!(await linksToChain(sql, network, block.payload))) {
      throw new Error(`${source.kind} block ${hash} at height ${height} does not link to our canonical chain`);
    }
    const outcome = await ingestor.ingest("/new_block", encoder.encode(block.body), source.kind);
    if (!outcome.ok) {
      throw new Error(`block ${hash} was journaled as failed (journal ${outcome.journalId}): ${outcome.error.message}`);
    }
    const result = outcome.result as StoreBlockResult;
    if (result.status !== "stored" || !result.canonical) {
      throw new Error(
        `block ${hash} did not fill the gap: ${result.status === "stored" ? "not canonical" : "already stored"}`,
      );
    }
    log.info(
      {
        height,
        indexBlockHash: hash,
        txs: block.payload.transactions.length,
        events: block.payload.events.length,
        journalId: outcome.journalId,
        source: source.kind,
      },
      "backfilled block",
    );
  }

  private async fetchWithRetries(height: number): Promise<SourceBlock | null> {
    const signal = this.abort.signal;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.opts.source.fetchBlock(height, signal);
      } catch (err) {
        if (signal.aborted || !(err instanceof SourceError) || !err.retryable || attempt >= this.retry.attempts)
          throw err;
        const delayMs = backoffDelay(this.retry, attempt, err.retryAfterMs);
        this.opts.log.warn({ height, attempt, delayMs, err: err.message }, "backfill: source failed; retrying");
        await sleep(delayMs, signal);
      }
    }
  }
}
