import { Ingestor } from "@second-layer/indexer/ingest/ingestor";
import { connect } from "@second-layer/shared/db/connect";
import { createLogger } from "@second-layer/shared/logger";
import { generateChain, type PooledTx, signTransactionPool } from "@second-layer/simulator/generate-chain";
import { versusBaseline, withApiUnderLoad } from "./api-process.ts";
import { type BenchCluster, settle } from "./bench-postgres.ts";
import { benchSetting } from "./bench-setting.ts";
import type { BenchResult } from "./run.ts";

// Read throughput of the API: `GET /api/tx/{txid}` (a random mined transaction with its events, as an
// authenticated caller) and `GET /status`, against a bare Hono hello-world measured in the same run
// with the same load. Three processes besides this one: the API (`packages/api/src/main.ts`, as an
// operator runs it, LOG_LEVEL=info), the hello-world server, and the load generator
// (bench/load-generator.ts), all on 127.0.0.1 (bench/api-process.ts); Postgres keeps its default
// durability. The chain is a generated one with real signed transactions, every txid distinct,
// ingested through the indexer's ingestor. API_RATE_LIMIT=0: 429s are not what is measured.
// BENCH_API_BLOCKS (default 300 blocks of 20 txs), BENCH_API_CONNECTIONS (default 16) and
// BENCH_API_SECONDS (default 10 per target, after 2 s of uncounted warm-up) change the run.

const NETWORK = "mainnet";
const TXS_PER_BLOCK = 20;

/** A migrated database holding the chain generated from `pool`; returns its URL. */
async function chainDatabase(cluster: BenchCluster, blocks: number, pool: PooledTx[]): Promise<string> {
  const url = await cluster.createDatabase("bench_api");
  const db = connect(url, { max: 4 });
  try {
    const ingestor = new Ingestor(db, NETWORK, createLogger("bench", "silent"));
    const encoder = new TextEncoder();
    for (const block of generateChain(blocks, pool)) {
      const outcome = await ingestor.ingest("/new_block", encoder.encode(JSON.stringify(block)));
      if (!outcome.ok) throw new Error(`ingest of block ${block.block_height} failed: ${JSON.stringify(outcome)}`);
    }
  } finally {
    await db.close();
  }
  await settle(url);
  return url;
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
  // One pooled transaction per slot: every txid is mined once, as on a real chain.
  const pool = await signTransactionPool(blocks * TXS_PER_BLOCK);
  const txids = pool.map((t) => t.txid);

  return withApiUnderLoad(
    { connections, seconds },
    (cluster) => chainDatabase(cluster, blocks, pool),
    async (api) => {
      await checkAnswers(api.url, api.auth, txids[0] as string, blocks);
      const baseline = await api.load(api.helloPort, ["/"]);
      const tx = await api.load(
        api.port,
        txids.map((t) => `/api/tx/${t}`),
        api.auth,
      );
      const status = await api.load(api.port, ["/status"]);

      const setup = `${connections} connections, ${seconds} s`;
      const rps = baseline.requestsPerSecond;
      return [
        { name: `api: Hono hello-world req/s (the baseline; ${setup})`, value: rps, unit: "req/s" },
        versusBaseline(
          `api: GET /api/tx/{txid} req/s (random of ${txids.length} txids, API_RATE_LIMIT=0)`,
          tx.requestsPerSecond,
          rps,
          "req/s",
        ),
        versusBaseline("api: GET /status req/s", status.requestsPerSecond, rps, "req/s"),
        { name: "api: Hono hello-world p50", value: baseline.p50, unit: "ms" },
        { name: "api: Hono hello-world p99", value: baseline.p99, unit: "ms" },
        versusBaseline("api: GET /api/tx/{txid} p50", tx.p50, baseline.p50, "ms"),
        versusBaseline("api: GET /api/tx/{txid} p99", tx.p99, baseline.p99, "ms"),
        versusBaseline("api: GET /status p50", status.p50, baseline.p50, "ms"),
        versusBaseline("api: GET /status p99", status.p99, baseline.p99, "ms"),
      ];
    },
  );
}
