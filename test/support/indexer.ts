import { type RunningIndexer, startIndexer } from "@second-layer/indexer/start";
import { type Config, loadConfig } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import { createLogger } from "@second-layer/shared/logger";
import { onCleanup } from "./cleanup.ts";

/** A real indexer HTTP server on 127.0.0.1 (random port) over the given test database. */
export async function startTestIndexer(
  db: Db & { url: string },
  env: Record<string, string> = {},
): Promise<RunningIndexer & { config: Config }> {
  const config = loadConfig({
    STACKS_NETWORK: "mainnet",
    LOG_LEVEL: "silent",
    ...env,
    DATABASE_URL: db.url,
    PORT: "0",
  });
  const indexer = await startIndexer({ config, db, log: createLogger("indexer-test", config.LOG_LEVEL) });
  onCleanup(() => indexer.stop());
  return { ...indexer, config };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

export async function getJson(url: string): Promise<any> {
  return await (await fetch(url)).json();
}
