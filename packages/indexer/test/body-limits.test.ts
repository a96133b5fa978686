import { describe, expect, test } from "bun:test";
import type { RunningIndexer } from "@second-layer/indexer/start";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";

/** A request body sent without Content-Length (chunked), in pieces the test hands over when it likes. */
function heldStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    body,
    send: (bytes: number) => controller.enqueue(new Uint8Array(bytes).fill(120)),
    end: () => controller.close(),
  };
}

/** A chunked body of `bytes` bytes, complete from the start. */
function chunked(bytes: number, chunk = 100): ReadableStream<Uint8Array> {
  let left = bytes;
  return new ReadableStream({
    pull(c) {
      if (left <= 0) return c.close();
      const n = Math.min(chunk, left);
      left -= n;
      c.enqueue(new Uint8Array(n).fill(120));
    },
  });
}

function post(indexer: RunningIndexer, body: ReadableStream<Uint8Array> | Uint8Array) {
  return fetch(`${indexer.url}/attachments/new`, { method: "POST", body });
}

async function journalSizes(db: TestDatabase): Promise<number[]> {
  const rows = await db.sql`select byte_size::int as size from journal order by id`;
  return rows.map((r: any) => r.size);
}

async function waitFor(what: string, probe: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (probe()) return;
    await Bun.sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("MAX_BODY_BYTES for chunked bodies", () => {
  test("a chunked body is cut off with 413 once it passes the limit; nothing is journaled", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db, { MAX_BODY_BYTES: "1000" });
    const res = await post(indexer, chunked(5000));
    expect(res.status).toBe(413);
    const json = (await res.json()) as any;
    expect(json.error.code).toBe("BODY_TOO_LARGE");
    expect(json.error.message).toContain("MAX_BODY_BYTES=1000");
    expect(await journalSizes(db)).toEqual([]);
    expect(indexer.inFlight.inUse).toBe(0);

    const fits = await post(indexer, chunked(1000));
    expect(fits.status).toBe(200);
    expect(await journalSizes(db)).toEqual([1000]);
  });
});

describe("MAX_INFLIGHT_BODY_BYTES", () => {
  test("while one body is held, a body that does not fit gets 503 BUSY with Retry-After; one that fits goes through", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db, { MAX_BODY_BYTES: "1000", MAX_INFLIGHT_BODY_BYTES: "1000" });

    // A slow sender: 600 bytes arrive, then nothing until the test says so.
    const slow = heldStream();
    const pending = post(indexer, slow.body);
    slow.send(600);
    await waitFor("the slow body's bytes to be counted", () => indexer.inFlight.inUse === 600);

    const declared = await post(indexer, new Uint8Array(600));
    expect(declared.status).toBe(503);
    expect(declared.headers.get("retry-after")).toBe("1");
    const busy = (await declared.json()) as any;
    expect(busy.error.code).toBe("BUSY");
    expect(busy.error.message).toContain("MAX_INFLIGHT_BODY_BYTES=1000");

    const streamed = await post(indexer, chunked(600));
    expect(streamed.status).toBe(503);
    expect(((await streamed.json()) as any).error.code).toBe("BUSY");

    const small = await post(indexer, new Uint8Array(300));
    expect(small.status).toBe(200);
    expect(await journalSizes(db)).toEqual([300]);

    slow.send(100);
    slow.end();
    expect((await pending).status).toBe(200);
    expect(indexer.inFlight.inUse).toBe(0);
    // The node's retry of the refused body now finds room.
    expect((await post(indexer, new Uint8Array(600))).status).toBe(200);
    expect(await journalSizes(db)).toEqual([300, 700, 600]);
  });
});
