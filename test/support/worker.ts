import type { StacksNetwork } from "@second-layer/shared/config";
import { type Config, loadConfig } from "@second-layer/shared/config";
import type { Db } from "@second-layer/shared/db/connect";
import { createLogger } from "@second-layer/shared/logger";
import { SecretsBox } from "@second-layer/shared/secrets-box";
import { createStream, type StreamContext } from "@second-layer/shared/streams/store";
import { parseAllowedHosts } from "@second-layer/shared/webhooks/url-guard";
import { type RunningWorker, startWorker } from "@second-layer/worker/start";
import { onCleanup } from "./cleanup.ts";

/** A fixed key for tests: 32 bytes, base64. */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString("base64");

/** Settings for worker tests: receivers on 127.0.0.1 are allowed, retries come fast. */
export function workerEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    STACKS_NETWORK: "mainnet",
    LOG_LEVEL: "silent",
    SECRETS_KEY: TEST_SECRETS_KEY,
    WEBHOOK_ALLOWED_PRIVATE_HOSTS: "127.0.0.1,localhost",
    WEBHOOK_RETRY_SCHEDULE: "100ms,200ms,300ms,400ms,500ms",
    WEBHOOK_TIMEOUT_SECONDS: "5",
    METRICS_PORT: "0",
    ...env,
  };
}

/** A real worker (matchers, senders, graphile-worker, /health) in this process, over a test database. */
export async function startTestWorker(
  db: Db & { url: string },
  env: Record<string, string> = {},
): Promise<RunningWorker & { config: Config }> {
  const config = loadConfig({ ...workerEnv(env), DATABASE_URL: db.url });
  const worker = await startWorker({ config, db, log: createLogger("worker-test", config.LOG_LEVEL) });
  onCleanup(() => worker.stop());
  return { ...worker, config };
}

export function streamContext(network: StacksNetwork = "mainnet"): StreamContext {
  return {
    secrets: new SecretsBox(TEST_SECRETS_KEY),
    defaultNetwork: network,
    allowedPrivateHosts: parseAllowedHosts("127.0.0.1,localhost"),
  };
}

/** An account to own test streams. */
export async function createAccount(sql: Db["sql"], name = "test"): Promise<string> {
  const [row] = await sql<{ id: string }[]>`insert into accounts (name) values (${name}) returning id`;
  return row?.id as string;
}

/** Creates a stream through the shared store, as the API does. */
export async function testStream(
  sql: Db["sql"],
  accountId: string,
  input: Record<string, unknown>,
  network: StacksNetwork = "mainnet",
) {
  return await createStream(sql, accountId, { name: "test stream", ...input }, streamContext(network));
}
