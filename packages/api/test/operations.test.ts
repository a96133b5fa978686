import { describe, expect, test } from "bun:test";
import { startApi } from "@second-layer/api/start";
import { loadConfig } from "@second-layer/shared/config";
import { connect } from "@second-layer/shared/db/connect";
import { createLogger } from "@second-layer/shared/logger";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { Validator } from "@seriousme/openapi-schema-validator";
import { startTestApi } from "../../../test/support/api.ts";
import { onCleanup } from "../../../test/support/cleanup.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { blocksOf, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { WebhookReceiver } from "../../../test/support/webhook-receiver.ts";
import { startTestWorker, workerEnv } from "../../../test/support/worker.ts";

describe("operations", () => {
  test("the OpenAPI document is a valid OpenAPI 3.1 document, and /docs renders it", async () => {
    const db = await createTestDatabase();
    const api = await startTestApi(db);
    const doc = await (await fetch(`${api.url}/openapi.json`)).json();
    const result = await new Validator().validate(doc as any);
    expect(result.errors ?? null).toBeNull();
    expect(result.valid).toBe(true);
    // Every /api route declares the bearer scheme and its error answers.
    for (const [path, ops] of Object.entries<any>((doc as any).paths)) {
      if (!path.startsWith("/api/")) continue;
      for (const op of Object.values<any>(ops)) {
        expect(op.security, path).toEqual([{ bearer: [] }]);
        expect(Object.keys(op.responses), path).toEqual(expect.arrayContaining(["401", "429"]));
      }
    }
    const html = await fetch(`${api.url}/docs`);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain("/openapi.json");
  });

  test("/health and /ready; /ready is 503 while a migration is pending", async () => {
    const db = await createTestDatabase();
    const api = await startTestApi(db);
    const client = api.client(null);
    expect((await client.get("/health")).json).toEqual({ status: "ok" });
    expect((await client.get("/ready")).json).toEqual({ status: "ready" });
    const [last] = await db.sql`select name from schema_migrations order by name desc limit 1`;
    await db.sql`delete from schema_migrations where name = ${last?.name}`;
    const notReady = await client.get("/ready");
    expect(notReady.status).toBe(503);
    expect(notReady.json.error.code).toBe("MIGRATIONS_PENDING");
    expect(notReady.json.error.message).toContain(last?.name);
  });

  test("/ready and /status answer 503 without driver text when the database cannot be reached", async () => {
    // A database nobody listens on: connection refused, as when Postgres is down.
    const unreachable = connect("postgres://postgres@127.0.0.1:1/none", { connectTimeout: 1 });
    const config = loadConfig({ ...workerEnv(), HOST: "127.0.0.1", PORT: "0", STATUS_CACHE_SECONDS: "0" });
    const api = await startApi({ config, db: unreachable, log: createLogger("api-test", "silent") });
    onCleanup(async () => {
      await api.stop();
      await unreachable.close();
    });
    for (const path of ["/ready", "/status"]) {
      const res = await fetch(`${api.url}${path}`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as any;
      expect(body.error.code).toBe("DATABASE_UNAVAILABLE");
      expect(body.error.message).not.toMatch(/ECONN|127\.0\.0\.1|:1\b|refused/i);
    }
    // Liveness does not depend on the database.
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
  });

  test("/status and /metrics report the chain, the streams and the deliveries from the database", async () => {
    const db = await createTestDatabase();
    const indexer = await startTestIndexer(db);
    await startTestWorker(db);
    const api = await startTestApi(db, { STATUS_CACHE_SECONDS: "0" });
    const client = api.client();
    const receiver = new WebhookReceiver();
    const created = await client.post("/api/streams", {
      name: "blocks",
      webhookUrl: receiver.url("blocks"),
      filters: [{ type: "block" }],
    });
    receiver.setSecret("blocks", created.json.secret);
    const paused = await client.post("/api/streams", {
      name: "paused",
      webhookUrl: receiver.url("paused"),
      filters: [{ type: "block" }],
    });
    await client.post(`/api/streams/${paused.json.stream.id}/pause`);

    const rows = fixture("mainnet-reorg-scenario2.tsv");
    await replayEventLog(rows, { to: indexer.url, maxAttempts: 1 });
    const tip = blocksOf(rows).reduce((a, b) => (b.block_height > a.block_height ? b : a));
    await receiver.waitFor(
      () => receiver.acknowledged("blocks").some((r) => r.body.block.indexBlockHash === tip.index_block_hash),
      20_000,
      "the tip's delivery",
    );
    await Bun.sleep(300);

    const status = await client.get("/status");
    expect(status.status).toBe(200);
    const [log] = await db.sql`select log_seq::int from chain_state`;
    const [pending] = await db.sql`select count(*)::int as n from deliveries where status = 'pending'`;
    const [sent] = await db.sql`select count(*)::int as n from delivery_attempts where status_code = 200`;
    expect(status.json).toMatchObject({
      network: "mainnet",
      chainTip: { height: tip.block_height, indexBlockHash: tip.index_block_hash },
      integrity: "healthy",
      gaps: [],
      totalMissingBlocks: 0,
      chainLog: { seq: log?.log_seq },
      streams: { active: 1, paused: 1, failed: 0, disabled: 0 },
      queue: { pending: pending?.n, failed: 0 },
      deliveries24h: { sent: sent?.n, failed: 0 },
      lag: { chainLogEntries: 0, blocks: 0 },
    });
    expect(pending?.n).toBeGreaterThan(0); // the paused stream's deliveries wait

    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toContain(`second_layer_chain_tip_height{network="mainnet"} ${tip.block_height}`);
    expect(metrics).toContain(`second_layer_streams{network="mainnet",status="paused"} 1`);
    expect(metrics).toContain(`second_layer_deliveries{network="mainnet",state="pending"} ${pending?.n}`);
    expect(metrics).toContain(`second_layer_stream_lag_blocks{stream_id="${paused.json.stream.id}",network="mainnet"}`);
    // Requests are labelled by route pattern, never by raw ids.
    expect(metrics).toMatch(
      /second_layer_api_requests_total\{method="POST",route="\/api\/streams\/:id\/pause",status="200"\} 1/,
    );
    expect(metrics).not.toContain(paused.json.stream.id.concat("/pause"));
  });
});
