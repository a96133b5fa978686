import { CHAIN_CHANNEL, type ChainWakeUp } from "@second-layer/shared/chain-log";
import type { Db } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";

/** Something an SSE stream waits on: set by a wake-up, consumed by the stream's next read. */
export interface Waker {
  /** Resolves after `ms`, on a wake-up (also one that came while the stream was busy), or on close. */
  wait(ms: number): Promise<void>;
  /** Ends a pending wait now (the client went away, or there is news). */
  poke(): void;
  release(): void;
}

/**
 * What the live (Server-Sent Events) routes of one API process share: a single LISTEN on the
 * indexer's chain channel, fanned out to the streams following each network, and the shutdown
 * signal that ends every open stream so the server can stop. The LISTEN starts with the first
 * chain stream; the NOTIFYs are only wake-ups, each stream re-reads the log itself.
 */
export class LiveHub {
  private readonly closing = new AbortController();
  private readonly chainWakers = new Map<string, Set<WakerImpl>>();
  private listening: Promise<{ unlisten(): Promise<void> }> | null = null;
  private readonly open = new Set<WakerImpl>();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  /** Aborted when the server stops: streams end and close their responses. */
  get signal(): AbortSignal {
    return this.closing.signal;
  }

  /** A waker poked whenever `network`'s chain log grows. Resolves once the LISTEN is in place. */
  async chainWaker(network: string): Promise<Waker> {
    this.listening ??= this.db.sql.listen(CHAIN_CHANNEL, (payload) => this.onChainNotify(payload));
    try {
      await this.listening;
    } catch (err) {
      // The next stream tries again; this one still has its poll.
      this.listening = null;
      this.log.warn({ err }, "LISTEN on the chain channel failed; chain streams poll until it works");
    }
    let set = this.chainWakers.get(network);
    if (!set) {
      set = new Set();
      this.chainWakers.set(network, set);
    }
    const waker = new WakerImpl(this.closing.signal, () => {
      set.delete(waker);
      this.open.delete(waker);
    });
    set.add(waker);
    this.open.add(waker);
    return waker;
  }

  /** A waker that only wakes on its timeout or on close (for feeds that have no NOTIFY). */
  timer(): Waker {
    const waker: WakerImpl = new WakerImpl(this.closing.signal, () => this.open.delete(waker));
    this.open.add(waker);
    return waker;
  }

  private onChainNotify(payload: string): void {
    let network: string;
    try {
      network = (JSON.parse(payload) as ChainWakeUp).network;
    } catch {
      this.log.warn({ payload }, "unreadable chain wake-up ignored");
      return;
    }
    for (const waker of this.chainWakers.get(network) ?? []) waker.poke();
  }

  /** Ends every open stream and the LISTEN. */
  async close(): Promise<void> {
    this.closing.abort();
    for (const waker of this.open) waker.poke();
    const listening = this.listening;
    this.listening = null;
    if (listening) await (await listening.catch(() => null))?.unlisten().catch(() => {});
  }
}

class WakerImpl implements Waker {
  private poked = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly closing: AbortSignal,
    private readonly onRelease: () => void,
  ) {}

  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  wait(ms: number): Promise<void> {
    if (this.poked || this.closing.aborted) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        self.poked = false;
        resolve();
      }
      this.wake = done;
    });
  }

  release(): void {
    this.wake?.();
    this.onRelease();
  }
}
