import { beforeAll, describe, expect, test } from "bun:test";
import { type ApiClient, startTestApi } from "../../../test/support/api.ts";
import { chainhookPredicate } from "../../../test/support/chainhook.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { WebhookReceiver } from "../../../test/support/webhook-receiver.ts";

// POST /api/streams/import/chainhook over real Postgres and a real API server; every answer is checked
// against the OpenAPI document by ApiClient.

const POOL = "SP3K8BC0PPEVCV7NZ6QSRWPQ2JE9E5B6N3PA0KBR9.fixed-weight-pool-v1-01";
const TESTNET_BOOT = "ST000000000000000000002AMW42H";
const ROUTE = "/api/streams/import/chainhook";
const SECRET_HEADER = "Bearer cn389ncoiwuencr";

let db: TestDatabase;
let alice: ApiClient;
let receiver: WebhookReceiver;

beforeAll(async () => {
  db = await createTestDatabase();
  const api = await startTestApi(db);
  receiver = new WebhookReceiver();
  const account = await api.client().post("/api/accounts", { name: "alice" });
  alice = api.client(account.json.key);
});

/** The print_event example of Chainhook's docs, on a contract of the recordings. */
function printPredicate(
  overrides: { url?: string; network?: string; spec?: Record<string, unknown>; ifThis?: unknown } = {},
) {
  return chainhookPredicate({
    network: overrides.network,
    ifThis: (overrides.ifThis as Record<string, unknown>) ?? {
      scope: "print_event",
      contract_identifier: POOL,
      contains: "swap-y-for-x",
    },
    url: overrides.url ?? receiver.url("vaults"),
    spec: { start_block: 10200, ...overrides.spec },
  });
}

describe("POST /api/streams/import/chainhook", () => {
  test("201: the equivalent stream, its secret once, where it came from and how it differs", async () => {
    const res = await alice.post(ROUTE, printPredicate({ spec: { decode_clarity_values: true } }));
    expect(res.status).toBe(201);
    expect(res.json.secret).toMatch(/^whsec_/);
    expect(res.json.translatedFrom).toEqual({ uuid: "1", name: "Lorem ipsum" });
    expect(res.json.stream).toMatchObject({
      name: "Lorem ipsum",
      network: "mainnet",
      webhookUrl: receiver.url("vaults"),
      status: "active",
      startBlock: 10200,
      endBlock: null,
      filters: [{ type: "print_event", topic: "print", contractId: POOL, contains: "swap-y-for-x" }],
      options: { includeFailed: true, decodeClarityValues: true, includeRawTx: false, includeBlockMetadata: false },
    });
    expect(res.json.notes.length).toBeGreaterThan(0);
    // It is an ordinary stream of the caller's account from now on.
    const got = await alice.get(`/api/streams/${res.json.stream.id}`);
    expect(got.status).toBe(200);
    expect(got.json.filters).toEqual(res.json.stream.filters);
    expect(JSON.stringify(got.json)).not.toContain(res.json.secret);
  });

  test("?name= names the stream; a name the store refuses points at where it came from", async () => {
    const named = await alice.post(`${ROUTE}?name=swaps`, printPredicate());
    expect(named.status).toBe(201);
    expect(named.json.stream.name).toBe("swaps");
    expect(named.json.translatedFrom.name).toBe("Lorem ipsum");
    const long = await alice.post(ROUTE, { ...printPredicate(), name: "x".repeat(201) });
    expect(long.status).toBe(400);
    expect(long.json.error.details.map((d: any) => d.path)).toEqual(["name"]);
  });

  test("400 UNTRANSLATABLE_PREDICATE names every part that cannot be carried over", async () => {
    const predicate = printPredicate({
      ifThis: { scope: "print_event", contract_identifier: POOL, matches_regex: "(?:^|\\W)vault(?:$|\\W)" },
      spec: { expire_after_occurrence: 5 },
    });
    predicate.networks.mainnet.then_that.http_post.authorization_header = SECRET_HEADER;
    const res = await alice.post(ROUTE, predicate);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("UNTRANSLATABLE_PREDICATE");
    expect(res.json.error.details.map((d: any) => d.path).sort()).toEqual(
      [
        "networks.mainnet.expire_after_occurrence",
        "networks.mainnet.if_this.matches_regex",
        "networks.mainnet.then_that.http_post.authorization_header",
      ].sort(),
    );
    // The authorization header is a secret: it is not echoed back.
    expect(JSON.stringify(res.json)).not.toContain(SECRET_HEADER);
  });

  test("an authorization_header is dropped only when asked, and is stored nowhere", async () => {
    const predicate = printPredicate();
    predicate.networks.mainnet.then_that.http_post.authorization_header = SECRET_HEADER;
    expect((await alice.post(ROUTE, predicate)).status).toBe(400);
    expect((await alice.post(`${ROUTE}?dropAuthorizationHeader=false`, predicate)).status).toBe(400);
    const res = await alice.post(`${ROUTE}?dropAuthorizationHeader=true`, predicate);
    expect(res.status).toBe(201);
    expect(res.json.notes.join("\n")).toContain("authorization_header was dropped");
    const [row] = await db.sql`select to_jsonb(s)::text as row from streams s where id = ${res.json.stream.id}`;
    expect(row?.row).not.toContain("cn389ncoiwuencr");
  });

  test("expire_after_occurrence is accepted only with ?ignoreExpireAfterOccurrence=true", async () => {
    const predicate = printPredicate({ spec: { expire_after_occurrence: 5 } });
    expect((await alice.post(ROUTE, predicate)).status).toBe(400);
    const res = await alice.post(`${ROUTE}?ignoreExpireAfterOccurrence=true`, predicate);
    expect(res.status).toBe(201);
    expect(res.json.notes.join("\n")).toContain("expire_after_occurrence (5) was ignored");
  });

  test("networks: another network than the deployment's needs ?network=, several need it too", async () => {
    const testnet = printPredicate({
      network: "testnet",
      ifThis: { scope: "contract_deployment", deployer: TESTNET_BOOT },
    });
    const refused = await alice.post(ROUTE, testnet);
    expect(refused.status).toBe(400);
    expect(refused.json.error.details[0].path).toBe("networks.testnet");
    const created = await alice.post(`${ROUTE}?network=testnet`, testnet);
    expect(created.status).toBe(201);
    expect(created.json.stream.network).toBe("testnet");
    expect(created.json.stream.filters).toEqual([{ type: "contract_deploy", deployer: TESTNET_BOOT }]);

    const both = printPredicate();
    both.networks.testnet = testnet.networks.testnet;
    expect((await alice.post(ROUTE, both)).json.error.details[0].path).toBe("networks");
    const chosen = await alice.post(`${ROUTE}?network=testnet`, both);
    expect(chosen.status).toBe(201);
    expect(chosen.json.notes.join("\n")).toContain("networks.mainnet was not imported");
    const badQuery = await alice.post(`${ROUTE}?network=simnet`, both);
    expect(badQuery.status).toBe(400);
    expect(badQuery.json.error.code).toBe("VALIDATION_FAILED");
  });

  test("the webhook URL passes the SSRF guard like any stream's; a refusal points at then_that", async () => {
    const res = await alice.post(ROUTE, printPredicate({ url: "http://10.0.0.1/hooks" }));
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([
      { path: "networks.mainnet.then_that.http_post.url", message: expect.stringContaining("10.0.0.1") },
    ]);
  });

  test("no key: 401; a body that is not a JSON object: 400", async () => {
    expect((await alice.withKey(null).post(ROUTE, printPredicate())).status).toBe(401);
    const notObject = await alice.post(ROUTE, [printPredicate()]);
    expect(notObject.status).toBe(400);
    const notJson = await alice.request("POST", ROUTE, "{nope", { "content-type": "application/json" });
    expect(notJson.status).toBe(400);
  });
});
