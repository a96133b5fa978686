import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { freePort } from "@second-layer/shared/db/local-postgres";
import { onCleanup } from "../../../test/support/cleanup.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { getJson, postJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { hashOf, syntheticBlock } from "../../../test/support/synthetic-blocks.ts";

// Ingest is serialized per network by the chain_state row lock. These tests race POSTs against it,
// within one indexer and across two indexer processes sharing one database, and check that every
// body is stored, nothing deadlocks or fails, and fork choice ends where it must.

const NETWORK = "mainnet";
const MAIN = join(import.meta.dir, "../src/main.ts");

interface Block {
  label: string;
  height: number;
  parent: string;
}

async function postBlock(url: string, b: Block): Promise<void> {
  const res = await postJson(`${url}/new_block`, syntheticBlock(b.label, b.height, b.parent));
  expect(res.status).toBe(200);
  expect(res.json.ok).toBe(true);
}

async function canonicalHashes(db: TestDatabase): Promise<string[]> {
  const rows = await db.sql<{ index_block_hash: string }[]>`
    select index_block_hash from blocks where network = ${NETWORK} and canonical order by block_height`;
  return rows.map((r) => r.index_block_hash);
}

/** chain_state must describe the blocks table: tip, highest height, lowest and contiguous heights. */
async function expectChainStateMatchesBlocks(db: TestDatabase): Promise<void> {
  const canonical = await db.sql<{ index_block_hash: string; block_height: number }[]>`
    select index_block_hash, block_height from blocks where network = ${NETWORK} and canonical order by block_height`;
  const [all] = await db.sql<{ highest: number }[]>`
    select max(block_height) as highest from blocks where network = ${NETWORK}`;
  let contiguous = canonical[0]?.block_height ?? null;
  for (const b of canonical.slice(1)) {
    if (contiguous === null || b.block_height !== contiguous + 1) break;
    contiguous = b.block_height;
  }
  const [state] = await db.sql`
    select tip_index_block_hash, tip_height, highest_height_seen, lowest_height, contiguous_height
    from chain_state where network = ${NETWORK}`;
  expect(state).toEqual({
    tip_index_block_hash: canonical.at(-1)?.index_block_hash ?? null,
    tip_height: canonical.at(-1)?.block_height ?? null,
    highest_height_seen: all?.highest ?? null,
    lowest_height: canonical[0]?.block_height ?? null,
    contiguous_height: contiguous,
  });
}

/** Every posted block is stored exactly once, and nothing else is. */
async function expectStoredExactly(db: TestDatabase, blocks: Block[]): Promise<void> {
  const rows = await db.sql<{ index_block_hash: string }[]>`
    select index_block_hash from blocks where network = ${NETWORK}`;
  const posted = [...new Set(blocks.map((b) => hashOf(b.label)))].sort();
  expect(rows.map((r) => r.index_block_hash).sort()).toEqual(posted);
}

async function expectOneCanonicalPerHeight(db: TestDatabase): Promise<void> {
  const crowded = await db.sql`
    select block_height from blocks where network = ${NETWORK} and canonical group by block_height having count(*) > 1`;
  expect([...crowded]).toEqual([]);
}

async function expectNoFailedBodies(db: TestDatabase): Promise<void> {
  expect([...(await db.sql`select journal_id, error_code, error from journal_failures`)]).toEqual([]);
}

/** Of two sibling blocks, the stored one that is canonical; fails unless exactly one is. */
async function canonicalSibling(db: TestDatabase, a: Block, b: Block): Promise<Block> {
  const rows = await db.sql<{ index_block_hash: string; canonical: boolean }[]>`
    select index_block_hash, canonical from blocks
    where network = ${NETWORK} and index_block_hash = any(${[hashOf(a.label), hashOf(b.label)]}::text[])`;
  expect(rows).toHaveLength(2);
  const winners = rows.filter((r) => r.canonical).map((r) => r.index_block_hash);
  expect(winners).toHaveLength(1);
  return winners[0] === hashOf(a.label) ? a : b;
}

describe("two concurrent POSTs of sibling blocks", () => {
  test("into an empty database, repeatedly: both stored, exactly one canonical, chain_state agrees", async () => {
    for (let round = 0; round < 8; round++) {
      const db = await createTestDatabase();
      const indexer = await startTestIndexer(db, { STACKS_NETWORK: NETWORK });
      const x: Block = { label: `x${round}`, height: 1, parent: "g" };
      const y: Block = { label: `y${round}`, height: 1, parent: "g" };
      await Promise.all([postBlock(indexer.url, x), postBlock(indexer.url, y)]);
      const winner = await canonicalSibling(db, x, y);
      expect(await canonicalHashes(db)).toEqual([hashOf(winner.label)]);
      await expectChainStateMatchesBlocks(db);
      await expectNoFailedBodies(db);
      await indexer.stop();
    }
  });

  test("on a growing chain, at each new height: both stored, the winner extends, chain_state agrees", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db, { STACKS_NETWORK: NETWORK });
    const expected: string[] = [];
    const posted: Block[] = [];
    let parent = "g";
    for (let height = 1; height <= 30; height++) {
      const x: Block = { label: `x${height}`, height, parent };
      const y: Block = { label: `y${height}`, height, parent };
      await Promise.all([postBlock(indexer.url, x), postBlock(indexer.url, y)]);
      posted.push(x, y);
      const winner = await canonicalSibling(db, x, y);
      expected.push(hashOf(winner.label));
      expect(await canonicalHashes(db)).toEqual(expected);
      await expectChainStateMatchesBlocks(db);
      parent = winner.label;
    }
    await expectStoredExactly(db, posted);
    await expectNoFailedBodies(db);
    expect((await getJson(`${indexer.url}/health/integrity`)).status).toBe("healthy");
  });
});

// ---- two indexer processes on one database ----

async function spawnIndexer(databaseUrl: string): Promise<string> {
  const port = await freePort();
  const proc = Bun.spawn(["bun", MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      LOG_LEVEL: "silent",
      STACKS_NETWORK: NETWORK,
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  onCleanup(async () => {
    proc.kill();
    await proc.exited;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) {
      throw new Error(`indexer exited with ${proc.exitCode}: ${await new Response(proc.stderr).text()}`);
    }
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return url;
    if (Date.now() > deadline) throw new Error(`indexer on port ${port} did not answer /health within 30 s`);
    await Bun.sleep(100);
  }
}

/**
 * One round of blocks above `base` (the previous round's tip, at height `h`): a main branch of 12,
 * a branch off its 5th block that stays shorter, a tie at the main branch's top, and a branch off its
 * 8th block that ends highest. The highest block is unique, so the canonical chain must be its ancestry.
 */
function roundOfBlocks(round: number, base: string, h: number): Block[] {
  const blocks: Block[] = [];
  const branch = (name: string, from: string, fromHeight: number, length: number) => {
    let parent = from;
    for (let i = 1; i <= length; i++) {
      const label = `${round}${name}${fromHeight + i}`;
      blocks.push({ label, height: fromHeight + i, parent });
      parent = label;
    }
  };
  branch("a", base, h, 12);
  branch("b", `${round}a${h + 5}`, h + 5, 4);
  branch("d", `${round}a${h + 11}`, h + 11, 1);
  branch("c", `${round}a${h + 8}`, h + 8, 8);
  return blocks;
}

/** The highest posted block and its ancestors among the posted blocks, lowest first. */
function expectedChain(blocks: Block[]): string[] {
  const byLabel = new Map(blocks.map((b) => [b.label, b]));
  const top = Math.max(...blocks.map((b) => b.height));
  const tips = blocks.filter((b) => b.height === top);
  expect(tips).toHaveLength(1);
  const chain: string[] = [];
  for (let b = tips[0]; b; b = byLabel.get(b.parent)) chain.unshift(hashOf(b.label));
  return chain;
}

test("two indexer processes on one database: forks, ties and duplicates from both end on one canonical chain", async () => {
  const db = await createTestDatabase();
  const [a, b] = await Promise.all([spawnIndexer(db.url), spawnIndexer(db.url)]);
  const posted: Block[] = [];
  let base = "g";
  let baseHeight = 0;
  for (let round = 0; round < 3; round++) {
    const blocks = roundOfBlocks(round, base, baseHeight);
    // Waves of heights posted all at once: siblings race each other, and every third block is also
    // sent to the other indexer at the same moment (a duplicate racing its original). In the last
    // round a wave spans two heights, so children race their parents (gaps that close moments later).
    const span = round === 2 ? 2 : 1;
    const heights = [...new Set(blocks.map((x) => x.height))].sort((p, q) => p - q);
    for (let w = 0; w < heights.length; w += span) {
      const waveHeights = heights.slice(w, w + span);
      const wave = blocks.filter((x) => waveHeights.includes(x.height));
      await Promise.all(
        wave.flatMap((block, i) => {
          const first = (block.height + i) % 2 === 0 ? a : b;
          const other = first === a ? b : a;
          return (block.height + i) % 3 === 0
            ? [postBlock(first, block), postBlock(other, block)]
            : [postBlock(first, block)];
        }),
      );
    }
    posted.push(...blocks);
    // Late duplicates of the round's first blocks, to both indexers at once, once the chain has moved on.
    await Promise.all(blocks.slice(0, 3).flatMap((block) => [postBlock(a, block), postBlock(b, block)]));
    const chain = expectedChain(posted);
    expect(await canonicalHashes(db)).toEqual(chain);
    const top = posted.find((x) => hashOf(x.label) === chain.at(-1));
    base = top?.label ?? "";
    baseHeight = top?.height ?? 0;
  }

  await expectStoredExactly(db, posted);
  expect(await canonicalHashes(db)).toEqual(expectedChain(posted));
  await expectOneCanonicalPerHeight(db);
  await expectChainStateMatchesBlocks(db);
  await expectNoFailedBodies(db);
  for (const url of [a, b]) {
    const integrity = await getJson(`${url}/health/integrity`);
    expect(integrity.status).toBe("healthy");
    expect(integrity.failedBodies.count).toBe(0);
  }
});
