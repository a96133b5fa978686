import { beforeAll, describe, expect, test } from "bun:test";
import { type ApiClient, startTestApi } from "../../../test/support/api.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { WebhookReceiver } from "../../../test/support/webhook-receiver.ts";

const RECIPIENT = "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159";
let db: TestDatabase;
let admin: ApiClient;
let alice: ApiClient;
let bob: ApiClient;
let receiver: WebhookReceiver;

const validStream = (name = "transfers") => ({
  name,
  webhookUrl: receiver.url(name),
  filters: [{ type: "stx_transfer", recipient: RECIPIENT, minAmount: "1000000" }],
});

beforeAll(async () => {
  db = await createTestDatabase();
  const api = await startTestApi(db);
  admin = api.client();
  receiver = new WebhookReceiver();
  const a = await admin.post("/api/accounts", { name: "alice" });
  const b = await admin.post("/api/accounts", { name: "bob" });
  expect(a.status).toBe(201);
  alice = api.client(a.json.key);
  bob = api.client(b.json.key);
});

describe("auth", () => {
  test("no key, a malformed header or an unknown key: 401 in the error shape", async () => {
    for (const client of [alice.withKey(null), alice.withKey("sk_live_nope")]) {
      const res = await client.get("/api/streams");
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe("UNAUTHORIZED");
    }
    const res = await alice.request("GET", "/api/streams", undefined, { authorization: "Basic abc" });
    expect(res.status).toBe(401);
  });

  test("only admins create accounts; a key manages its own account's keys", async () => {
    expect((await alice.post("/api/accounts", { name: "mallory" })).status).toBe(403);
    const created = await alice.post("/api/keys", { name: "ci" });
    expect(created.status).toBe(201);
    expect(created.json.key).toMatch(/^sk_live_[A-Za-z0-9]{32}$/);
    const list = await alice.get("/api/keys");
    expect(list.json.keys.map((k: any) => k.name)).toContain("ci");
    // Never the key itself, only its prefix.
    expect(JSON.stringify(list.json)).not.toContain(created.json.key);
    expect(list.json.keys.find((k: any) => k.name === "ci").prefix).toBe(created.json.key.slice(0, 12));
    // Bob cannot list or revoke Alice's keys.
    expect((await bob.get(`/api/keys?accountId=${created.json.apiKey.accountId}`)).status).toBe(403);
    expect((await bob.delete(`/api/keys/${created.json.apiKey.id}`)).status).toBe(404);
    // A revoked key stops working at once.
    const ciClient = alice.withKey(created.json.key);
    expect((await ciClient.get("/api/streams")).status).toBe(200);
    expect((await alice.delete(`/api/keys/${created.json.apiKey.id}`)).status).toBe(204);
    expect((await ciClient.get("/api/streams")).status).toBe(401);
  });

  test("the stored key is a hash: the key text is nowhere in the database", async () => {
    const created = await alice.post("/api/keys", { name: "hash-check" });
    const [row] = await db.sql`select key_hash, prefix from api_keys where id = ${created.json.apiKey.id}`;
    expect(row?.key_hash).toBe(new Bun.CryptoHasher("sha256").update(created.json.key).digest("hex"));
    const [found] = await db.sql`
      select count(*)::int as n from api_keys where key_hash = ${created.json.key} or prefix = ${created.json.key}`;
    expect(found?.n).toBe(0);
  });
});

describe("streams", () => {
  test("create: 201 with the stream and its secret, shown once; the secret is sealed at rest", async () => {
    const res = await alice.post("/api/streams", validStream());
    expect(res.status).toBe(201);
    expect(res.json.secret).toMatch(/^whsec_/);
    expect(res.json.stream).toMatchObject({
      name: "transfers",
      network: "mainnet",
      status: "active",
      confirmations: 0,
    });
    expect(res.json.stream.filters).toEqual([{ type: "stx_transfer", recipient: RECIPIENT, minAmount: "1000000" }]);
    expect(res.json.stream.options).toEqual({
      includeFailed: false,
      decodeClarityValues: true,
      includeRawTx: false,
      includeBlockMetadata: false,
    });
    const get = await alice.get(`/api/streams/${res.json.stream.id}`);
    expect(get.status).toBe(200);
    expect(JSON.stringify(get.json)).not.toContain(res.json.secret);
    expect(get.json.stats).toMatchObject({ pending: 0, delivered: 0, lagBlocks: 0 });
    const [row] = await db.sql`select secret_enc from streams where id = ${res.json.stream.id}`;
    expect(row?.secret_enc).not.toContain(res.json.secret.slice(6));
  });

  test("invalid input: 400 with the path of every problem", async () => {
    const res = await alice.post("/api/streams", {
      name: "",
      webhookUrl: "http://127.0.0.1:1/x",
      filters: [{ type: "stx_transfer", minAmount: "-1" }, { type: "nope" }, { type: "ft_mint", sender: RECIPIENT }],
      options: { includeFailed: "yes" },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_FAILED");
    const paths = res.json.error.details.map((d: any) => d.path);
    expect(paths).toContain("name");
    const deep = await alice.post("/api/streams", {
      name: "x",
      webhookUrl: "http://10.0.0.1/x",
      filters: [{ type: "stx_transfer", minAmount: "-1" }, { type: "nope" }, { type: "ft_mint", sender: RECIPIENT }],
      options: { includeFailed: "yes" },
    });
    expect(deep.status).toBe(400);
    const deepPaths = deep.json.error.details.map((d: any) => d.path);
    expect(deepPaths).toEqual(
      expect.arrayContaining([
        "filters.0.minAmount",
        "filters.1.type",
        "filters.2.sender",
        "options.includeFailed",
        "webhookUrl",
      ]),
    );
    // A testnet address on a mainnet stream names the field and the network.
    const wrongNet = await alice.post("/api/streams", {
      ...validStream("wrong-net"),
      filters: [{ type: "stx_transfer", recipient: "ST3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF07ZG6V7S" }],
    });
    expect(wrongNet.status).toBe(400);
    expect(wrongNet.json.error.details[0].path).toBe("filters.0.recipient");
    // Malformed JSON: 400 too.
    const bad = await alice.request("POST", "/api/streams", "{not json", { "content-type": "application/json" });
    expect(bad.status).toBe(400);
  });

  test("another account's stream answers 404, exactly like an unknown one", async () => {
    const mine = (await alice.post("/api/streams", validStream("private"))).json.stream.id;
    const unknown = crypto.randomUUID();
    for (const id of [mine, unknown]) {
      for (const [method, path, body] of [
        ["GET", `/api/streams/${id}`],
        ["PATCH", `/api/streams/${id}`, { name: "x" }],
        ["DELETE", `/api/streams/${id}`],
        ["POST", `/api/streams/${id}/pause`, {}],
        ["POST", `/api/streams/${id}/rotate-secret`, {}],
        ["POST", `/api/streams/${id}/redeliver`, {}],
        ["POST", `/api/streams/${id}/replay`, { fromBlock: 1, toBlock: 2 }],
        ["GET", `/api/streams/${id}/deliveries`],
      ] as const) {
        const res = await bob.request(method, path, body);
        expect(res.status).toBe(404);
        expect(res.json.error.code).toBe("NOT_FOUND");
      }
    }
    expect((await bob.get("/api/streams")).json.streams.map((s: any) => s.id)).not.toContain(mine);
  });

  test("list: cursor pagination and a status filter", async () => {
    const db2 = await createTestDatabase();
    const api = await startTestApi(db2);
    const client = api.client();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.post("/api/streams", validStream(`s${i}`))).json.stream.id);
    await client.post(`/api/streams/${ids[1]}/pause`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await client.get(`/api/streams?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      expect(page.json.streams.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.streams.map((s: any) => s.id));
      cursor = page.json.next;
    } while (cursor);
    expect(seen).toEqual(ids);
    const paused = await client.get("/api/streams?status=paused");
    expect(paused.json.streams.map((s: any) => s.id)).toEqual([ids[1]]);
    expect((await client.get("/api/streams?limit=0")).status).toBe(400);
  });

  test("update, actions and their conflicts, delete", async () => {
    const id = (await alice.post("/api/streams", validStream("lifecycle"))).json.stream.id;
    const patched = await alice.patch(`/api/streams/${id}`, { name: "renamed", confirmations: 3, endBlock: 100 });
    expect(patched.json).toMatchObject({ name: "renamed", confirmations: 3, endBlock: 100 });
    expect((await alice.patch(`/api/streams/${id}`, { filters: [] })).status).toBe(400);
    expect((await alice.patch(`/api/streams/${id}`, { network: "testnet" })).status).toBe(400);
    expect((await alice.post(`/api/streams/${id}/resume`)).status).toBe(409);
    expect((await alice.post(`/api/streams/${id}/pause`)).json.status).toBe("paused");
    expect((await alice.post(`/api/streams/${id}/resume`)).json.status).toBe("active");
    expect((await alice.post(`/api/streams/${id}/disable`)).json.status).toBe("disabled");
    expect((await alice.post(`/api/streams/${id}/enable`)).json.status).toBe("active");
    expect((await alice.post(`/api/streams/${id}/replay`, { fromBlock: 5, toBlock: 1 })).status).toBe(400);
    expect((await alice.post(`/api/streams/${id}/replay`, { fromBlock: 1, toBlock: 5 })).status).toBe(202);
    expect((await alice.post(`/api/streams/${id}/redeliver`)).json).toEqual({ redelivered: 0 });
    expect((await alice.delete(`/api/streams/${id}`)).status).toBe(204);
    expect((await alice.get(`/api/streams/${id}`)).status).toBe(404);
  });

  test("rotate-secret returns a new secret; the test delivery is signed with both during the grace period", async () => {
    const created = await alice.post("/api/streams", validStream("rotating"));
    const id = created.json.stream.id;
    const rotated = await alice.post(`/api/streams/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).not.toBe(created.json.secret);
    // A receiver that still knows only the old secret verifies; one that knows only the new does too.
    for (const secret of [created.json.secret, rotated.json.secret]) {
      receiver.setSecret("rotating", secret);
      const test = await alice.post(`/api/streams/${id}/test`);
      expect(test.json).toMatchObject({ ok: true, status: 200 });
      const last = receiver.at("rotating").at(-1);
      expect(last?.signatureValid).toBe(true);
      expect(last?.body.type).toBe("stream.test");
      expect(last?.id).toBe(test.json.webhookId);
    }
    const sigs = receiver.at("rotating").at(-1);
    expect(sigs).toBeDefined();
  });
});

describe("limits and errors", () => {
  test("rate limit: RateLimit-* headers, then 429 with Retry-After", async () => {
    const db2 = await createTestDatabase();
    const api = await startTestApi(db2, { API_RATE_LIMIT: "3", API_RATE_LIMIT_WINDOW_SECONDS: "60" });
    const client = api.client();
    const first = await client.get("/api/streams");
    expect(first.headers.get("ratelimit-limit")).toBe("3");
    expect(first.headers.get("ratelimit-remaining")).toBe("2");
    await client.get("/api/streams");
    await client.get("/api/streams");
    const limited = await client.get("/api/streams");
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe("RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Per key: another key is not limited by this one's requests.
    const other = await client.post("/api/keys", { name: "other" });
    expect(other.status).toBe(429);
  });

  test("body over API_MAX_BODY_BYTES: 413", async () => {
    const db2 = await createTestDatabase();
    const api = await startTestApi(db2, { API_MAX_BODY_BYTES: "200" });
    const res = await api.client().post("/api/streams", { ...validStream("big"), name: "x".repeat(500) });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe("BODY_TOO_LARGE");
  });

  test("unknown routes: 404 in the error shape; the OpenAPI document is served", async () => {
    const res = await alice.get("/api/nope");
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: { code: "NOT_FOUND", message: "no route for GET /api/nope" } });
    const doc: any = await (await fetch(`${alice.base}/openapi.json`)).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/api/streams/{id}/deliveries/{deliveryId}");
  });
});
