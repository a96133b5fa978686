import { afterEach, describe, expect, test } from "bun:test";
import type { AddressInfo } from "node:net";
import { createReceiver as expressReceiver } from "../../../../docs/examples/express-receiver.ts";
import { createReceiver as honoReceiver } from "../../../../docs/examples/hono-receiver.ts";
import { POST as nextRoute } from "../../../../docs/examples/nextjs-route.ts";
import { startTestApi } from "../../../../test/support/api.ts";
import { onCleanup } from "../../../../test/support/cleanup.ts";
import { recordedDelivered, stopScenarioWorkers, streamScenario } from "../../../../test/support/stream-scenario.ts";
import { hashOf } from "../../../../test/support/synthetic-blocks.ts";
import { type DeliveryBody, SecondLayer, verifyWebhook, webhookHeaders } from "../../src/index.ts";

// The receivers of docs/examples (Hono, Express, a Next.js route handler), each run as a real HTTP
// server and fed by a real indexer, API and worker: every delivery verifies with the SDK, in seq
// order with no gap; during a secret rotation both the old and the new secret verify; anything
// unsigned or tampered with is refused.

afterEach(stopScenarioWorkers);

function serve(fetch: (req: Request) => Response | Promise<Response>): string {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch });
  onCleanup(() => server.stop(true));
  return `http://127.0.0.1:${server.port}`;
}

const ROUTE = "/webhooks/second-layer";

describe("example receivers with the worker's real deliveries", () => {
  test("Hono, Express and Next.js each verify, order and apply every delivery, rollbacks included", async () => {
    const s = await streamScenario();
    const api = await startTestApi(s.db);
    const sl = new SecondLayer({ baseUrl: api.url, apiKey: api.adminKey });
    const handled: Record<string, DeliveryBody[]> = { hono: [], express: [], next: [] };
    const honoSecrets: string[] = [];
    const expressSecrets: string[] = [];

    const honoUrl = serve(honoReceiver(honoSecrets, (b) => void handled.hono?.push(b)).fetch);
    const expressServer = expressReceiver(expressSecrets, (b) => void handled.express?.push(b)).listen(0, "127.0.0.1");
    await new Promise((resolve) => expressServer.once("listening", resolve));
    onCleanup(() => expressServer.close());
    const expressUrl = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`;
    const nextUrl = serve(async (req) => {
      const copy = req.clone();
      const res = await nextRoute(req);
      const body = JSON.parse(await copy.text());
      if (res.status === 204 && body.type !== "stream.test") handled.next?.push(body);
      return res;
    });

    const create = (name: string, base: string) =>
      sl.streams.create({ name, webhookUrl: `${base}${ROUTE}`, filters: [{ type: "block" }] });
    const hono = await create("hono", honoUrl);
    honoSecrets.push(hono.secret);
    const express = await create("express", expressUrl);
    expressSecrets.push(express.secret);
    const next = await create("next", nextUrl);
    process.env.SL_WEBHOOK_SECRET = next.secret;
    onCleanup(() => delete process.env.SL_WEBHOOK_SECRET);

    // The test webhook goes through each receiver's signature check too.
    for (const { stream } of [hono, express, next]) {
      expect(await sl.streams.test(stream.id)).toMatchObject({ ok: true, status: 204 });
    }

    await s.startWorker();
    await s.extend("a", 1, 3, "g");
    // a3 must have gone out before the fork: an apply still unsent when its block is rolled back is
    // cancelled, and then no rollback is owed for it either.
    for (const { stream } of [hono, express, next]) await recordedDelivered(s.db.sql, stream.id, 3);
    await s.extend("b", 3, 4, "a2");
    const expected = ["apply a1", "apply a2", "apply a3", "rollback a3", "apply b3", "apply b4"];
    const label = new Map(["a1", "a2", "a3", "b3", "b4"].map((l) => [hashOf(l), l]));
    for (const [name, { stream }] of Object.entries({ hono, express, next })) {
      await recordedDelivered(s.db.sql, stream.id, expected.length);
      const bodies = handled[name] as DeliveryBody[];
      expect(bodies.map((b) => `${b.type.slice(6)} ${label.get(b.block.indexBlockHash)}`)).toEqual(expected);
      expect(bodies.map((b) => b.seq)).toEqual(expected.map((_, i) => i + 1));
      expect(bodies.every((b) => b.streamId === stream.id)).toBe(true);
    }
  });

  test("a rotation: deliveries carry both signatures, so a receiver with either secret verifies", async () => {
    const s = await streamScenario();
    const api = await startTestApi(s.db);
    const sl = new SecondLayer({ baseUrl: api.url, apiKey: api.adminKey });
    const { stream, secret: oldSecret } = await sl.streams.create({
      name: "rotating",
      webhookUrl: s.receiver.url("rotating"),
      filters: [{ type: "block" }],
    });
    s.receiver.setSecret("rotating", oldSecret);
    await s.startWorker();
    await s.extend("a", 1, 1, "g");
    await recordedDelivered(s.db.sql, stream.id, 1);
    const { secret: newSecret } = await sl.streams.rotateSecret(stream.id);
    await s.extend("a", 2, 3, "a1");
    await recordedDelivered(s.db.sql, stream.id, 3);

    const received = s.receiver.acknowledged("rotating");
    expect(received.map((r) => r.seq)).toEqual([1, 2, 3]);
    const [before, ...after] = received;
    expect(verifyWebhook(oldSecret, before!.headers, before!.raw).id).toBe(before!.id);
    expect(() => verifyWebhook(newSecret, before!.headers, before!.raw)).toThrow("no webhook-signature matches");
    for (const r of after) {
      expect(r.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
      expect(verifyWebhook(oldSecret, r.headers, r.raw).id).toBe(r.id);
      expect(verifyWebhook(newSecret, r.headers, r.raw).id).toBe(r.id);
      expect(verifyWebhook([oldSecret, newSecret], r.headers, r.raw).id).toBe(r.id);
    }
  });

  test("unsigned, tampered, stale or foreign requests are refused with 401 and the reason", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const handled: DeliveryBody[] = [];
    const url = `${serve(honoReceiver(secret, (b) => void handled.push(b)).fetch)}${ROUTE}`;
    const body = JSON.stringify({ type: "block.apply", streamId: "s", seq: 1 });
    const now = Math.floor(Date.now() / 1000);
    const post = async (headers: Record<string, string>, sent = body) => {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: sent,
      });
      return [res.status, res.status === 401 ? ((await res.json()) as { error: string }).error : null];
    };
    const signed = (timestamp: number, key = secret) =>
      webhookHeaders({ id: "msg_1", timestamp, body, secrets: [key] });
    expect(await post({})).toEqual([401, "WEBHOOK_HEADERS_MISSING"]);
    expect(await post(signed(now), body.replace("1}", "2}"))).toEqual([401, "WEBHOOK_SIGNATURE_MISMATCH"]);
    expect(await post(signed(now - 301))).toEqual([401, "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE"]);
    expect(await post(signed(now, `whsec_${Buffer.alloc(32, 1).toString("base64")}`))).toEqual([
      401,
      "WEBHOOK_SIGNATURE_MISMATCH",
    ]);
    expect(handled).toEqual([]);
    expect(await post(signed(now))).toEqual([204, null]);
    expect(handled.map((b) => b.seq)).toEqual([1]);
  });
});
