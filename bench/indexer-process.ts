import { join } from "node:path";
import { freePort } from "@second-layer/shared/db/local-postgres";
import type { Subprocess } from "bun";

// The indexer as production runs it: its own process, logging at `info` (one line per block) to a
// pipe that is read and discarded, so writing the log is on the clock and nothing reaches the terminal.

const MAIN = join(import.meta.dir, "../packages/indexer/src/main.ts");

export interface IndexerProcess {
  base: string;
  /** Log lines written so far: a check that the indexer really logged at `info`. */
  logLines(): number;
  /** Its database is about to be deleted: a graceful shutdown would only wait on dead connections. */
  kill(): Promise<void>;
}

const running = new Set<Subprocess>();

/** Kills every indexer still running (on errors and signals). */
export function killIndexers(): void {
  for (const proc of running) proc.kill("SIGKILL");
}

async function drain(proc: Subprocess<"ignore", "pipe", "inherit">, onChunk: (chunk: Uint8Array) => void) {
  for await (const chunk of proc.stdout) onChunk(chunk);
}

/** Waits until a service's /health answers 2xx; fails early if its process exits. */
export async function waitForHealth(proc: Subprocess, base: string, what = "indexer"): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited during start-up with code ${proc.exitCode}`);
    if ((await fetch(`${base}/health`).catch(() => null))?.ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`${what} did not answer /health within 30 s`);
}

export async function startIndexerProcess(databaseUrl: string, network: string): Promise<IndexerProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = Bun.spawn(["bun", MAIN], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), STACKS_NETWORK: network, LOG_LEVEL: "info" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  running.add(proc);
  let lines = 0;
  const drained = drain(proc, (chunk) => {
    for (const byte of chunk) if (byte === 10) lines++;
  });
  try {
    await waitForHealth(proc, base);
  } catch (err) {
    proc.kill("SIGKILL");
    running.delete(proc);
    throw err;
  }
  return {
    base,
    logLines: () => lines,
    async kill() {
      proc.kill("SIGKILL");
      await proc.exited;
      await drained;
      running.delete(proc);
    },
  };
}
