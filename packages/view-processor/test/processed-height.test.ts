import { describe, expect, test } from "bun:test";
import { parseViewDefinition } from "@second-layer/shared/views/definition";
import { handlerIndex } from "@second-layer/shared/views/plan-block";
import { deployView, getView } from "@second-layer/shared/views/store";
import { type LoadedView, processBatch } from "@second-layer/view-processor/process-batch";
import { createTestDatabase } from "../../../test/support/database.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { postTransferBlock } from "../../../test/support/transfer-blocks.ts";
import { expectedLedger, ledgerView, viewTables } from "../../../test/support/views.ts";
import { createAccount } from "../../../test/support/worker.ts";

// A view's cursor and processed height move batch by batch, whatever a batch holds: after a batch of
// rollbacks alone, the tables reflect the parent of the last block rolled back, and say so.

describe("a view's progress, batch by batch", () => {
  test("two entries per batch through a reorg: cursor, processed height and tables after every batch", async () => {
    const db = await createTestDatabase();
    const account = await createAccount(db.sql);
    const indexer = await startTestIndexer(db);
    const record = await deployView(db.sql, account, ledgerView("ledger"), "mainnet");
    const compiled = parseViewDefinition(record.definition, "mainnet");
    const view: LoadedView = {
      id: record.id,
      name: record.name,
      schema: record.schemaName,
      version: record.version,
      compiled,
      index: handlerIndex(compiled),
    };
    const batch = () => processBatch(db, view, { batchSize: 2, undoDepth: 10, perBlock: false });
    const post = (label: string, h: number, parent: string) => postTransferBlock(indexer.url, label, h, parent);

    const a: unknown[] = [];
    for (let h = 1; h <= 5; h++) a.push(await post(`a${h}`, h, h === 1 ? "genesis" : `a${h - 1}`));
    // b3..b6 on a2: the log rolls back a5, a4, a3 (entries 6-8), then applies b3..b6 (9-12).
    const b: unknown[] = [];
    for (let h = 3; h <= 6; h++) b.push(await post(`b${h}`, h, h === 3 ? "a2" : `b${h - 1}`));
    const progress = async () => {
      const v = await getView(db.sql, account, "ledger");
      return { lastSeq: v?.lastSeq, processedHeight: v?.processedHeight, tables: await viewTables(db.sql, "ledger") };
    };
    const expectAfterBatch = async (lastSeq: number, processedHeight: number, chain: unknown[]) => {
      expect((await batch()).status).toBe("progress");
      expect(await progress()).toEqual({ lastSeq, processedHeight, tables: expectedLedger(chain) });
    };
    await expectAfterBatch(2, 2, a.slice(0, 2));
    await expectAfterBatch(4, 4, a.slice(0, 4));
    // Apply a5 and its rollback: nothing to do.
    await expectAfterBatch(6, 4, a.slice(0, 4));
    // Rollbacks of a4 and a3 alone: the tables are a2's.
    await expectAfterBatch(8, 2, a.slice(0, 2));
    await expectAfterBatch(10, 4, [...a.slice(0, 2), ...b.slice(0, 2)]);
    await expectAfterBatch(12, 6, [...a.slice(0, 2), ...b]);
    expect((await batch()).status).toBe("idle");
  });
});
