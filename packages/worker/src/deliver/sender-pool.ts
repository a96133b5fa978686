import type { Logger } from "@second-layer/shared/logger";
import type { Lease, StreamSender } from "./stream-sender.ts";

/** Due times further out than this are found by polling. */
const WAKE_AT_MAX_MS = 60_000;

export interface SenderPoolOptions {
  log: Logger;
  sender: StreamSender;
  workerId: string;
  networks: string[];
  /** Streams sent to in parallel by this process. */
  concurrency: number;
  /** Deliveries sent per lease before the stream goes back in line (fairness between streams). */
  perLease?: number;
  /** Safety net when a wake-up is missed. */
  pollMs?: number;
}

/**
 * WORKER_CONCURRENCY slots, each taking the most overdue stream that no one holds (SKIP LOCKED, then a
 * lease so the claim outlives the statement) and sending its deliveries in order. Streams proceed in
 * parallel; a stream is only ever sent by one slot of one process at a time.
 */
export class SenderPool {
  private stopping = false;
  /** Cancels the deliveries still in flight when a shutdown's grace period is over. */
  private readonly abort = new AbortController();
  private readonly slots: Promise<void>[] = [];
  private waiters: (() => void)[] = [];
  /** Pokes so far: a slot that was busy when one came looks again instead of sleeping. */
  private pokes = 0;
  private readonly perLease: number;
  private readonly pollMs: number;
  /** Streams whose lease a slot of this process holds right now. */
  readonly busy = new Set<string>();

  constructor(private readonly opts: SenderPoolOptions) {
    this.perLease = opts.perLease ?? 100;
    this.pollMs = opts.pollMs ?? 1000;
  }

  start(): void {
    for (let i = 0; i < this.opts.concurrency; i++) this.slots.push(this.slot());
  }

  /** Deliveries were written: idle slots look now. */
  poke(): void {
    this.pokes++;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /**
   * Claims nothing new, lets the deliveries in flight finish for up to `graceMs`, then cancels the
   * rest (they stay pending and go out again, same webhook-id), and gives every lease back.
   */
  async stop(graceMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.stopping = true;
    this.poke();
    const timer = Number.isFinite(graceMs) ? setTimeout(() => this.abort.abort(), graceMs) : undefined;
    await Promise.all(this.slots);
    clearTimeout(timer);
  }

  private async slot(): Promise<void> {
    const { log, sender } = this.opts;
    while (!this.stopping) {
      let lease: Lease | null = null;
      const pokes = this.pokes;
      try {
        lease = await sender.claim(this.opts.networks);
        if (lease) {
          this.busy.add(lease.stream.id);
          const due = await sender.drain(lease, this.perLease, () => this.stopping, this.abort.signal);
          if (due) this.wakeAt(due);
          continue;
        }
      } catch (err) {
        log.error(
          { err, streamId: lease?.stream.id },
          "sending failed; the stream's lease expires and it is taken up again",
        );
      } finally {
        if (lease) this.busy.delete(lease.stream.id);
      }
      // Deliveries committed while this slot was claiming (after its snapshot) would otherwise wait for the poll.
      if (this.pokes !== pokes && !this.stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Looks again when a stream released with a retry or hold time falls due, so a wait of the retry
   * schedule is not stretched to the next poll. Far-off times are left to polling, where its delay is
   * negligible.
   */
  private wakeAt(due: Date): void {
    const ms = due.getTime() - Date.now();
    if (ms > WAKE_AT_MAX_MS) return;
    // A few ms late rather than early: due_at is compared with the database clock.
    setTimeout(() => this.poke(), Math.max(0, ms) + 5).unref();
  }
}
