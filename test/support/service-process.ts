import { join } from "node:path";
import { freePort } from "@second-layer/shared/db/local-postgres";
import type { Subprocess } from "bun";
import { onCleanup } from "./cleanup.ts";
import { workerEnv } from "./worker.ts";

const WORKER_MAIN = join(import.meta.dir, "../../packages/worker/src/main.ts");
const VIEW_PROCESSOR_MAIN = join(import.meta.dir, "../../packages/view-processor/src/main.ts");

export interface ServiceProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Its /health and /metrics port. */
  port: number;
  /** SIGKILL: no shutdown, nothing given back; resolves when the process is gone. */
  kill(): Promise<void>;
  /** Waits until its log (stdout; set LOG_LEVEL to have one) has a line containing `text`. */
  logged(text: string, timeoutMs?: number): Promise<void>;
  /** Its /metrics, in the Prometheus text format. */
  metrics(): Promise<string>;
}

/**
 * `bun MAIN` as its own process over the test database, with /health and /metrics on a free port;
 * resolves once its /health answers. Killed at the end of the run if still alive.
 */
async function spawnService(what: string, main: string, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, main], {
    env: { ...process.env, ...env, METRICS_PORT: String(port) },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  // Read as it comes, so a chatty log never fills the pipe and blocks the process.
  let log = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of proc.stdout) log += decoder.decode(chunk, { stream: true });
  })();
  const logged = async (text: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!log.includes(text)) {
      if (Date.now() > deadline)
        throw new Error(`the ${what} did not log ${JSON.stringify(text)} within ${timeoutMs} ms`);
      await Bun.sleep(20);
    }
  };
  const kill = async () => {
    proc.kill("SIGKILL");
    await proc.exited;
  };
  const metrics = async () => await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  onCleanup(kill);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) {
      throw new Error(`${what} process exited with ${proc.exitCode}: ${await new Response(proc.stderr).text()}`);
    }
    const up = await fetch(`http://127.0.0.1:${port}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (up) return { proc, port, kill, logged, metrics };
    if (Date.now() > deadline) throw new Error(`${what} process did not answer /health within 20 s`);
    await Bun.sleep(50);
  }
}

/** `bun packages/worker/src/main.ts` with the worker test settings. */
export async function spawnWorker(databaseUrl: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  return await spawnService("worker", WORKER_MAIN, { ...workerEnv(env), DATABASE_URL: databaseUrl });
}

/** `bun packages/view-processor/src/main.ts` on mainnet, logging nothing unless LOG_LEVEL says so. */
export async function spawnViewProcessor(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  return await spawnService("view processor", VIEW_PROCESSOR_MAIN, {
    STACKS_NETWORK: "mainnet",
    LOG_LEVEL: "silent",
    ...env,
    DATABASE_URL: databaseUrl,
  });
}
