import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { createTestDatabase } from "../../../test/support/database.ts";

const MIGRATE = join(import.meta.dir, "../src/db/migrate-cli.ts");
const MIGRATIONS = readdirSync(join(import.meta.dir, "../src/db/migrations")).filter((f) => f.endsWith(".sql"));

test("`bun run migrate` is idempotent and safe when several processes start at once", async () => {
  const db = await createTestDatabase();
  await db.sql.unsafe("drop schema public cascade; create schema public; drop schema graphile_worker cascade;");
  const env = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: "silent" };
  const runs = await Promise.all(
    [1, 2, 3].map(async () => {
      const proc = Bun.spawn(["bun", MIGRATE], { env, stderr: "pipe" });
      return { code: await proc.exited, stderr: await new Response(proc.stderr).text() };
    }),
  );
  expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
  const applied = await db.sql`select name from schema_migrations order by name`;
  expect(applied.map((r: any) => r.name)).toEqual(MIGRATIONS.toSorted());
  const [tables] =
    await db.sql`select to_regclass('public.blocks')::text as blocks, to_regproc('graphile_worker.add_job')::text as job`;
  expect(tables).toEqual({ blocks: "blocks", job: "graphile_worker.add_job" });
});

test("`bun run migrate` without DATABASE_URL says what is missing", () => {
  const { DATABASE_URL: _omit, ...env } = process.env;
  const proc = Bun.spawnSync(["bun", MIGRATE], { env });
  expect(proc.exitCode).toBe(1);
  expect(proc.stderr.toString()).toContain("DATABASE_URL is required");
});
