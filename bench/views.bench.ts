import { join } from "node:path";
import { Ingestor } from "@second-layer/indexer/ingest/ingestor";
import { chainLogHead } from "@second-layer/shared/chain-log";
import { connect, type Db } from "@second-layer/shared/db/connect";
import { freePort } from "@second-layer/shared/db/local-postgres";
import { createLogger } from "@second-layer/shared/logger";
import type { NewBlockPayload } from "@second-layer/shared/stacks/node-payloads";
import { createViewSql, quoteIdent } from "@second-layer/shared/views/ddl";
import { parseViewDefinition } from "@second-layer/shared/views/definition";
import { deployView } from "@second-layer/shared/views/store";
import { generateChain, signTransactionPool } from "@second-layer/simulator/generate-chain";
import type { Subprocess } from "bun";
import { settle, startBenchCluster } from "./bench-postgres.ts";
import { benchSetting } from "./bench-setting.ts";
import { waitForHealth } from "./indexer-process.ts";
import { onInterrupt } from "./on-interrupt.ts";
import type { BenchResult } from "./run.ts";

// Catch-up of a view over a stored chain: the view processor (its own process, as production runs it,
// with the default VIEW_BATCH_SIZE and VIEW_UNDO_DEPTH, so the newest blocks are applied with undo
// data) builds a view with one insert and two upserts per matched event from startBlock to the tip.
// The baseline is the machine's limit for the same rows: the view's final rows written into tables of
// the same shape with multi-row INSERT and INSERT ... ON CONFLICT, as many rows per transaction as the
// processor's batches hold, in the same run. BENCH_VIEW_BLOCKS sets the chain length (default 2000
// blocks of 20 txs; 20 STX and 20 token transfers each).

const NETWORK = "mainnet";
const TARGET_EVENTS_PER_SECOND = 10_000;
/** VIEW_BATCH_SIZE's default: blocks per processor transaction during catch-up. */
const BATCH_BLOCKS = 500;
/** Rows per INSERT statement of the baseline (postgres.js binds at most 65,535 parameters). */
const ROWS_PER_STATEMENT = 5000;
const MAIN = join(import.meta.dir, "../packages/view-processor/src/main.ts");

const transferColumns = {
  txid: { type: "text" },
  event_index: { type: "int" },
  asset: { type: "text" },
  sender: { type: "principal" },
  recipient: { type: "principal" },
  amount: { type: "uint" },
  height: { type: "uint" },
} as const;

/** One insert and two upserts (credit, debit) per STX or token transfer. */
function transferHandler(type: "stx_transfer" | "ft_transfer", asset: string) {
  return {
    on: { type },
    do: [
      {
        insert: "transfers",
        values: {
          txid: "$.tx.id",
          event_index: "$.event.eventIndex",
          asset,
          sender: "$.event.sender",
          recipient: "$.event.recipient",
          amount: "$.event.amount",
          height: "$.block.height",
        },
      },
      { upsert: "balances", key: { asset, holder: "$.event.recipient" }, add: { balance: "$.event.amount" } },
      { upsert: "balances", key: { asset, holder: "$.event.sender" }, add: { balance: "-$.event.amount" } },
    ],
  };
}

const VIEW = {
  name: "bench-transfers",
  tables: {
    // Txids repeat in the generated chain (a signed pool is reused), so transfers have no key.
    transfers: { columns: transferColumns, indexes: [["recipient"]] },
    balances: {
      columns: { asset: { type: "text" }, holder: { type: "principal" }, balance: { type: "int", default: 0 } },
      primaryKey: ["asset", "holder"],
    },
  },
  handlers: [transferHandler("stx_transfer", "stx"), transferHandler("ft_transfer", "$.event.assetIdentifier")],
};

interface Expected {
  events: number;
  balances: Map<string, bigint>;
}

/** What the view must hold, folded from the generated bodies themselves. */
function expectedOf(bodies: NewBlockPayload[]): Expected {
  const balances = new Map<string, bigint>();
  const add = (asset: string, holder: string, delta: bigint) =>
    balances.set(`${asset}|${holder}`, (balances.get(`${asset}|${holder}`) ?? 0n) + delta);
  let events = 0;
  for (const b of bodies) {
    for (const e of b.events) {
      if (e.type !== "stx_transfer_event" && e.type !== "ft_transfer_event") continue;
      const moved = e[e.type] as { sender: string; recipient: string; amount: string; asset_identifier?: string };
      const asset = moved.asset_identifier ?? "stx";
      events++;
      add(asset, moved.recipient, BigInt(moved.amount));
      add(asset, moved.sender, -BigInt(moved.amount));
    }
  }
  return { events, balances };
}

interface ViewProcessorProcess {
  kill(): Promise<void>;
  /** Throws when the process has exited (a crash during catch-up would otherwise be waited on forever). */
  check(): void;
}

async function spawnViewProcessor(databaseUrl: string): Promise<ViewProcessorProcess> {
  const port = await freePort();
  const proc: Subprocess<"ignore", "pipe", "inherit"> = Bun.spawn(["bun", MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      STACKS_NETWORK: NETWORK,
      METRICS_PORT: String(port),
      LOG_LEVEL: "info",
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  // Its log is read and discarded, as a container runtime would.
  const drained = (async () => {
    for await (const _ of proc.stdout);
  })();
  const kill = async () => {
    proc.kill("SIGKILL");
    await proc.exited;
    await drained;
  };
  try {
    await waitForHealth(proc, `http://127.0.0.1:${port}`, "view processor");
  } catch (err) {
    await kill();
    throw err;
  }
  const check = () => {
    if (proc.exitCode !== null) throw new Error(`the view processor exited with code ${proc.exitCode}`);
  };
  return { kill, check };
}

/** Deploys the view and waits until its cursor is the log's head; seconds from deploy to caught up. */
async function catchUp(
  db: Db,
  account: string,
  processor: ViewProcessorProcess,
): Promise<{ seconds: number; schema: string }> {
  const head = await chainLogHead(db.sql, NETWORK);
  const view = await deployView(db.sql, account, VIEW, NETWORK);
  const started = performance.now();
  for (;;) {
    const [row] = await db.sql<{ last_seq: string; status: string; status_reason: string | null }[]>`
      select last_seq, status, status_reason from views where id = ${view.id}`;
    if (row?.status !== "active") throw new Error(`the view stopped: ${row?.status_reason}`);
    if (Number(row.last_seq) === head) break;
    processor.check();
    await Bun.sleep(5);
  }
  return { seconds: (performance.now() - started) / 1000, schema: view.schemaName };
}

async function checkView(db: Db, schema: string, expected: Expected): Promise<void> {
  const s = quoteIdent(schema);
  const [transfers] = await db.sql.unsafe(`select count(*)::int as n from ${s}.transfers`);
  if (transfers?.n !== expected.events)
    throw new Error(`the view holds ${transfers?.n} transfers, expected ${expected.events}`);
  const rows = await db.sql.unsafe(`select asset, holder, balance::text from ${s}.balances`);
  const got = new Map(rows.map((r) => [`${r.asset}|${r.holder}`, BigInt(r.balance)]));
  const same = got.size === expected.balances.size && [...expected.balances].every(([k, v]) => got.get(k) === v);
  if (!same) throw new Error("the view's balances differ from the chain's transfers");
}

type Row = Record<string, string | number | null>;

/**
 * The view's final rows into fresh tables of the same shape: the transfers as multi-row INSERTs, one
 * transaction per processor batch's worth of blocks, and every balance once as INSERT ... ON CONFLICT
 * DO UPDATE. Returns seconds writing.
 */
async function rawWrite(db: Db, url: string, from: string): Promise<number> {
  const raw = "bench_raw_view";
  for (const statement of createViewSql(raw, parseViewDefinition(VIEW, NETWORK).definition)) {
    await db.sql.unsafe(statement);
  }
  const source = quoteIdent(from);
  const transfers = await db.sql.unsafe<Row[]>(
    `select txid, event_index::text, asset, sender, recipient, amount::text, height::text, _block_height, _tx_id
     from ${source}.transfers order by _id`,
  );
  const balances = await db.sql.unsafe<Row[]>(
    `select asset, holder, balance::text, _block_height, _tx_id from ${source}.balances order by _id`,
  );
  const batches = new Map<number, Row[]>();
  for (const t of transfers) {
    const batch = Math.floor(((t._block_height as number) - 1) / BATCH_BLOCKS);
    const list = batches.get(batch);
    if (list) list.push(t);
    else batches.set(batch, [t]);
  }
  await settle(url);
  const started = performance.now();
  for (const rows of batches.values()) {
    await db.sql.begin(async (tx) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        await tx`insert into ${tx(raw)}.transfers ${tx(rows.slice(i, i + ROWS_PER_STATEMENT))}`;
      }
    });
  }
  await db.sql`
    insert into ${db.sql(raw)}.balances ${db.sql(balances)}
    on conflict (asset, holder) do update set balance = balances.balance + excluded.balance,
      _block_height = excluded._block_height, _tx_id = excluded._tx_id`;
  const seconds = (performance.now() - started) / 1000;
  const [n] = await db.sql`select count(*)::int as n from ${db.sql(raw)}.transfers`;
  if (n?.n !== transfers.length) throw new Error("the raw insert lost rows");
  return seconds;
}

export async function run(): Promise<BenchResult[]> {
  const blocks = benchSetting("BENCH_VIEW_BLOCKS", 2000);
  const bodies = [...generateChain(blocks, await signTransactionPool(400))];
  const expected = expectedOf(bodies);
  const cluster = await startBenchCluster();
  let processor: ViewProcessorProcess | null = null;
  const uninstall = onInterrupt(() => cluster.remove());
  try {
    const url = await cluster.createDatabase("bench_views");
    const db = connect(url, { max: 4 });
    try {
      const ingestor = new Ingestor(db, NETWORK, createLogger("bench", "silent"));
      const encoder = new TextEncoder();
      for (const body of bodies) {
        const outcome = await ingestor.ingest("/new_block", encoder.encode(JSON.stringify(body)));
        if (!outcome.ok) throw new Error(`ingest failed: ${JSON.stringify(outcome.error)}`);
      }
      const [account] = await db.sql<{ id: string }[]>`insert into accounts (name) values ('bench') returning id`;
      const running = await spawnViewProcessor(url);
      processor = running;
      await settle(url);
      const view = await catchUp(db, account?.id as string, running);
      await processor.kill();
      processor = null;
      await checkView(db, view.schema, expected);
      const rawSeconds = await rawWrite(db, url, view.schema);

      const rate = expected.events / view.seconds;
      const rawRate = expected.events / rawSeconds;
      process.stderr.write(
        `views: ${expected.events} matched events over ${blocks} blocks caught up in ${view.seconds.toFixed(2)} s ` +
          `(${Math.round(rate)} events/s); the same rows written raw in ${rawSeconds.toFixed(2)} s\n`,
      );
      return [
        {
          name: `view catch-up: matched events/s (${blocks} blocks, 1 insert + 2 upserts per event; baseline: raw INSERT/upsert of the same rows)`,
          value: rate,
          unit: "events/s",
          baseline: rawRate,
          ratio: rate / rawRate,
          target: { of: "value", atLeast: TARGET_EVENTS_PER_SECOND },
        },
        { name: "raw multi-row INSERT/upsert of the view's rows", value: rawRate, unit: "events/s" },
      ];
    } finally {
      await db.close();
    }
  } finally {
    await processor?.kill();
    uninstall();
    cluster.remove();
  }
}
