import { describe, expect, test } from "bun:test";
import { clientAddress } from "@second-layer/indexer/http/observer-access";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { syntheticBlock } from "../../../test/support/synthetic-blocks.ts";

const block = syntheticBlock("a1", 1, "g");

async function post(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/new_block`, { method: "POST", headers, body: JSON.stringify(block) });
  return { status: res.status, json: (await res.json()) as any };
}

async function journaled(db: TestDatabase): Promise<number> {
  const [row] = await db.sql`select count(*)::int as n from journal`;
  return row?.n;
}

describe("OBSERVER_ALLOWED_IPS", () => {
  test("a POST from outside the list gets 403 FORBIDDEN_SOURCE before its body is read; nothing is journaled", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db, { OBSERVER_ALLOWED_IPS: "10.0.0.0/8,fc00::/7" });
    const refused = await post(indexer.url);
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe("FORBIDDEN_SOURCE");
    expect(refused.json.error.message).toContain("127.0.0.1");
    expect(refused.json.error.message).toContain("OBSERVER_ALLOWED_IPS");

    // A body that never ends is still answered: the refusal does not wait for it.
    const endless = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode('{"a":')) });
    const open = await fetch(`${indexer.url}/attachments/new`, { method: "POST", body: endless });
    expect(open.status).toBe(403);
    expect(await journaled(db)).toBe(0);
  });

  test("reads are served to a refused address and write nothing", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db, { OBSERVER_ALLOWED_IPS: "10.0.0.0/8" });
    const health = await fetch(`${indexer.url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as any).status).toBe("ok");
    const integrity = await fetch(`${indexer.url}/health/integrity`);
    expect(((await integrity.json()) as any).status).toBe("empty");
    const journal = await fetch(`${indexer.url}/journal/blocks?from=1&to=1`);
    expect(journal.status).toBe(200);
    expect(await journal.text()).toBe("");
    expect(await journaled(db)).toBe(0);
  });

  test("an address in the list is allowed, also given as a single host", async () => {
    for (const allowed of ["10.0.0.0/8,127.0.0.0/8", "127.0.0.1"]) {
      const db = await createTestDatabase();
      const indexer = await startTestIndexer(db, { OBSERVER_ALLOWED_IPS: allowed });
      const res = await post(indexer.url);
      expect(res.status).toBe(200);
      expect(res.json.ok).toBe(true);
      expect(await journaled(db)).toBe(1);
    }
  });

  test("by default loopback may POST", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db);
    expect((await post(indexer.url)).status).toBe(200);
  });
});

describe("TRUST_PROXY", () => {
  test("without it X-Forwarded-For is ignored: the socket's address decides", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db, { OBSERVER_ALLOWED_IPS: "10.0.0.0/8" });
    const res = await post(indexer.url, { "x-forwarded-for": "10.1.2.3" });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toContain("127.0.0.1");
    expect(await journaled(db)).toBe(0);
  });

  test("with one trusted hop the proxy's (rightmost) entry decides; a spoofed leftmost entry is ignored", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db, { OBSERVER_ALLOWED_IPS: "10.0.0.0/8", TRUST_PROXY: "true" });

    const outsider = await post(indexer.url, { "x-forwarded-for": "203.0.113.7" });
    expect(outsider.status).toBe(403);
    expect(outsider.json.error.message).toContain("203.0.113.7");
    expect(outsider.json.error.message).toContain("TRUST_PROXY=1");
    // The client claims to be 10.9.9.9; the proxy appended the address it really saw.
    const spoofed = await post(indexer.url, { "x-forwarded-for": "10.9.9.9, 203.0.113.7" });
    expect(spoofed.status).toBe(403);
    expect(spoofed.json.error.message).toContain("203.0.113.7");
    const garbage = await post(indexer.url, { "x-forwarded-for": "10.9.9.9, not-an-address" });
    expect(garbage.status).toBe(403);
    expect(await journaled(db)).toBe(0);

    const inside = await post(indexer.url, { "x-forwarded-for": "203.0.113.7, 10.1.2.3" });
    expect(inside.status).toBe(200);
    expect(await journaled(db)).toBe(1);
  });

  test("with two trusted hops the client is the second entry from the right", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db, { OBSERVER_ALLOWED_IPS: "10.0.0.0/8", TRUST_PROXY: "2" });
    expect((await post(indexer.url, { "x-forwarded-for": "10.1.2.3, 203.0.113.7" })).status).toBe(200);
    expect((await post(indexer.url, { "x-forwarded-for": "10.1.2.3, 203.0.113.7, 10.4.5.6" })).status).toBe(403);
    expect(await journaled(db)).toBe(1);
  });
});

describe("clientAddress", () => {
  test("counts trusted hops from the socket's peer leftwards through X-Forwarded-For", () => {
    expect(clientAddress("10.0.0.1", "1.1.1.1, 2.2.2.2", 0)).toBe("10.0.0.1");
    expect(clientAddress("10.0.0.1", "1.1.1.1, 2.2.2.2", 1)).toBe("2.2.2.2");
    expect(clientAddress("10.0.0.1", "1.1.1.1, 2.2.2.2", 2)).toBe("1.1.1.1");
    // Fewer entries than trusted hops: the leftmost one is as far as the proxies' word goes.
    expect(clientAddress("10.0.0.1", "1.1.1.1", 3)).toBe("1.1.1.1");
    // A request that reached the indexer without passing a proxy has no header: its peer decides.
    expect(clientAddress("10.0.0.1", undefined, 1)).toBe("10.0.0.1");
  });
});
