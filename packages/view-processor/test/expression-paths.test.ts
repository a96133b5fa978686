import { describe, expect, test } from "bun:test";
import { deployView } from "@second-layer/shared/views/store";
import { blockHashes, buildBlock, chainAccounts } from "@second-layer/simulator/generate-chain";
import { createTestDatabase } from "../../../test/support/database.ts";
import { postJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { transactionPool } from "../../../test/support/transfer-blocks.ts";
import { sortRows, startTestViewProcessor, viewCaughtUp, viewTables } from "../../../test/support/views.ts";
import { createAccount } from "../../../test/support/worker.ts";

// Paths into the match context, decoded Clarity values included: the simulator's marketplace calls
// (`mint-with-token` with a token id, a price and a token contract) print a tuple {action, buyer, id,
// price, memo}; transfers are filtered with every comparison `when` has. What each path must give is
// known from the signed transactions the blocks carry.

const accounts = chainAccounts("mainnet");

const market = {
  name: "market",
  tables: {
    sales: {
      columns: {
        txid: { type: "text" },
        caller: { type: "principal" },
        fn: { type: "text" },
        price_arg: { type: "uint" },
        price: { type: "uint" },
        buyer: { type: "principal" },
        height: { type: "uint" },
        at: { type: "timestamp" },
        source: { type: "text" },
      },
    },
    spent: {
      columns: { buyer: { type: "principal" }, total: { type: "int", default: 0 } },
      primaryKey: ["buyer"],
    },
    picked: { columns: { txid: { type: "text" }, amount: { type: "uint" } } },
  },
  handlers: [
    {
      on: { type: "print_event" },
      when: { "$.event.value.action": { eq: "mint" }, "$.event.value.price": { gte: "1" } },
      do: [
        {
          insert: "sales",
          values: {
            txid: "$.tx.id",
            caller: "$.tx.sender",
            fn: "$.tx.functionName",
            price_arg: "$.tx.args[1]",
            price: "$.event.value.price",
            buyer: "$.event.value.buyer",
            height: "$.block.height",
            at: "$.block.time",
            source: "simulator",
          },
        },
        { upsert: "spent", key: { buyer: "$.event.value.buyer" }, add: { total: "-$.event.value.price" } },
      ],
    },
    {
      on: { type: "stx_transfer" },
      when: {
        "$.event.amount": { gt: "1000000", lte: "1001000" },
        "$.event.sender": { in: [accounts.senders[2], accounts.senders[4], accounts.senders[5]] },
        "$.event.recipient": { ne: accounts.deployer },
        "$.block.height": { lt: 3 },
      },
      do: [{ insert: "picked", values: { txid: "$.tx.id", amount: "$.event.amount" } }],
    },
  ],
};

describe("expression paths", () => {
  test("block, transaction and event fields, decoded arguments and print values, literals, a negated add, every comparison", async () => {
    const db = await createTestDatabase();
    const account = await createAccount(db.sql);
    const indexer = await startTestIndexer(db);
    await startTestViewProcessor(db);
    await deployView(db.sql, account, market, "mainnet");
    const pool = await transactionPool();
    const sales: Record<string, string | number>[] = [];
    const spent = new Map<string, bigint>();
    const picked: Record<string, string | number>[] = [];
    for (let h = 1; h <= 3; h++) {
      const body = buildBlock({ height: h, label: `m${h}`, parent: blockHashes(`m${h - 1}`), txs: pool });
      expect((await postJson(`${indexer.url}/new_block`, body)).json.ok).toBe(true);
      for (const tx of pool.filter((t) => t.kind === "mint")) {
        sales.push({
          txid: tx.txid,
          caller: tx.sender,
          fn: "mint-with-token",
          price_arg: String(tx.amount),
          price: String(tx.amount),
          buyer: tx.sender,
          height: String(h),
          at: new Date(Number(body.block_time) * 1000).toISOString(),
          source: "simulator",
          _block_height: h,
          _tx_id: tx.txid,
        });
        spent.set(tx.sender, (spent.get(tx.sender) ?? 0n) - tx.amount);
      }
      // A transfer pays its amount to the recipient; a marketplace call pays 1 STX to the deployer.
      for (const tx of pool) {
        const [amount, recipient] =
          tx.kind === "transfer" ? [tx.amount, accounts.recipient] : [1_000_000n, accounts.deployer];
        const chosen = [accounts.senders[2], accounts.senders[4], accounts.senders[5]].includes(tx.sender);
        if (amount > 1_000_000n && amount <= 1_001_000n && chosen && recipient !== accounts.deployer && h < 3) {
          picked.push({ txid: tx.txid, amount: String(amount), _block_height: h, _tx_id: tx.txid });
        }
      }
    }
    expect(sales.length).toBeGreaterThan(0);
    expect(picked.length).toBeGreaterThan(0);
    expect(await viewCaughtUp(db.sql, "market")).toEqual({ status: "active", statusReason: null });
    const tables = await viewTables(db.sql, "market");
    expect(tables.sales).toEqual(sortRows(sales));
    expect(tables.picked).toEqual(sortRows(picked));
    expect(Object.fromEntries((tables.spent ?? []).map((r) => [r.buyer, r.total]))).toEqual(
      Object.fromEntries([...spent].map(([buyer, total]) => [buyer, String(total)])),
    );
  });
});
