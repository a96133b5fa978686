import { describe, expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { deployView, getView } from "@second-layer/shared/views/store";
import { createTestDatabase } from "../../../test/support/database.ts";
import { blocksOf, canonicalChain, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { startTestViewProcessor, tableRows, viewCaughtUp } from "../../../test/support/views.ts";
import { createAccount } from "../../../test/support/worker.ts";

/** Transfers of every fungible token, and balances per token and holder (mints add, burns subtract). */
const tokens = {
  name: "tokens",
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
      primaryKey: ["txid", "event_index"],
      indexes: [["recipient"]],
    },
    balances: {
      columns: { asset: { type: "text" }, holder: { type: "principal" }, balance: { type: "int", default: 0 } },
      primaryKey: ["asset", "holder"],
    },
  },
  handlers: [
    {
      on: { type: "ft_transfer" },
      do: [
        {
          insert: "transfers",
          values: {
            txid: "$.tx.id",
            event_index: "$.event.eventIndex",
            asset: "$.event.assetIdentifier",
            sender: "$.event.sender",
            recipient: "$.event.recipient",
            amount: "$.event.amount",
            at: "$.block.time",
          },
        },
        {
          upsert: "balances",
          key: { asset: "$.event.assetIdentifier", holder: "$.event.recipient" },
          add: { balance: "$.event.amount" },
        },
        {
          upsert: "balances",
          key: { asset: "$.event.assetIdentifier", holder: "$.event.sender" },
          add: { balance: "-$.event.amount" },
        },
      ],
    },
    {
      on: { type: "ft_mint" },
      do: [
        {
          upsert: "balances",
          key: { asset: "$.event.assetIdentifier", holder: "$.event.recipient" },
          add: { balance: "$.event.amount" },
        },
      ],
    },
    {
      on: { type: "ft_burn" },
      do: [
        {
          upsert: "balances",
          key: { asset: "$.event.assetIdentifier", holder: "$.event.sender" },
          add: { balance: "-$.event.amount" },
        },
      ],
    },
  ],
};

/** What the recording says the view must hold: computed from its canonical events directly. */
function expected(blocks: any[]) {
  const transfers: any[] = [];
  const balances = new Map<string, bigint>();
  const add = (asset: string, holder: string, delta: bigint) =>
    balances.set(`${asset}|${holder}`, (balances.get(`${asset}|${holder}`) ?? 0n) + delta);
  for (const b of canonicalChain(blocks)) {
    const ok = new Set(b.transactions.filter((t: any) => t.status === "success").map((t: any) => t.txid));
    for (const e of [...b.events].sort((x: any, y: any) => x.event_index - y.event_index)) {
      if (!e.committed || !ok.has(e.txid)) continue;
      const body = e[e.type];
      if (e.type === "ft_transfer_event") {
        transfers.push({
          txid: e.txid,
          event_index: e.event_index,
          sender: body.sender,
          recipient: body.recipient,
          amount: String(body.amount),
        });
        add(body.asset_identifier, body.recipient, BigInt(body.amount));
        add(body.asset_identifier, body.sender, -BigInt(body.amount));
      } else if (e.type === "ft_mint_event") add(body.asset_identifier, body.recipient, BigInt(body.amount));
      else if (e.type === "ft_burn_event") add(body.asset_identifier, body.sender, -BigInt(body.amount));
    }
  }
  return { transfers, balances };
}

describe("views", () => {
  test("token transfers and balances over poisonmicroblock.tsv equal what the recording's events say", async () => {
    const db = await createTestDatabase();
    const account = await createAccount(db.sql);
    const indexer = await startTestIndexer(db);
    await startTestViewProcessor(db);
    await deployView(db.sql, account, tokens, "mainnet");
    const rows = fixture("poisonmicroblock.tsv");
    await replayEventLog(rows, { to: indexer.url, maxAttempts: 1 });
    expect(await viewCaughtUp(db.sql, "tokens")).toEqual({ status: "active", statusReason: null });
    const view = await getView(db.sql, account, "tokens");
    const want = expected(blocksOf(rows));
    expect(want.transfers.length).toBeGreaterThan(0);
    const got = await db.sql.unsafe(
      `select txid, event_index::int, sender, recipient, amount::text, _block_height from "${view?.schemaName}".transfers order by _block_height, event_index`,
    );
    expect(got.map(({ _block_height, ...r }: any) => r)).toEqual(want.transfers);
    const balances = await db.sql.unsafe(`select asset, holder, balance::text from "${view?.schemaName}".balances`);
    expect(new Map(balances.map((b: any) => [`${b.asset}|${b.holder}`, BigInt(b.balance)]))).toEqual(want.balances);
  });

  test("reorg log: a view that followed live equals one built from scratch over the final chain", async () => {
    const db = await createTestDatabase();
    const account = await createAccount(db.sql);
    const indexer = await startTestIndexer(db);
    await startTestViewProcessor(db);
    const transfersView = (name: string) => ({
      name,
      tables: {
        transfers: {
          columns: {
            txid: { type: "text" },
            sender: { type: "principal" },
            recipient: { type: "principal" },
            amount: { type: "uint" },
            height: { type: "uint" },
          },
        },
        balances: {
          columns: { holder: { type: "principal" }, balance: { type: "int", default: 0 } },
          primaryKey: ["holder"],
        },
      },
      handlers: [
        {
          on: { type: "stx_transfer" },
          do: [
            {
              insert: "transfers",
              values: {
                txid: "$.tx.id",
                sender: "$.event.sender",
                recipient: "$.event.recipient",
                amount: "$.event.amount",
                height: "$.block.height",
              },
            },
            { upsert: "balances", key: { holder: "$.event.recipient" }, add: { balance: "$.event.amount" } },
            { upsert: "balances", key: { holder: "$.event.sender" }, add: { balance: "-$.event.amount" } },
          ],
        },
      ],
    });
    await deployView(db.sql, account, transfersView("live"), "mainnet");
    const rows = fixture("mainnet-reorg-scenario2.tsv");
    // Block by block, so the live view applies the orphaned branch before the reorg rolls it back.
    for (const row of rows) {
      await replayEventLog([row], { to: indexer.url, maxAttempts: 1 });
      await viewCaughtUp(db.sql, "live");
    }
    const [undone] = await db.sql`select count(*)::int as n from chain_log where kind = 'rollback'`;
    expect(undone?.n).toBeGreaterThan(0);
    await deployView(db.sql, account, transfersView("scratch"), "mainnet");
    expect((await viewCaughtUp(db.sql, "scratch")).status).toBe("active");
    const live = await getView(db.sql, account, "live");
    const scratch = await getView(db.sql, account, "scratch");
    for (const table of ["transfers", "balances"]) {
      const a = await tableRows(db.sql, live?.schemaName as string, table);
      const b = await tableRows(db.sql, scratch?.schemaName as string, table);
      expect(a).toEqual(b);
    }
    const transfers = await tableRows(db.sql, live?.schemaName as string, "transfers");
    const canonicalTransfers = canonicalChain(blocksOf(rows)).flatMap((b: any) =>
      b.events.filter((e: any) => e.type === "stx_transfer_event"),
    );
    expect(transfers.length).toBe(canonicalTransfers.length);
  });
});
