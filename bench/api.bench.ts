import { join } from "node:path";
import { generateApiKey } from "@second-layer/api/auth/api-keys";
import { Ingestor } from "@second-layer/indexer/ingest/ingestor";
import { connect } from "@second-layer/shared/db/connect";
import { freePort, removeLocalPostgres, startLocalPostgres } from "@second-layer/shared/db/local-postgres";
import { migrate } from "@second-layer/shared/db/migrate";
import { createLogger } from "@second-layer/shared/logger";
import { generateChain, signTransactionPool } from "@second-layer/simulator/generate-chain";
import type { Subprocess } from "bun";
import { generateLoad, type Service, startService } from "./api-process.ts";
import { benchSetting } from "./bench-setting.ts";
import { onInterrupt } from "./on-interrupt.ts";
import type { BenchResult } from "./run.ts";

// Read throughput of the API: `GET /api/tx/{txid}` (a random mined transaction with its events, as an
// authenticated caller) and `GET /status`, against a bare Hono hello-world measured in the same run
// with the same load. Three processes besides this one: the API (`packages/api/src/main.ts`, as an
// operator runs it, LOG_LEVEL=info), the hello-world server, and the load generator
// (bench/load-generator.ts), all on 127.0.0.1; Postgres keeps its default durability. The chain is a
// generated one with real signed transactions, every txid distinct, ingested through the indexer's
// ingestor. API_RATE_LIMIT=0: one key sending thousands of requests a second would otherwise be
// refused after its 600th, and 429s are not what is measured.
// BENCH_API_BLOCKS (default 300 blocks of 20 txs), BENCH_API_CONNECTIONS (default 16) and
// BENCH_API_SECONDS (default 10 per target, after 2 s of uncounted warm-up) change the run.

const API_MAIN = join(import.meta.dir, "../packages/api/src/main.ts");
const HELLO_SERVER = join(import.meta.dir, "hello-server.ts");
const NETWORK = "mainnet";
const TXS_PER_BLOCK = 20;
const WARMUP_SECONDS = 2;
const HOST = "127.0.0.1";

/** A migrated database holding the generated chain; returns its URL and the chain's txids. */
async function chainDatabase(serverUrl: string, blocks: number): Promise<{ url: string; txids: string[] }> {
  // One pooled transaction per slot: every txid is mined once, as on a real chain.
  const pool = await signTransactionPool(blocks * TXS_PER_BLOCK);
  const admin = connect(serverUrl, { max: 1 });
  try {
    await admin.sql`create database bench_api`;
  } finally {
    await admin.close();
  }
  const url = new URL(serverUrl);
  url.pathname = "/bench_api";
  const db = connect(url.toString(), { max: 4 });
  try {
    await migrate(db.sql, url.toString());
    const ingestor = new Ingestor(db, NETWORK, createLogger("bench", "silent"));
    const encoder = new TextEncoder();
    for (const block of generateChain(blocks, pool)) {
      const outcome = await ingestor.ingest("/new_block", encoder.encode(JSON.stringify(block)));
      if (!outcome.ok) throw new Error(`ingest of block ${block.block_height} failed: ${JSON.stringify(outcome)}`);
    }
    await db.sql`vacuum analyze`;
    await db.sql`checkpoint`;
  } finally {
    await db.close();
  }
  return { url: url.toString(), txids: pool.map((t) => t.txid) };
}

/** The answers measured are the real ones: a known transaction, the status of the ingested chain. */
async function checkAnswers(api: string, auth: Record<string, string>, txid: string, blocks: number): Promise<void> {
  const tx = await fetch(`${api}/api/tx/${txid}`, { headers: auth });
  const body = (await tx.json()) as { transaction?: { txid?: string }; events?: unknown[] };
  if (tx.status !== 200 || body.transaction?.txid !== txid || !body.events?.length) {
    throw new Error(`GET /api/tx/${txid} answered ${tx.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
  const status = await fetch(`${api}/status`);
  const report = (await status.json()) as { chainTip?: { height?: number } };
  if (status.status !== 200 || report.chainTip?.height !== blocks) {
    throw new Error(`GET /status answered ${status.status} ${JSON.stringify(report).slice(0, 300)}`);
  }
}

export async function run(): Promise<BenchResult[]> {
  const blocks = benchSetting("BENCH_API_BLOCKS", 300);
  const connections = benchSetting("BENCH_API_CONNECTIONS", 16);
  const seconds = benchSetting("BENCH_API_SECONDS", 10);

  const pg = await startLocalPostgres();
  const services: Service[] = [];
  const loaders = new Set<Subprocess>();
  // The database is about to be deleted: a graceful shutdown would only wait on dead connections.
  const cleanup = () => {
    for (const proc of loaders) proc.kill("SIGKILL");
    for (const s of services) s.proc.kill("SIGKILL");
    removeLocalPostgres(pg);
  };
  const uninstall = onInterrupt(cleanup);
  try {
    const chain = await chainDatabase(pg.url, blocks);
    const key = generateApiKey();
    const [apiPort, helloPort] = [await freePort(), await freePort()];
    const api = startService("api", API_MAIN, {
      DATABASE_URL: chain.url,
      HOST,
      PORT: String(apiPort),
      STACKS_NETWORK: NETWORK,
      LOG_LEVEL: "info",
      API_BOOTSTRAP_KEY: key,
      API_RATE_LIMIT: "0",
      SECRETS_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
    });
    services.push(api);
    const hello = startService("hello-world", HELLO_SERVER, { PORT: String(helloPort) });
    services.push(hello);
    const apiUrl = `http://${HOST}:${apiPort}`;
    await api.ready(`${apiUrl}/health`);
    await hello.ready(`http://${HOST}:${helloPort}/`);
    const auth = { authorization: `Bearer ${key}` };
    await checkAnswers(apiUrl, auth, chain.txids[0] as string, blocks);

    const load = (port: number, paths: string[], headers: Record<string, string> = {}) =>
      generateLoad({ host: HOST, port, paths, headers, connections, warmupSeconds: WARMUP_SECONDS, seconds }, loaders);
    const baseline = await load(helloPort, ["/"]);
    const tx = await load(
      apiPort,
      chain.txids.map((t) => `/api/tx/${t}`),
      auth,
    );
    const status = await load(apiPort, ["/status"]);

    const setup = `${connections} connections, ${seconds} s`;
    const vs = (name: string, value: number, base: number, unit: string): BenchResult => ({
      name,
      value,
      unit,
      baseline: base,
      ratio: value / base,
    });
    return [
      {
        name: `api: Hono hello-world req/s (the baseline; ${setup})`,
        value: baseline.requestsPerSecond,
        unit: "req/s",
      },
      vs(
        `api: GET /api/tx/{txid} req/s (random of ${chain.txids.length} txids, API_RATE_LIMIT=0)`,
        tx.requestsPerSecond,
        baseline.requestsPerSecond,
        "req/s",
      ),
      vs("api: GET /status req/s", status.requestsPerSecond, baseline.requestsPerSecond, "req/s"),
      { name: "api: Hono hello-world p50", value: baseline.p50, unit: "ms" },
      { name: "api: Hono hello-world p99", value: baseline.p99, unit: "ms" },
      vs("api: GET /api/tx/{txid} p50", tx.p50, baseline.p50, "ms"),
      vs("api: GET /api/tx/{txid} p99", tx.p99, baseline.p99, "ms"),
      vs("api: GET /status p50", status.p50, baseline.p50, "ms"),
      vs("api: GET /status p99", status.p99, baseline.p99, "ms"),
    ];
  } finally {
    uninstall();
    cleanup();
  }
}
