// Loaded once before any test file (see bunfig.toml). Provides a real Postgres: the one named by
// DATABASE_URL, or a throwaway cluster started from the machine's binaries. Migrations are applied
// once to a template database; each test file clones it (see test/support/database.ts).
import { afterAll } from "bun:test";
import { connect } from "@second-layer/shared/db/connect";
import { removeLocalPostgres, startLocalPostgres } from "@second-layer/shared/db/local-postgres";
import { migrate } from "@second-layer/shared/db/migrate";
import { runCleanup } from "./support/cleanup.ts";

const TEMPLATE = `sl_template_${process.pid}`;

let adminUrl = process.env.DATABASE_URL;
const local = adminUrl ? undefined : await startLocalPostgres({ fast: true });
adminUrl ??= local?.url;
if (!adminUrl) throw new Error("no database");

const admin = connect(adminUrl, { max: 1 });
await admin.sql.unsafe(`drop database if exists ${TEMPLATE}`);
await admin.sql.unsafe(`create database ${TEMPLATE}`);
const templateUrl = withDatabase(adminUrl, TEMPLATE);
const templ = connect(templateUrl, { max: 1 });
await migrate(templ.sql, templateUrl);
await templ.close();
await admin.close();

process.env.SL_TEST_ADMIN_URL = adminUrl;
process.env.SL_TEST_TEMPLATE_DB = TEMPLATE;
process.env.LOG_LEVEL ??= "silent";
delete process.env.DATABASE_URL;

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

afterAll(async () => {
  await runCleanup();
  if (local) removeLocalPostgres(local);
});
process.on("exit", () => {
  if (local) removeLocalPostgres(local);
});
