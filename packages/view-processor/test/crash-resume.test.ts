import { describe, expect, test } from "bun:test";
import { chainLogHead } from "@second-layer/shared/chain-log";
import type { Db } from "@second-layer/shared/db/connect";
import { deployView } from "@second-layer/shared/views/store";
import { createTestDatabase } from "../../../test/support/database.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { spawnViewProcessor } from "../../../test/support/service-process.ts";
import { eventually } from "../../../test/support/stream-scenario.ts";
import { postTransferChain } from "../../../test/support/transfer-blocks.ts";
import { expectedLedger, ledgerView, viewCaughtUp, viewTables } from "../../../test/support/views.ts";
import { createAccount } from "../../../test/support/worker.ts";

// The processor as its own process, killed with SIGKILL while it catches a view up over many blocks
// (one chain log entry per transaction, the newest blocks with undo data): what it committed is
// exactly a prefix of the chain, and after a restart the view equals one built without interruption.

const BLOCKS = 150;
const ENV = { VIEW_BATCH_SIZE: "1", VIEW_UNDO_DEPTH: "40" };

async function cursor(sql: Db["sql"], name: string): Promise<number> {
  const [row] = await sql<{ last_seq: string }[]>`select last_seq from views where name = ${name}`;
  return Number(row?.last_seq);
}

describe("view processor killed mid catch-up", () => {
  test("SIGKILL, then a restart: the committed prefix is whole, and the result equals an uninterrupted build", async () => {
    const db = await createTestDatabase();
    const account = await createAccount(db.sql);
    const indexer = await startTestIndexer(db);
    const chain = await postTransferChain(indexer.url, "a", 1, BLOCKS, "genesis");
    const head = await chainLogHead(db.sql, "mainnet");
    expect(head).toBe(BLOCKS);

    const first = await spawnViewProcessor(db.url, ENV);
    await deployView(db.sql, account, ledgerView("crashed"), "mainnet");
    await eventually("a fifth of the catch-up", async () => (await cursor(db.sql, "crashed")) >= BLOCKS / 5, 30_000);
    await first.kill();
    const at = await cursor(db.sql, "crashed");
    expect(at).toBeLessThan(head);
    // One apply per block: the cursor is the height reached, and the tables hold exactly that prefix.
    expect(await viewTables(db.sql, "crashed")).toEqual(expectedLedger(chain.slice(0, at)));

    await spawnViewProcessor(db.url, ENV);
    expect(await viewCaughtUp(db.sql, "crashed")).toEqual({ status: "active", statusReason: null });
    await deployView(db.sql, account, ledgerView("uninterrupted"), "mainnet");
    expect(await viewCaughtUp(db.sql, "uninterrupted")).toEqual({ status: "active", statusReason: null });
    const crashed = await viewTables(db.sql, "crashed");
    expect(crashed).toEqual(await viewTables(db.sql, "uninterrupted"));
    expect(crashed).toEqual(expectedLedger(chain));
  });
});
