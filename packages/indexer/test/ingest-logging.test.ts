import { expect, test } from "bun:test";
import { Ingestor, MAX_WARNED_PATHS } from "@second-layer/indexer/ingest/ingestor";
import { startIndexer } from "@second-layer/indexer/start";
import { loadConfig } from "@second-layer/shared/config";
import pino from "pino";
import { onCleanup } from "../../../test/support/cleanup.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { fixture } from "../../../test/support/fixtures.ts";
import { hashOf, syntheticBlock } from "../../../test/support/synthetic-blocks.ts";

test("logs: one warning per unknown path, an info line per block with its height", async () => {
  const db = await createTestDatabase();
  const lines: Record<string, any>[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const ingestor = new Ingestor(db, "mainnet", log);
  const body = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  await ingestor.ingest("/future_event", body({ a: 1 }));
  await ingestor.ingest("/future_event", body({ a: 2 }));
  await ingestor.ingest("/other_event", body({ a: 3 }));
  await ingestor.ingest("/new_block", body(syntheticBlock("a1", 1, "g")));

  const warnings = lines.filter((l) => l.level === 40);
  expect(warnings.map((w) => w.path)).toEqual(["/future_event", "/other_event"]);
  const block = lines.find((l) => l.msg === "ingested" && l.path === "/new_block");
  expect(block).toMatchObject({ level: 30, height: 1, indexBlockHash: hashOf("a1"), canonical: true });
  const [journal] = await db.sql`select count(*)::int as n from journal`;
  expect(journal?.n).toBe(4);
});

test("the unknown-path warning remembers at most MAX_WARNED_PATHS paths, forgetting the oldest", async () => {
  const db = await createTestDatabase();
  const warned: string[] = [];
  const log = pino({ level: "warn" }, { write: (line: string) => warned.push(JSON.parse(line).path) });
  const ingestor = new Ingestor(db, "mainnet", log);
  const body = new TextEncoder().encode("{}");
  const paths = Array.from({ length: MAX_WARNED_PATHS + 1 }, (_, i) => `/future_${i}`);
  for (const path of paths) await ingestor.ingest(path, body);
  expect(warned).toEqual(paths);
  // The newest are still remembered; the first was forgotten to make room, so it is warned about again.
  await ingestor.ingest(paths[MAX_WARNED_PATHS]!, body);
  await ingestor.ingest(paths[1]!, body);
  expect(warned.length).toBe(paths.length);
  await ingestor.ingest(paths[0]!, body);
  expect(warned.slice(paths.length)).toEqual([paths[0]!]);
});

test("blocks of another network than STACKS_NETWORK are warned about, once, on ingest and at start-up", async () => {
  const db = await createTestDatabase();
  const lines: Record<string, any>[] = [];
  const log = pino({ level: "warn" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  // mocknet.tsv is a testnet recording; this indexer is set to mainnet.
  const ingestor = new Ingestor(db, "mainnet", log);
  const rows = fixture("mocknet.tsv").filter((r) => r.path === "/new_block");
  for (const row of rows) await ingestor.ingest(row.path, new TextEncoder().encode(row.payload));
  const warnings = lines.filter((l) => l.msg.includes("not a mainnet address"));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]?.address).toMatch(/^S[TN]/);
  // The same database on a testnet indexer: not a word.
  const quiet: Record<string, any>[] = [];
  const testnet = new Ingestor(
    db,
    "testnet",
    pino({ level: "warn" }, { write: (l: string) => quiet.push(JSON.parse(l)) }),
  );
  await testnet.ingest(rows[0]!.path, new TextEncoder().encode(rows[0]!.payload));
  expect(quiet.filter((l) => l.msg.includes("not a"))).toEqual([]);
  // A mainnet indexer started over the stored chain says it at start-up, from the tip's transactions.
  const startLines: Record<string, any>[] = [];
  const config = loadConfig({ STACKS_NETWORK: "mainnet", DATABASE_URL: db.url, PORT: "0", LOG_LEVEL: "warn" });
  const indexer = await startIndexer({
    config,
    db,
    log: pino({ level: "warn" }, { write: (l: string) => startLines.push(JSON.parse(l)) }),
  });
  onCleanup(() => indexer.stop());
  expect(startLines.filter((l) => l.msg.includes("not a mainnet address"))).toHaveLength(1);
});
