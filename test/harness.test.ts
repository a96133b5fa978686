import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createTestDatabase } from "./support/database.ts";
import { ALL_FIXTURES, FIXTURES_DIR } from "./support/fixtures.ts";

test("each test file gets its own migrated database", async () => {
  const a = await createTestDatabase();
  const b = await createTestDatabase();
  expect(a.name).not.toBe(b.name);
  await a.sql`insert into chain_state (network) values ('mainnet')`;
  const [rowsA] = await a.sql`select count(*)::int as n from chain_state`;
  const [rowsB] = await b.sql`select count(*)::int as n from chain_state`;
  expect(rowsA?.n).toBe(1);
  expect(rowsB?.n).toBe(0);
  const [job] = await a.sql`select to_regproc('graphile_worker.add_job')::text as f`;
  expect(job?.f).toBe("graphile_worker.add_job");
});

test("every recorded node log in the repository is replayed by the fixture tests and described in its README", () => {
  const files = readdirSync(FIXTURES_DIR).filter((f) => f.endsWith(".tsv"));
  expect(files.toSorted()).toEqual(ALL_FIXTURES.toSorted());
  const readme = readFileSync(join(FIXTURES_DIR, "README.md"), "utf8");
  for (const file of files) expect(readme).toContain(`- \`${file}\`:`);
});
