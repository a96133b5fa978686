import { describe, expect, test } from "bun:test";
import { deployView } from "@second-layer/shared/views/store";
import { createTestDatabase } from "../../../test/support/database.ts";
import { postJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { prng } from "../../../test/support/prng.ts";
import { TEST_ACCOUNTS, type TestTransfer, transferBlock } from "../../../test/support/transfer-blocks.ts";
import {
  expectedLedger,
  ledgerView,
  startTestViewProcessor,
  viewCaughtUp,
  viewTables,
} from "../../../test/support/views.ts";
import { createAccount } from "../../../test/support/worker.ts";

// Random histories of a chain carrying transfers and burns: extensions, forks of depth 1 to 4 that
// take over, forks that never do, and pauses of the processor while the chain moves on (so it meets
// applies and rollbacks in one stretch, split across batches of 1, 2, 3 or 500 entries). After every
// step the view equals the ledger folded by the test over the canonical chain it knows; after the
// history, it also equals a view built from scratch.

const STEPS = 30;
/** Deeper than any fork here, shallow enough that undo data is pruned as the chain grows. */
const UNDO_DEPTH = 6;

interface Node {
  label: string;
  height: number;
  parent: string;
  body: unknown;
}

function randomEvents(rand: () => number): TestTransfer[] {
  const pick = () => TEST_ACCOUNTS[Math.floor(rand() * TEST_ACCOUNTS.length)] as string;
  return Array.from({ length: Math.floor(rand() * 5) }, () => {
    // Now and then an amount far beyond a double's exact range: uint columns are exact.
    const amount = BigInt(1 + Math.floor(rand() * 1000)) + (rand() < 0.1 ? 1n << 100n : 0n);
    const failed = rand() < 0.1;
    return rand() < 0.15
      ? { kind: "burn", sender: pick(), amount, failed }
      : { kind: "transfer", sender: pick(), recipient: pick(), amount, failed };
  });
}

describe("views under random applies and rollbacks", () => {
  const seeds = Array.from({ length: 8 }, (_, i) => 4242 + i * 7919);
  test.each(seeds)("history %d: after every step the view equals the fold of the canonical chain", async (seed) => {
    const rand = prng(seed);
    const batchSize = [1, 2, 3, 500][seed % 4] as number;
    const env = { VIEW_BATCH_SIZE: String(batchSize), VIEW_UNDO_DEPTH: String(UNDO_DEPTH) };
    const db = await createTestDatabase();
    const account = await createAccount(db.sql);
    const indexer = await startTestIndexer(db);
    let processor: Awaited<ReturnType<typeof startTestViewProcessor>> | null = await startTestViewProcessor(db, env);
    await deployView(db.sql, account, ledgerView("live"), "mainnet");

    const nodes = new Map<string, Node>();
    let tip: Node | null = null;
    let count = 0;
    const post = async (parent: Node | null) => {
      const label = `s${seed}-${count++}`;
      const height = (parent?.height ?? 0) + 1;
      const body = await transferBlock(label, height, parent?.label ?? "genesis", randomEvents(rand));
      const res = await postJson(`${indexer.url}/new_block`, body);
      expect([res.status, res.json.ok]).toEqual([200, true]);
      const node = { label, height, parent: parent?.label ?? "genesis", body };
      nodes.set(label, node);
      // Fork choice: the highest block is the tip; between equals, the first seen stays.
      if (!tip || height > tip.height) tip = node;
      return node;
    };
    const ancestor = (n: Node, depth: number): Node | null => {
      let at: Node | null = n;
      for (let i = 0; i < depth && at; i++) at = nodes.get(at.parent) ?? null;
      return at;
    };
    const canonicalChain = () => {
      const chain: unknown[] = [];
      for (let n: Node | undefined = tip ?? undefined; n; n = nodes.get(n.parent)) chain.unshift(n.body);
      return chain;
    };

    let pausedFor = 0;
    const done: string[] = [];
    for (let step = 0; step < STEPS; step++) {
      const r = rand();
      if (!tip || r < 0.45) {
        const blocks = 1 + Math.floor(rand() * 3);
        for (let i = 0; i < blocks; i++) await post(tip);
        done.push(`extend ${blocks}`);
      } else if (r < 0.75) {
        // A fork from `depth` blocks below the tip that grows one longer than the old chain.
        const depth = 1 + Math.floor(rand() * 4);
        let at = ancestor(tip, depth);
        for (let i = 0; i <= depth; i++) at = await post(at);
        done.push(`fork ${depth}`);
      } else if (r < 0.85) {
        // A fork that stays shorter than the chain: never canonical.
        const depth = 1 + Math.floor(rand() * 3);
        let at = ancestor(tip, depth);
        for (let i = 0; i < depth; i++) at = await post(at);
        done.push(`stale fork ${depth}`);
      } else if (processor) {
        await processor.stop();
        processor = null;
        pausedFor = 2 + Math.floor(rand() * 3);
        done.push("pause");
        continue;
      }
      if (!processor && --pausedFor <= 0) {
        processor = await startTestViewProcessor(db, env);
        done.push("resume");
      }
      if (!processor) continue;
      const where = `seed ${seed}, batch ${batchSize}, after ${done.join(", ")}`;
      expect({ where, ...(await viewCaughtUp(db.sql, "live")) }).toEqual({
        where,
        status: "active",
        statusReason: null,
      });
      expect({ where, tables: await viewTables(db.sql, "live") }).toEqual({
        where,
        tables: expectedLedger(canonicalChain()),
      });
    }
    processor ??= await startTestViewProcessor(db, env);
    await viewCaughtUp(db.sql, "live");
    await deployView(db.sql, account, ledgerView("scratch"), "mainnet");
    expect(await viewCaughtUp(db.sql, "scratch")).toEqual({ status: "active", statusReason: null });
    const live = await viewTables(db.sql, "live");
    expect(live).toEqual(await viewTables(db.sql, "scratch"));
    expect(live).toEqual(expectedLedger(canonicalChain()));
    // The histories did what they are for: rollbacks happened, and the tables hold something.
    const [rollbacks] = await db.sql`select count(*)::int as n from chain_log where kind = 'rollback'`;
    expect(rollbacks?.n).toBeGreaterThan(0);
    expect(live.transfers?.length).toBeGreaterThan(0);
    await processor.stop();
  });
});
