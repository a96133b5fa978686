import { describe, expect, test } from "bun:test";
import type { Db } from "@second-layer/shared/db/connect";
import { deployView, getView, reindexView } from "@second-layer/shared/views/store";
import { createTestDatabase } from "../../../test/support/database.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { postTransferChain } from "../../../test/support/transfer-blocks.ts";
import {
  expectedLedger,
  ledgerView,
  startTestViewProcessor,
  viewCaughtUp,
  viewTables,
} from "../../../test/support/views.ts";
import { createAccount } from "../../../test/support/worker.ts";

// Undo data and VIEW_UNDO_DEPTH: blocks near the tip are applied with undo data, which is pruned once
// they are deeper than the depth — unless the log rolls them back further on, which a view behind the
// tip (caught up in small batches) still has to do. A rollback deeper than the depth stops the view,
// asking for a reindex, and the reindex builds it from scratch.

const DEPTH = 3;

async function setup(env: Record<string, string> = {}) {
  const db = await createTestDatabase();
  const account = await createAccount(db.sql);
  const indexer = await startTestIndexer(db);
  const settings = { VIEW_UNDO_DEPTH: String(DEPTH), ...env };
  const extend = (branch: string, from: number, to: number, parent: string) =>
    postTransferChain(indexer.url, branch, from, to, parent);
  return { db, account, indexer, settings, extend };
}

/** Heights of the blocks a view holds undo data for (each leaves a marker). */
async function undoHeights(sql: Db["sql"], name: string): Promise<number[]> {
  const view = await getView(sql, null, name);
  const rows = await sql.unsafe(
    `select block_height from "${view?.schemaName}"."_undo" where table_name = '' order by block_height`,
  );
  return rows.map((r: any) => r.block_height);
}

describe("undo data and VIEW_UNDO_DEPTH", () => {
  test("following the tip: undo data for the blocks within the depth, none below", async () => {
    const { db, account, settings, extend } = await setup();
    await startTestViewProcessor(db, settings);
    await deployView(db.sql, account, ledgerView("ledger"), "mainnet");
    for (let h = 1; h <= 12; h++) {
      await extend("a", h, h, h === 1 ? "genesis" : `a${h - 1}`);
      await viewCaughtUp(db.sql, "ledger");
    }
    expect(await undoHeights(db.sql, "ledger")).toEqual([9, 10, 11, 12]);
  });

  test("catching up from far below the tip: only blocks within the depth are applied with undo data", async () => {
    const { db, account, settings, extend } = await setup();
    const chain = await extend("a", 1, 12, "genesis");
    await startTestViewProcessor(db, settings);
    await deployView(db.sql, account, ledgerView("ledger"), "mainnet");
    expect(await viewCaughtUp(db.sql, "ledger")).toEqual({ status: "active", statusReason: null });
    expect(await undoHeights(db.sql, "ledger")).toEqual([10, 11, 12]);
    expect(await viewTables(db.sql, "ledger")).toEqual(expectedLedger(chain));
  });

  test("a view that fell behind keeps the undo data its pending rollbacks need, in batches of one entry", async () => {
    const { db, account, settings, extend } = await setup({ VIEW_BATCH_SIZE: "1" });
    const processor = await startTestViewProcessor(db, settings);
    await deployView(db.sql, account, ledgerView("ledger"), "mainnet");
    const a = await extend("a", 1, 5, "genesis");
    await viewCaughtUp(db.sql, "ledger");
    await processor.stop();
    // While it is stopped: two more blocks, then a fork from a4 that orphans a5..a7 and grows far
    // beyond the depth. a5 was within the depth of the tip when it was applied, so it is undoable.
    await extend("a", 6, 7, "a5");
    const b = await extend("b", 5, 12, "a4");
    await startTestViewProcessor(db, settings);
    expect(await viewCaughtUp(db.sql, "ledger")).toEqual({ status: "active", statusReason: null });
    expect(await viewTables(db.sql, "ledger")).toEqual(expectedLedger([...a.slice(0, 4), ...b]));
    // a5..a7's undo data went with their rollbacks; b9 was caught up to deeper than the depth.
    expect(await undoHeights(db.sql, "ledger")).toEqual([10, 11, 12]);
  });

  test("a rollback deeper than the depth stops the view with the height and a reindex hint; the reindex rebuilds it", async () => {
    const { db, account, settings, extend } = await setup();
    await startTestViewProcessor(db, settings);
    await deployView(db.sql, account, ledgerView("ledger"), "mainnet");
    const a = await extend("a", 1, 10, "genesis");
    await viewCaughtUp(db.sql, "ledger");
    const before = await viewTables(db.sql, "ledger");
    // Block by block the view keeps one block more than when a10 came in the same batch as the rest
    // (see the tests above): the first block rolled back without undo data is the one below those.
    const kept = await undoHeights(db.sql, "ledger");
    expect([
      [8, 9, 10],
      [7, 8, 9, 10],
    ]).toContainEqual(kept);
    // b5..b11 on a4 orphans a5..a10: six blocks, deeper than the depth of three.
    const b = await extend("b", 5, 11, "a4");
    const stopped = await viewCaughtUp(db.sql, "ledger");
    expect(stopped.status).toBe("error");
    expect(stopped.statusReason).toContain("applied without undo data");
    expect(stopped.statusReason).toContain("reindex the view");
    const view = await getView(db.sql, account, "ledger");
    expect(view?.errorHeight).toBe((kept[0] as number) - 1);
    // Nothing of the failed batch was kept: the tables are as they were before the reorg.
    expect(await viewTables(db.sql, "ledger")).toEqual(before);

    await reindexView(db.sql, account, "ledger");
    expect(await viewCaughtUp(db.sql, "ledger")).toEqual({ status: "active", statusReason: null });
    expect(await viewTables(db.sql, "ledger")).toEqual(expectedLedger([...a.slice(0, 4), ...b]));
  });
});
