import { beforeAll, describe, expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { type ApiClient, startTestApi } from "../../../test/support/api.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { blocksOf, canonicalChain, fixture, fixtureNetwork } from "../../../test/support/fixtures.ts";
import { postJson, startTestIndexer } from "../../../test/support/indexer.ts";
import { WebhookReceiver } from "../../../test/support/webhook-receiver.ts";
import { collect, SecondLayer, SecondLayerError } from "../src/index.ts";
import { errorOf } from "./error-of.ts";

// The SDK against a real API over the reorg recording (blocks, a reorg, the chain log) and the
// fuzzed Nakamoto recording (transactions, the mempool). Every answer is compared with what the API
// itself serves (the raw client below checks each one against the OpenAPI document).

const REORG = fixture("mainnet-reorg-scenario2.tsv");
const FUZZED = "fuzzed-transactions-1.tsv";

let sl: SecondLayer;
let raw: ApiClient;
let apiUrl: string;
let fuzzed: { sl: SecondLayer; raw: ApiClient };
/** A webhook URL the API accepts (127.0.0.1 is allowed in tests); nothing is delivered here. */
let hookUrl: string;

beforeAll(async () => {
  const db = await createTestDatabase();
  const indexer = await startTestIndexer(db);
  await replayEventLog(REORG, { to: indexer.url, maxAttempts: 1 });
  const api = await startTestApi(db, { STATUS_CACHE_SECONDS: "0" });
  apiUrl = api.url;
  raw = api.client();
  sl = new SecondLayer({ baseUrl: api.url, apiKey: api.adminKey });

  hookUrl = new WebhookReceiver().url("hook");

  const network = fixtureNetwork(FUZZED);
  const db2 = await createTestDatabase();
  const indexer2 = await startTestIndexer(db2, { STACKS_NETWORK: network });
  await replayEventLog(fixture(FUZZED), { to: indexer2.url, maxAttempts: 1 });
  // More pending transactions than the recording leaves: real ones, mined only on another network.
  const foreign = blocksOf(fixture("poisonmicroblock.tsv"))[0]
    .transactions.slice(0, 5)
    .map((t: any) => t.raw_tx);
  expect((await postJson(`${indexer2.url}/new_mempool_tx`, foreign)).json.ok).toBe(true);
  const api2 = await startTestApi(db2, { STACKS_NETWORK: network });
  fuzzed = { sl: new SecondLayer({ baseUrl: api2.url, apiKey: api2.adminKey }), raw: api2.client() };
});

describe("streams", () => {
  test("create, get, update, actions, secret rotation, delete: what the API answers, typed", async () => {
    const { stream, secret } = await sl.streams.create({
      name: "sdk stream",
      webhookUrl: hookUrl,
      filters: [{ type: "stx_transfer", minAmount: "1000" }],
    });
    expect(secret).toStartWith("whsec_");
    expect(stream.status).toBe("active");
    const got = await sl.streams.get(stream.id);
    expect(got).toEqual((await raw.get(`/api/streams/${stream.id}`)).json);
    expect(got.stats?.delivered).toBe(0);

    const updated = await sl.streams.update(stream.id, { name: "renamed", confirmations: 2 });
    expect([updated.name, updated.confirmations]).toEqual(["renamed", 2]);
    expect((await sl.streams.pause(stream.id)).status).toBe("paused");
    expect((await sl.streams.resume(stream.id)).status).toBe("active");
    expect((await sl.streams.disable(stream.id)).status).toBe("disabled");
    expect((await sl.streams.enable(stream.id)).status).toBe("active");
    const rotated = await sl.streams.rotateSecret(stream.id);
    expect(rotated.secret).toStartWith("whsec_");
    expect(rotated.secret).not.toBe(secret);
    expect(Date.parse(rotated.previousSecretExpiresAt)).toBeGreaterThan(Date.now());
    expect(await sl.streams.replay(stream.id, { fromBlock: 1, toBlock: 2 })).toEqual({ queued: true });
    expect(await sl.streams.redeliver(stream.id)).toEqual({ redelivered: 0 });
    expect((await sl.streams.deliveries(stream.id)).deliveries).toEqual([]);

    await sl.streams.delete(stream.id);
    const gone = await errorOf(sl.streams.get(stream.id));
    expect([gone.status, gone.code]).toEqual([404, "NOT_FOUND"]);
  });

  test("list pages and the iterator: every stream once, in order, across pages", async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { stream } = await sl.streams.create({
        name: `paged ${i}`,
        webhookUrl: hookUrl,
        filters: [{ type: "block" }],
      });
      created.push(stream.id);
    }
    const firstPage = await sl.streams.list({ limit: 3 });
    expect(firstPage.streams).toHaveLength(3);
    expect(firstPage.next).toBe(firstPage.streams[2]?.id ?? null);
    const all = (await raw.get("/api/streams?limit=200")).json.streams.map((s: any) => s.id);
    expect(all).toEqual(expect.arrayContaining(created));
    const iterated = await collect(sl.streams.iterate({ limit: 3 }));
    expect(iterated.map((s) => s.id)).toEqual(all);
    // Breaking out early stops fetching: only what was asked for comes.
    expect((await collect(sl.streams.iterate({ limit: 2 }), 3)).map((s) => s.id)).toEqual(all.slice(0, 3));
  });

  test("a Chainhook predicate becomes a stream; an untranslatable one is a typed error with paths", async () => {
    const predicate = {
      chain: "stacks",
      uuid: "1",
      name: "transfers",
      version: 1,
      networks: {
        mainnet: {
          if_this: { scope: "stx_event", actions: ["transfer"] },
          then_that: { http_post: { url: hookUrl, authorization_header: "" } },
        },
      },
    };
    const imported = await sl.streams.importChainhook(predicate, { name: "from chainhook" });
    expect(imported.stream.name).toBe("from chainhook");
    expect(imported.translatedFrom).toEqual({ uuid: "1", name: "transfers" });
    expect(imported.secret).toStartWith("whsec_");

    const bad = structuredClone(predicate);
    (bad.networks.mainnet as any).if_this = { scope: "print_event", contract_identifier: "*", matches_regex: "a+" };
    const err = await errorOf(sl.streams.importChainhook(bad));
    expect([err.status, err.code]).toEqual([400, "UNTRANSLATABLE_PREDICATE"]);
    expect(err.details?.[0]?.path).toStartWith("networks.mainnet.if_this");
  });

  test("errors: validation details with field paths, a bad key, an unreachable API", async () => {
    const invalid = await errorOf(
      sl.streams.create({ name: "x", webhookUrl: hookUrl, filters: [{ type: "stx_transfer", minAmount: "-1" }] }),
    );
    expect([invalid.status, invalid.code]).toEqual([400, "VALIDATION_FAILED"]);
    expect(invalid.details?.map((d) => d.path)).toContain("filters.0.minAmount");
    expect(invalid.message).toContain("filters.0.minAmount");

    const unauthorized = await errorOf(new SecondLayer({ baseUrl: apiUrl, apiKey: "sk_live_nope" }).streams.list());
    expect([unauthorized.status, unauthorized.code]).toEqual([401, "UNAUTHORIZED"]);

    // A port nothing listens on: no answer at all.
    const server = Bun.serve({ port: 0, fetch: () => new Response("") });
    const deadUrl = `http://127.0.0.1:${server.port}`;
    await server.stop(true);
    const network = await errorOf(new SecondLayer({ baseUrl: deadUrl }).status());
    expect([network.status, network.code]).toEqual([null, "NETWORK_ERROR"]);
    expect(() => new SecondLayer({ baseUrl: "127.0.0.1:3800" })).toThrow(SecondLayerError);
  });
});

describe("keys and accounts", () => {
  test("an account's key lists, creates and revokes its own keys; a revoked key stops working", async () => {
    const { account, key } = await sl.accounts.create({ name: "tenant" });
    const tenant = new SecondLayer({ baseUrl: apiUrl, apiKey: key });
    const { key: second, apiKey } = await tenant.keys.create({ name: "ci" });
    expect(apiKey.accountId).toBe(account.id);
    const listed = await tenant.keys.list();
    expect(listed.keys.map((k) => k.name).sort()).toEqual(["ci", "first key"]);
    expect(await sl.keys.list({ accountId: account.id })).toEqual(listed);
    await tenant.keys.revoke(apiKey.id);
    const revoked = await errorOf(new SecondLayer({ baseUrl: apiUrl, apiKey: second }).keys.list());
    expect(revoked.code).toBe("UNAUTHORIZED");
    const forbidden = await errorOf(tenant.accounts.create({ name: "not allowed" }));
    expect([forbidden.status, forbidden.code]).toEqual([403, "FORBIDDEN"]);
  });
});

describe("chain data", () => {
  test("blocks, a block's transactions and a transaction: the API's answers; iterators cover every page", async () => {
    const chain = canonicalChain(blocksOf(REORG));
    const tip = chain.at(-1);
    expect(await sl.chain.block(tip.block_height)).toEqual((await raw.get(`/api/blocks/${tip.block_height}`)).json);
    expect((await sl.chain.block(tip.index_block_hash)).indexBlockHash).toBe(tip.index_block_hash);
    const blocks = await collect(sl.chain.iterateBlocks({ limit: 1 }));
    expect(blocks).toEqual((await raw.get("/api/blocks?limit=200")).json.blocks);
    expect(blocks.map((b) => b.height)).toEqual(chain.map((b) => b.block_height).reverse());

    const withTxs = chain.find((b) => b.transactions.length > 1);
    const txs = await collect(sl.chain.iterateBlockTransactions(withTxs.block_height, { limit: 1 }));
    expect(txs.map((t) => t.txid)).toEqual(withTxs.transactions.map((t: any) => t.txid));
    const detail = await sl.chain.tx(txs[0]?.txid as string);
    expect(detail).toEqual((await raw.get(`/api/tx/${txs[0]?.txid}`)).json);
    const missing = await errorOf(sl.chain.tx(`0x${"ab".repeat(32)}`));
    expect([missing.status, missing.code]).toEqual([404, "NOT_FOUND"]);
    const malformed = await errorOf(sl.chain.block("not-a-block"));
    expect([malformed.status, malformed.code]).toEqual([400, "VALIDATION_FAILED"]);
  });

  test("reorgs and the chain log, paged and iterated, equal the API's single pages", async () => {
    const reorgs = await collect(sl.chain.iterateReorgs({ limit: 1 }));
    expect(reorgs.length).toBeGreaterThan(0);
    expect(reorgs).toEqual((await raw.get("/api/reorgs?limit=200")).json.reorgs);
    const log = (await raw.get("/api/chain/events?limit=1000")).json;
    const events = await collect(sl.chain.iterateEvents({ limit: 2 }));
    expect(events).toEqual(log.events);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.some((e) => e.kind === "rollback")).toBe(true);
    expect(await collect(sl.chain.iterateEvents({ after: 3, limit: 2 }))).toEqual(log.events.slice(3));
  });

  test("the mempool iterator pages through every pending transaction", async () => {
    const page = (await fuzzed.raw.get("/api/mempool?limit=500")).json.transactions;
    expect(page.length).toBeGreaterThan(5);
    expect(await collect(fuzzed.sl.chain.iterateMempool({ limit: 1 }))).toEqual(page);
  });

  test("status, health and readiness", async () => {
    const { generatedAt, ...status } = await sl.status();
    const { generatedAt: _, ...served } = (await raw.get("/status")).json;
    expect(status).toEqual(served);
    expect(Date.parse(generatedAt)).toBeGreaterThan(0);
    expect(status.chainLog.seq).toBe((await raw.get("/api/chain/events?limit=1")).json.head);
    expect(await sl.health()).toEqual({ status: "ok" });
    expect(await sl.ready()).toEqual({ status: "ready" });
  });
});
