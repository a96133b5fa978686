import { expect, test } from "bun:test";
import { onCleanup } from "../../../test/support/cleanup.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { getJson, postJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { hashOf, syntheticBlock } from "../../../test/support/synthetic-blocks.ts";

test("/health reports how far behind the node's tip the index is (STACKS_NODE_RPC_URL)", async () => {
  const node = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) =>
      new URL(req.url).pathname === "/v2/info"
        ? Response.json({ stacks_tip_height: 10, burn_block_height: 900, stacks_tip: "0xabc" })
        : new Response("no", { status: 404 }),
  });
  onCleanup(() => node.stop(true));
  const db = await createTestDatabase();
  const indexer = await startTestIndexer(db, { STACKS_NODE_RPC_URL: `http://127.0.0.1:${node.port}` });
  await postJson(`${indexer.url}/new_block`, syntheticBlock("a1", 1, "g"));
  await postJson(`${indexer.url}/new_block`, syntheticBlock("a2", 2, "a1"));
  const health = await getJson(`${indexer.url}/health`);
  expect(health.status).toBe("ok");
  expect(health.lastIndexedBlock.indexBlockHash).toBe(hashOf("a2"));
  expect(health.node).toEqual({ reachable: true, stacksTipHeight: 10, burnBlockHeight: 900, blocksBehind: 8 });

  await node.stop(true);
  const down = await getJson(`${indexer.url}/health`);
  // The node being unreachable is reported, but the indexer itself is still fine.
  expect(down.status).toBe("ok");
  expect(down.node.reachable).toBe(false);
});
