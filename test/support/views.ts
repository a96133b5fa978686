import { type Config, loadConfig } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import { createLogger } from "@second-layer/shared/logger";
import { type RunningViewProcessor, startViewProcessor } from "@second-layer/view-processor/start";
import { onCleanup } from "./cleanup.ts";

/** A real view processor in this process over a test database. */
export async function startTestViewProcessor(
  db: Db & { url: string },
  env: Record<string, string> = {},
): Promise<RunningViewProcessor & { config: Config }> {
  const config = loadConfig({
    STACKS_NETWORK: "mainnet",
    LOG_LEVEL: "silent",
    METRICS_PORT: "0",
    ...env,
    DATABASE_URL: db.url,
  });
  const running = await startViewProcessor({ config, db, log: createLogger("views-test", config.LOG_LEVEL) });
  onCleanup(() => running.stop());
  return { ...running, config };
}

/** Waits until a view's cursor reaches the chain log's head (or it stops with an error). */
export async function viewCaughtUp(
  sql: Db["sql"],
  name: string,
  timeoutMs = 30_000,
): Promise<{ status: string; statusReason: string | null }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await sql<{ status: string; status_reason: string | null; last_seq: string; head: string | null }[]>`
      select v.status, v.status_reason, v.last_seq, c.log_seq as head
      from views v left join chain_state c on c.network = v.network where v.name = ${name}`;
    if (row && (row.status !== "active" || row.last_seq === (row.head ?? "0"))) {
      return { status: row.status, statusReason: row.status_reason };
    }
    if (Date.now() > deadline) throw new Error(`view ${name} did not catch up within ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}

/** A view table's rows without the row id, sorted, for comparing two builds. */
export async function tableRows(sql: Db["sql"], schema: string, table: string): Promise<unknown[]> {
  const rows = await sql.unsafe(`select to_jsonb(t) - '_id' as r from "${schema}"."${table}" t`);
  return rows.map((r: any) => r.r).sort((a: any, b: any) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}
