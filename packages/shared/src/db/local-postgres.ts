import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real, throwaway PostgreSQL server run from the machine's own binaries (initdb / pg_ctl).
 * Used by the test harness and by `bun run dev` when DATABASE_URL is unset. initdb refuses to
 * run as root, so as root the cluster is created and run as the `postgres` system user.
 */
export interface LocalPostgres {
  url: string;
  port: number;
  dataDir: string;
  stop(): void;
  start(): void;
}

export interface LocalPostgresOptions {
  /** Keep data between runs (dev) instead of a fresh temporary cluster (tests). */
  dataDir?: string;
  port?: number;
  /** Trade durability for speed: only for throwaway test clusters. */
  fast?: boolean;
}

export function findPgBin(): string {
  const candidates = [process.env.PG_BIN];
  const pgRoot = "/usr/lib/postgresql";
  if (existsSync(pgRoot)) {
    for (const v of readdirSync(pgRoot).sort((a, b) => Number(b) - Number(a))) candidates.push(join(pgRoot, v, "bin"));
  }
  for (const dir of ["/usr/local/pgsql/bin", "/usr/local/bin", "/usr/bin"]) candidates.push(dir);
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  throw new Error(
    "PostgreSQL binaries (initdb, pg_ctl) not found. Install PostgreSQL (e.g. `apt-get install postgresql`), " +
      "set PG_BIN to their directory, or set DATABASE_URL to an existing server.",
  );
}

const isRoot = process.getuid?.() === 0;

function run(cmd: string, args: string[]): void {
  const [file, argv] = isRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  const res = spawnSync(file, argv, { encoding: "utf8" });
  if (res.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${res.status}): ${res.stderr || res.stdout}`);
  }
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

export async function startLocalPostgres(opts: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const bin = findPgBin();
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "sl-pg-"));
  const socketDir = join(dataDir, "sock");
  mkdirSync(dataDir, { recursive: true });
  if (isRoot) {
    chmodSync(dataDir, 0o700);
    spawnSync("chown", ["-R", "postgres:postgres", dataDir]);
  }
  const pgData = join(dataDir, "pgdata");
  if (!existsSync(join(pgData, "PG_VERSION"))) {
    run(join(bin, "initdb"), ["-D", pgData, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  }
  if (!existsSync(socketDir)) {
    run("mkdir", ["-p", socketDir]);
  }
  const settings = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${socketDir}`,
    "-c max_connections=200",
    ...(opts.fast ? ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"] : []),
  ].join(" ");
  const logFile = join(dataDir, "postgres.log");
  const start = () => run(join(bin, "pg_ctl"), ["-D", pgData, "-l", logFile, "-o", settings, "-w", "start"]);
  const stop = () => {
    try {
      run(join(bin, "pg_ctl"), ["-D", pgData, "-m", "immediate", "-w", "stop"]);
    } catch {
      // already stopped
    }
  };
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    start,
    stop,
  };
}

export function removeLocalPostgres(pg: LocalPostgres): void {
  pg.stop();
  rmSync(pg.dataDir, { recursive: true, force: true });
}
