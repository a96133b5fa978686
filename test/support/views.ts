import { type Config, loadConfig } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import { createLogger } from "@second-layer/shared/logger";
import { getView } from "@second-layer/shared/views/store";
import { type RunningViewProcessor, startViewProcessor } from "@second-layer/view-processor/start";
import { onCleanup } from "./cleanup.ts";

/** A real view processor in this process over a test database. */
export async function startTestViewProcessor(
  db: Db & { url: string },
  env: Record<string, string> = {},
  opts: { pollMs?: number } = {},
): Promise<RunningViewProcessor & { config: Config }> {
  const config = loadConfig({
    STACKS_NETWORK: "mainnet",
    LOG_LEVEL: "silent",
    METRICS_PORT: "0",
    ...env,
    DATABASE_URL: db.url,
  });
  const running = await startViewProcessor({
    config,
    db,
    log: createLogger("views-test", config.LOG_LEVEL),
    ...opts,
  });
  onCleanup(() => running.stop());
  return { ...running, config };
}

/** Waits until a view's cursor reaches the chain log's head (or it stops with an error). */
export async function viewCaughtUp(
  sql: Db["sql"],
  name: string,
  timeoutMs = 30_000,
): Promise<{ status: string; statusReason: string | null }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await sql<{ status: string; status_reason: string | null; last_seq: string; head: string | null }[]>`
      select v.status, v.status_reason, v.last_seq, c.log_seq as head
      from views v left join chain_state c on c.network = v.network where v.name = ${name}`;
    if (row && (row.status !== "active" || row.last_seq === (row.head ?? "0"))) {
      return { status: row.status, statusReason: row.status_reason };
    }
    if (Date.now() > deadline) throw new Error(`view ${name} did not catch up within ${timeoutMs} ms`);
    await Bun.sleep(20);
  }
}

export type TableRow = Record<string, string | number | boolean | null>;

/**
 * A view table's rows, exactly (numbers as the decimal strings Postgres holds, times as ISO strings),
 * without the surrogate row id, sorted: for comparing two builds, or a build with what a test expects.
 */
export async function tableRows(sql: Db["sql"], schema: string, table: string): Promise<TableRow[]> {
  const rows = await sql.unsafe(`select * from "${schema}"."${table}"`);
  return sortRows(
    rows.map(({ _id, ...row }: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])),
    ) as TableRow[],
  );
}

/** Rows in one order whatever their key order: by their JSON with sorted keys. */
export function sortRows(rows: TableRow[]): TableRow[] {
  const keyed = rows.map((r) => [JSON.stringify(r, Object.keys(r).sort()), r] as const);
  return keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, r]) => r);
}

/** Every table of a view, by name, as `tableRows` reads them. */
export async function viewTables(sql: Db["sql"], name: string): Promise<Record<string, TableRow[]>> {
  const view = await getView(sql, null, name);
  if (!view) throw new Error(`no view ${name}`);
  const out: Record<string, TableRow[]> = {};
  for (const table of Object.keys(view.definition.tables)) out[table] = await tableRows(sql, view.schemaName, table);
  return out;
}

/**
 * A ledger of STX and fungible token movements, with every kind of write a handler has: transfers
 * are inserted; balances are upserted with an add and a negated add (mints add, burns subtract); the
 * latest STX receipt per holder is upserted with `set`, and deleted when the holder burns STX.
 */
export function ledgerView(name: string) {
  const transfer = (asset: string) => ({
    insert: "transfers",
    values: {
      txid: "$.tx.id",
      event_index: "$.event.eventIndex",
      asset,
      sender: "$.event.sender",
      recipient: "$.event.recipient",
      amount: "$.event.amount",
      at: "$.block.time",
    },
  });
  const credit = (asset: string, holder: string) => ({
    upsert: "balances",
    key: { asset, holder },
    add: { balance: "$.event.amount" },
  });
  const debit = (asset: string, holder: string) => ({
    upsert: "balances",
    key: { asset, holder },
    add: { balance: "-$.event.amount" },
  });
  const ft = "$.event.assetIdentifier";
  return {
    name,
    tables: {
      transfers: {
        columns: {
          txid: { type: "text" },
          event_index: { type: "int" },
          asset: { type: "text" },
          sender: { type: "principal" },
          recipient: { type: "principal" },
          amount: { type: "uint" },
          at: { type: "timestamp" },
        },
        indexes: [["recipient"]],
      },
      balances: {
        columns: { asset: { type: "text" }, holder: { type: "principal" }, balance: { type: "int", default: 0 } },
        primaryKey: ["asset", "holder"],
      },
      latest: {
        columns: { holder: { type: "principal" }, amount: { type: "uint" }, height: { type: "uint" } },
        primaryKey: ["holder"],
      },
    },
    handlers: [
      {
        on: { type: "stx_transfer" },
        do: [
          transfer("stx"),
          credit("stx", "$.event.recipient"),
          debit("stx", "$.event.sender"),
          {
            upsert: "latest",
            key: { holder: "$.event.recipient" },
            set: { amount: "$.event.amount", height: "$.block.height" },
          },
        ],
      },
      {
        on: { type: "stx_burn" },
        do: [debit("stx", "$.event.sender"), { delete: "latest", where: { holder: "$.event.sender" } }],
      },
      { on: { type: "ft_transfer" }, do: [transfer(ft), credit(ft, "$.event.recipient"), debit(ft, "$.event.sender")] },
      { on: { type: "ft_mint" }, do: [credit(ft, "$.event.recipient")] },
      { on: { type: "ft_burn" }, do: [debit(ft, "$.event.sender")] },
    ],
  };
}

/**
 * What the ledger view must hold after the given canonical chain (node `/new_block` bodies, oldest
 * first), folded here from the bodies' events: committed events of successful transactions, in
 * event order. Independent of the processor's code.
 */
export function expectedLedger(chain: any[]): Record<string, TableRow[]> {
  const transfers: TableRow[] = [];
  const balances = new Map<string, TableRow>();
  const latest = new Map<string, TableRow>();
  for (const block of chain) {
    const height = block.block_height;
    const at = new Date(Number(block.block_time ?? block.burn_block_time) * 1000).toISOString();
    const ok = new Set(block.transactions.filter((t: any) => t.status === "success").map((t: any) => t.txid));
    const written = { _block_height: height };
    const balance = (asset: string, holder: string, delta: bigint, txid: string) => {
      const before = BigInt((balances.get(`${asset}|${holder}`)?.balance as string | undefined) ?? "0");
      balances.set(`${asset}|${holder}`, {
        asset,
        holder,
        balance: String(before + delta),
        ...written,
        _tx_id: txid,
      });
    };
    for (const e of [...block.events].sort((a: any, b: any) => a.event_index - b.event_index)) {
      if (!e.committed || !ok.has(e.txid)) continue;
      const body = e[e.type];
      const amount = BigInt(body.amount ?? 0);
      const asset = e.type.startsWith("stx_") ? "stx" : body.asset_identifier;
      if (e.type === "stx_transfer_event" || e.type === "ft_transfer_event") {
        transfers.push({
          txid: e.txid,
          event_index: String(e.event_index),
          asset,
          sender: body.sender,
          recipient: body.recipient,
          amount: String(amount),
          at,
          ...written,
          _tx_id: e.txid,
        });
        balance(asset, body.recipient, amount, e.txid);
        balance(asset, body.sender, -amount, e.txid);
        if (e.type === "stx_transfer_event") {
          latest.set(body.recipient, {
            holder: body.recipient,
            amount: String(amount),
            height: String(height),
            ...written,
            _tx_id: e.txid,
          });
        }
      } else if (e.type === "stx_burn_event") {
        balance(asset, body.sender, -amount, e.txid);
        latest.delete(body.sender);
      } else if (e.type === "ft_mint_event") {
        balance(asset, body.recipient, amount, e.txid);
      } else if (e.type === "ft_burn_event") {
        balance(asset, body.sender, -amount, e.txid);
      }
    }
  }
  return {
    transfers: sortRows(transfers),
    balances: sortRows([...balances.values()]),
    latest: sortRows([...latest.values()]),
  };
}
