import { connect } from "@second-layer/shared/db/connect";
import { viewSchemaName } from "@second-layer/shared/views/ddl";
import { type ApiUnderLoad, versusBaseline, withApiUnderLoad } from "./api-process.ts";
import { benchSetting } from "./bench-setting.ts";
import type { BenchResult } from "./run.ts";

// Queries of a view's table through the API: `GET /api/views/bench/transfers?recipient=R&_limit=50`
// (an equality filter on an indexed column, a random one of 10,000 recipients, ~100 rows each) and its
// `/count`, on a table of 1,000,000 rows, beside a bare Hono hello-world loaded the same way, and the
// query again from a single client (its latency without queueing). The API runs as its own process
// (LOG_LEVEL=info, as an operator runs it) and the load comes from the separate keep-alive load
// generator (bench/load-generator.ts), all on 127.0.0.1 (bench/api-process.ts). The view is deployed
// through the API; its table is filled straight in its schema with one INSERT ... SELECT (the
// processor's speed is another benchmark's), then VACUUM ANALYZE. API_RATE_LIMIT=0: 429s are not what
// is measured. BENCH_VIEW_ROWS (default 1,000,000), BENCH_API_CONNECTIONS (default 16) and
// BENCH_API_SECONDS (default 10 per target, after 2 s of uncounted warm-up) change the run.

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

async function api<T>(target: ApiUnderLoad, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${target.url}${path}`, {
    method,
    headers: { ...target.auth, "content-type": "application/json" },
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

  return withApiUnderLoad(
    { connections, seconds },
    (cluster) => cluster.createDatabase("bench_views"),
    async (target) => {
      const view = await api<{ id: string }>(target, "POST", "/api/views", VIEW);
      const schema = viewSchemaName(view.id);
      process.stderr.write(`filling ${rows} rows...\n`);
      const fillSeconds = await fill(target.databaseUrl, schema, rows);

      // The answers measured are the real ones: a page of one recipient's rows, and their count.
      const who = recipient(42);
      const page = await api<{ rows: { recipient: string }[] }>(
        target,
        "GET",
        `/api/views/bench/transfers?recipient=${who}&_limit=${PAGE}`,
      );
      const count = await api<{ count: number }>(target, "GET", `/api/views/bench/transfers/count?recipient=${who}`);
      const perRecipient = Math.floor(rows / RECIPIENTS);
      if (page.rows.length !== Math.min(PAGE, perRecipient) || page.rows.some((r) => r.recipient !== who)) {
        throw new Error(`GET rows of ${who} answered ${JSON.stringify(page).slice(0, 300)}`);
      }
      if (count.count < perRecipient || count.count > perRecipient + 1) {
        throw new Error(`GET count of ${who} answered ${JSON.stringify(count)}`);
      }

      const paths = (f: (r: string) => string) => Array.from({ length: RECIPIENTS }, (_, i) => f(recipient(i)));
      const baseline = await target.load(target.helloPort, ["/"]);
      const query = await target.load(
        target.port,
        paths((r) => `/api/views/bench/transfers?recipient=${r}&_limit=${PAGE}`),
        target.auth,
      );
      // One client at a time: the latency of a query itself, without the queueing of a saturated server.
      const alone = await target.load(
        target.port,
        paths((r) => `/api/views/bench/transfers?recipient=${r}&_limit=${PAGE}`),
        target.auth,
        1,
      );
      const counted = await target.load(
        target.port,
        paths((r) => `/api/views/bench/transfers/count?recipient=${r}`),
        target.auth,
      );

      const table = `${rows.toLocaleString("en")} rows`;
      return [
        { name: `view query: fill ${table} (INSERT ... SELECT, then VACUUM ANALYZE)`, value: fillSeconds, unit: "s" },
        {
          name: `view query: Hono hello-world req/s (the baseline; ${connections} connections, ${seconds} s)`,
          value: baseline.requestsPerSecond,
          unit: "req/s",
        },
        versusBaseline(
          `view query: GET /api/views/{name}/{table}?recipient=R&_limit=${PAGE} req/s (indexed filter, ${table})`,
          query.requestsPerSecond,
          baseline.requestsPerSecond,
          "req/s",
        ),
        versusBaseline("view query: GET ...?recipient=R p50", query.p50, baseline.p50, "ms"),
        versusBaseline("view query: GET ...?recipient=R p99", query.p99, baseline.p99, "ms"),
        { name: "view query: GET ...?recipient=R p50, one client", value: alone.p50, unit: "ms" },
        { name: "view query: GET ...?recipient=R p99, one client", value: alone.p99, unit: "ms" },
        versusBaseline(
          "view query: GET .../count?recipient=R req/s",
          counted.requestsPerSecond,
          baseline.requestsPerSecond,
          "req/s",
        ),
        versusBaseline("view query: GET .../count?recipient=R p99", counted.p99, baseline.p99, "ms"),
      ];
    },
  );
}
