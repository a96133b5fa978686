import { describe, expect, test } from "bun:test";
import { createLogger } from "@second-layer/shared/logger";
import { deployView, reindexView, updateView } from "@second-layer/shared/views/store";
import { ViewProcessor } from "@second-layer/view-processor/view-processor";
import { Registry } from "prom-client";
import { onCleanup } from "../../../test/support/cleanup.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { postTransferBlock } from "../../../test/support/transfer-blocks.ts";
import {
  expectedLedger,
  ledgerView,
  startTestViewProcessor,
  viewCaughtUp,
  viewTables,
} from "../../../test/support/views.ts";
import { createAccount } from "../../../test/support/worker.ts";

// How the processor learns there is work: the indexer's NOTIFY on the chain log, the views' NOTIFY
// on a deploy, change or reindex, and a slow poll for a wake-up that never came.

const AN_HOUR = 3_600_000;

async function setup() {
  const db = await createTestDatabase();
  const account = await createAccount(db.sql);
  const indexer = await startTestIndexer(db);
  const chain: unknown[] = [];
  const post = async (h: number) => {
    chain.push(await postTransferBlock(indexer.url, `a${h}`, h, h === 1 ? "genesis" : `a${h - 1}`));
  };
  return { db, account, chain, post };
}

describe("view processor wake-ups", () => {
  test("NOTIFY: with the poll an hour away, deploys, blocks, changes and reindexes are taken up at once", async () => {
    const { db, account, chain, post } = await setup();
    await startTestViewProcessor(db, {}, { pollMs: AN_HOUR });
    await post(1);
    await deployView(db.sql, account, ledgerView("ledger"), "mainnet");
    expect(await viewCaughtUp(db.sql, "ledger", 10_000)).toEqual({ status: "active", statusReason: null });
    for (let h = 2; h <= 8; h++) {
      await post(h);
      expect(await viewCaughtUp(db.sql, "ledger", 10_000)).toEqual({ status: "active", statusReason: null });
    }
    expect(await viewTables(db.sql, "ledger")).toEqual(expectedLedger(chain));

    // A reindex and a change that rebuilds both start the view over from its start block.
    await reindexView(db.sql, account, "ledger");
    expect(await viewCaughtUp(db.sql, "ledger", 10_000)).toEqual({ status: "active", statusReason: null });
    expect(await viewTables(db.sql, "ledger")).toEqual(expectedLedger(chain));
    const later = { ...ledgerView("ledger"), startBlock: 5 };
    expect((await updateView(db.sql, account, "ledger", later, "mainnet"))?.rebuilt).toBe(true);
    expect(await viewCaughtUp(db.sql, "ledger", 10_000)).toEqual({ status: "active", statusReason: null });
    expect(await viewTables(db.sql, "ledger")).toEqual(expectedLedger(chain.slice(4)));
  });

  test("the poll: a processor that hears no NOTIFY still follows the chain", async () => {
    const { db, account, chain, post } = await setup();
    const processor = new ViewProcessor({
      db,
      log: createLogger("views-test", "silent"),
      networks: ["mainnet"],
      registry: new Registry(),
      batchSize: 500,
      undoDepth: 500,
      pollMs: 100,
    });
    processor.start();
    onCleanup(() => processor.stop());
    await deployView(db.sql, account, ledgerView("ledger"), "mainnet");
    for (let h = 1; h <= 4; h++) {
      await post(h);
      expect(await viewCaughtUp(db.sql, "ledger", 10_000)).toEqual({ status: "active", statusReason: null });
    }
    expect(await viewTables(db.sql, "ledger")).toEqual(expectedLedger(chain));
    await processor.stop();
  });
});
