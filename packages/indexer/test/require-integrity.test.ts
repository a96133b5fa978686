import { expect, test } from "bun:test";
import { join } from "node:path";
import { createTestDatabase } from "../../../test/support/database.ts";
import { postJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { syntheticBlock } from "../../../test/support/synthetic-blocks.ts";

test("REQUIRE_INTEGRITY=true refuses to start while blocks are missing, naming the gaps", async () => {
  const db = await createTestDatabase();
  const indexer = await startTestIndexer(db);
  for (const [label, height, parent] of [
    ["a1", 1, "g"],
    ["a2", 2, "a1"],
    ["a5", 5, "a4"],
    ["a9", 9, "a8"],
  ] as const) {
    expect((await postJson(`${indexer.url}/new_block`, syntheticBlock(label, height, parent))).status).toBe(200);
  }
  await indexer.stop();
  const proc = Bun.spawnSync(["bun", join(import.meta.dir, "../src/main.ts")], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      PORT: "0",
      STACKS_NETWORK: "mainnet",
      REQUIRE_INTEGRITY: "true",
      LOG_LEVEL: "silent",
    },
  });
  const stderr = proc.stderr.toString();
  expect(proc.exitCode).toBe(1);
  expect(stderr).toContain("5 mainnet blocks are missing");
  expect(stderr).toContain("heights 3-4, 6-8");

  const ok = Bun.spawnSync(["bun", join(import.meta.dir, "../src/main.ts")], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      PORT: "0",
      STACKS_NETWORK: "testnet",
      REQUIRE_INTEGRITY: "true",
      LOG_LEVEL: "silent",
    },
    timeout: 3000,
  });
  // Another network with no gaps starts (and is killed by the timeout while serving).
  expect(ok.stderr.toString()).not.toContain("missing");
  expect(ok.exitCode).not.toBe(1);
});
