import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startIndexer } from "@second-layer/indexer/start";
import { loadConfig } from "@second-layer/shared/config";
import { connect } from "@second-layer/shared/db/connect";
import { freePort, removeLocalPostgres, startLocalPostgres } from "@second-layer/shared/db/local-postgres";
import { migrate } from "@second-layer/shared/db/migrate";
import pino from "pino";
import { onCleanup } from "../../../test/support/cleanup.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { blocksOf, fixture } from "../../../test/support/fixtures.ts";
import { postJson } from "../../../test/support/indexer.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, tries = 200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function spawnIndexer(databaseUrl: string, port: number) {
  const proc = Bun.spawn(["bun", MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      STACKS_NETWORK: "mainnet",
      LOG_LEVEL: "warn",
    },
    stdout: "ignore",
    stderr: "ignore",
  });
  onCleanup(() => proc.kill("SIGKILL"));
  return proc;
}

describe("crash safety", () => {
  test("killing the indexer mid-block leaves nothing partial; the node's retry then stores it whole", async () => {
    const db = await createTestDatabase();
    const block = blocksOf(fixture("poisonmicroblock.tsv"))[0];
    // Hold the block's transaction open after its journal, block and transaction rows are written,
    // so the kill lands mid-block deterministically.
    await db.sql.unsafe(`
      create function slow_events() returns trigger language plpgsql as $$
      begin perform pg_sleep(2); return null; end $$;
      create trigger slow_events after insert on events for each statement execute function slow_events();`);
    const port = await freePort();
    const first = spawnIndexer(db.url, port);
    const url = `http://127.0.0.1:${port}`;
    await waitFor("indexer up", async () => (await fetch(`${url}/health`)).ok);

    const pending = fetch(`${url}/new_block`, { method: "POST", body: JSON.stringify(block) }).catch((e) => e);
    await waitFor("block transaction in flight", async () => {
      const [row] =
        await db.sql`select 1 from pg_stat_activity where wait_event = 'PgSleep' and datname = current_database()`;
      return row;
    });
    first.kill("SIGKILL");
    await first.exited;
    expect(await pending).toBeInstanceOf(Error);
    // Postgres rolls the transaction back once the dead client's backend notices.
    await waitFor("aborted transaction gone", async () => {
      const rows =
        await db.sql`select 1 from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'`;
      return rows.length === 0;
    });
    const [partial] = await db.sql`
      select (select count(*)::int from journal) as journal, (select count(*)::int from blocks) as blocks,
             (select count(*)::int from transactions) as txs, (select count(*)::int from events) as events,
             (select count(*)::int from graphile_worker._private_jobs) as jobs`;
    expect(partial).toEqual({ journal: 0, blocks: 0, txs: 0, events: 0, jobs: 0 });

    await db.sql.unsafe("drop trigger slow_events on events; drop function slow_events();");
    spawnIndexer(db.url, port);
    await waitFor("indexer restarted", async () => (await fetch(`${url}/health`)).ok);
    const retry = await postJson(`${url}/new_block`, block);
    expect(retry.status).toBe(200);
    expect(retry.json.ok).toBe(true);
    const [whole] = await db.sql`
      select (select count(*)::int from transactions) as txs, (select count(*)::int from events) as events,
             (select count(*)::int from graphile_worker._private_jobs) as jobs`;
    expect(whole).toEqual({ txs: block.transactions.length, events: block.events.length, jobs: 1 });
  });

  test("with Postgres down the indexer answers 503, and recovers by itself when it returns", async () => {
    // Durable settings: an immediate stop must not lose what was committed before it.
    const pg = await startLocalPostgres();
    onCleanup(() => removeLocalPostgres(pg));
    const admin = connect(pg.url, { max: 1 });
    await migrate(admin.sql, pg.url);
    await admin.close();
    const config = loadConfig({
      DATABASE_URL: pg.url,
      PORT: "0",
      STACKS_NETWORK: "mainnet",
      LOG_LEVEL: "silent",
    });
    const db = connect(pg.url, { connectTimeout: 2 });
    onCleanup(() => db.close());
    const lines: Record<string, any>[] = [];
    const log = pino({ level: "error" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const indexer = await startIndexer({ config, db, log });
    onCleanup(() => indexer.stop());
    const blocks = blocksOf(fixture("mocknet.tsv"));

    expect((await postJson(`${indexer.url}/new_block`, blocks[0])).status).toBe(200);
    pg.stop();
    // The signal only guards against a hang; the node's own timeout is 1 s.
    const down = await fetch(`${indexer.url}/new_block`, {
      method: "POST",
      body: JSON.stringify(blocks[1]),
      signal: AbortSignal.timeout(10_000),
    });
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ error: { code: "DATABASE_UNAVAILABLE", message: expect.any(String) } });
    // Reads answer a code and a short message; what the driver said stays in the server's log.
    for (const path of ["/health", "/health/integrity", "/journal/blocks?from=1&to=1"]) {
      const res = await fetch(`${indexer.url}${path}`, { signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(503);
      const { error } = (await res.json()) as any;
      expect(Object.keys(error)).toEqual(["code", "message"]);
      expect(error.code).toBe("DATABASE_UNAVAILABLE");
      expect(error.message).not.toContain(String(pg.port));
      expect(error.message).not.toMatch(/ECONN|CONNECT_|ENOENT|postgres/i);
    }
    const logged = lines.filter((l) => l.level >= 50 && l.err);
    expect(logged.length).toBeGreaterThanOrEqual(3);

    pg.start();
    // Like the node, retry until accepted: no restart of the indexer.
    const retried = await waitFor("indexer recovered", async () => {
      const res = await postJson(`${indexer.url}/new_block`, blocks[1]);
      return res.status === 200 ? res : null;
    });
    expect(retried.json.ok).toBe(true);
    const rows = await db.sql`select block_height from blocks order by block_height`;
    expect(rows.map((r: any) => r.block_height)).toEqual([blocks[0].block_height, blocks[1].block_height]);
    const [journal] = await db.sql`select count(*)::int as n from journal`;
    expect(journal?.n).toBe(2);
  });
});
