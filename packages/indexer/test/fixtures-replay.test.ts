import { describe, expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { createTestDatabase } from "../../../test/support/database.ts";
import { ALL_FIXTURES, blocksOf, fixture, fixtureNetwork } from "../../../test/support/fixtures.ts";
import { getJson, startTestIndexer } from "../../../test/support/indexer.ts";

const FILES = ALL_FIXTURES;

/** The canonical chain derived from the recorded data alone: walk parents back from the highest block. */
function expectedCanonical(blocks: any[]) {
  const byHash = new Map<string, any>();
  for (const b of blocks) if (!byHash.has(b.index_block_hash)) byHash.set(b.index_block_hash, b);
  const unique = [...byHash.values()];
  const tip = unique.reduce((a, b) => (b.block_height > a.block_height ? b : a));
  const chain: any[] = [];
  for (let b: any = tip; b; b = byHash.get(b.parent_index_block_hash)) chain.push(b);
  const onChain = new Set(chain.map((b) => b.index_block_hash));
  // Below a missing parent, blocks keep their status: the first seen per height stays canonical.
  const lowest = Math.min(...chain.map((b) => b.block_height));
  for (const b of unique) {
    if (b.block_height < lowest && ![...onChain].some((h) => byHash.get(h).block_height === b.block_height)) {
      onChain.add(b.index_block_hash);
    }
  }
  return { tip, canonical: unique.filter((b) => onChain.has(b.index_block_hash)) };
}

async function snapshot(sql: any) {
  const tables = [
    "blocks",
    "transactions",
    "events",
    "microblocks",
    "burn_blocks",
    "mempool_txs",
    "reorgs",
    "chain_state",
  ];
  const out: Record<string, unknown> = {};
  for (const t of tables) {
    out[t] = await sql.unsafe(
      `select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h, count(*)::int as n from (select * from ${t}) x`,
    );
  }
  // Columns that legitimately change on a re-send are excluded above only if volatile; updated_at is.
  return out;
}

describe.each(FILES)("replaying %s", (file) => {
  test("every row answers 200 and the stored chain matches the recording; a second replay changes nothing", async () => {
    const db = await createTestDatabase();
    const network = fixtureNetwork(file);
    const indexer = await startTestIndexer(db, { STACKS_NETWORK: network });
    const rows = fixture(file);
    const summary = await replayEventLog(rows, { to: indexer.url, maxAttempts: 1 });
    expect(summary.byStatus).toEqual({ "200": rows.length });
    expect(summary.rejected).toEqual([]);

    const blocks = blocksOf(rows);
    const { tip, canonical } = expectedCanonical(blocks);
    const canonicalHashes = new Set(canonical.map((b) => b.index_block_hash));
    const [state] = await db.sql`select tip_index_block_hash, tip_height from chain_state where network = ${network}`;
    expect(state?.tip_index_block_hash).toBe(tip.index_block_hash);
    expect(state?.tip_height).toBe(tip.block_height);

    const storedCanonical =
      await db.sql`select index_block_hash from blocks where network = ${network} and canonical order by block_height`;
    expect(new Set(storedCanonical.map((r: any) => r.index_block_hash))).toEqual(canonicalHashes);

    const expectedTxs = canonical.reduce((n, b) => n + b.transactions.length, 0);
    const expectedEvents = canonical.reduce((n, b) => n + b.events.length, 0);
    const expectedGoodEvents = canonical.reduce((n, b) => {
      const ok = new Set(b.transactions.filter((t: any) => t.status === "success").map((t: any) => t.txid));
      return n + b.events.filter((e: any) => e.committed && ok.has(e.txid)).length;
    }, 0);
    const [counts] = await db.sql`
      select
        (select count(*)::int from transactions where network = ${network} and canonical) as txs,
        (select count(*)::int from events where network = ${network} and canonical) as events,
        (select count(*)::int from events where network = ${network} and canonical and committed and tx_success) as good_events`;
    expect(counts?.txs).toBe(expectedTxs);
    expect(counts?.events).toBe(expectedEvents);
    expect(counts?.good_events).toBe(expectedGoodEvents);

    // Every event type in the recording is stored under the node's own name.
    const types = new Set(blocks.flatMap((b) => b.events.map((e: any) => e.type)));
    const storedTypes = await db.sql`select distinct type from events where network = ${network}`;
    expect(new Set(storedTypes.map((r: any) => r.type))).toEqual(types);

    // One journal row per POST, except retries: a block already stored, or a body equal to the one
    // just before it (the node re-sending a POST it saw no 200 for).
    const seenBlocks = new Set<string>();
    const retries = rows.filter((r, i) => {
      if (r.path === "/new_block") {
        const hash = JSON.parse(r.payload).index_block_hash;
        if (seenBlocks.has(hash)) return true;
        seenBlocks.add(hash);
        return false;
      }
      return i > 0 && rows[i - 1]?.path === r.path && rows[i - 1]?.payload === r.payload;
    });
    const [journal] = await db.sql`select count(*)::int as n from journal`;
    expect(journal?.n).toBe(rows.length - retries.length);
    const [failures] = await db.sql`select count(*)::int as n from journal_failures`;
    expect(failures?.n).toBe(0);

    // /health keeps its figures incrementally; they must agree with the full integrity scan.
    const health = await getJson(`${indexer.url}/health`);
    const integrity = await getJson(`${indexer.url}/health/integrity`);
    expect(health.lastIndexedBlock.indexBlockHash).toBe(tip.index_block_hash);
    expect(health.lastContiguousBlock).toEqual(integrity.lastContiguousBlock);
    expect(integrity.gaps).toEqual([]);

    const before = await snapshot(db.sql);
    const blockAnswers: any[] = [];
    const again = await replayEventLog(rows, {
      to: indexer.url,
      maxAttempts: 1,
      onAnswer: (row, answer) => row.path === "/new_block" && blockAnswers.push(answer),
    });
    expect(again.byStatus).toEqual({ "200": rows.length });
    // A block already stored is recognised before it is decoded, and not journaled again.
    expect(blockAnswers.length).toBe(blocks.length);
    for (const answer of blockAnswers) expect(answer).toMatchObject({ ok: true, duplicate: true });
    expect(await snapshot(db.sql)).toEqual(before);
  });
});
