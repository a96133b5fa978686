import type { Logger } from "@second-layer/shared/logger";
import { blockHashes, buildBlock, type PooledTx, signTransactionPool, tenureOf } from "./generate-chain.ts";

// A stand-in for a Stacks node's event observer: it posts realistic blocks (real signed STX
// transfers and marketplace contract calls with their FT, NFT, STX and print events) to an indexer at
// a steady pace, with the burn blocks that go with them, and now and then a fork: a sibling of the
// tip, then a block on top of the sibling, which makes the indexer roll the old tip back. `bun run dev
// --demo` runs it; the benchmarks use the same block builder.

export interface SimulatedNodeOptions {
  indexerUrl: string;
  network?: "mainnet" | "testnet";
  /** Time between blocks. */
  blockMs?: number;
  /** One fork every this many blocks (0: never). */
  forkEvery?: number;
  maxTxsPerBlock?: number;
  log?: Logger;
  /** Deterministic runs for tests. */
  random?: () => number;
}

interface Tip {
  height: number;
  indexBlockHash: string;
  blockHash: string;
}

const GENESIS: Tip = { height: 0, ...blockHashes("genesis") };

export class SimulatedNode {
  private pool: PooledTx[] = [];
  private tipBlock: Tip = GENESIS;
  private parentOfTip: Tip = GENESIS;
  /** Labels are unique per run, so a restarted demo's blocks never collide with the last one's. */
  private readonly run = crypto.randomUUID().slice(0, 8);
  private forks = 0;
  private sinceFork = 0;
  private timer: Timer | null = null;
  private posting: Promise<void> = Promise.resolve();
  private burnPosted = -1;
  readonly posted: { path: string; status: number }[] = [];

  constructor(private readonly opts: SimulatedNodeOptions) {}

  get tip(): Tip {
    return this.tipBlock;
  }

  /** Signs the transaction pool and continues the indexer's chain from its tip (if it has one). */
  async prepare(): Promise<void> {
    this.pool = await signTransactionPool(200, this.opts.network ?? "mainnet");
    const health = (await (await fetch(`${this.opts.indexerUrl}/health`)).json()) as {
      lastIndexedBlock: { height: number; indexBlockHash: string; blockHash: string } | null;
    };
    if (health.lastIndexedBlock) this.tipBlock = { ...health.lastIndexedBlock };
  }

  /** Posts a block every `blockMs` until stopped. */
  async start(): Promise<void> {
    await this.prepare();
    this.timer = setInterval(() => {
      this.posting = this.posting
        .then(() => this.step())
        .catch((err) => this.opts.log?.warn({ err }, "simulator: post failed"));
    }, this.opts.blockMs ?? 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.posting;
  }

  /** One tick: the next block, or (every `forkEvery` blocks) a fork. */
  async step(): Promise<void> {
    const forkEvery = this.opts.forkEvery ?? 15;
    if (forkEvery > 0 && ++this.sinceFork >= forkEvery && this.parentOfTip !== GENESIS) {
      this.sinceFork = 0;
      await this.fork();
      return;
    }
    await this.extend(`${this.run}-${this.tipBlock.height + 1}`);
  }

  /** A sibling of the tip, then a block on it: the indexer orphans the old tip (a reorg of depth 1). */
  private async fork(): Promise<void> {
    this.forks++;
    const height = this.tipBlock.height;
    const label = `${this.run}-fork${this.forks}-${height}`;
    await this.post("/new_block", buildBlock({ height, label, parent: this.parentOfTip, txs: this.txs() }));
    this.tipBlock = { height, ...blockHashes(label) };
    await this.extend(`${this.run}-${height + 1}`);
    this.opts.log?.info({ height: height + 1 }, "simulator: forked the chain (the old tip is orphaned)");
  }

  private async extend(label: string): Promise<void> {
    const height = this.tipBlock.height + 1;
    const { tenure, burnHeight, burnHash } = tenureOf(height);
    if (tenure !== this.burnPosted) {
      await this.post("/new_burn_block", {
        burn_block_hash: burnHash,
        burn_block_height: burnHeight,
        burn_amount: 0,
        reward_recipients: [],
        reward_slot_holders: [],
      });
      this.burnPosted = tenure;
    }
    const time = Math.floor(Date.now() / 1000);
    await this.post("/new_block", buildBlock({ height, label, parent: this.tipBlock, txs: this.txs(), time }));
    this.parentOfTip = this.tipBlock;
    this.tipBlock = { height, ...blockHashes(label) };
  }

  private txs(): PooledTx[] {
    const random = this.opts.random ?? Math.random;
    const count = 1 + Math.floor(random() * (this.opts.maxTxsPerBlock ?? 6));
    // Distinct transactions: a block holds a transaction once.
    const picked = new Set<number>();
    while (picked.size < Math.min(count, this.pool.length)) picked.add(Math.floor(random() * this.pool.length));
    return [...picked].map((i) => this.pool[i] as PooledTx);
  }

  private async post(path: string, body: unknown): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(`${this.opts.indexerUrl}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        await res.body?.cancel();
        this.posted.push({ path, status: res.status });
        if (res.status === 200) return;
      } catch {
        // The indexer is starting or restarting: retry, as a node does.
      }
      if (attempt >= 30) throw new Error(`simulator: ${path} was not accepted after ${attempt} attempts`);
      await Bun.sleep(Math.min(2000, 100 * attempt));
    }
  }
}
