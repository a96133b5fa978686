import { describe, expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { decodeClarityHex } from "@second-layer/shared/stacks/clarity";
import { createTestDatabase } from "../../../test/support/database.ts";
import { blocksOf, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";

async function ingestFixture(file: string, network: string) {
  const db = await createTestDatabase();
  const indexer = await startTestIndexer(db, { STACKS_NETWORK: network });
  const rows = fixture(file);
  await replayEventLog(rows, { to: indexer.url, maxAttempts: 1 });
  return { db, rows, indexer };
}

describe("mainnet-reorg-scenario2", () => {
  test("the first-seen h2 is orphaned with all its txs and events; microblock txs are canonical through the winner", async () => {
    const { db, rows } = await ingestFixture("mainnet-reorg-scenario2.tsv", "mainnet");
    const blocks = blocksOf(rows);
    const [firstH2, secondH2] = blocks.filter((b) => b.block_height === 2);
    const [orphan] = await db.sql`select canonical from blocks where index_block_hash = ${firstH2.index_block_hash}`;
    expect(orphan?.canonical).toBe(false);
    const [orphanRows] = await db.sql`
      select (select count(*)::int from transactions where index_block_hash = ${firstH2.index_block_hash} and canonical) as canon_txs,
             (select count(*)::int from transactions where index_block_hash = ${firstH2.index_block_hash}) as txs,
             (select count(*)::int from events where index_block_hash = ${firstH2.index_block_hash} and canonical) as canon_events,
             (select count(*)::int from events where index_block_hash = ${firstH2.index_block_hash}) as events`;
    expect(orphanRows).toEqual({
      canon_txs: 0,
      txs: firstH2.transactions.length,
      canon_events: 0,
      events: firstH2.events.length,
    });
    const [reorg] = await db.sql`select * from reorgs`;
    expect(reorg).toMatchObject({
      depth: 1,
      orphaned_blocks: [firstH2.index_block_hash],
      fork_point_height: 1,
    });

    // The microblock stream after h1 was confirmed by both h2s; only the winner's copies are canonical.
    const microblocks =
      await db.sql`select microblock_hash, microblock_sequence from microblocks order by microblock_sequence`;
    const mbPayload = JSON.parse(rows.find((r) => r.path === "/new_microblocks")!.payload);
    expect(microblocks.map((m: any) => m.microblock_hash)).toEqual([
      ...new Set(mbPayload.transactions.map((t: any) => t.microblock_hash)),
    ]);
    const mbTxids = mbPayload.transactions.map((t: any) => t.txid);
    const confirmed = await db.sql`
      select distinct index_block_hash from transactions where txid = any(${mbTxids}::text[]) and canonical`;
    expect(confirmed.map((r: any) => r.index_block_hash)).toEqual([secondH2.index_block_hash]);
  });
});

describe("poisonmicroblock", () => {
  test("poison-microblock and aborted transactions are decoded and stored with their status", async () => {
    const { db, rows } = await ingestFixture("poisonmicroblock.tsv", "mainnet");
    const [block] = blocksOf(rows);
    const statuses = await db.sql`select status, count(*)::int as n from transactions group by status order by status`;
    const expected: Record<string, number> = {};
    for (const t of block.transactions) expected[t.status] = (expected[t.status] ?? 0) + 1;
    expect(Object.fromEntries(statuses.map((s: any) => [s.status, s.n]))).toEqual(expected);
    expect(expected.abort_by_response).toBeGreaterThan(0);
    expect(expected.abort_by_post_condition).toBeGreaterThan(0);
    const [poison] = await db.sql`select count(*)::int as n from transactions where tx_type = 'poison_microblock'`;
    expect(poison?.n).toBe(10);
    // Events of aborted transactions are kept but flagged.
    const failedTxids = block.transactions.filter((t: any) => t.status !== "success").map((t: any) => t.txid);
    const failedEvents = block.events.filter((e: any) => failedTxids.includes(e.txid)).length;
    const [flagged] = await db.sql`select count(*)::int as n from events where not tx_success`;
    expect(flagged?.n).toBe(failedEvents);
    // Amounts are exact numerics: compare the sum as text, computed with BigInt from the recording.
    const ftSum = block.events
      .filter((e: any) => e.type === "ft_transfer_event")
      .reduce((s: bigint, e: any) => s + BigInt(e.ft_transfer_event.amount), 0n);
    const [sum] = await db.sql`select sum(amount)::text as s from events where type = 'ft_transfer_event'`;
    expect(sum?.s).toBe(ftSum.toString());
    // Contract calls keep their function and decoded arguments.
    const [call] =
      await db.sql`select contract_id, function_name, function_args from transactions where tx_type = 'contract_call' limit 1`;
    expect(call?.contract_id).toMatch(/^SP[0-9A-Z]+\.[a-z0-9-]+/);
    expect(call?.function_args.every((a: any) => a.hex.startsWith("0x") && a.repr && a.type)).toBe(true);
  });
});

describe("fuzzed-transactions-1 (Nakamoto devnet)", () => {
  test("epoch-3 block fields, NUL-free vm_error, mempool adds and drops", async () => {
    const { db, rows } = await ingestFixture("fuzzed-transactions-1.tsv", "devnet");
    const withSigners = blocksOf(rows).find((b) => b.signer_signature?.length)!;
    const [b] = await db.sql`select * from blocks where index_block_hash = ${withSigners.index_block_hash}`;
    expect(b?.signer_bitvec).toBe(withSigners.signer_bitvec);
    expect(b?.signer_signature).toEqual(withSigners.signer_signature);
    expect(b?.tenure_height).toBe(withSigners.tenure_height);
    expect(Number(b?.block_time)).toBe(withSigners.block_time);

    const recorded = blocksOf(rows)
      .flatMap((bl) => bl.transactions)
      .find((t: any) => t.vm_error?.includes("\u0000"));
    expect(recorded).toBeDefined();
    const [tx] = await db.sql`select vm_error from transactions where txid = ${recorded.txid}`;
    expect(tx?.vm_error).toBe(recorded.vm_error.replaceAll("\u0000", ""));

    const added = rows.filter((r) => r.path === "/new_mempool_tx").flatMap((r) => JSON.parse(r.payload));
    const dropped = rows
      .filter((r) => r.path === "/drop_mempool_tx")
      .flatMap((r) => JSON.parse(r.payload).dropped_txids);
    const [pool] = await db.sql`
      select count(*)::int as n, count(*) filter (where dropped_at is not null)::int as dropped from mempool_txs`;
    expect(pool?.n).toBe(new Set(added).size);
    const known = await db.sql`select txid from mempool_txs where txid = any(${dropped}::text[])`;
    expect(pool?.dropped).toBe(known.length);
  });
});

describe("regtest pox-4", () => {
  test("stx_lock events and print events keep raw Clarity values that decode", async () => {
    const { db } = await ingestFixture("regtest-env-pox-4-stack-stx-in-reward-phase-S1.tsv", "testnet");
    const [lock] = await db.sql`select * from events where type = 'stx_lock_event' limit 1`;
    expect(lock?.locked_address).toMatch(/^ST/);
    expect(BigInt(lock?.amount)).toBeGreaterThan(0n);
    expect(Number(lock?.unlock_height)).toBeGreaterThan(0);
    const prints =
      await db.sql`select value_hex from events where type = 'contract_event' and contract_id like '%pox-4'`;
    expect(prints.length).toBeGreaterThan(0);
    for (const p of prints) {
      const decoded = decodeClarityHex(p.value_hex);
      expect(decoded.repr.length).toBeGreaterThan(0);
    }
  });
});
