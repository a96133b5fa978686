import { join } from "node:path";
import { loadConfig } from "@second-layer/shared/config";
import { connect, type Db } from "@second-layer/shared/db/connect";
import { freePort } from "@second-layer/shared/db/local-postgres";
import { SecretsBox } from "@second-layer/shared/secrets-box";
import { type DeliveryPayload, deliveryBody } from "@second-layer/shared/streams/delivery-body";
import { changeStreamStatus, createStream, type StreamContext } from "@second-layer/shared/streams/store";
import { parseAllowedHosts } from "@second-layer/shared/webhooks/url-guard";
import {
  chainAccounts,
  generateChain,
  type PooledTx,
  signTransactionPool,
} from "@second-layer/simulator/generate-chain";
import type { Subprocess } from "bun";
import { Webhook } from "standardwebhooks";
import { Agent, request } from "undici/index.js";
import { type BenchCluster, settle, startBenchCluster } from "./bench-postgres.ts";
import { benchSetting } from "./bench-setting.ts";
import { killIndexers, startIndexerProcess, waitForHealth } from "./indexer-process.ts";
import { onInterrupt } from "./on-interrupt.ts";
import { percentile } from "./percentile.ts";
import type { BenchResult } from "./run.ts";

// Streams as production runs them: the indexer and the worker each as a subprocess (LOG_LEVEL=info,
// output drained), over a durable local Postgres, delivering to a receiver in this process on
// 127.0.0.1.
// 1. Latency: 100 active streams with varied filters that every generated block satisfies; blocks
//    POSTed to /new_block one at a time at a steady rate; for every delivery, the time from the start
//    of its block's POST to the webhook's arrival, beside the POST's own time (the block stored: no
//    webhook can come sooner). Targets p50 <= 30 ms, p99 <= 150 ms.
// 2. Throughput: deliveries queued for paused streams, which are resumed with the worker stopped; the
//    worker comes back to the backlog, and deliveries/s are counted from its first send to the last
//    acknowledgement recorded, beside a bare undici POST loop with the same concurrency and the same
//    bodies to the same receiver. Target >= 1,000/s.
// BENCH_STREAM_BLOCKS (latency blocks, default 100), BENCH_STREAM_INTERVAL_MS (default 1000: 100 deliveries/s,
// five times the pace of mainnet blocks; lower it to see the latency under load),
// BENCH_QUEUE_STREAMS x BENCH_QUEUE_BLOCKS (queued deliveries, default 40 x 500).

const WORKER_MAIN = join(import.meta.dir, "../packages/worker/src/main.ts");
const NETWORK = "mainnet";
const POOL_SIZE = 400;
const SECRETS_KEY = Buffer.alloc(32, 11).toString("base64");
const LATENCY_STREAMS = 100;
/** Blocks before the streams exist, so that they join a chain that is already running. */
const CHAIN_WARMUP_BLOCKS = 20;
/** The first timed blocks warm the worker's connections and caches; their deliveries are not counted. */
const DELIVERY_WARMUP_BLOCKS = 10;
const P50_TARGET_MS = 30;
const P99_TARGET_MS = 150;
const THROUGHPUT_TARGET = 1000;

/**
 * Filters that every generated block satisfies, of many kinds and sizes of match: the i-th stream
 * gets the i-th (cycling), with the sender varied so that no two neighbours are alike.
 */
function filtersFor(i: number): unknown[] {
  // Every block has two transactions of each sender: STX transfers to the recipient from the
  // even-numbered ones, marketplace calls (FT transfers of the token, an STX fee to the deployer, an
  // NFT mint, a print) from the odd-numbered ones.
  const { senders, market: MARKET, token: TOKEN, recipient: RECIPIENT } = chainAccounts(NETWORK);
  const even = senders[(i * 2) % 10] as string;
  const odd = senders[(i * 2 + 1) % 10] as string;
  const all: unknown[][] = [
    [{ type: "block" }],
    [{ type: "stx_transfer", sender: even }],
    [{ type: "stx_transfer", recipient: RECIPIENT }],
    [{ type: "ft_transfer", assetIdentifier: `${TOKEN}::bench`, sender: odd }],
    [{ type: "nft_mint", assetIdentifier: `${MARKET}::bench-nft`, recipient: odd }],
    [{ type: "print_event", contractId: MARKET, topic: "print", contains: "mint" }],
    [{ type: "contract_call", contractId: MARKET, functionName: "mint-*", caller: odd }],
    [{ type: "tx", txType: "token_transfer", sender: even }],
    [
      { type: "stx_transfer", minAmount: "1000000" },
      { type: "ft_transfer", recipient: MARKET },
    ],
    [
      { type: "nft_mint", recipient: odd },
      { type: "stx_transfer", sender: odd },
    ],
  ];
  return all[i % all.length] as unknown[];
}

/**
 * The worker as `bun run start:worker` runs it, with its default settings, logging at `info` to pipes
 * that are read as they come (a full pipe would block it); the tail is kept for errors.
 */
class WorkerProcess {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  private tail = "";

  private constructor(url: string, metricsPort: number) {
    // WORKER_CONCURRENCY is left unset: the default is what is measured.
    const { WORKER_CONCURRENCY: _measuredAtItsDefault, ...env } = process.env;
    this.proc = Bun.spawn(["bun", WORKER_MAIN], {
      env: {
        ...env,
        DATABASE_URL: url,
        STACKS_NETWORK: NETWORK,
        LOG_LEVEL: "info",
        SECRETS_KEY,
        WEBHOOK_ALLOWED_PRIVATE_HOSTS: "127.0.0.1",
        METRICS_PORT: String(metricsPort),
      },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    void this.drain(this.proc.stdout);
    void this.drain(this.proc.stderr);
  }

  static async start(url: string, running: WorkerProcess[]): Promise<WorkerProcess> {
    const metricsPort = await freePort();
    const worker = new WorkerProcess(url, metricsPort);
    running.push(worker);
    await waitForHealth(worker.proc, `http://127.0.0.1:${metricsPort}`, "worker");
    return worker;
  }

  private async drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.tail = (this.tail + decoder.decode(chunk, { stream: true })).slice(-4000);
  }

  /** Fails with the end of its output when the process died. */
  check(): void {
    if (this.proc.exitCode !== null) {
      throw new Error(`worker exited with code ${this.proc.exitCode}:\n${this.tail}`);
    }
  }

  kill(): void {
    this.proc.kill("SIGKILL");
  }

  /** A graceful stop (SIGTERM), waited for. */
  async stop(): Promise<void> {
    this.proc.kill("SIGTERM");
    await this.proc.exited;
  }
}

async function postBlock(base: string, body: string): Promise<void> {
  const res = await fetch(`${base}/new_block`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
  });
  const answer = (await res.json()) as { ok?: boolean };
  // The indexer answers 200 even for a body it could not store (journaled with its error): check `ok`.
  if (res.status !== 200 || !answer.ok) throw new Error(`/new_block failed: ${res.status} ${JSON.stringify(answer)}`);
}

// The block's height is the first "height" of a body (type, streamId, seq, network, then block).
const BLOCK_HEIGHT = /"height":(\d+)/;

/**
 * Webhooks arrive at /s/<n> for the n-th stream, answered 200 at once. Guards the figures: each
 * stream's seqs must come 1, 2, 3, ... and its first delivery's signature must verify (with the
 * `standardwebhooks` package), so a worker that skipped, repeated or mangled deliveries cannot pass.
 */
class Receiver {
  private readonly server: ReturnType<typeof Bun.serve>;
  private readonly streams: { secret: string; lastSeq: number }[] = [];
  private waiters: (() => void)[] = [];
  /** Deliveries acknowledged, all streams. */
  delivered = 0;
  /** Requests to /baseline. */
  baseline = 0;
  readonly errors: string[] = [];
  /** Called with every delivery's body and its arrival time (performance.now()). */
  onDelivery: ((raw: string, at: number) => void) | null = null;

  constructor() {
    this.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => this.handle(req) });
  }

  get base(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** A new endpoint for a stream; `secret` tells it the stream's signing secret once it is known. */
  add(): { url: string; secret(value: string): void } {
    const stream = { secret: "", lastSeq: 0 };
    this.streams.push(stream);
    return {
      url: `${this.base}/s/${this.streams.length - 1}`,
      secret: (value) => {
        stream.secret = value;
      },
    };
  }

  async waitFor(predicate: () => boolean, timeoutMs: number, what: string, workers: WorkerProcess[]): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      for (const w of workers) w.check();
      if (this.errors.length > 0) throw new Error(`bad deliveries: ${this.errors.slice(0, 5).join("; ")}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  stop(): void {
    this.server.stop(true);
  }

  private async handle(req: Request): Promise<Response> {
    const raw = await req.text();
    const at = performance.now();
    const path = new URL(req.url).pathname;
    if (path === "/baseline") {
      this.baseline++;
      return new Response("ok");
    }
    const n = Number(path.slice("/s/".length));
    const stream = this.streams[n];
    if (!stream) return new Response("no such stream", { status: 404 });
    const seq = Number(req.headers.get("webhook-seq"));
    if (seq !== stream.lastSeq + 1) this.errors.push(`stream ${n}: seq ${seq} after ${stream.lastSeq}`);
    if (stream.lastSeq === 0) {
      try {
        new Webhook(stream.secret).verify(raw, Object.fromEntries(req.headers.entries()));
      } catch (err) {
        this.errors.push(`stream ${n}: ${(err as Error).message}`);
      }
    }
    stream.lastSeq = seq;
    this.delivered++;
    this.onDelivery?.(raw, at);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    return new Response("ok");
  }
}

/** `count` streams through the shared store (as the API creates them), each with its own endpoint. */
async function createStreams(db: Db, receiver: Receiver, count: number): Promise<string[]> {
  const ctx: StreamContext = {
    secrets: new SecretsBox(SECRETS_KEY),
    defaultNetwork: NETWORK,
    allowedPrivateHosts: parseAllowedHosts("127.0.0.1"),
  };
  const [account] = await db.sql<{ id: string }[]>`insert into accounts (name) values ('bench') returning id`;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const endpoint = receiver.add();
    const { stream, secret } = await createStream(
      db.sql,
      account?.id as string,
      { name: `bench ${i}`, webhookUrl: endpoint.url, filters: filtersFor(i) },
      ctx,
    );
    endpoint.secret(secret);
    ids.push(stream.id);
  }
  return ids;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string, workers: WorkerProcess[]) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    for (const w of workers) w.check();
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
}

interface LatencyFigures {
  /** Every timed delivery: POST start to the webhook's arrival, ascending. */
  latencies: number[];
  /** The timed POSTs themselves (the block stored and acknowledged), ascending. */
  ingest: number[];
  blocks: number;
  intervalMs: number;
}

async function measureLatency(
  cluster: BenchCluster,
  pool: PooledTx[],
  running: WorkerProcess[],
): Promise<LatencyFigures> {
  const blocks = benchSetting("BENCH_STREAM_BLOCKS", 100);
  const intervalMs = benchSetting("BENCH_STREAM_INTERVAL_MS", 1000);
  const bodies = [...generateChain(CHAIN_WARMUP_BLOCKS + DELIVERY_WARMUP_BLOCKS + blocks, pool)].map((b) =>
    JSON.stringify(b),
  );
  const url = await cluster.createDatabase("bench_stream_latency");
  const receiver = new Receiver();
  const db = connect(url, { max: 2 });
  try {
    const { base } = await startIndexerProcess(url, NETWORK);
    const workers = [await WorkerProcess.start(url, running)];
    for (const body of bodies.slice(0, CHAIN_WARMUP_BLOCKS)) await postBlock(base, body);
    await createStreams(db, receiver, LATENCY_STREAMS);

    const postedAt = new Map<number, number>();
    const latencies: number[] = [];
    receiver.onDelivery = (raw, at) => {
      const height = Number(BLOCK_HEIGHT.exec(raw)?.[1]);
      const posted = postedAt.get(height);
      if (posted === undefined) receiver.errors.push(`a delivery of block ${height}, which was not posted`);
      else if (height > CHAIN_WARMUP_BLOCKS + DELIVERY_WARMUP_BLOCKS) latencies.push(at - posted);
    };
    const ingest: number[] = [];
    const started = performance.now();
    for (let i = CHAIN_WARMUP_BLOCKS; i < bodies.length; i++) {
      const wait = started + (i - CHAIN_WARMUP_BLOCKS) * intervalMs - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      const posted = performance.now();
      postedAt.set(i + 1, posted);
      await postBlock(base, bodies[i] as string);
      if (i + 1 > CHAIN_WARMUP_BLOCKS + DELIVERY_WARMUP_BLOCKS) ingest.push(performance.now() - posted);
    }
    const expected = LATENCY_STREAMS * (DELIVERY_WARMUP_BLOCKS + blocks);
    await receiver.waitFor(() => receiver.delivered >= expected, 120_000, `${expected} deliveries`, workers);
    if (latencies.length !== LATENCY_STREAMS * blocks) {
      throw new Error(`${latencies.length} timed deliveries, expected ${LATENCY_STREAMS * blocks}`);
    }
    const ascending = (a: number, b: number) => a - b;
    return { latencies: latencies.sort(ascending), ingest: ingest.sort(ascending), blocks, intervalMs };
  } finally {
    receiver.stop();
    await db.close();
  }
}

interface ThroughputFigures {
  deliveries: number;
  streams: number;
  blocks: number;
  concurrency: number;
  meanBodyBytes: number;
  workerPerSecond: number;
  baselinePerSecond: number;
}

/** A bare undici POST loop: `concurrency` requests in flight, each taking the next body. */
async function postLoop(url: string, bodies: string[], concurrency: number): Promise<number> {
  const agent = new Agent();
  let next = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++] as string;
          const res = await request(url, {
            method: "POST",
            body,
            headers: { "content-type": "application/json" },
            dispatcher: agent,
          });
          await res.body.text();
          if (res.statusCode !== 200) throw new Error(`baseline POST answered ${res.statusCode}`);
        }
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    await agent.close();
  }
}

async function measureThroughput(
  cluster: BenchCluster,
  pool: PooledTx[],
  running: WorkerProcess[],
): Promise<ThroughputFigures> {
  const streams = benchSetting("BENCH_QUEUE_STREAMS", 40);
  const blocks = benchSetting("BENCH_QUEUE_BLOCKS", 500);
  const expected = streams * blocks;
  const concurrency = loadConfig({}).WORKER_CONCURRENCY;
  const url = await cluster.createDatabase("bench_stream_delivery");
  const receiver = new Receiver();
  const db = connect(url, { max: 8 });
  try {
    const { base } = await startIndexerProcess(url, NETWORK);
    const queueing = await WorkerProcess.start(url, running);
    const ids = await createStreams(db, receiver, streams);
    for (const id of ids) await changeStreamStatus(db.sql, null, id, "pause");
    for (const block of generateChain(blocks, pool)) await postBlock(base, JSON.stringify(block));
    const count = async (status: string) => {
      const [row] = await db.sql<{ n: string }[]>`select count(*) as n from deliveries where status = ${status}`;
      return Number(row?.n);
    };
    await until(async () => (await count("pending")) === expected, 120_000, `${expected} queued deliveries`, [
      queueing,
    ]);
    // The worker comes back to a backlog: resuming streams one by one would otherwise be on the clock.
    await queueing.stop();
    for (const id of ids) await changeStreamStatus(db.sql, null, id, "resume");
    // As on a database that has been running: statistics for the new rows, and their pages on disk.
    await settle(url);

    const workers = [await WorkerProcess.start(url, running)];
    await receiver.waitFor(() => receiver.delivered >= expected, 300_000, `${expected} deliveries`, workers);
    await until(async () => (await count("delivered")) === expected, 30_000, "every delivery recorded", workers);
    // From the first send to the last acknowledgement recorded, on the database's clock.
    const [span] = await db.sql<{ seconds: number }[]>`
      select extract(epoch from max(delivered_at) - min(first_sent_at))::float8 as seconds from deliveries`;
    const workerSeconds = span?.seconds as number;

    // The same bodies, byte for byte, as the worker sent them.
    const rows = await db.sql<{ payload: DeliveryPayload; seq: string }[]>`
      select payload, seq from deliveries order by stream_id, ordinal`;
    const bodies = rows.map((r) => deliveryBody(r.payload, Number(r.seq)));
    const baselineSeconds = await postLoop(`${receiver.base}/baseline`, bodies, concurrency);
    if (receiver.baseline !== expected) throw new Error(`the receiver got ${receiver.baseline} baseline POSTs`);
    return {
      deliveries: expected,
      streams,
      blocks,
      concurrency,
      meanBodyBytes: bodies.reduce((sum, b) => sum + Buffer.byteLength(b), 0) / bodies.length,
      workerPerSecond: expected / workerSeconds,
      baselinePerSecond: expected / baselineSeconds,
    };
  } finally {
    receiver.stop();
    await db.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const pool = await signTransactionPool(POOL_SIZE);
  const running: WorkerProcess[] = [];
  // The databases are about to be deleted: a graceful shutdown would only wait on dead connections.
  const killAll = () => {
    killIndexers();
    for (const w of running.splice(0)) w.kill();
  };
  const cluster = await startBenchCluster();
  const uninstall = onInterrupt(() => {
    killAll();
    cluster.remove();
  });
  try {
    const latency = await measureLatency(cluster, pool, running);
    killAll();
    const delivery = await measureThroughput(cluster, pool, running);
    const shape = `${LATENCY_STREAMS} streams, ${latency.blocks} blocks at ${(1000 / latency.intervalMs).toFixed(1)}/s`;
    // A webhook cannot arrive before its block is stored: the POST's own time is the floor.
    const latencyRow = (p: number, target: number): BenchResult => {
      const value = percentile(latency.latencies, p);
      const baseline = percentile(latency.ingest, p);
      return {
        name: `streams: /new_block POST → webhook p${p} (${shape}; baseline: the POST itself)`,
        value,
        unit: "ms",
        baseline,
        ratio: value / baseline,
        target: { of: "value", atMost: target },
      };
    };
    return [
      latencyRow(50, P50_TARGET_MS),
      latencyRow(99, P99_TARGET_MS),
      {
        name:
          `streams: deliveries/s (${delivery.streams} streams × ${delivery.blocks} queued, ` +
          `WORKER_CONCURRENCY=${delivery.concurrency} (default), ${Math.round(delivery.meanBodyBytes)} B mean body; ` +
          "baseline: bare undici POST loop, same bodies and concurrency)",
        value: delivery.workerPerSecond,
        unit: "deliveries/s",
        baseline: delivery.baselinePerSecond,
        ratio: delivery.workerPerSecond / delivery.baselinePerSecond,
        target: { of: "value", atLeast: THROUGHPUT_TARGET },
      },
    ];
  } finally {
    uninstall();
    killAll();
    cluster.remove();
  }
}
