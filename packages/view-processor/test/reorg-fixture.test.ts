import { describe, expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { deployView } from "@second-layer/shared/views/store";
import { createTestDatabase } from "../../../test/support/database.ts";
import { blocksOf, canonicalChain, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import {
  expectedLedger,
  ledgerView,
  startTestViewProcessor,
  viewCaughtUp,
  viewTables,
} from "../../../test/support/views.ts";
import { createAccount } from "../../../test/support/worker.ts";

// mainnet-reorg-scenario2.tsv: the height-2 block seen first (with STX transfers) is orphaned by its
// sibling's child. A view that followed the log live applied the orphan and rolled it back; afterwards
// it equals a view built from scratch over the final chain, and the fold of that chain's events.

describe("views over a recorded reorg", () => {
  test("mainnet-reorg-scenario2.tsv: the live view equals a from-scratch build and the canonical fold", async () => {
    const db = await createTestDatabase();
    const account = await createAccount(db.sql);
    const indexer = await startTestIndexer(db);
    await startTestViewProcessor(db);
    const live = await deployView(db.sql, account, ledgerView("live"), "mainnet");
    const rows = fixture("mainnet-reorg-scenario2.tsv");
    const blocks = blocksOf(rows);
    const canonical = new Set(canonicalChain(blocks).map((b) => b.index_block_hash));
    const orphans = blocks.filter((b) => !canonical.has(b.index_block_hash));
    expect(orphans.map((b) => b.events.filter((e: any) => e.type === "stx_transfer_event").length)).toEqual([4]);

    // Row by row, caught up after each: the live view applies the orphan before the reorg rolls it back.
    const orphan = orphans[0].index_block_hash;
    let heldOrphan = false;
    for (const row of rows) {
      await replayEventLog([row], { to: indexer.url, maxAttempts: 1 });
      expect((await viewCaughtUp(db.sql, "live")).status).toBe("active");
      // While the orphan is the canonical block at height 2, the view holds its four transfers.
      const [block] = await db.sql`select canonical from blocks where index_block_hash = ${orphan}`;
      const [held] = await db.sql.unsafe(
        `select count(*)::int as n from "${live.schemaName}".transfers where _block_height = 2`,
      );
      if (block?.canonical) {
        expect(held?.n).toBe(4);
        heldOrphan = true;
      }
    }
    expect(heldOrphan).toBe(true);
    const [rolledBack] = await db.sql`
      select count(*)::int as n from chain_log where kind = 'rollback' and index_block_hash = ${orphan}`;
    expect(rolledBack?.n).toBe(1);

    await deployView(db.sql, account, ledgerView("scratch"), "mainnet");
    expect(await viewCaughtUp(db.sql, "scratch")).toEqual({ status: "active", statusReason: null });
    const followed = await viewTables(db.sql, "live");
    expect(followed).toEqual(await viewTables(db.sql, "scratch"));
    expect(followed).toEqual(expectedLedger(canonicalChain(blocks)));
  });
});
