import { describe, expect, test } from "bun:test";
import { StacksApiSource } from "@second-layer/indexer/backfill/stacks-api-source";
import { indexBlockHashOf } from "@second-layer/indexer/store/follow-node-tip";
import { readChainLog } from "@second-layer/shared/chain-log";
import { connect } from "@second-layer/shared/db/connect";
import type { EventLogRow } from "@second-layer/shared/event-log";
import { makeSTXTokenTransfer } from "@stacks/transactions";
import { onCleanup } from "../../../test/support/cleanup.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { fixture } from "../../../test/support/fixtures.ts";
import { getJson, postJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { hashOf, syntheticBlock } from "../../../test/support/synthetic-blocks.ts";
import { serveFakeStacksApi } from "./backfill-fake-stacks-api.ts";

const encoder = new TextEncoder();

/** The rows derived from a block, comparable across databases. */
async function derivedRows(sql: any, hash: string) {
  const transactions = await sql`
    select to_jsonb(t) - 'canonical' as r from transactions t where index_block_hash = ${hash} order by tx_index`;
  const events = await sql`
    select to_jsonb(e) - 'canonical' as r from events e where index_block_hash = ${hash} order by event_index`;
  return { transactions: transactions.map((x: any) => x.r), events: events.map((x: any) => x.r) };
}

describe("fidelity of backfilled blocks", () => {
  test("the node's copy replaces a block rebuilt from the lossy stacks-api source, through the chain log", async () => {
    // poisonmicroblock.tsv: a real mainnet block with aborted transactions. None of the recordings has
    // events on an aborted transaction, so one is added to an aborted transfer the way the node
    // reports such events (committed: false): the Stacks API serves neither kind.
    const recorded = fixture("poisonmicroblock.tsv").filter((r) => r.path === "/new_block");
    const nodeBlock = JSON.parse(recorded[0]?.payload as string);
    const aborted = nodeBlock.transactions.find((t: any) => t.status === "abort_by_post_condition");
    expect(aborted).toBeDefined();
    nodeBlock.events.push({
      txid: aborted.txid,
      event_index: nodeBlock.events.length,
      committed: false,
      type: "stx_transfer_event",
      stx_transfer_event: {
        sender: "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159",
        recipient: "SP2J6ZY48GV1EZ5V2V5RB9MP66SW86PYKKNRV9EJ7",
        amount: "1000",
        memo: "",
      },
    });
    const nodeBody = JSON.stringify(nodeBlock);
    const rows = [{ ...(recorded[0] as EventLogRow), payload: nodeBody }];
    const { url } = serveFakeStacksApi(rows);
    const fetched = await new StacksApiSource(url).fetchBlock(nodeBlock.block_height, new AbortController().signal);
    expect(fetched).not.toBeNull();
    const hash = nodeBlock.index_block_hash;

    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db);
    const backfilled = await indexer.ingestor.ingest("/new_block", encoder.encode(fetched?.body), "stacks-api");
    expect(backfilled.ok).toBe(true);
    const [lossy] = await db.sql`select source, event_count from blocks where index_block_hash = ${hash}`;
    expect(lossy?.source).toBe("stacks-api");
    expect(lossy?.event_count).toBeLessThan(nodeBlock.events.length);

    const pushed = await postJson(`${indexer.url}/new_block`, nodeBody);
    expect(pushed.json).toMatchObject({ ok: true, result: { status: "replaced", canonical: true } });
    const [replaced] = await db.sql`
      select b.source, b.event_count, j.source as journal_source from blocks b join journal j on j.id = b.journal_id
      where b.index_block_hash = ${hash}`;
    expect(replaced).toEqual({ source: "node", event_count: nodeBlock.events.length, journal_source: "node" });

    // The rows now equal those of an indexer that only ever saw the node's copy.
    const direct = await createTestDatabase();
    const directIndexer = await startTestIndexer(direct);
    await postJson(`${directIndexer.url}/new_block`, nodeBody);
    const got = await derivedRows(db.sql, hash);
    expect(got).toEqual(await derivedRows(direct.sql, hash));
    expect(got.events.filter((e: any) => e.txid === aborted.txid && !e.committed)).toHaveLength(1);

    // Consumers learn of it: the block is rolled back and applied again with the node's rows.
    const log = await readChainLog(db.sql, "mainnet", 0, 10);
    expect(log.map((e) => [e.kind, e.indexBlockHash])).toEqual([
      ["apply", hash],
      ["rollback", hash],
      ["apply", hash],
    ]);
    // From now on the node's copy is a plain duplicate.
    const again = await postJson(`${indexer.url}/new_block`, nodeBody);
    expect(again.json).toMatchObject({ ok: true, duplicate: true });
    expect(await readChainLog(db.sql, "mainnet", 3, 10)).toEqual([]);
  });

  test("a block from another Second Layer's journal is byte-exact: the node's copy is a duplicate", async () => {
    const rows = fixture("mocknet.tsv");
    const body = rows.find((r) => r.path === "/new_block")?.payload as string;
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db, { STACKS_NETWORK: "testnet" });
    await indexer.ingestor.ingest("/new_block", encoder.encode(body), "second-layer");
    const pushed = await postJson(`${indexer.url}/new_block`, body);
    expect(pushed.json).toMatchObject({ ok: true, duplicate: true });
    const [block] = await db.sql`select source from blocks`;
    expect(block?.source).toBe("second-layer");
  });
});

describe("side tables with chain semantics", () => {
  test("mempool: mined while a canonical block holds a tx, pending again when orphaned, re-broadcast after a drop", async () => {
    const key = `${"11".repeat(32)}01`;
    const signed = await Promise.all(
      [0, 1].map((nonce) =>
        makeSTXTokenTransfer({
          recipient: "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159",
          amount: 1000n + BigInt(nonce),
          senderKey: key,
          network: "mainnet",
          nonce: BigInt(nonce),
          fee: 200n,
        }),
      ),
    );
    const raws = signed.map((t) => `0x${t.serialize()}`);
    const txids = signed.map((t) => `0x${t.txid()}`) as [string, string];
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db);
    expect((await postJson(`${indexer.url}/new_mempool_tx`, raws)).json.ok).toBe(true);
    const status = async () =>
      await db.sql`
        select txid, mined_index_block_hash as mined, dropped_at is not null as dropped
        from mempool_txs order by txid`;
    const tx = (i: number) => ({
      txid: txids[i],
      tx_index: 0,
      status: "success",
      raw_tx: raws[i],
      raw_result: "0x0703",
    });

    await postJson(`${indexer.url}/new_block`, syntheticBlock("a1", 1, "g"));
    await postJson(`${indexer.url}/new_block`, syntheticBlock("a2", 2, "a1", { transactions: [tx(0)] }));
    const minedBy = new Map((await status()).map((r: any) => [r.txid, r.mined]));
    expect(minedBy.get(txids[0])).toBe(hashOf("a2"));
    expect(minedBy.get(txids[1])).toBeNull();

    // A longer branch without tx 0: it goes back to the mempool.
    await postJson(`${indexer.url}/new_block`, syntheticBlock("b2", 2, "a1"));
    await postJson(`${indexer.url}/new_block`, syntheticBlock("b3", 3, "b2", { transactions: [tx(1)] }));
    const afterReorg = new Map((await status()).map((r: any) => [r.txid, r.mined]));
    expect(afterReorg.get(txids[0])).toBeNull();
    expect(afterReorg.get(txids[1])).toBe(hashOf("b3"));
    const pending = await getJson(`${indexer.url}/health`);
    expect(pending.status).toBe("ok");

    // Dropped, then broadcast again: pending again.
    await postJson(`${indexer.url}/drop_mempool_tx`, { dropped_txids: [txids[0]], reason: "ReplaceByFee" });
    expect((await status()).find((r: any) => r.txid === txids[0])?.dropped).toBe(true);
    const rebroadcast = await postJson(`${indexer.url}/new_mempool_tx`, [raws[0]]);
    expect(rebroadcast.json.duplicate).toBeUndefined();
    expect((await status()).find((r: any) => r.txid === txids[0])).toEqual({
      txid: txids[0],
      mined: null,
      dropped: false,
    });
    // A transaction whose block arrived before its mempool POST goes in as mined.
    await db.sql`delete from mempool_txs where txid = ${txids[1]}`;
    await postJson(`${indexer.url}/new_mempool_tx`, [raws[1]]);
    expect((await status()).find((r: any) => r.txid === txids[1])?.mined).toBe(hashOf("b3"));
  });

  test("burn blocks: a new hash at a height is a Bitcoin reorg; an old one re-sent changes nothing", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db);
    const burn = (label: string, height: number, parent: string) => ({
      burn_block_hash: hashOf(label),
      burn_block_height: height,
      parent_burn_block_hash: hashOf(parent),
      burn_amount: 0,
      reward_recipients: [],
      reward_slot_holders: [],
    });
    const canonical = async () =>
      (await db.sql`select burn_block_hash from burn_blocks where canonical order by burn_block_height`).map(
        (r: any) => r.burn_block_hash,
      );
    for (const [label, h, parent] of [
      ["A100", 100, "A99"],
      ["A101", 101, "A100"],
      ["A102", 102, "A101"],
    ] as const) {
      await postJson(`${indexer.url}/new_burn_block`, burn(label, h, parent));
    }
    expect(await canonical()).toEqual([hashOf("A100"), hashOf("A101"), hashOf("A102")]);
    await postJson(`${indexer.url}/new_burn_block`, burn("B101", 101, "A100"));
    expect(await canonical()).toEqual([hashOf("A100"), hashOf("B101")]);
    await postJson(`${indexer.url}/new_burn_block`, burn("B102", 102, "B101"));
    // A re-send of a burn block below the tip (a node restart replaying) changes nothing.
    await postJson(`${indexer.url}/new_burn_block`, burn("A100", 100, "A99"));
    expect(await canonical()).toEqual([hashOf("A100"), hashOf("B101"), hashOf("B102")]);
    // Bitcoin goes back to the A branch at the tip height: A102 is canonical again, with its parent.
    await postJson(`${indexer.url}/new_burn_block`, burn("A103", 103, "A102"));
    expect((await canonical()).at(-1)).toBe(hashOf("A103"));
  });
});

describe("fork choice follows the node (STACKS_NODE_RPC_URL)", () => {
  /** A block whose index hash is derived like the node's, so the node's tip can name it. */
  function nodeBlock(label: string, height: number, parent: string | null) {
    const blockHash = hashOf(`block-${label}`);
    const consensusHash = `0x${hashOf(`ch-${label}`).slice(2, 42)}`;
    return {
      ...syntheticBlock(label, height, "g"),
      index_block_hash: indexBlockHashOf(blockHash, consensusHash),
      parent_index_block_hash: parent ?? hashOf("g"),
      consensus_hash: consensusHash,
    };
  }

  test("the node's tip, held here as non-canonical, becomes canonical through the chain log", async () => {
    let tip: any = null;
    const node = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () =>
        Response.json({
          stacks_tip_height: tip?.block_height ?? 0,
          burn_block_height: 900,
          stacks_tip: tip?.block_hash.slice(2),
          stacks_tip_consensus_hash: tip?.consensus_hash.slice(2),
        }),
    });
    onCleanup(() => node.stop(true));
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db, {
      STACKS_NODE_RPC_URL: `http://127.0.0.1:${node.port}`,
      NODE_TIP_CHECK_SECONDS: "3600",
    });
    const a1 = nodeBlock("a1", 1, null);
    const a2 = nodeBlock("a2", 2, a1.index_block_hash);
    const a3 = nodeBlock("a3", 3, a2.index_block_hash);
    // A tenure fork: the node moves to b2 (a sibling of a2) and abandons a2, a3.
    const b2 = nodeBlock("b2", 2, a1.index_block_hash);
    for (const b of [a1, a2, a3, b2]) await postJson(`${indexer.url}/new_block`, b);
    const before = await readChainLog(db.sql, "mainnet", 0, 100);
    expect(before.map((e) => e.kind)).toEqual(["apply", "apply", "apply"]);

    tip = a3;
    expect(await indexer.nodeTip?.check()).toMatchObject({ status: "canonical", indexBlockHash: a3.index_block_hash });
    tip = b2;
    expect(await indexer.nodeTip?.check()).toMatchObject({
      status: "followed",
      indexBlockHash: b2.index_block_hash,
      orphaned: [a3.index_block_hash, a2.index_block_hash],
    });
    const after = await readChainLog(db.sql, "mainnet", before.length, 100);
    expect(after.map((e) => [e.kind, e.indexBlockHash])).toEqual([
      ["rollback", a3.index_block_hash],
      ["rollback", a2.index_block_hash],
      ["apply", b2.index_block_hash],
    ]);
    const canonical = await db.sql`select index_block_hash from blocks where canonical order by block_height`;
    expect(canonical.map((r: any) => r.index_block_hash)).toEqual([a1.index_block_hash, b2.index_block_hash]);
    const health = await getJson(`${indexer.url}/health`);
    expect(health.lastIndexedBlock.indexBlockHash).toBe(b2.index_block_hash);
    expect(health.node.tip).toMatchObject({ status: "followed", height: 2 });
    expect(health.lastContiguousBlock.height).toBe(2);
    // The next block extends the node's tip as usual.
    const b3 = nodeBlock("b3", 3, b2.index_block_hash);
    expect((await postJson(`${indexer.url}/new_block`, b3)).json.result.canonical).toBe(true);
    // A node tip we have not received yet is reported, not acted on.
    tip = nodeBlock("c9", 9, b3.index_block_hash);
    expect(await indexer.nodeTip?.check()).toMatchObject({ status: "unknown", height: 9 });
  });
});

test("a lock timeout is transient: 503, nothing journaled, and the retry stores the block", async () => {
  const base = await createTestDatabase();
  await base.sql.unsafe(`alter database ${base.name} set lock_timeout = '300ms'`);
  const db = { ...connect(base.url), url: base.url, name: base.name };
  onCleanup(() => db.close());
  const indexer = await startTestIndexer(db);
  await postJson(`${indexer.url}/new_block`, syntheticBlock("a1", 1, "g"));
  const holder = await base.sql.reserve();
  await holder`begin`;
  await holder`select * from chain_state where network = 'mainnet' for update`;
  const blocked = await postJson(`${indexer.url}/new_block`, syntheticBlock("a2", 2, "a1"));
  expect(blocked.status).toBe(503);
  expect(blocked.json.error.code).toBe("DATABASE_UNAVAILABLE");
  await holder`rollback`;
  holder.release();
  const [journal] = await db.sql`select count(*)::int as n from journal`;
  expect(journal?.n).toBe(1);
  const retry = await postJson(`${indexer.url}/new_block`, syntheticBlock("a2", 2, "a1"));
  expect(retry.json).toMatchObject({ ok: true, result: { status: "stored", canonical: true } });
});
