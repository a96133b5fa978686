// `bun run dev`: the whole stack on this machine. Without DATABASE_URL it runs a persistent local
// Postgres (data in .sl-data/postgres, kept between runs), migrates it, then starts every service as
// a child process with its output prefixed. Ctrl-C stops the services, then Postgres.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { generateApiKey } from "@second-layer/api/auth/api-keys";
import { connect } from "@second-layer/shared/db/connect";
import { type LocalPostgres, startLocalPostgres } from "@second-layer/shared/db/local-postgres";
import { migrate } from "@second-layer/shared/db/migrate";
import { ensureSecretFile, generateSecretsKey } from "@second-layer/shared/secret-files";

interface Service {
  name: string;
  cmd: string[];
  env: Record<string, string>;
}

// Each service gets its own port.
const SERVICES: Service[] = [
  { name: "indexer", cmd: ["bun", "packages/indexer/src/main.ts"], env: { PORT: "3700" } },
  {
    name: "api",
    cmd: ["bun", "packages/api/src/main.ts"],
    env: {
      PORT: "3800",
      WEBHOOK_ALLOWED_PRIVATE_HOSTS: process.env.WEBHOOK_ALLOWED_PRIVATE_HOSTS ?? "127.0.0.1,localhost",
    },
  },
  {
    name: "worker",
    cmd: ["bun", "packages/worker/src/main.ts"],
    // Webhook receivers on this machine are fine in development; production refuses private addresses.
    env: {
      METRICS_PORT: "3900",
      WEBHOOK_ALLOWED_PRIVATE_HOSTS: process.env.WEBHOOK_ALLOWED_PRIVATE_HOSTS ?? "127.0.0.1,localhost",
    },
  },
  { name: "view-processor", cmd: ["bun", "packages/view-processor/src/main.ts"], env: { METRICS_PORT: "3901" } },
];

const ROOT = resolve(import.meta.dir, "..");
const DATA_DIR = resolve(ROOT, ".sl-data");
const PG_DIR = resolve(DATA_DIR, "postgres");
const PG_PORT = 54329;
const DEV_PID_FILE = resolve(DATA_DIR, "dev.pid");
const SECRETS_KEY_FILE = resolve(DATA_DIR, "secrets-key");
const ADMIN_KEY_FILE = resolve(DATA_DIR, "admin-key");
const STOP_GRACE_MS = 10_000;

const COLORS = [36, 35, 33, 32, 34];
const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const tty = process.stdout.isTTY === true;

function say(msg: string): void {
  process.stdout.write(`${tty ? "\x1b[1m[dev]\x1b[0m" : "[dev]"} ${msg}\n`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, "utf8").split("\n")[0] ?? "", 10);
  return Number.isFinite(pid) && pid > 0 ? pid : undefined;
}

/**
 * Refuses to run twice over the same data, and cleans up after a run that was killed (SIGKILL,
 * closed terminal): its Postgres outlives it, holds the port and would make `pg_ctl start` fail.
 */
async function claimDataDir(): Promise<void> {
  mkdirSync(DATA_DIR, { recursive: true });
  const other = readPid(DEV_PID_FILE);
  if (other && other !== process.pid && isAlive(other)) {
    throw new Error(`another \`bun run dev\` (pid ${other}) is using ${DATA_DIR}; stop it first`);
  }
  writeFileSync(DEV_PID_FILE, `${process.pid}\n`);
  const postmaster = readPid(resolve(PG_DIR, "pgdata", "postmaster.pid"));
  if (postmaster && isAlive(postmaster)) {
    say(`stopping the Postgres (pid ${postmaster}) left running by an earlier run`);
    process.kill(postmaster, "SIGINT"); // "fast" shutdown: roll back open transactions, then stop
    for (let i = 0; i < 100 && isAlive(postmaster); i++) await Bun.sleep(100);
  }
}

function formatLine(line: string): string {
  // pino writes JSON when its stdout is a pipe; make it readable for a person at a terminal.
  if (!tty || !line.startsWith("{")) return line;
  try {
    const { level, time, msg, name: _name, pid: _pid, hostname: _host, ...rest } = JSON.parse(line);
    const label = LEVELS[level] ?? String(level);
    const color = level >= 50 ? 31 : level >= 40 ? 33 : 2;
    const clock = new Date(time ?? Date.now()).toISOString().slice(11, 23);
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
    return `\x1b[2m${clock}\x1b[0m \x1b[${color}m${label.padEnd(5)}\x1b[0m ${msg ?? ""}${extra}`;
  } catch {
    return line;
  }
}

async function pipeLines(stream: ReadableStream<Uint8Array>, prefix: string, out: NodeJS.WriteStream): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) out.write(`${prefix}${formatLine(line)}\n`);
  }
  if (buffered) out.write(`${prefix}${formatLine(buffered)}\n`);
}

/**
 * The key that encrypts stream secrets: SECRETS_KEY if set, else one generated on the first run and kept
 * in .sl-data (losing it would make every stored stream secret unreadable).
 */
function devSecretsKey(): string {
  return process.env.SECRETS_KEY || ensureSecretFile(SECRETS_KEY_FILE, generateSecretsKey).value;
}

/** The admin API key: API_BOOTSTRAP_KEY if set, else one generated on the first run and printed. */
function devAdminKey(): { value: string; created: boolean } {
  if (process.env.API_BOOTSTRAP_KEY) return { value: process.env.API_BOOTSTRAP_KEY, created: false };
  return ensureSecretFile(ADMIN_KEY_FILE, generateApiKey);
}

/** `--demo` (or `bun run demo`): a simulated node, an example stream with a receiver, an example view. */
const DEMO = process.argv.includes("--demo");

async function waitUntilReady(urls: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const url of urls) {
    while (
      !(await fetch(url).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
      await Bun.sleep(200);
    }
  }
}

async function main(): Promise<number> {
  let pg: LocalPostgres | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    await claimDataDir();
    pg = await startLocalPostgres({ dataDir: PG_DIR, port: PG_PORT });
    databaseUrl = pg.url;
    say(`postgres ready at ${databaseUrl} (data in ${PG_DIR})`);
  } else {
    say("using the database in DATABASE_URL");
  }

  const secretsKey = devSecretsKey();
  const adminKey = devAdminKey();
  const children: { service: Service; proc: Bun.Subprocess<"ignore", "pipe", "pipe"> }[] = [];
  let stopping = false;
  let exitCode = 0;
  let finished: () => void = () => {};
  const done = new Promise<void>((r) => {
    finished = r;
  });

  let stopDemo: (() => Promise<void>) | null = null;
  const shutdown = async (reason: string, code: number, signal?: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    say(`${reason}: stopping services`);
    await stopDemo?.();
    // Ctrl-C reaches the children too (same process group); give them a moment to act on it alone
    // before forwarding, so a service does not run its shutdown twice.
    if (signal) await Bun.sleep(300);
    for (const { proc } of children) if (proc.exitCode === null) proc.kill(signal ?? "SIGTERM");
    const timer = setTimeout(() => {
      for (const { service, proc } of children) {
        if (proc.exitCode !== null) continue;
        say(`${service.name} did not stop within ${STOP_GRACE_MS / 1000}s: killing it`);
        proc.kill("SIGKILL");
      }
    }, STOP_GRACE_MS);
    await Promise.all(children.map(({ proc }) => proc.exited));
    clearTimeout(timer);
    if (pg) {
      say("stopping postgres");
      pg.stop();
      rmSync(DEV_PID_FILE, { force: true });
    }
    finished();
  };

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => void shutdown(signal, 0, signal));
  }

  try {
    // Migrate once here so the services do not race each other through it on first start.
    const db = connect(databaseUrl, { max: 1 });
    try {
      const applied = await migrate(db.sql, databaseUrl);
      say(applied.length > 0 ? `migrations applied: ${applied.join(", ")}` : "database schema up to date");
    } finally {
      await db.close();
    }

    for (const [i, service] of SERVICES.entries()) {
      const label = service.name.padEnd(Math.max(...SERVICES.map((s) => s.name.length)));
      const prefix = tty ? `\x1b[${COLORS[i % COLORS.length]}m[${label}]\x1b[0m ` : `[${label}] `;
      const proc = Bun.spawn(service.cmd, {
        cwd: ROOT,
        env: {
          ...process.env,
          ...service.env,
          DATABASE_URL: databaseUrl,
          SECRETS_KEY: secretsKey,
          API_BOOTSTRAP_KEY: adminKey.value,
        },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      children.push({ service, proc });
      void pipeLines(proc.stdout, prefix, process.stdout);
      void pipeLines(proc.stderr, prefix, process.stderr);
      // One service dying takes the stack down, so a broken start is never mistaken for a running one.
      void proc.exited.then((code) => {
        if (!stopping) void shutdown(`${service.name} exited with code ${code}`, code || 1);
      });
    }
    say(
      `started ${SERVICES.map((s) => `${s.name} (port ${s.env.PORT ?? s.env.METRICS_PORT})`).join(", ")}; Ctrl-C stops everything`,
    );
    say("indexer  http://127.0.0.1:3700  (point the node's events_observer here)");
    say("api      http://127.0.0.1:3800  (reference: http://127.0.0.1:3800/docs)");
    say("worker   http://127.0.0.1:3900/health");
    say("views    http://127.0.0.1:3901/health");
    say(
      adminKey.created
        ? `admin API key (shown once; kept in ${ADMIN_KEY_FILE}): ${adminKey.value}`
        : `admin API key: in ${process.env.API_BOOTSTRAP_KEY ? "API_BOOTSTRAP_KEY" : ADMIN_KEY_FILE}`,
    );
    if (DEMO) {
      await waitUntilReady(["http://127.0.0.1:3700/health", "http://127.0.0.1:3800/ready"]);
      const { startDemo } = await import("./demo/run-demo.ts");
      stopDemo = await startDemo({
        indexerUrl: "http://127.0.0.1:3700",
        apiUrl: "http://127.0.0.1:3800",
        adminKey: adminKey.value,
        network: process.env.STACKS_NETWORK === "testnet" ? "testnet" : "mainnet",
        receiverPort: 3999,
        say: (line) => say(`demo ${line}`),
      });
    }
  } catch (err) {
    process.stderr.write(`dev: ${(err as Error).message}\n`);
    await shutdown("start-up failed", 1);
  }

  await done;
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`dev: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
