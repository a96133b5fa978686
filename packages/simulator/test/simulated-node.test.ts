import { expect, test } from "bun:test";
import { foldChainLog, readChainLog } from "@second-layer/shared/chain-log";
import { SimulatedNode } from "@second-layer/simulator/simulated-node";
import { createTestDatabase } from "../../../test/support/database.ts";
import { getJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { prng } from "../../../test/support/prng.ts";

test("the simulated node's blocks store cleanly: real transactions and events, burn blocks, and forks that reorg", async () => {
  const db = await createTestDatabase();
  const indexer = await startTestIndexer(db);
  const node = new SimulatedNode({ indexerUrl: indexer.url, forkEvery: 5, random: prng(7) });
  await node.prepare(); // the test drives the steps itself
  for (let i = 0; i < 20; i++) await node.step();
  expect(node.posted.every((p) => p.status === 200)).toBe(true);
  const integrity = await getJson(`${indexer.url}/health/integrity`);
  expect(integrity.status).toBe("healthy");
  expect(integrity.unknownItems.count).toBe(0);
  expect(integrity.reorgs).toBeGreaterThanOrEqual(3);
  const [counts] = await db.sql`
    select (select count(*)::int from events where canonical) as events,
      (select count(distinct type)::int from events) as types,
      (select count(*)::int from transactions where tx_type = 'unknown') as unknown,
      (select count(*)::int from burn_blocks) as burns`;
  expect(counts?.events).toBeGreaterThan(0);
  expect(counts?.types).toBe(4); // stx_transfer, ft_transfer, nft_mint, contract_event (print)
  expect(counts?.unknown).toBe(0);
  expect(counts?.burns).toBeGreaterThan(0);
  const log = await readChainLog(db.sql, "mainnet", 0, 1000);
  const canonical = await db.sql`select index_block_hash from blocks where canonical`;
  expect(foldChainLog(log)).toEqual(new Set(canonical.map((r: any) => r.index_block_hash)));
  expect(log.some((e) => e.kind === "rollback")).toBe(true);
  expect(node.tip.height).toBe(
    Math.max(...(await db.sql`select block_height from blocks`).map((r: any) => r.block_height)),
  );
  // A second simulator (a restarted demo) continues the indexer's chain from its tip.
  const next = new SimulatedNode({ indexerUrl: indexer.url, forkEvery: 0, random: prng(8) });
  await next.prepare();
  expect(next.tip.indexBlockHash).toBe(node.tip.indexBlockHash);
  await next.step();
  const health = await getJson(`${indexer.url}/health`);
  expect(health.lastIndexedBlock.height).toBe(node.tip.height + 1);
  expect(health.integrity).toBe("healthy");
});
