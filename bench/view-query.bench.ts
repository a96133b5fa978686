import { join } from "node:path";
import { generateApiKey } from "@second-layer/api/auth/api-keys";
import { connect } from "@second-layer/shared/db/connect";
import { freePort, removeLocalPostgres, startLocalPostgres } from "@second-layer/shared/db/local-postgres";
import { migrate } from "@second-layer/shared/db/migrate";
import type { Subprocess } from "bun";
import { generateLoad, type Service, startService } from "./api-process.ts";
import { benchSetting } from "./bench-setting.ts";
import { onInterrupt } from "./on-interrupt.ts";
import type { BenchResult } from "./run.ts";

// Queries of a view's table through the API: `GET /api/views/bench/transfers?recipient=R&_limit=50`
// (an equality filter on an indexed column, a random one of 10,000 recipients, ~100 rows each) and its
// `/count`, on a table of 1,000,000 rows, beside a bare Hono hello-world loaded the same way, and the
// query again from a single client (its latency without queueing). The API
// runs as its own process (LOG_LEVEL=info, as an operator runs it) and the load comes from the separate
// keep-alive load generator (bench/load-generator.ts), all on 127.0.0.1. The view is deployed through
// the API; its table is filled straight in its schema with one INSERT ... SELECT (the processor's
// speed is another benchmark's), then VACUUM ANALYZE. API_RATE_LIMIT=0: 429s are not what is measured.
// BENCH_VIEW_ROWS (default 1,000,000), BENCH_API_CONNECTIONS (default 16) and BENCH_API_SECONDS
// (default 10 per target, after 2 s of uncounted warm-up) change the run.

const API_MAIN = join(import.meta.dir, "../packages/api/src/main.ts");
const HELLO_SERVER = join(import.meta.dir, "hello-server.ts");
const HOST = "127.0.0.1";
const WARMUP_SECONDS = 2;
const RECIPIENTS = 10_000;
const PAGE = 50;

const VIEW = {
  name: "bench",
  tables: {
    transfers: {
      columns: {
        sender: { type: "principal" },
        recipient: { type: "principal" },
        amount: { type: "uint" },
        memo: { type: "text", nullable: true },
        at: { type: "timestamp" },
      },
      indexes: [["recipient"], ["amount"]],
    },
  },
  handlers: [
    {
      on: { type: "stx_transfer" },
      do: [
        {
          insert: "transfers",
          values: {
            sender: "$.event.sender",
            recipient: "$.event.recipient",
            amount: "$.event.amount",
            memo: "$.event.memo",
            at: "$.block.time",
          },
        },
      ],
    },
  ],
};

/** A mainnet-shaped address for recipient number i: the same text in SQL (below) and here. */
function recipient(i: number): string {
  return `SP${new Bun.CryptoHasher("md5").update(String(i)).digest("hex").slice(0, 30).toUpperCase()}`;
}
const RECIPIENT_SQL = (i: string) => `'SP' || upper(substr(md5((${i})::text), 1, 30))`;

async function api<T>(base: string, key: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/** Fills the view's table with `rows` transfers to RECIPIENTS recipients, in one statement. */
async function fill(databaseUrl: string, schema: string, rows: number): Promise<number> {
  const db = connect(databaseUrl, { max: 1 });
  const started = performance.now();
  try {
    await db.sql.unsafe(
      `insert into "${schema}".transfers (sender, recipient, amount, memo, at, _block_height, _tx_id)
       select ${RECIPIENT_SQL(`(g * 7) % ${RECIPIENTS} + ${RECIPIENTS}`)}, ${RECIPIENT_SQL(`g % ${RECIPIENTS}`)},
         ((g::bigint * 7919) % 1000000007)::numeric, case when g % 3 = 0 then 'memo ' || g end,
         timestamptz '2025-01-01' + g * interval '1 second', g / 20, md5(g::text)
       from generate_series(1, $1::int) g`,
      [rows],
    );
    await db.sql.unsafe(`vacuum analyze "${schema}".transfers`);
    return (performance.now() - started) / 1000;
  } finally {
    await db.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const rows = benchSetting("BENCH_VIEW_ROWS", 1_000_000);
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
    const admin = connect(pg.url, { max: 1 });
    await admin.sql`create database bench_views`;
    await admin.close();
    const url = new URL(pg.url);
    url.pathname = "/bench_views";
    const databaseUrl = url.toString();
    const migrator = connect(databaseUrl, { max: 1 });
    await migrate(migrator.sql, databaseUrl);
    await migrator.close();

    const key = generateApiKey();
    const [apiPort, helloPort] = [await freePort(), await freePort()];
    const apiService = startService("api", API_MAIN, {
      DATABASE_URL: databaseUrl,
      HOST,
      PORT: String(apiPort),
      STACKS_NETWORK: "mainnet",
      LOG_LEVEL: "info",
      API_BOOTSTRAP_KEY: key,
      API_RATE_LIMIT: "0",
      SECRETS_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
    });
    services.push(apiService);
    const hello = startService("hello-world", HELLO_SERVER, { PORT: String(helloPort) });
    services.push(hello);
    const base = `http://${HOST}:${apiPort}`;
    await apiService.ready(`${base}/health`);
    await hello.ready(`http://${HOST}:${helloPort}/`);

    const view = await api<{ id: string }>(base, key, "POST", "/api/views", VIEW);
    const schema = `view_${view.id.replaceAll("-", "").slice(0, 24)}`;
    process.stderr.write(`filling ${rows} rows...\n`);
    const fillSeconds = await fill(databaseUrl, schema, rows);

    // The answers measured are the real ones: a page of one recipient's rows, and their count.
    const who = recipient(42);
    const page = await api<{ rows: { recipient: string }[] }>(
      base,
      key,
      "GET",
      `/api/views/bench/transfers?recipient=${who}&_limit=${PAGE}`,
    );
    const count = await api<{ count: number }>(base, key, "GET", `/api/views/bench/transfers/count?recipient=${who}`);
    const perRecipient = Math.floor(rows / RECIPIENTS);
    if (page.rows.length !== Math.min(PAGE, perRecipient) || page.rows.some((r) => r.recipient !== who)) {
      throw new Error(`GET rows of ${who} answered ${JSON.stringify(page).slice(0, 300)}`);
    }
    if (count.count < perRecipient || count.count > perRecipient + 1) {
      throw new Error(`GET count of ${who} answered ${JSON.stringify(count)}`);
    }

    const auth = { authorization: `Bearer ${key}` };
    const paths = (f: (r: string) => string) => Array.from({ length: RECIPIENTS }, (_, i) => f(recipient(i)));
    const load = (port: number, list: string[], headers: Record<string, string> = {}, clients = connections) =>
      generateLoad(
        { host: HOST, port, paths: list, headers, connections: clients, warmupSeconds: WARMUP_SECONDS, seconds },
        loaders,
      );
    const baseline = await load(helloPort, ["/"]);
    const query = await load(
      apiPort,
      paths((r) => `/api/views/bench/transfers?recipient=${r}&_limit=${PAGE}`),
      auth,
    );
    // One client at a time: the latency of a query itself, without the queueing of a saturated server.
    const alone = await load(
      apiPort,
      paths((r) => `/api/views/bench/transfers?recipient=${r}&_limit=${PAGE}`),
      auth,
      1,
    );
    const counted = await load(
      apiPort,
      paths((r) => `/api/views/bench/transfers/count?recipient=${r}`),
      auth,
    );

    const table = `${rows.toLocaleString("en")} rows`;
    const vs = (name: string, value: number, base: number, unit: string): BenchResult => ({
      name,
      value,
      unit,
      baseline: base,
      ratio: value / base,
    });
    return [
      { name: `view query: fill ${table} (INSERT ... SELECT, then VACUUM ANALYZE)`, value: fillSeconds, unit: "s" },
      {
        name: `view query: Hono hello-world req/s (the baseline; ${connections} connections, ${seconds} s)`,
        value: baseline.requestsPerSecond,
        unit: "req/s",
      },
      vs(
        `view query: GET /api/views/{name}/{table}?recipient=R&_limit=${PAGE} req/s (indexed filter, ${table})`,
        query.requestsPerSecond,
        baseline.requestsPerSecond,
        "req/s",
      ),
      vs("view query: GET ...?recipient=R p50", query.p50, baseline.p50, "ms"),
      vs("view query: GET ...?recipient=R p99", query.p99, baseline.p99, "ms"),
      { name: "view query: GET ...?recipient=R p50, one client", value: alone.p50, unit: "ms" },
      { name: "view query: GET ...?recipient=R p99, one client", value: alone.p99, unit: "ms" },
      vs("view query: GET .../count?recipient=R req/s", counted.requestsPerSecond, baseline.requestsPerSecond, "req/s"),
      vs("view query: GET .../count?recipient=R p99", counted.p99, baseline.p99, "ms"),
    ];
  } finally {
    uninstall();
    cleanup();
  }
}
