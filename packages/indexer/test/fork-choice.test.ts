import { beforeEach, describe, expect, test } from "bun:test";
import type { RunningIndexer } from "@second-layer/indexer/start";
import { connect } from "@second-layer/shared/db/connect";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { getJson, postJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { hashOf, syntheticBlock } from "../../../test/support/synthetic-blocks.ts";

let db: TestDatabase;
let indexer: RunningIndexer;

async function post(label: string, height: number, parent: string) {
  const res = await postJson(`${indexer.url}/new_block`, syntheticBlock(label, height, parent));
  expect(res.status).toBe(200);
  expect(res.json.ok).toBe(true);
  return res.json.result;
}

async function canonicalLabels(labels: string[]): Promise<string[]> {
  const rows = await db.sql`select index_block_hash from blocks where canonical order by block_height`;
  const byHash = new Map(labels.map((l) => [hashOf(l), l]));
  return rows.map((r: any) => byHash.get(r.index_block_hash) ?? r.index_block_hash);
}

beforeEach(async () => {
  db = await createTestDatabase();
  indexer = await startTestIndexer(db);
});

describe("fork choice", () => {
  test("a sibling at the tip height stays non-canonical: the first seen wins the tie", async () => {
    await post("a1", 1, "g");
    await post("a2", 2, "a1");
    const sibling = await post("b2", 2, "a1");
    expect(sibling.canonical).toBe(false);
    expect(await canonicalLabels(["a1", "a2", "b2"])).toEqual(["a1", "a2"]);
  });

  test("a longer competing chain reorgs: orphaned blocks and their rows flip, the reorg is recorded", async () => {
    await post("a1", 1, "g");
    await post("a2", 2, "a1");
    await post("a3", 3, "a2");
    await post("b2", 2, "a1");
    await post("b3", 3, "b2");
    const res = await post("b4", 4, "b3");
    expect(res.reorg.depth).toBe(2);
    expect(await canonicalLabels(["a1", "a2", "a3", "b2", "b3", "b4"])).toEqual(["a1", "b2", "b3", "b4"]);
    const [reorg] = await db.sql`select * from reorgs`;
    expect(reorg?.old_tip_hash).toBe(hashOf("a3"));
    expect(reorg?.new_tip_hash).toBe(hashOf("b4"));
    expect(reorg?.fork_point_hash).toBe(hashOf("a1"));
    expect(reorg?.fork_point_height).toBe(1);
    expect(reorg?.depth).toBe(2);
    // Orphaned in the order they leave the chain (highest first), restored in chain order.
    expect(reorg?.orphaned_blocks).toEqual([hashOf("a3"), hashOf("a2")]);
    expect(reorg?.restored_blocks).toEqual([hashOf("b2"), hashOf("b3"), hashOf("b4")]);
    // The chain log says the same, in one ingest: rollbacks highest first, then applies lowest first.
    const log = await db.sql`select seq::int, kind, index_block_hash, reorg_id from chain_log order by seq`;
    expect(log.slice(3).map((e: any) => [e.kind, e.index_block_hash])).toEqual([
      ["rollback", hashOf("a3")],
      ["rollback", hashOf("a2")],
      ["apply", hashOf("b2")],
      ["apply", hashOf("b3")],
      ["apply", hashOf("b4")],
    ]);
    expect(new Set(log.slice(3).map((e: any) => e.reorg_id))).toEqual(new Set([reorg?.id]));
    // One wake-up job per network, carrying the newest seq: wake-ups never pile up.
    const jobs =
      await db.sql`select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = 'chain'`;
    expect(jobs.map((j: any) => j.payload)).toEqual([{ network: "mainnet", seq: 8 }]);
  });

  test("a missing parent is a gap, not a fork; the gap filler re-runs fork choice", async () => {
    await post("a1", 1, "g");
    await post("a2", 2, "a1");
    // b4's parent b3 has not arrived: a2 keeps its status (it is below the gap).
    await post("b4", 4, "b3");
    expect(await canonicalLabels(["a1", "a2", "b4"])).toEqual(["a1", "a2", "b4"]);
    let integrity = await getJson(`${indexer.url}/health/integrity`);
    expect(integrity.status).toBe("gaps_detected");
    expect(integrity.gaps).toEqual([{ start: 3, end: 3, size: 1 }]);
    expect(integrity.totalMissingBlocks).toBe(1);
    expect(integrity.lastContiguousBlock.height).toBe(2);
    let health = await getJson(`${indexer.url}/health`);
    expect(health.lastContiguousBlock.height).toBe(2);
    expect(health.integrity).toBe("gaps_detected");
    // b3 arrives and hangs off b2, which is still missing: b3 joins the tip's chain, a2 keeps status.
    await post("b3", 3, "b2");
    expect(await canonicalLabels(["a1", "a2", "b3", "b4"])).toEqual(["a1", "a2", "b3", "b4"]);
    // b2 arrives: the tip's chain now reaches a1 through b2, so a2 is orphaned.
    const res = await post("b2", 2, "a1");
    expect(res.canonical).toBe(true);
    expect(res.reorg.orphaned).toEqual([hashOf("a2")]);
    expect(await canonicalLabels(["a1", "a2", "b2", "b3", "b4"])).toEqual(["a1", "b2", "b3", "b4"]);
    integrity = await getJson(`${indexer.url}/health/integrity`);
    expect(integrity.status).toBe("healthy");
    expect(integrity.gaps).toEqual([]);
    health = await getJson(`${indexer.url}/health`);
    expect(health.lastContiguousBlock.indexBlockHash).toBe(hashOf("b4"));
    expect(health.integrity).toBe("healthy");
  });

  test("blocks below the highest height seen are counted as out of order", async () => {
    await post("a1", 1, "g");
    await post("a3", 3, "a2");
    await post("a2", 2, "a1");
    await post("a2", 2, "a1"); // a duplicate is not counted again
    const health = await getJson(`${indexer.url}/health`);
    expect(health.blocksReceivedOutOfOrder).toBe(1);
    expect(health.lastIndexedBlock).toEqual({
      height: 3,
      indexBlockHash: hashOf("a3"),
      blockHash: hashOf("block-a3"),
    });
    expect(health.lastContiguousBlock.height).toBe(3);
    expect(await canonicalLabels(["a1", "a2", "a3"])).toEqual(["a1", "a2", "a3"]);
  });

  test("chain changes are announced with NOTIFY after commit, with the newest seq; a block that changes nothing is not", async () => {
    const listener = connect(db.url, { max: 1 });
    const notes: any[] = [];
    await listener.sql.listen("second_layer_chain", (payload) => notes.push(JSON.parse(payload)));
    await post("a1", 1, "g");
    await post("a2", 2, "a1");
    await post("b2", 2, "a1"); // a sibling: stored, not canonical, nothing in the log
    await post("b3", 3, "b2"); // reorg: rollback a2, apply b2, apply b3
    for (let i = 0; i < 50 && notes.length < 3; i++) await Bun.sleep(20);
    await Bun.sleep(100);
    await listener.close();
    expect(notes).toEqual([
      { network: "mainnet", seq: 1 },
      { network: "mainnet", seq: 2 },
      { network: "mainnet", seq: 5 },
    ]);
  });
});
