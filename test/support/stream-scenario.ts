import { expect } from "bun:test";
import type { StacksNetwork } from "@second-layer/shared/config";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import { postJson, startTestIndexer } from "./indexer.ts";
import { hashOf, syntheticBlock } from "./synthetic-blocks.ts";
import { type Received, WebhookReceiver } from "./webhook-receiver.ts";
import { createAccount, startTestWorker, testStream } from "./worker.ts";

// The pieces most stream tests need: a database, a real indexer to post blocks to, a receiver, an
// account. Workers are started by the test (in-process or as processes) and stopped after it by
// `stopScenarioWorkers` (call it from afterEach), with the database's pool, so finished tests
// neither keep polling nor hold connections.

const stops: (() => Promise<unknown>)[] = [];

/** Registers something to stop after the current test (workers, processes). */
export function stopAfterTest(stop: () => Promise<unknown>): void {
  stops.push(stop);
}

export async function stopScenarioWorkers(): Promise<void> {
  for (let stop = stops.pop(); stop; stop = stops.pop()) await stop().catch(() => {});
}

export interface Scenario {
  db: TestDatabase;
  indexerUrl: string;
  receiver: WebhookReceiver;
  account: string;
  /** Starts a worker in this process (stopped after the test). */
  startWorker(env?: Record<string, string>): ReturnType<typeof startTestWorker>;
  /** Creates a stream delivering to the receiver's endpoint `name`, whose signatures it checks. */
  stream(name: string, input?: Record<string, unknown>, network?: StacksNetwork): Promise<string>;
  /** Posts blocks `<branch><h>` for heights from..to, each on the previous one, the first on `parent`. */
  extend(
    branch: string,
    from: number,
    to: number,
    parent: string,
    extra?: (height: number) => Record<string, unknown>,
  ): Promise<void>;
  /** Posts a burn block `burn<height>` on `burn<height - 1>`. */
  burnBlock(height: number): Promise<void>;
}

export async function streamScenario(): Promise<Scenario> {
  const db = await createTestDatabase();
  // Stopped last (after the workers and the indexer that use it): the pools of finished tests would
  // otherwise hold their connections until the run ends and exhaust the server's max_connections.
  stopAfterTest(() => db.close());
  const indexer = await startTestIndexer(db);
  stopAfterTest(() => indexer.stop());
  const receiver = new WebhookReceiver();
  const account = await createAccount(db.sql);
  return {
    db,
    indexerUrl: indexer.url,
    receiver,
    account,
    async startWorker(env = {}) {
      const worker = await startTestWorker(db, env);
      stopAfterTest(() => worker.stop());
      return worker;
    },
    async stream(name, input = {}, network = "mainnet") {
      const { stream, secret } = await testStream(
        db.sql,
        account,
        { name, webhookUrl: receiver.url(name), filters: [{ type: "block" }], ...input },
        network,
      );
      receiver.setSecret(name, secret);
      return stream.id;
    },
    async extend(branch, from, to, parent, extra = () => ({})) {
      for (let h = from; h <= to; h++) {
        const block = syntheticBlock(`${branch}${h}`, h, h === from ? parent : `${branch}${h - 1}`, extra(h));
        const res = await postJson(`${indexer.url}/new_block`, block);
        expect(res.status).toBe(200);
        expect(res.json.ok).toBe(true);
      }
    },
    async burnBlock(height) {
      const res = await postJson(`${indexer.url}/new_burn_block`, {
        burn_block_hash: hashOf(`burn${height}`),
        burn_block_height: height,
        parent_burn_block_hash: hashOf(`burn${height - 1}`),
        burn_amount: 0,
        reward_recipients: [],
        reward_slot_holders: [],
      });
      expect(res.status).toBe(200);
    },
  };
}

/** The index block hash of a synthetic block label ("a3"), as payloads carry it. */
export const blockHash = hashOf;

/**
 * What a receiver endpoint must always see: valid signatures, the stream's id, and seq 1, 2, 3, ... in
 * arrival order of the acknowledged deliveries, in the header and the body alike.
 */
export function expectGapFreeSeq(acked: Received[], streamId: string): void {
  expect(acked.every((r) => r.signatureValid)).toBe(true);
  expect(acked.map((r) => r.body.streamId)).toEqual(acked.map(() => streamId));
  expect(acked.map((r) => r.seq)).toEqual(acked.map((_, i) => i + 1));
  expect(acked.map((r) => r.body.seq)).toEqual(acked.map((_, i) => i + 1));
}

/** "apply a3", "rollback a4": what a receiver was told, as block heights and kinds, for readable asserts. */
export function told(received: Received[], labelOf: (hash: string) => string): string[] {
  return received.map(
    (r) => `${r.body.type === "block.apply" ? "apply" : "rollback"} ${labelOf(r.body.block.indexBlockHash)}`,
  );
}

/** Maps index block hashes back to the labels of synthetic blocks. */
export function labeller(labels: string[]): (hash: string) => string {
  const byHash = new Map(labels.map((l) => [hashOf(l), l]));
  return (hash) => byHash.get(hash) ?? hash;
}

/** Polls the database (or anything) until `probe` returns something truthy. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/**
 * Waits until `n` of a stream's deliveries are recorded as delivered. A receiver sees a delivery
 * before the worker records its answer, so database checks wait for this first.
 */
export async function recordedDelivered(sql: TestDatabase["sql"], streamId: string, n: number): Promise<void> {
  await eventually(`${n} deliveries recorded as delivered`, async () => {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from deliveries where stream_id = ${streamId} and status = 'delivered'`;
    return row?.n === n;
  });
}

/**
 * A stream's delivery log (the API's SSE events, through the SDK or `sl streams logs`) as it covers
 * blocks `heights`, one delivery each: every delivery announced, then attempted, the attempts in
 * block order. The matcher may queue the next block before the previous POST is done, so the two
 * kinds of events may interleave either way.
 */
export function expectLogOfBlocks(events: { type: string; data: { blockHeight: number } }[], heights: number[]): void {
  const order = events.map((e) => `${e.type}@${e.data.blockHeight}`);
  expect(order.toSorted()).toEqual(
    [...heights.map((h) => `delivery.attempt@${h}`), ...heights.map((h) => `delivery.queued@${h}`)].toSorted(),
  );
  for (const h of heights) {
    expect(order.indexOf(`delivery.queued@${h}`)).toBeLessThan(order.indexOf(`delivery.attempt@${h}`));
  }
  expect(events.filter((e) => e.type === "delivery.attempt").map((e) => e.data.blockHeight)).toEqual(heights);
}
