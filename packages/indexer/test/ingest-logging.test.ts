import { expect, test } from "bun:test";
import { Ingestor, MAX_WARNED_PATHS } from "@second-layer/indexer/ingest/ingestor";
import pino from "pino";
import { createTestDatabase } from "../../../test/support/database.ts";
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
