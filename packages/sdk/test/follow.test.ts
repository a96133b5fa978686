import { afterEach, describe, expect, test } from "bun:test";
import { startTestApi } from "../../../test/support/api.ts";
import {
  expectLogOfBlocks,
  recordedDelivered,
  stopScenarioWorkers,
  streamScenario,
} from "../../../test/support/stream-scenario.ts";
import { hashOf } from "../../../test/support/synthetic-blocks.ts";
import { TcpProxy } from "../../../test/support/tcp-proxy.ts";
import {
  type ChainEvent,
  type ReconnectInfo,
  SecondLayer,
  SecondLayerError,
  type StreamLogEvent,
} from "../src/index.ts";

// The SSE followers against a real API behind a TCP proxy that cuts every connection on demand:
// after a forced disconnect they reconnect with Last-Event-ID and continue exactly where they were.

afterEach(stopScenarioWorkers);

/** Takes the next `n` items of an iterator, failing the test if it ends first. */
async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) throw new Error(`ended after ${out.length} of ${n}`);
    out.push(r.value);
  }
  return out;
}

const summary = (e: ChainEvent) => `${e.seq} ${e.kind} ${e.block.indexBlockHash}`;

describe("chain.follow", () => {
  test("a forced disconnect: it reconnects after the last seq and misses nothing, repeats nothing", async () => {
    const s = await streamScenario();
    const api = await startTestApi(s.db);
    const proxy = new TcpProxy(api.url);
    const sl = new SecondLayer({ baseUrl: proxy.url, apiKey: api.adminKey });
    await s.extend("a", 1, 3, "g");
    const reconnects: ReconnectInfo[] = [];
    const stop = new AbortController();
    const it = sl.chain
      .follow({ after: 0, signal: stop.signal, onReconnect: (info) => reconnects.push(info) })
      [Symbol.asyncIterator]();
    const before = await take(it, 3);
    expect(before.map(summary)).toEqual([1, 2, 3].map((h) => `${h} apply ${hashOf(`a${h}`)}`));

    expect(proxy.dropAll()).toBe(1);
    // Written while nobody is connected, and a fork on top: rollbacks then applies.
    await s.extend("a", 4, 5, "a3");
    await s.extend("b", 5, 6, "a4");
    const after = await take(it, 5);
    expect(after.map(summary)).toEqual([
      `4 apply ${hashOf("a4")}`,
      `5 apply ${hashOf("a5")}`,
      `6 rollback ${hashOf("a5")}`,
      `7 apply ${hashOf("b5")}`,
      `8 apply ${hashOf("b6")}`,
    ]);
    expect(reconnects).toHaveLength(1);
    expect(reconnects[0]?.lastEventId).toBe("3");
    expect(proxy.accepted).toBe(2);
    // What it yielded is exactly the log as the REST route pages it.
    const { events } = await sl.chain.events({ limit: 100 });
    expect([...before, ...after]).toEqual(events);

    stop.abort();
    expect((await it.next()).done).toBe(true);
  });

  test("resumes from a stored position with lastEventId, and ends with a typed error when the key is revoked", async () => {
    const s = await streamScenario();
    const api = await startTestApi(s.db, { API_SSE_HEARTBEAT_SECONDS: "0.5" });
    await s.extend("a", 1, 4, "g");
    const admin = new SecondLayer({ baseUrl: api.url, apiKey: api.adminKey });
    const { key, apiKey } = await admin.keys.create({ name: "follower" });
    const sl = new SecondLayer({ baseUrl: api.url, apiKey: key });
    const it = sl.chain.follow({ lastEventId: "2" })[Symbol.asyncIterator]();
    expect((await take(it, 2)).map((e) => e.seq)).toEqual([3, 4]);
    await admin.keys.revoke(apiKey.id);
    let error: unknown;
    try {
      await it.next();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SecondLayerError);
    expect((error as SecondLayerError).code).toBe("UNAUTHORIZED");
  });
});

describe("streams.logs", () => {
  test("deliveries and attempts live, across a forced disconnect, each once; a deleted stream ends it", async () => {
    const s = await streamScenario();
    const api = await startTestApi(s.db);
    const proxy = new TcpProxy(api.url);
    const sl = new SecondLayer({ baseUrl: proxy.url, apiKey: api.adminKey });
    const { stream, secret } = await sl.streams.create({
      name: "logged",
      webhookUrl: s.receiver.url("logged"),
      filters: [{ type: "block" }],
    });
    s.receiver.setSecret("logged", secret);
    await s.startWorker();
    const it = sl.streams.logs(stream.id)[Symbol.asyncIterator]();
    await s.extend("a", 1, 2, "g");
    const first = await take(it, 4);
    expectLogOfBlocks(first, [1, 2]);

    proxy.dropAll();
    await s.extend("a", 3, 4, "a2");
    await recordedDelivered(s.db.sql, stream.id, 4);
    const second = await take(it, 4);
    const all: StreamLogEvent[] = [...first, ...second];
    expect(proxy.accepted).toBe(2);
    expect(new Set(all.map((e) => e.id)).size).toBe(8);
    const attempts = all.flatMap((e) => (e.type === "delivery.attempt" ? [e.data] : []));
    expect(attempts.map((a) => [a.seq, a.ok, a.blockHeight])).toEqual([
      [1, true, 1],
      [2, true, 2],
      [3, true, 3],
      [4, true, 4],
    ]);
    const delivered = (await sl.streams.deliveries(stream.id)).deliveries;
    expect(attempts.map((a) => a.deliveryId)).toEqual(delivered.map((d) => d.id));

    await sl.streams.delete(stream.id);
    let error: unknown;
    try {
      await it.next();
    } catch (err) {
      error = err;
    }
    expect((error as SecondLayerError).code).toBe("NOT_FOUND");
  });
});
