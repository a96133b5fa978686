import { beforeAll, describe, expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { decodeClarityPlain } from "@second-layer/shared/stacks/clarity-plain";
import { deserializeTransaction } from "@stacks/transactions";
import { type ApiClient, startTestApi } from "../../../test/support/api.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { blocksOf, canonicalChain, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";

// Chain data over recorded node logs replayed into a real indexer: the reorg recording (two competing
// blocks at height 2 holding the same transactions) on mainnet, a Nakamoto devnet recording with
// mempool traffic as testnet, and the poison-microblock block (contract calls, prints, aborted
// transactions) in a database of its own. Every answer is checked against the OpenAPI document.

const REORG = blocksOf(fixture("mainnet-reorg-scenario2.tsv"));
const REORG_CHAIN = canonicalChain(REORG);
const ORPHANED = REORG.filter((b) => !REORG_CHAIN.includes(b));
const FUZZED_ROWS = fixture("fuzzed-transactions-1.tsv");
const POISON = blocksOf(fixture("poisonmicroblock.tsv"))[0];

let client: ApiClient;
let poisonClient: ApiClient;

beforeAll(async () => {
  const db = await createTestDatabase();
  const mainnet = await startTestIndexer(db);
  await replayEventLog(fixture("mainnet-reorg-scenario2.tsv"), { to: mainnet.url, maxAttempts: 1 });
  const testnet = await startTestIndexer(db, { STACKS_NETWORK: "testnet" });
  await replayEventLog(FUZZED_ROWS, { to: testnet.url, maxAttempts: 1 });
  client = (await startTestApi(db)).client();

  const poisonDb = await createTestDatabase();
  const poisonIndexer = await startTestIndexer(poisonDb);
  await replayEventLog(fixture("poisonmicroblock.tsv"), { to: poisonIndexer.url, maxAttempts: 1 });
  poisonClient = (await startTestApi(poisonDb)).client();
});

/** What the API must say of a recorded block. */
function expectedBlock(b: any, canonical: boolean) {
  return {
    height: b.block_height,
    hash: b.block_hash,
    indexBlockHash: b.index_block_hash,
    parentIndexBlockHash: b.parent_index_block_hash,
    burnBlockHeight: b.burn_block_height,
    timestamp: b.block_time ?? b.burn_block_time,
    canonical,
    metadata: expect.objectContaining({
      parentBlockHash: b.parent_block_hash,
      burnBlockHash: b.burn_block_hash,
      txCount: b.transactions.length,
      eventCount: b.events.length,
    }),
  };
}

/** Every page of a list route, following `next`. */
async function allPages(c: ApiClient, path: string, key: string): Promise<{ items: any[]; pages: number }> {
  const items: any[] = [];
  let pages = 0;
  let next: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const res = await c.get(`${path}${next === null ? "" : `${sep}cursor=${next}`}`);
    expect(res.status).toBe(200);
    items.push(...res.json[key]);
    next = res.json.next;
    pages++;
  } while (next !== null);
  return { items, pages };
}

describe("blocks", () => {
  test("by height: the canonical block there; by either hash: any block, with canonical", async () => {
    for (const b of REORG_CHAIN) {
      const res = await client.get(`/api/blocks/${b.block_height}`);
      expect(res.status).toBe(200);
      expect(res.json).toEqual(expectedBlock(b, true));
    }
    expect(ORPHANED.length).toBeGreaterThan(0);
    for (const b of ORPHANED) {
      for (const ref of [b.index_block_hash, b.block_hash, b.index_block_hash.slice(2).toUpperCase()]) {
        const res = await client.get(`/api/blocks/${ref}`);
        expect(res.status).toBe(200);
        expect(res.json).toEqual(expectedBlock(b, false));
      }
    }
  });

  test("network: the testnet chain is served apart from mainnet", async () => {
    const testnetTip = canonicalChain(blocksOf(FUZZED_ROWS)).at(-1);
    const res = await client.get(`/api/blocks/${testnetTip.block_height}?network=testnet`);
    expect(res.json).toEqual(expectedBlock(testnetTip, true));
    expect(res.json.timestamp).toBe(testnetTip.block_time);
    // The same hash is unknown on mainnet.
    expect((await client.get(`/api/blocks/${testnetTip.index_block_hash}`)).status).toBe(404);
    const bad = await client.get("/api/blocks/1?network=regtest");
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].path).toBe("network");
  });

  test("absent: 404; malformed: 400 naming heightOrHash", async () => {
    const top = REORG_CHAIN.at(-1).block_height;
    for (const ref of [String(top + 1), `0x${"ab".repeat(32)}`]) {
      const res = await client.get(`/api/blocks/${ref}`);
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("NOT_FOUND");
    }
    for (const ref of ["abc", "-1", "1.5", String(2 ** 31), "0x1234", `0x${"g".repeat(64)}`]) {
      const res = await client.get(`/api/blocks/${ref}`);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
      expect(res.json.error.details.map((d: any) => d.path)).toEqual(["heightOrHash"]);
    }
  });

  test("list: canonical blocks newest first, page by page", async () => {
    const { items, pages } = await allPages(client, "/api/blocks?limit=2", "blocks");
    expect(items).toEqual([...REORG_CHAIN].reverse().map((b) => expectedBlock(b, true)));
    expect(pages).toBe(Math.floor(REORG_CHAIN.length / 2) + 1);
    for (const q of ["limit=0", "limit=201", "cursor=abc", "cursor=-1"]) {
      const res = await client.get(`/api/blocks?${q}`);
      expect(res.status).toBe(400);
      expect(res.json.error.details[0].path).toBe(q.split("=")[0]);
    }
  });

  test("a block's transactions in order, page by page, for canonical and orphaned blocks", async () => {
    for (const b of [...REORG_CHAIN, ...ORPHANED]) {
      const { items } = await allPages(
        client,
        `/api/blocks/${b.index_block_hash}/transactions?limit=3`,
        "transactions",
      );
      expect(items.map((t) => [t.txid, t.txIndex, t.status])).toEqual(
        b.transactions.map((t: any) => [t.txid, t.tx_index, t.status]),
      );
      const first = await client.get(`/api/blocks/${b.index_block_hash}/transactions?limit=1`);
      expect(first.json.block).toEqual({
        indexBlockHash: b.index_block_hash,
        hash: b.block_hash,
        height: b.block_height,
        canonical: REORG_CHAIN.includes(b),
      });
    }
    expect((await client.get(`/api/blocks/${REORG_CHAIN.at(-1).block_height + 1}/transactions`)).status).toBe(404);
    expect((await client.get("/api/blocks/1/transactions?limit=501")).status).toBe(400);
  });

  test("contract calls: arguments and results decoded beside their hex, amounts as strings", async () => {
    const res = await poisonClient.get(`/api/blocks/${POISON.block_height}/transactions`);
    expect(res.json.transactions).toHaveLength(POISON.transactions.length);
    const calls = res.json.transactions.filter((t: any) => t.type === "contract_call");
    expect(calls.length).toBeGreaterThan(0);
    for (const t of calls) {
      expect(t.functionName).toEqual(expect.any(String));
      for (const arg of t.args) expect(arg.value).toEqual(decodeClarityPlain(arg.hex));
      expect(typeof t.fee).toBe("string");
      expect(typeof t.nonce).toBe("string");
    }
    for (const t of res.json.transactions) {
      const recorded = POISON.transactions.find((r: any) => r.txid === t.txid);
      expect(t.status).toBe(recorded.status);
      if (recorded.raw_result) {
        expect(t.result.hex).toBe(recorded.raw_result);
        expect(t.result.value).toEqual(decodeClarityPlain(recorded.raw_result));
      }
    }
  });
});

describe("transactions", () => {
  test("a transaction held by two competing blocks lists both, the canonical copy first and shown", async () => {
    const [orphan] = ORPHANED;
    const shared = orphan.transactions
      .map((t: any) => t.txid)
      .filter((txid: string) => REORG_CHAIN.some((b) => b.transactions.some((t: any) => t.txid === txid)));
    expect(shared.length).toBeGreaterThan(0);
    for (const txid of shared) {
      const holders = REORG.filter((b) => b.transactions.some((t: any) => t.txid === txid));
      const canonical = holders.find((b) => REORG_CHAIN.includes(b));
      const res = await client.get(`/api/tx/${txid}`);
      expect(res.status).toBe(200);
      expect(res.json.blocks).toHaveLength(holders.length);
      expect(res.json.blocks[0]).toMatchObject({ indexBlockHash: canonical.index_block_hash, canonical: true });
      expect(res.json.blocks.filter((b: any) => !b.canonical).map((b: any) => b.indexBlockHash)).toEqual(
        holders.filter((b) => b !== canonical).map((b) => b.index_block_hash),
      );
      expect(res.json.block).toEqual({
        indexBlockHash: canonical.index_block_hash,
        hash: canonical.block_hash,
        height: canonical.block_height,
        canonical: true,
      });
      const recorded = canonical.transactions.find((t: any) => t.txid === txid);
      expect(res.json.transaction).toMatchObject({ txid, txIndex: recorded.tx_index, rawTx: recorded.raw_tx });
      expect(res.json.blocks[0].txIndex).toBe(recorded.tx_index);
      const events = canonical.events
        .filter((e: any) => e.txid === txid)
        .sort((a: any, b: any) => a.event_index - b.event_index);
      expect(res.json.events.map((e: any) => [e.eventIndex, e.type])).toEqual(
        events.map((e: any) => [e.event_index, e.type]),
      );
    }
  });

  test("events decoded: print payloads and amounts exact; failed transactions with their result", async () => {
    // A transaction with prints and token transfers.
    const types = (txid: string) => new Set(POISON.events.filter((e: any) => e.txid === txid).map((e: any) => e.type));
    const withPrint = POISON.transactions.find(
      (t: any) => types(t.txid).has("contract_event") && types(t.txid).has("ft_transfer_event"),
    );
    const res = await poisonClient.get(`/api/tx/${withPrint.txid}`);
    expect(res.status).toBe(200);
    const recordedEvents = POISON.events
      .filter((e: any) => e.txid === withPrint.txid)
      .sort((a: any, b: any) => a.event_index - b.event_index);
    expect(res.json.events).toHaveLength(recordedEvents.length);
    let amounts = 0;
    for (const [i, e] of res.json.events.entries()) {
      const r = recordedEvents[i];
      expect(e.eventIndex).toBe(r.event_index);
      if (r.type === "contract_event") {
        expect(e.rawValue).toBe(r.contract_event.raw_value);
        expect(e.value).toEqual(decodeClarityPlain(r.contract_event.raw_value));
        expect(e.topic).toBe(r.contract_event.topic);
      }
      const amount = r[r.type]?.amount;
      if (amount !== undefined) {
        expect(e.amount).toBe(String(amount));
        amounts++;
      }
    }
    expect(amounts).toBeGreaterThan(0);
    const failed = POISON.transactions.find((t: any) => t.status !== "success" && t.raw_result);
    const f = await poisonClient.get(`/api/tx/${failed.txid.slice(2).toUpperCase()}`);
    expect(f.json.transaction).toMatchObject({ txid: failed.txid, status: failed.status });
    expect(f.json.transaction.result.value).toEqual(decodeClarityPlain(failed.raw_result));
    expect(f.json.events.length).toBe(POISON.events.filter((e: any) => e.txid === failed.txid).length);
  });

  test("unknown: 404; malformed: 400 naming txid", async () => {
    const unknown = await client.get(`/api/tx/0x${"cd".repeat(32)}`);
    expect(unknown.status).toBe(404);
    for (const txid of ["xyz", "0x12", `${"a".repeat(63)}`]) {
      const res = await client.get(`/api/tx/${txid}`);
      expect(res.status).toBe(400);
      expect(res.json.error.details[0].path).toBe("txid");
    }
  });
});

describe("reorgs and mempool", () => {
  test("reorgs: what was orphaned and restored, newest first, page by page", async () => {
    const { items, pages } = await allPages(client, "/api/reorgs?limit=1", "reorgs");
    expect(items).toHaveLength(1);
    expect(pages).toBe(2);
    const [reorg] = items;
    expect(reorg.orphanedBlocks).toEqual(ORPHANED.map((b) => b.index_block_hash));
    const forkPoint = REORG_CHAIN.find((b) => b.index_block_hash === ORPHANED[0].parent_index_block_hash);
    expect(reorg).toMatchObject({ forkPointHash: forkPoint.index_block_hash, forkPointHeight: forkPoint.block_height });
    // Restored: the canonical blocks above the fork point that were on the chain when it happened.
    expect(reorg.restoredBlocks).toEqual(
      REORG_CHAIN.filter((b) => b.block_height > forkPoint.block_height && b.block_height <= reorg.newTipHeight).map(
        (b) => b.index_block_hash,
      ),
    );
    expect((await client.get("/api/reorgs?network=testnet")).json).toEqual({ reorgs: [], next: null });
  });

  test("mempool: pending transactions (not mined, not dropped), newest first, page by page", async () => {
    // What the recording leaves pending, replayed by hand: adds, drops and blocks in order.
    const pending = new Map<string, any>();
    const mined = new Set<string>();
    for (const row of FUZZED_ROWS) {
      const body = JSON.parse(row.payload);
      if (row.path === "/new_mempool_tx") {
        for (const raw of body) {
          const txid = `0x${deserializeTransaction(raw).txid()}`;
          pending.delete(txid);
          if (!mined.has(txid)) pending.set(txid, raw);
        }
      } else if (row.path === "/drop_mempool_tx") {
        for (const txid of body.dropped_txids) pending.delete(txid);
      } else if (row.path === "/new_block") {
        for (const t of body.transactions) {
          mined.add(t.txid);
          pending.delete(t.txid);
        }
      }
    }
    expect(pending.size).toBeGreaterThan(0);
    const { items } = await allPages(client, "/api/mempool?network=testnet&limit=1", "transactions");
    expect(items.map((t) => t.txid)).toEqual([...pending.keys()].reverse());
    for (const t of items) {
      const decoded = deserializeTransaction(pending.get(t.txid));
      expect(t.rawTx).toBe(pending.get(t.txid));
      expect(t.nonce).toBe(String(decoded.auth.spendingCondition.nonce));
      expect(t.fee).toBe(String(decoded.auth.spendingCondition.fee));
    }
    expect((await client.get("/api/mempool")).json).toEqual({ transactions: [], next: null });
    const unknown = await client.get(`/api/mempool?network=testnet&cursor=0x${"ef".repeat(32)}`);
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.details[0].path).toBe("cursor");
  });
});

describe("auth", () => {
  test("every chain route wants a key", async () => {
    const anonymous = client.withKey(null);
    for (const path of [
      "/api/blocks",
      "/api/blocks/1",
      "/api/blocks/1/transactions",
      `/api/tx/0x${"cd".repeat(32)}`,
      "/api/reorgs",
      "/api/mempool",
      "/api/chain/events",
    ]) {
      const res = await anonymous.get(path);
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe("UNAUTHORIZED");
    }
  });
});
