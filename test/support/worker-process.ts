import { join } from "node:path";
import { freePort } from "@second-layer/shared/db/local-postgres";
import type { Subprocess } from "bun";
import { onCleanup } from "./cleanup.ts";
import { workerEnv } from "./worker.ts";

const MAIN = join(import.meta.dir, "../../packages/worker/src/main.ts");

export interface WorkerProcess {
  proc: Subprocess<"ignore", "ignore", "pipe">;
  /** Its /health and /metrics port. */
  port: number;
  /** SIGKILL: no shutdown, no lease given back; resolves when the process is gone. */
  kill(): Promise<void>;
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
    stdout: "ignore",
    stderr: "pipe",
  });
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
    if (up) return { proc: proc as WorkerProcess["proc"], port, kill };
    if (Date.now() > deadline) throw new Error("worker process did not answer /health within 20 s");
    await Bun.sleep(50);
  }
}
