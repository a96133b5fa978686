import { describe, expect, test } from "bun:test";
import type { Db } from "@second-layer/shared/db/connect";
import { deployView, getView, updateView } from "@second-layer/shared/views/store";
import { createTestDatabase } from "../../../test/support/database.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { postTransferChain, TEST_ACCOUNTS, type TestTransfer } from "../../../test/support/transfer-blocks.ts";
import {
  expectedLedger,
  ledgerView,
  startTestViewProcessor,
  viewCaughtUp,
  viewTables,
} from "../../../test/support/views.ts";
import { createAccount } from "../../../test/support/worker.ts";

// A view whose handlers cannot apply a block stops at that block with status `error`, its height and
// a reason a person can act on; the other views go on. A redeploy resumes it.

const [alice, bob, carol] = TEST_ACCOUNTS as [string, string, string];

/** Blocks 1-2 move nothing; block 3 pays bob and carol; block 4 pays carol twice; 5-6 move nothing. */
const EVENTS: Record<number, TestTransfer[]> = {
  3: [
    { kind: "transfer", sender: alice, recipient: bob, amount: 10n },
    { kind: "transfer", sender: alice, recipient: carol, amount: 20n },
  ],
  4: [
    { kind: "transfer", sender: bob, recipient: carol, amount: 3n },
    { kind: "transfer", sender: alice, recipient: carol, amount: 4n },
  ],
};

/** Writes `amount` (or whatever `value` says) of every STX transfer into a uint column. */
function amountsView(name: string, value: string) {
  return {
    name,
    tables: { amounts: { columns: { txid: { type: "text" }, amount: { type: "uint" } } } },
    handlers: [
      { on: { type: "stx_transfer" }, do: [{ insert: "amounts", values: { txid: "$.tx.id", amount: value } }] },
    ],
  };
}

/** One row per recipient, inserted on its first receipt: a second receipt in one block is a duplicate key. */
const receiptsView = {
  name: "receipts",
  tables: {
    receipts: {
      columns: { holder: { type: "principal" }, count: { type: "int", default: 0 } },
      primaryKey: ["holder"],
    },
  },
  handlers: [
    {
      on: { type: "stx_transfer" },
      do: [
        { insert: "receipts", values: { holder: "$.event.recipient" } },
        { upsert: "receipts", key: { holder: "$.event.recipient" }, add: { count: 1 } },
      ],
    },
  ],
};

/** A condition on the negation of the transaction's result, `(ok true)`: not a number. */
const conditionalView = {
  ...amountsView("conditional", "$.event.amount"),
  handlers: [
    {
      on: { type: "stx_transfer" },
      when: { "-$.tx.result": { gt: 0 } },
      do: [{ insert: "amounts", values: { txid: "$.tx.id", amount: "$.event.amount" } }],
    },
  ],
};

async function status(sql: Db["sql"], name: string) {
  const view = await getView(sql, null, name);
  return { status: view?.status, errorHeight: view?.errorHeight, version: view?.version, lastSeq: view?.lastSeq };
}

async function setup() {
  const db = await createTestDatabase();
  const account = await createAccount(db.sql);
  const indexer = await startTestIndexer(db);
  await startTestViewProcessor(db);
  const chain: unknown[] = [];
  const post = async (from: number, to: number) => {
    const parent = from === 1 ? "genesis" : `a${from - 1}`;
    chain.push(...(await postTransferChain(indexer.url, "a", from, to, parent, (h) => EVENTS[h] ?? [])));
  };
  return { db, account, chain, post };
}

describe("views stopped by their handlers", () => {
  test("a value that does not fit, a failing write and a condition that cannot be evaluated stop only their own view, at their block", async () => {
    const { db, account, chain, post } = await setup();
    // The good view is deployed last: it must not wait behind the broken ones.
    for (const def of [
      amountsView("negative", "-$.event.amount"),
      receiptsView,
      conditionalView,
      ledgerView("ledger"),
    ]) {
      await deployView(db.sql, account, def, "mainnet");
    }
    await post(1, 6);

    expect(await viewCaughtUp(db.sql, "ledger", 15_000)).toEqual({ status: "active", statusReason: null });
    expect(await viewTables(db.sql, "ledger")).toEqual(expectedLedger(chain));

    const negative = await viewCaughtUp(db.sql, "negative", 15_000);
    expect(negative.status).toBe("error");
    expect(negative.statusReason).toMatch(
      /^handlers\.0\.do\.0\.values\.amount: "-10" is negative \(column type uint\)$/,
    );
    expect((await status(db.sql, "negative")).errorHeight).toBe(3);

    const receipts = await viewCaughtUp(db.sql, "receipts", 15_000);
    expect(receipts.status).toBe("error");
    expect(receipts.statusReason).toContain("writing the view's rows failed: duplicate key value");
    expect((await status(db.sql, "receipts")).errorHeight).toBe(4);

    const conditional = await viewCaughtUp(db.sql, "conditional", 15_000);
    expect(conditional.status).toBe("error");
    expect(conditional.statusReason).toMatch(/^handlers\.0\.when: -\$\.tx\.result is not an integer/);
    expect((await status(db.sql, "conditional")).errorHeight).toBe(3);

    // A stopped view stays stopped while the chain grows; the good one follows.
    await post(7, 7);
    expect(await viewCaughtUp(db.sql, "ledger", 15_000)).toEqual({ status: "active", statusReason: null });
    expect((await status(db.sql, "negative")).status).toBe("error");
  });

  test("a redeploy resumes a stopped view: unchanged, at the block it stopped on; fixed, rebuilt to the tip", async () => {
    const { db, account, chain, post } = await setup();
    await deployView(db.sql, account, amountsView("amounts", "-$.event.amount"), "mainnet");
    // Followed block by block, so the blocks before the failing one are committed.
    for (let h = 1; h <= 4; h++) {
      await post(h, h);
      await viewCaughtUp(db.sql, "amounts", 15_000);
    }
    const stopped = await status(db.sql, "amounts");
    expect(stopped).toMatchObject({ status: "error", errorHeight: 3, version: 1 });

    // The same definition again: the view goes on from its cursor and meets the same block.
    await updateView(db.sql, account, "amounts", amountsView("amounts", "-$.event.amount"), "mainnet");
    expect((await status(db.sql, "amounts")).status).toBe("active");
    expect((await viewCaughtUp(db.sql, "amounts", 15_000)).status).toBe("error");
    expect(await status(db.sql, "amounts")).toEqual({ ...stopped, version: 2 });

    // A fixed handler rebuilds the view from its start block, and it follows the chain again.
    await updateView(db.sql, account, "amounts", amountsView("amounts", "$.event.amount"), "mainnet");
    await post(5, 5);
    expect(await viewCaughtUp(db.sql, "amounts", 15_000)).toEqual({ status: "active", statusReason: null });
    const view = await getView(db.sql, account, "amounts");
    const rows = await db.sql.unsafe(`select txid, amount::text from "${view?.schemaName}".amounts order by _id`);
    const paid = (chain as any[]).flatMap((b) =>
      b.events.map((e: any) => ({ txid: e.txid, amount: e.stx_transfer_event.amount })),
    );
    expect(paid).toHaveLength(4);
    expect([...rows]).toEqual(paid);
  });
});
