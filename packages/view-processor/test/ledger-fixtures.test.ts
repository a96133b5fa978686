import { describe, expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { deployView } from "@second-layer/shared/views/store";
import { FIXTURE_NETWORKS } from "../../../test/support/chain-rows.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { ALL_FIXTURES, blocksOf, canonicalChain, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import {
  expectedLedger,
  ledgerView,
  startTestViewProcessor,
  viewCaughtUp,
  viewTables,
} from "../../../test/support/views.ts";
import { createAccount } from "../../../test/support/worker.ts";

// The ledger view (STX and token transfers inserted, balances upserted with adds and negated adds,
// the latest receipt set and deleted) over every recorded node log, replayed through a real indexer:
// its whole tables equal what the log's canonical events say, folded by the test itself.

describe("ledger view over the recorded node logs", () => {
  test("the recorded logs hold every kind of event the ledger handles", () => {
    const types = new Set(
      ALL_FIXTURES.flatMap((f) =>
        canonicalChain(blocksOf(fixture(f))).flatMap((b) => b.events.map((e: any) => e.type)),
      ),
    );
    for (const type of [
      "stx_transfer_event",
      "stx_burn_event",
      "ft_transfer_event",
      "ft_mint_event",
      "ft_burn_event",
    ]) {
      expect(types).toContain(type);
    }
  });

  test.each(ALL_FIXTURES)("%s: every table equals the fold of the log's canonical events", async (file) => {
    const network = FIXTURE_NETWORKS[file] as string;
    const db = await createTestDatabase();
    const account = await createAccount(db.sql);
    const indexer = await startTestIndexer(db, { STACKS_NETWORK: network });
    await startTestViewProcessor(db, { STACKS_NETWORK: network });
    await deployView(db.sql, account, ledgerView("ledger"), network as never);
    const rows = fixture(file);
    await replayEventLog(rows, { to: indexer.url, maxAttempts: 1 });
    expect(await viewCaughtUp(db.sql, "ledger")).toEqual({ status: "active", statusReason: null });
    expect(await viewTables(db.sql, "ledger")).toEqual(expectedLedger(canonicalChain(blocksOf(rows))));
  });
});
