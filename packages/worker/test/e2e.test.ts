import { describe, expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { createTestDatabase } from "../../../test/support/database.ts";
import { blocksOf, canonicalChain, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { rollbackAndReplacement, splitAfterBlock } from "../../../test/support/reorg.ts";
import { type Received, WebhookReceiver } from "../../../test/support/webhook-receiver.ts";
import { createAccount, startTestWorker, testStream } from "../../../test/support/worker.ts";

// End to end on real HTTP: recorded node logs go into the indexer, the worker matches and delivers,
// and a receiver checks every signature with the `standardwebhooks` package. What arrives must equal
// what the recording itself says should match: in block order, seq gap-free, nothing twice.

/** Committed events of successful transactions of a node type, per block, in event order. */
function expectedEvents(chain: any[], type: string): { height: number; events: string[] }[] {
  return chain
    .map((b) => {
      const ok = new Set(b.transactions.filter((t: any) => t.status === "success").map((t: any) => t.txid));
      const events = b.events
        .filter((e: any) => e.type === type && e.committed && ok.has(e.txid))
        .sort((x: any, y: any) => x.event_index - y.event_index)
        .map((e: any) => `${e.txid}:${e.event_index}`);
      return { height: b.block_height, events };
    })
    .filter((b) => b.events.length > 0);
}

function eventKeys(r: Received): string[] {
  return r.body.matches.events.map((e: any) => `${e.txid}:${e.eventIndex}`);
}

function assertWellFormed(received: Received[], streamId: string): void {
  expect(received.every((r) => r.signatureValid)).toBe(true);
  expect(received.map((r) => r.body.streamId)).toEqual(received.map(() => streamId));
  // Seq: 1, 2, 3, ... in arrival order, carried in the header and the body alike.
  expect(received.map((r) => r.seq)).toEqual(received.map((_, i) => i + 1));
  expect(received.map((r) => r.body.seq)).toEqual(received.map((_, i) => i + 1));
  expect(new Set(received.map((r) => r.id)).size).toBe(received.length);
}

describe("streams end to end", () => {
  test("poisonmicroblock.tsv: each stream gets exactly the matching events of the recording, signed and in order", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db);
    await startTestWorker(db);
    const receiver = new WebhookReceiver();
    const account = await createAccount(db.sql);
    const types = {
      stx: { filter: { type: "stx_transfer" }, node: "stx_transfer_event" },
      ftMint: { filter: { type: "ft_mint" }, node: "ft_mint_event" },
      prints: { filter: { type: "print_event" }, node: "contract_event" },
      nftMint: { filter: { type: "nft_mint" }, node: "nft_mint_event" },
    } as const;
    const streams = new Map<string, string>();
    for (const [name, t] of Object.entries(types)) {
      const { stream, secret } = await testStream(db.sql, account, {
        name,
        webhookUrl: receiver.url(name),
        filters: [t.filter],
      });
      receiver.setSecret(name, secret);
      streams.set(name, stream.id);
    }

    const rows = fixture("poisonmicroblock.tsv");
    await replayEventLog(rows, { to: indexer.url, maxAttempts: 1 });
    const chain = canonicalChain(blocksOf(rows));
    for (const [name, t] of Object.entries(types)) {
      const expected = expectedEvents(chain, t.node);
      expect(expected.length).toBeGreaterThan(0);
      await receiver.waitFor(() => receiver.acknowledged(name).length >= expected.length, 20_000, `${name} deliveries`);
      await Bun.sleep(200);
      const got = receiver.at(name);
      assertWellFormed(got, streams.get(name) as string);
      expect(got.map((r) => r.body.type)).toEqual(expected.map(() => "block.apply"));
      expect(got.map((r) => r.body.block.height)).toEqual(expected.map((e) => e.height));
      expect(got.map(eventKeys)).toEqual(expected.map((e) => e.events));
      // Events keep the node's type name beside the decoded fields.
      for (const r of got) for (const e of r.body.matches.events) expect(e.type).toBe(t.node);
    }
  });

  test("mainnet-reorg-scenario2.tsv: a block the stream was sent and that is orphaned is rolled back before its replacement is applied", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db);
    await startTestWorker(db);
    const receiver = new WebhookReceiver();
    const account = await createAccount(db.sql);
    const { stream, secret } = await testStream(db.sql, account, {
      webhookUrl: receiver.url("blocks"),
      filters: [{ type: "block" }, { type: "stx_transfer" }],
    });
    receiver.setSecret("blocks", secret);

    const rows = fixture("mainnet-reorg-scenario2.tsv");
    const blocks = blocksOf(rows);
    const chain = canonicalChain(blocks);
    const canonical = new Set(chain.map((b) => b.index_block_hash));
    const orphan = blocks.find((b) => !canonical.has(b.index_block_hash));
    expect(orphan).toBeDefined();
    // Deliver everything up to the block that will be orphaned, and let the stream be sent it.
    const [untilOrphan, afterOrphan] = splitAfterBlock(rows, orphan.index_block_hash);
    await replayEventLog(untilOrphan, { to: indexer.url, maxAttempts: 1 });
    await receiver.waitFor(
      () => receiver.acknowledged("blocks").some((r) => r.body.block.indexBlockHash === orphan.index_block_hash),
      20_000,
      "the apply of the block that will be orphaned",
    );
    await replayEventLog(afterOrphan, { to: indexer.url, maxAttempts: 1 });
    await receiver.waitFor(
      () => receiver.acknowledged("blocks").some((r) => r.body.block.indexBlockHash === chain.at(-1).index_block_hash),
      20_000,
      "the tip's apply",
    );
    await Bun.sleep(300);
    const got = receiver.at("blocks");
    assertWellFormed(got, stream.id);

    const { rollback, replacement } = rollbackAndReplacement(got, orphan, canonical);
    expect(rollback).toBeGreaterThan(-1);
    expect(replacement).toBeGreaterThan(rollback);
    // The rollback carries what the apply carried, so a consumer can undo it.
    const apply = got.find(
      (r) => r.body.type === "block.apply" && r.body.block.indexBlockHash === orphan.index_block_hash,
    );
    expect(got[rollback]?.body.matches).toEqual(apply?.body.matches);

    // Net of rollbacks, the stream was told exactly the canonical chain, and its transfers.
    const net = new Map<string, Received>();
    for (const r of got) {
      if (r.body.type === "block.apply") net.set(r.body.block.indexBlockHash, r);
      else net.delete(r.body.block.indexBlockHash);
    }
    expect([...net.keys()].sort()).toEqual([...canonical].sort());
    const transfers = new Map(expectedEvents(chain, "stx_transfer_event").map((e) => [e.height, e.events]));
    for (const r of net.values()) expect(eventKeys(r)).toEqual(transfers.get(r.body.block.height) ?? []);
  });
});
