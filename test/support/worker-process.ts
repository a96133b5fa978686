import { join } from "node:path";
import { freePort } from "@second-layer/shared/db/local-postgres";
import type { Subprocess } from "bun";
import { onCleanup } from "./cleanup.ts";
import { workerEnv } from "./worker.ts";

const MAIN = join(import.meta.dir, "../../packages/worker/src/main.ts");

export interface WorkerProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Its /health and /metrics port. */
  port: number;
  /** SIGKILL: no shutdown, no lease given back; resolves when the process is gone. */
  kill(): Promise<void>;
  /** Waits until its log (stdout; set LOG_LEVEL to have one) has a line containing `text`. */
  logged(text: string, timeoutMs?: number): Promise<void>;
}

/**
 * `bun packages/worker/src/main.ts` as its own process over the test database, with the worker test
 * settings; resolves once its /health answers. Killed at the end of the run if still alive.
 */
export async function spawnWorker(databaseUrl: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, MAIN], {
    env: { ...process.env, ...workerEnv({ METRICS_PORT: String(port), ...env }), DATABASE_URL: databaseUrl },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  // Read as it comes, so a chatty log never fills the pipe and blocks the worker.
  let log = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of proc.stdout) log += decoder.decode(chunk, { stream: true });
  })();
  const logged = async (text: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!log.includes(text)) {
      if (Date.now() > deadline)
        throw new Error(`the worker did not log ${JSON.stringify(text)} within ${timeoutMs} ms`);
      await Bun.sleep(20);
    }
  };
  const kill = async () => {
    proc.kill("SIGKILL");
    await proc.exited;
  };
  onCleanup(kill);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) {
      throw new Error(`worker process exited with ${proc.exitCode}: ${await new Response(proc.stderr).text()}`);
    }
    const up = await fetch(`http://127.0.0.1:${port}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (up) return { proc, port, kill, logged };
    if (Date.now() > deadline) throw new Error("worker process did not answer /health within 20 s");
    await Bun.sleep(50);
  }
}
