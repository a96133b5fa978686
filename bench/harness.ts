import { connect } from "@second-layer/shared/db/connect";
import { type LocalPostgres, removeLocalPostgres, startLocalPostgres } from "@second-layer/shared/db/local-postgres";
import { migrate } from "@second-layer/shared/db/migrate";
import type { Subprocess } from "bun";

// Pieces the benchmarks share: a durable local Postgres that goes away even on Ctrl-C, migrated
// databases, services as subprocesses, percentiles.

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Creates and migrates a database on the server; returns its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = connect(serverUrl, { max: 1 });
  try {
    await admin.sql.unsafe(`create database ${name}`);
  } finally {
    await admin.close();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = connect(url.toString(), { max: 2 });
  try {
    await migrate(db.sql, url.toString());
  } finally {
    await db.close();
  }
  return url.toString();
}

/** Waits until a service's /health answers 2xx; fails early if the process exits. */
export async function waitForHealth(proc: Subprocess, base: string, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited during start-up with code ${proc.exitCode}`);
    if ((await fetch(`${base}/health`).catch(() => null))?.ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`${what} did not answer /health within 30 s`);
}

/**
 * Runs `body` with a local Postgres at its default durability (fsync, synchronous_commit): the
 * figures an operator would see. `cleanup` runs first, then the cluster is removed, also on
 * SIGINT/SIGTERM: pg_ctl detaches the server from our process group, so Ctrl-C alone would leave it
 * running.
 */
export async function withLocalPostgres<T>(
  body: (pg: LocalPostgres) => Promise<T>,
  cleanup: () => void = () => {},
): Promise<T> {
  const pg = await startLocalPostgres();
  const done = () => {
    cleanup();
    removeLocalPostgres(pg);
  };
  // `bun run` forwards the signal again: the handler stays installed so a repeat cannot cut cleanup short.
  let stopping = false;
  const interrupted = () => {
    if (stopping) return;
    stopping = true;
    done();
    process.exit(130);
  };
  process.on("SIGINT", interrupted);
  process.on("SIGTERM", interrupted);
  try {
    return await body(pg);
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    done();
  }
}
