import { connect, type Db } from "@second-layer/shared/db/connect";
import { onCleanup } from "./cleanup.ts";

export interface TestDatabase extends Db {
  url: string;
  name: string;
}

let counter = 0;

/** A fresh database cloned from the migrated template; dropped after the run. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.SL_TEST_ADMIN_URL;
  const template = process.env.SL_TEST_TEMPLATE_DB;
  if (!adminUrl || !template) throw new Error("test/preload.ts did not run (bunfig.toml preload)");
  const name = `sl_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = connect(adminUrl, { max: 1 });
  await admin.sql.unsafe(`create database ${name} template ${template}`);
  await admin.close();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = connect(url);
  onCleanup(async () => {
    await db.close();
    const a = connect(adminUrl, { max: 1 });
    await a.sql.unsafe(`drop database if exists ${name} with (force)`);
    await a.close();
  });
  return { ...db, url, name };
}
