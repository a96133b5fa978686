import { expect, test } from "bun:test";
import { createTestDatabase } from "./support/database.ts";

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
