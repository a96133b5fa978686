import { describe, expect, test } from "bun:test";
import { deployView } from "@second-layer/shared/views/store";
import { createTestDatabase } from "../../../test/support/database.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { sample } from "../../../test/support/prometheus.ts";
import { spawnViewProcessor } from "../../../test/support/service-process.ts";
import { postTransferChain } from "../../../test/support/transfer-blocks.ts";
import { expectedLedger, ledgerView, viewCaughtUp, viewTables } from "../../../test/support/views.ts";
import { createAccount } from "../../../test/support/worker.ts";

// Two processor processes on one database, both catching up the same views one chain log entry per
// transaction: each batch is written by one of them (the view's advisory lock and the cursor check),
// so no upsert's add is applied twice, and between them they wrote every row operation exactly once.

const BLOCKS = 60;
const VIEWS = ["v1", "v2", "v3", "v4"];

/** Row operations the ledger view's handlers produce for a chain (4 per STX transfer, 2 per burn). */
function ledgerOps(chain: any[]): number {
  let ops = 0;
  for (const b of chain) {
    const ok = new Set(b.transactions.filter((t: any) => t.status === "success").map((t: any) => t.txid));
    for (const e of b.events) {
      if (!e.committed || !ok.has(e.txid)) continue;
      ops += e.type === "stx_transfer_event" ? 4 : e.type === "stx_burn_event" ? 2 : 0;
    }
  }
  return ops;
}

describe("several view processors", () => {
  test("two processes: every view equals the fold, and every row operation was written once", async () => {
    const db = await createTestDatabase();
    const account = await createAccount(db.sql);
    const indexer = await startTestIndexer(db);
    const chain = await postTransferChain(indexer.url, "a", 1, BLOCKS, "genesis");
    const processors = [
      await spawnViewProcessor(db.url, { VIEW_BATCH_SIZE: "1" }),
      await spawnViewProcessor(db.url, { VIEW_BATCH_SIZE: "1" }),
    ];
    for (const name of VIEWS) await deployView(db.sql, account, ledgerView(name), "mainnet");
    const want = expectedLedger(chain);
    for (const name of VIEWS) {
      expect(await viewCaughtUp(db.sql, name)).toEqual({ status: "active", statusReason: null });
      expect(await viewTables(db.sql, name)).toEqual(want);
    }
    const metrics = await Promise.all(processors.map((p) => p.metrics()));
    const ops = (text: string, view: string) => sample(text, "second_layer_view_row_ops_total", { view }) ?? 0;
    for (const name of VIEWS) {
      expect({ name, ops: metrics.reduce((n, text) => n + ops(text, name), 0) }).toEqual({
        name,
        ops: ledgerOps(chain),
      });
    }
    // Both took part.
    for (const text of metrics) expect(VIEWS.reduce((n, name) => n + ops(text, name), 0)).toBeGreaterThan(0);
    for (const p of processors) await p.kill();
  });
});
