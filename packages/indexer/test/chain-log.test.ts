import { beforeEach, describe, expect, test } from "bun:test";
import { Ingestor } from "@second-layer/indexer/ingest/ingestor";
import { type ChainLogEntry, foldChainLog, readChainLog } from "@second-layer/shared/chain-log";
import { createLogger } from "@second-layer/shared/logger";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { blocksOf, fixture } from "../../../test/support/fixtures.ts";
import { getJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { prng } from "../../../test/support/prng.ts";
import { hashOf, syntheticBlock } from "../../../test/support/synthetic-blocks.ts";

// The chain log is the contract every consumer relies on. The property test drives the real ingest
// path with random histories (extensions, forks of several depths, ties, duplicates, gaps and late
// gap fillers) and checks after every block that the database, the log and a small in-memory model
// of the fork-choice rule agree.

interface Node {
  label: string;
  height: number;
  parent: string;
}

/** The fork-choice rule of DESIGN.md, on a handful of blocks in memory. */
class ReferenceChain {
  readonly blocks = new Map<string, Node>();
  readonly canonical = new Set<string>();
  tip: Node | null = null;

  receive(b: Node): void {
    if (this.blocks.has(b.label)) return; // duplicates are no-ops
    this.blocks.set(b.label, b);
    const canonicalNodes = [...this.canonical].map((l) => this.blocks.get(l) as Node);
    const extendsTip = this.tip === null || b.height > this.tip.height;
    const parentKnown = this.blocks.has(b.parent);
    const heightTaken = canonicalNodes.some((n) => n.height === b.height);
    const hasCanonicalChild = canonicalNodes.some((n) => n.parent === b.label);
    // A gap filler: a free height, hanging off the canonical chain or off a gap.
    const fillsGap = !heightTaken && (!parentKnown || this.canonical.has(b.parent));
    if (!extendsTip && !hasCanonicalChild && !fillsGap) return; // a losing sibling or branch
    // It joins with its non-canonical ancestors down to the canonical chain or a gap; whatever was
    // canonical at the heights they cover leaves.
    const path = [b];
    for (let p = this.blocks.get(b.parent); p && !this.canonical.has(p.label); p = this.blocks.get(p.parent)) {
      path.push(p);
    }
    const low = Math.min(...path.map((p) => p.height));
    for (const n of canonicalNodes) if (n.height >= low && n.height <= b.height) this.canonical.delete(n.label);
    for (const p of path) this.canonical.add(p.label);
    if (extendsTip) this.tip = b;
  }

  /** The tip and its known ancestors. */
  tipChain(): Set<string> {
    const chain = new Set<string>();
    for (let n = this.tip; n; n = this.blocks.get(n.parent) ?? null) chain.add(n.label);
    return chain;
  }
}

/** A random block tree, and an order of delivery with duplicates and withheld (late) blocks. */
function history(seed: number, size: number): { deliveries: Node[]; inOrder: boolean } {
  const rand = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const nodes: Node[] = [{ label: `s${seed}-0`, height: 1, parent: `s${seed}-genesis` }];
  for (let i = 1; i < size; i++) {
    const highest = nodes.reduce((a, b) => (b.height > a.height ? b : a));
    const r = rand();
    let parent: Node;
    if (r < 0.55)
      parent = highest; // extend the tip
    else if (r < 0.7)
      parent = nodes.find((n) => n.label === highest.parent) ?? highest; // a tie at the tip
    else if (r < 0.85)
      parent = pick(nodes.slice(-6)); // a short fork
    else parent = pick(nodes); // a deep fork
    nodes.push({ label: `s${seed}-${i}`, height: parent.height + 1, parent: parent.label });
  }
  // Some histories arrive parent-first; the others lose runs of blocks that arrive late, in any order.
  const lossy = rand() < 0.75;
  const deliveries: Node[] = [];
  const withheld: Node[] = [];
  let run = 0;
  const release = () => deliveries.push(withheld.splice(Math.floor(rand() * withheld.length), 1)[0] as Node);
  for (const n of nodes) {
    if (run === 0 && lossy && n.height > 1 && rand() < 0.15) run = 1 + Math.floor(rand() * 3);
    if (run > 0) {
      withheld.push(n);
      run--;
    } else deliveries.push(n);
    if (withheld.length > 0 && rand() < 0.2) release();
    if (rand() < 0.1) deliveries.push(pick(deliveries)); // a duplicate
  }
  while (withheld.length > 0) release();
  return { deliveries, inOrder: !lossy };
}

let db: TestDatabase;
const log = createLogger("chain-log-test", "silent");
const encoder = new TextEncoder();

beforeEach(async () => {
  db = await createTestDatabase();
});

async function canonicalLabels(byHash: Map<string, string>): Promise<Set<string>> {
  const rows = await db.sql<{ index_block_hash: string }[]>`select index_block_hash from blocks where canonical`;
  return new Set(rows.map((r) => byHash.get(r.index_block_hash) ?? r.index_block_hash));
}

describe("chain log property", () => {
  const seeds = Array.from({ length: 16 }, (_, i) => 1000 + i * 7919);
  test.each(seeds)("history %d: fold(log) = canonical chain = reference after every block", async (seed) => {
    const ingestor = new Ingestor(db, "mainnet", log);
    const reference = new ReferenceChain();
    const { deliveries, inOrder } = history(seed, 40);
    const byHash = new Map<string, string>();
    const folded = new Set<string>();
    let seq = 0;
    for (const [step, node] of deliveries.entries()) {
      const where = `seed ${seed}, step ${step} (${node.label} h${node.height} <- ${node.parent})`;
      byHash.set(hashOf(node.label), node.label);
      const outcome = await ingestor.ingest(
        "/new_block",
        encoder.encode(JSON.stringify(syntheticBlock(node.label, node.height, node.parent))),
      );
      expect(outcome.ok, where).toBe(true);
      reference.receive(node);

      const entries = await readChainLog(db.sql, "mainnet", seq, 1000);
      // Gap-free and strictly increasing.
      expect(
        entries.map((e) => e.seq),
        where,
      ).toEqual(entries.map((_, i) => seq + i + 1));
      // One ingest: rollbacks first, highest first; then applies, lowest first.
      const kinds = entries.map((e) => e.kind);
      expect(kinds, where).toEqual([...kinds].sort((a, b) => (a === b ? 0 : a === "rollback" ? -1 : 1)));
      const heights = (k: ChainLogEntry["kind"]) => entries.filter((e) => e.kind === k).map((e) => e.height);
      expect(heights("rollback"), where).toEqual([...heights("rollback")].sort((a, b) => b - a));
      expect(heights("apply"), where).toEqual([...heights("apply")].sort((a, b) => a - b));
      // A rollback names only a block that is applied; an apply only one that is not.
      foldChainLog(entries, folded);
      seq = entries.at(-1)?.seq ?? seq;

      const stored = await canonicalLabels(byHash);
      const foldedLabels = new Set([...folded].map((h) => byHash.get(h) ?? h));
      expect(foldedLabels, where).toEqual(stored);
      expect(stored, where).toEqual(reference.canonical);
      // The tip and every known ancestor of it are canonical.
      for (const label of reference.tipChain()) expect(stored.has(label), `${where}: ${label}`).toBe(true);
      const [state] =
        await db.sql`select tip_index_block_hash, log_seq::int from chain_state where network = 'mainnet'`;
      expect(state?.tip_index_block_hash, where).toBe(reference.tip ? hashOf(reference.tip.label) : null);
      expect(state?.log_seq, where).toBe(seq);
    }
    // Delivered parent-first, the canonical set is exactly the tip's chain.
    if (inOrder) expect(await canonicalLabels(byHash)).toEqual(reference.tipChain());
  });
});

describe("chain log", () => {
  test("the recorded reorg: the orphaned h2 is rolled back before any apply of its replacement", async () => {
    const indexer = await startTestIndexer(db);
    const rows = fixture("mainnet-reorg-scenario2.tsv");
    await replayEventLog(rows, { to: indexer.url, maxAttempts: 1 });
    const entries = await readChainLog(db.sql, "mainnet", 0, 1000);
    const canonical = await db.sql<{ index_block_hash: string }[]>`select index_block_hash from blocks where canonical`;
    expect(foldChainLog(entries)).toEqual(new Set(canonical.map((r) => r.index_block_hash)));
    const orphaned = await db.sql<{ index_block_hash: string; block_height: number }[]>`
      select index_block_hash, block_height from blocks where not canonical`;
    expect(orphaned.length).toBeGreaterThan(0);
    for (const o of orphaned) {
      const rollback = entries.findIndex((e) => e.kind === "rollback" && e.indexBlockHash === o.index_block_hash);
      const replacement = entries.findIndex(
        (e, i) =>
          i > entries.findIndex((x) => x.indexBlockHash === o.index_block_hash) &&
          e.kind === "apply" &&
          e.height === o.block_height,
      );
      expect(rollback).toBeGreaterThan(-1);
      expect(replacement).toBeGreaterThan(rollback);
      expect(entries[rollback]?.reorgId).not.toBeNull();
    }
    // Every block of the recording that is canonical appears as an apply carrying its header fields.
    const recorded = new Map(blocksOf(rows).map((b) => [b.index_block_hash, b]));
    for (const e of entries.filter((x) => x.kind === "apply")) {
      const b = recorded.get(e.indexBlockHash);
      expect(e).toMatchObject({
        height: b.block_height,
        blockHash: b.block_hash,
        parentIndexBlockHash: b.parent_index_block_hash,
        burnBlockHeight: b.burn_block_height,
      });
    }
  });

  test("GET /chain/events pages through the log; bad parameters get 400 naming the field", async () => {
    const indexer = await startTestIndexer(db);
    const ingestor = indexer.ingestor;
    for (const [label, h, parent] of [
      ["a1", 1, "g"],
      ["a2", 2, "a1"],
      ["a3", 3, "a2"],
      ["b3", 3, "a2"],
      ["b4", 4, "b3"],
    ] as const) {
      await ingestor.ingest("/new_block", encoder.encode(JSON.stringify(syntheticBlock(label, h, parent))));
    }
    const first = await getJson(`${indexer.url}/chain/events?after=0&limit=2`);
    expect(first.events.map((e: any) => [e.seq, e.kind, e.indexBlockHash])).toEqual([
      [1, "apply", hashOf("a1")],
      [2, "apply", hashOf("a2")],
    ]);
    expect(first.next).toBe(2);
    const rest = await getJson(`${indexer.url}/chain/events?after=${first.next}`);
    expect(rest.events.map((e: any) => [e.seq, e.kind, e.height])).toEqual([
      [3, "apply", 3],
      [4, "rollback", 3],
      [5, "apply", 3],
      [6, "apply", 4],
    ]);
    expect(rest.events[1]).toMatchObject({
      indexBlockHash: hashOf("a3"),
      blockHash: hashOf("block-a3"),
      parentIndexBlockHash: hashOf("a2"),
      burnBlockHeight: 1003,
    });
    expect(rest.events[1].reorgId).toBe(rest.events[3].reorgId);
    expect(rest.next).toBe(6);
    const none = await getJson(`${indexer.url}/chain/events?after=6`);
    expect(none).toEqual({ events: [], next: 6 });
    const bad = await fetch(`${indexer.url}/chain/events?after=-1&limit=5000`);
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as any;
    expect(body.error.code).toBe("INVALID_QUERY");
    expect(body.error.details.map((d: any) => d.path).sort()).toEqual(["after", "limit"]);
  });
});
