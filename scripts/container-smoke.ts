// The container smoke test (`bun run test:containers`, run by .ci/run through
// scripts/container-smoke.sh): builds the images, brings docker/docker-compose.yml up from a fresh
// copy of docker/.env.example, and proves the stack the way operators will run it: a recorded node
// log replayed into the published indexer port, streams created through the api and delivered to a
// receiver container that checks every signature with the `standardwebhooks` package, three workers,
// an indexer restart, a down/up that keeps the volumes, non-root containers, and `docker stop` within
// 10 s. Everything is torn down at the end, on failure too. Exits 0 when every check passed.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { EventLogRow } from "@second-layer/shared/event-log";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { blocksOf, canonicalChain, fixture } from "../test/support/fixtures.ts";

const ROOT = resolve(import.meta.dir, "..");
const COMPOSE_FILE = join(ROOT, "docker/docker-compose.yml");
const SMOKE_FILE = join(ROOT, "test/containers/smoke.compose.yml");
const FIXTURE = "fuzzed-transactions-1.tsv";
/** The log is replayed in three parts: before the restart, with three workers, after down/up. */
const SPLIT_AFTER_HEIGHTS = [5, 10];
const STREAMS = ["a", "b", "c"];
const STOP_LIMIT_MS = 10_000;
const WAIT_MS = 120_000;
/** The view processor lands separately: its parts run once its package exists (drop this then). */
const WITH_VIEWS = existsSync(join(ROOT, "packages/view-processor"));
const SERVICES = ["indexer", "api", "worker", ...(WITH_VIEWS ? ["view-processor"] : [])];
const ALL_UP = ["postgres", "init", "migrate", ...SERVICES, "receiver"];

const started = Date.now();
const timings: [string, number][] = [];
const checks: string[] = [];

function say(msg: string): void {
  process.stdout.write(`[smoke ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}

function check(ok: boolean, what: string, detail?: unknown): void {
  if (!ok) throw new Error(`FAILED: ${what}${detail === undefined ? "" : `\n${JSON.stringify(detail, null, 2)}`}`);
  checks.push(what);
  say(`ok: ${what}`);
}

function equal(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, what, a === e ? undefined : { expected, actual });
}

async function timed<T>(label: string, step: () => Promise<T>): Promise<T> {
  const t = Date.now();
  const result = await step();
  timings.push([label, Date.now() - t]);
  return result;
}

// ---- Engine -----------------------------------------------------------------------------------------

/** `container-host` on machines without Docker (CI); else the docker CLI and Compose v2 or 1.x. */
const containerHost = process.env.SL_CONTAINER_HOST ?? resolve(ROOT, "../shared/tools/container-host");
const useContainerHost = existsSync(containerHost);

function dockerCmd(): string[] {
  return useContainerHost ? [containerHost, "docker"] : ["docker"];
}

function composeCmd(): string[] {
  if (useContainerHost) return [containerHost, "compose"];
  return Bun.spawnSync(["docker", "compose", "version"]).exitCode === 0 ? ["docker", "compose"] : ["docker-compose"];
}

async function run(cmd: string[], opts: { env?: Record<string, string>; quiet?: boolean } = {}): Promise<string> {
  const proc = Bun.spawn(cmd, {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) {
    throw new Error(
      `${cmd.slice(0, 4).join(" ")} ... exited with ${code}:\n${(err || out).split("\n").slice(-30).join("\n")}`,
    );
  }
  return out;
}

// ---- The stack --------------------------------------------------------------------------------------

interface Stack {
  project: string;
  dataDir: string;
  envFile: string;
  indexerUrl: string;
  apiUrl: string;
}

async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Sets NAME=value in an env file, replacing the example's line. */
function setEnv(text: string, name: string, value: string): string {
  const line = `${name}=${value}`;
  const re = new RegExp(`^${name}=.*$`, "m");
  return re.test(text) ? text.replace(re, line) : `${text}\n${line}\n`;
}

async function createStack(): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), "sl-smoke-"));
  // The receiver runs as uid 1000 and writes here.
  chmodSync(dataDir, 0o777);
  const indexerPort = await freePort();
  const apiPort = await freePort();
  // A fresh copy of the example, plus only what this test needs: the recording's network, free host
  // ports (other stacks may run on this machine), loopback for the api, and the receiver container
  // exempted from the webhook SSRF guard (it has a private address).
  let env = readFileSync(join(ROOT, "docker/.env.example"), "utf8");
  const project = `sl-smoke-${process.pid}`;
  for (const [name, value] of [
    ["COMPOSE_PROJECT_NAME", project],
    ["STACKS_NETWORK", "devnet"],
    ["INDEXER_HOST_PORT", String(indexerPort)],
    ["API_HOST_BIND", "127.0.0.1"],
    ["API_HOST_PORT", String(apiPort)],
    ["WEBHOOK_ALLOWED_PRIVATE_HOSTS", "receiver"],
  ] as const) {
    env = setEnv(env, name, value);
  }
  const envFile = join(dataDir, "stack.env");
  writeFileSync(envFile, env);
  return {
    project,
    dataDir,
    envFile,
    indexerUrl: `http://127.0.0.1:${indexerPort}`,
    apiUrl: `http://127.0.0.1:${apiPort}`,
  };
}

async function compose(stack: Stack, ...args: string[]): Promise<string> {
  return await run(
    [...composeCmd(), "-p", stack.project, "-f", COMPOSE_FILE, "-f", SMOKE_FILE, "--env-file", stack.envFile, ...args],
    { env: { SMOKE_DATA_DIR: stack.dataDir } },
  );
}

async function containers(stack: Stack): Promise<{ id: string; name: string; service: string; running: boolean }[]> {
  const out = await run([
    ...dockerCmd(),
    "ps",
    "-a",
    "--filter",
    `label=com.docker.compose.project=${stack.project}`,
    "--format",
    '{{.ID}}\t{{.Names}}\t{{.Label "com.docker.compose.service"}}\t{{.State}}',
  ]);
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [id = "", name = "", service = "", state = ""] = line.split("\t");
      return { id, name, service, running: state.toLowerCase().startsWith("running") || state.startsWith("Up") };
    });
}

/**
 * A container's main process: PID 1, or PID 1's child when PID 1 is `runuser` (the postgres
 * stand-in drops privileges through it and stays behind as a root parent; the official image execs
 * into postgres with gosu, leaving none).
 */
async function mainProcess(id: string): Promise<{ name: string; uid: string }> {
  const out = await run([
    ...dockerCmd(),
    "exec",
    id,
    "sh",
    "-c",
    'for f in /proc/[0-9]*/status; do grep -E "^(Name|PPid|Pid|Uid):" "$f" | tr "\\n" " "; echo; done',
  ]);
  const procs = out
    .split("\n")
    .filter(Boolean)
    .map((line) => ({
      name: /Name:\s+(\S+)/.exec(line)?.[1] ?? "",
      pid: /\bPid:\s+(\d+)/.exec(line)?.[1] ?? "",
      ppid: /PPid:\s+(\d+)/.exec(line)?.[1] ?? "",
      uid: /Uid:\s+(\d+)/.exec(line)?.[1] ?? "",
    }));
  const first = procs.find((p) => p.pid === "1");
  const main = first?.name === "runuser" ? procs.find((p) => p.ppid === "1" && p.name !== "sh") : first;
  if (!main) throw new Error(`no main process found in container ${id}`);
  return { name: main.name, uid: main.uid };
}

async function health(id: string): Promise<string> {
  return (await run([...dockerCmd(), "inspect", "--format", "{{.State.Health.Status}}", id])).trim();
}

/** Waits until every running container with a health check is healthy and the one-shots exited 0. */
async function waitHealthy(stack: Stack, services: string[]): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const list = (await containers(stack)).filter((c) => services.includes(c.service));
    const states = await Promise.all(
      list.map(async (c) => ({ ...c, health: c.running ? await health(c.id) : "exited" })),
    );
    const pending = services.filter(
      (s) =>
        !states.some((c) => c.service === s) ||
        states.some((c) => c.service === s && c.running && c.health !== "healthy"),
    );
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new Error(`not healthy within ${WAIT_MS / 1000} s: ${pending.join(", ")}`);
    await Bun.sleep(500);
  }
}

// ---- What the recording says should happen ----------------------------------------------------------

/** The parts of a node's /new_block body this test reads. */
interface NodeBlock {
  block_height: number;
  index_block_hash: string;
  transactions: { txid: string; status: string }[];
  events: {
    type: string;
    committed: boolean;
    txid: string;
    event_index: number;
    stx_transfer_event?: { sender: string; recipient: string; amount: string };
  }[];
}

/** The committed STX transfers of a block's successful transactions, in event order. */
function transfersOf(block: NodeBlock) {
  const ok = new Set(block.transactions.filter((t) => t.status === "success").map((t) => t.txid));
  return block.events
    .filter((e) => e.type === "stx_transfer_event" && e.committed && ok.has(e.txid))
    .sort((x, y) => x.event_index - y.event_index);
}

function chainOf(rows: EventLogRow[]): NodeBlock[] {
  return canonicalChain(blocksOf(rows)) as NodeBlock[];
}

interface Expected {
  tip: string | undefined;
  /** Per delivery, in order: the block height and its committed STX transfers (txid:eventIndex). */
  deliveries: { height: number; events: string[] }[];
}

function expectedFrom(rows: EventLogRow[]): Expected {
  const chain = chainOf(rows);
  const deliveries = chain
    .map((b) => ({ height: b.block_height, events: transfersOf(b).map((e) => `${e.txid}:${e.event_index}`) }))
    .filter((d) => d.events.length > 0);
  return { tip: chain.at(-1)?.index_block_hash, deliveries };
}

/** The recording cut after the /new_block of each height in SPLIT_AFTER_HEIGHTS. */
function parts(rows: EventLogRow[]): EventLogRow[][] {
  const cuts = SPLIT_AFTER_HEIGHTS.map(
    (h) => rows.findIndex((r) => r.path === "/new_block" && JSON.parse(r.payload).block_height === h) + 1,
  );
  if (cuts.some((c) => c <= 0)) throw new Error(`${FIXTURE} lacks a block at one of ${SPLIT_AFTER_HEIGHTS}`);
  return [rows.slice(0, cuts[0]), rows.slice(cuts[0], cuts[1]), rows.slice(cuts[1])];
}

// ---- Talking to the stack ---------------------------------------------------------------------------

interface Received {
  endpoint: string;
  id: string;
  seq: number;
  signatureValid: boolean;
  body: {
    type: string;
    streamId: string;
    seq: number;
    block: { height: number };
    matches: { events: { txid: string; eventIndex: number }[] };
  };
}

function received(stack: Stack, endpoint: string): Received[] {
  const file = join(stack.dataDir, "received.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Received)
    .filter((r) => r.endpoint === endpoint);
}

async function waitFor(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS / 1000} s waiting for ${what}`);
    await Bun.sleep(250);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field and compared whole
type Json = any;

async function getJson(url: string, headers: Record<string, string> = {}): Promise<Json> {
  const res = await fetch(url, { headers });
  const body = await res.json();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function postJson(url: string, body: unknown, headers: Record<string, string>): Promise<Json> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

async function replay(stack: Stack, rows: EventLogRow[]): Promise<void> {
  const summary = await replayEventLog(rows, { to: stack.indexerUrl });
  check(summary.rejected.length === 0, `replayed ${rows.length} rows, none rejected`, summary.rejected);
}

async function indexerState(stack: Stack): Promise<{ tip: string | undefined; seq: number; integrity: string }> {
  const h = await getJson(`${stack.indexerUrl}/health`);
  return { tip: h.lastIndexedBlock?.indexBlockHash, seq: h.chainLog.seq, integrity: h.integrity };
}

/** Every stream got exactly the expected deliveries: signed, seq 1..n, each webhook-id once, in block order. */
async function expectDelivered(stack: Stack, streamIds: Map<string, string>, expected: Expected, label: string) {
  const total = expected.deliveries.length;
  for (const name of STREAMS) {
    await waitFor(`${total} deliveries to ${name}`, () => received(stack, name).length >= total);
  }
  // Anything sent twice or extra would arrive right behind the rest.
  await Bun.sleep(1500);
  for (const name of STREAMS) {
    const got = received(stack, name);
    equal(got.length, total, `${label}: stream ${name} got ${total} requests, none twice`);
    check(
      got.every((r) => r.signatureValid),
      `${label}: stream ${name}: every signature verified by standardwebhooks`,
    );
    equal(new Set(got.map((r) => r.id)).size, total, `${label}: stream ${name}: ${total} distinct webhook-ids`);
    equal(
      got.map((r) => [r.seq, r.body.seq, r.body.streamId, r.body.type]),
      got.map((_, i) => [i + 1, i + 1, streamIds.get(name), "block.apply"]),
      `${label}: stream ${name}: seq 1..${total} gap-free, in arrival order`,
    );
    equal(
      got.map((r) => ({
        height: r.body.block.height,
        events: r.body.matches.events.map((e) => `${e.txid}:${e.eventIndex}`),
      })),
      expected.deliveries,
      `${label}: stream ${name}: every committed STX transfer of the canonical chain, once, in order`,
    );
  }
}

// ---- Views (once packages/view-processor exists) ------------------------------------------------------

const VIEW = {
  name: "smoke-transfers",
  tables: {
    transfers: {
      columns: {
        txid: { type: "text" },
        sender: { type: "principal" },
        recipient: { type: "principal" },
        amount: { type: "uint" },
        height: { type: "uint" },
      },
    },
  },
  handlers: [
    {
      on: { type: "stx_transfer" },
      do: [
        {
          insert: "transfers",
          values: {
            txid: "$.tx.id",
            sender: "$.event.sender",
            recipient: "$.event.recipient",
            amount: "$.event.amount",
            height: "$.block.height",
          },
        },
      ],
    },
  ],
};

function expectedViewRows(rows: EventLogRow[]): string[] {
  return chainOf(rows)
    .flatMap((b) =>
      transfersOf(b).map((e) => {
        const t = e.stx_transfer_event;
        return [e.txid, t?.sender, t?.recipient, t?.amount, b.block_height].join("|");
      }),
    )
    .sort();
}

async function expectViewRows(stack: Stack, auth: Record<string, string>, rows: EventLogRow[], label: string) {
  const expected = expectedViewRows(rows);
  const url = `${stack.apiUrl}/api/views/${VIEW.name}/transfers?_limit=1000`;
  const read = async (): Promise<string[]> => {
    const body = await getJson(url, auth);
    const list: Json[] = Array.isArray(body) ? body : (body.rows ?? body.data ?? []);
    return list.map((r) => [r.txid, r.sender, r.recipient, String(r.amount), String(r.height)].join("|")).sort();
  };
  await waitFor(`the view's ${expected.length} rows`, async () => (await read()).length >= expected.length);
  equal(await read(), expected, `${label}: the view's rows are the canonical chain's STX transfers`);
}

// ---- The run ----------------------------------------------------------------------------------------

async function imageSizes(): Promise<string[]> {
  const size = async (image: string) =>
    Number((await run([...dockerCmd(), "image", "inspect", "--format", "{{.Size}}", image])).trim());
  const base = await size("oven/bun:1.4.5-slim");
  const lines = [`  oven/bun:1.4.5-slim (base)  ${(base / 1e6).toFixed(0)} MB`];
  for (const target of ["tools", ...SERVICES]) {
    const bytes = await size(`second-layer/${target}:local`);
    const over = (bytes - base) / 1e6;
    lines.push(
      `  second-layer/${target.padEnd(16)} ${(bytes / 1e6).toFixed(0)} MB (+${over.toFixed(0)} MB over the base)`,
    );
    check(over <= 150, `image ${target} adds at most 150 MB over its base (${over.toFixed(0)} MB)`);
  }
  return lines;
}

/** Removes the stack's containers, volumes and network, and the test's data folder. */
async function teardown(stack: Stack): Promise<void> {
  await compose(stack, "down", "-v", "--remove-orphans", "--timeout", String(STOP_LIMIT_MS / 1000)).catch((e) =>
    say(`teardown: ${(e as Error).message}`),
  );
  rmSync(stack.dataDir, { recursive: true, force: true });
}

async function up(stack: Stack, extra: string[] = []): Promise<number> {
  const t = Date.now();
  await compose(stack, "up", "-d", ...extra, ...ALL_UP);
  await waitHealthy(stack, ALL_UP);
  return Date.now() - t;
}

async function main(): Promise<void> {
  const rows = fixture(FIXTURE);
  const [first, second, third] = parts(rows) as [EventLogRow[], EventLogRow[], EventLogRow[]];
  const stack = await createStack();
  say(`project ${stack.project}; engine: ${useContainerHost ? containerHost : "docker"}; views: ${WITH_VIEWS}`);
  // Stopped from outside (CI's time limit, Ctrl-C): tear down before going.
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, async () => {
      say(`${signal}: tearing the stack down`);
      await teardown(stack);
      process.exit(1);
    });
  }
  let failure: unknown;
  try {
    await timed("compose config", async () => {
      // The Stacks node and Caddy images cannot be had here: the Hetzner override is checked by
      // compose's own validation only.
      await run([...composeCmd(), "-f", COMPOSE_FILE, "--env-file", stack.envFile, "config", "-q"]);
      check(true, "docker-compose.yml validates with a fresh .env");
      const hetznerFile = join(ROOT, "docker/docker-compose.hetzner.yml");
      const merged = await run(
        [...composeCmd(), "-f", COMPOSE_FILE, "-f", hetznerFile, "--env-file", stack.envFile, "config"],
        { env: { DOMAIN: "api.example.com" } },
      );
      check(
        ["stacks-node:", "caddy:", "backup:", "shared_buffers=16GB"].every((s) => merged.includes(s)),
        "docker-compose.hetzner.yml validates on top of it (stacks-node, caddy, backup, tuned postgres)",
      );
    });
    await timed("build images", () =>
      compose(stack, "build", ...ALL_UP.filter((s) => s !== "postgres" && s !== "receiver")),
    );
    const sizes = await imageSizes();

    const upMs = await timed("up → all healthy", () => up(stack));
    say(`up → all healthy in ${(upMs / 1000).toFixed(1)} s`);

    // The admin key generated by `init`, printed once in its log.
    const initLog = await compose(stack, "logs", "--no-color", "init");
    const adminKey = /sk_live_[A-Za-z0-9]+/.exec(initLog)?.[0];
    check(adminKey !== undefined, "init printed the generated admin API key");
    const auth = { authorization: `Bearer ${adminKey}` };

    const streamIds = new Map<string, string>();
    const secrets: Record<string, string> = {};
    for (const name of STREAMS) {
      const created = await postJson(
        `${stack.apiUrl}/api/streams`,
        { name: `smoke ${name}`, webhookUrl: `http://receiver:8080/${name}`, filters: [{ type: "stx_transfer" }] },
        auth,
      );
      streamIds.set(name, created.stream.id);
      secrets[name] = created.secret;
    }
    writeFileSync(join(stack.dataDir, "secrets.json"), JSON.stringify(secrets));
    check(true, `created streams ${STREAMS.join(", ")} through the api, pointed at the receiver container`);
    if (WITH_VIEWS) await postJson(`${stack.apiUrl}/api/views`, VIEW, auth);

    /** Replays one part of the log; the stack must then hold and have delivered the log up to it. */
    const deliverPart = async (part: EventLogRow[], upTo: EventLogRow[], label: string) => {
      await replay(stack, part);
      const expected = expectedFrom(upTo);
      const { tip } = await indexerState(stack);
      equal(tip, expected.tip, `${label}: the indexer's tip is the log's last canonical block`);
      await expectDelivered(stack, streamIds, expected, label);
      if (WITH_VIEWS) await expectViewRows(stack, auth, upTo, label);
    };

    // Part 1, one worker.
    await timed("part 1: replay and deliver", () => deliverPart(first, first, "part 1"));

    // Restart the indexer: nothing stored is lost.
    await timed("restart indexer", async () => {
      const before = await indexerState(stack);
      await compose(stack, "restart", "indexer");
      await waitHealthy(stack, ["indexer"]);
      equal(await indexerState(stack), before, "restart indexer: same tip, chain log and integrity");
    });

    // Part 2, three workers.
    await timed("part 2: --scale worker=3, replay and deliver", async () => {
      await compose(stack, "up", "-d", "--scale", "worker=3", "worker");
      await waitHealthy(stack, ["worker"]);
      const workers = (await containers(stack)).filter((c) => c.service === "worker" && c.running);
      equal(workers.length, 3, "three worker containers running");
      await deliverPart(second, [...first, ...second], "part 2 (3 workers)");
    });

    // down/up keeping the volumes: the data, the streams and the generated secrets survive.
    await timed("down/up keeping the volumes, part 3", async () => {
      const before = await indexerState(stack);
      // --timeout: our services stop in well under a second; the postgres stand-in never does on its own.
      await compose(stack, "down", "--timeout", String(STOP_LIMIT_MS / 1000));
      const upAgainMs = await up(stack);
      say(`up again → all healthy in ${(upAgainMs / 1000).toFixed(1)} s`);
      equal(await indexerState(stack), before, "down/up: same tip, chain log and integrity");
      const rerun = await replayEventLog([...first, ...second], { to: stack.indexerUrl });
      check(rerun.rejected.length === 0, "down/up: the log replayed again is taken as duplicates");
      equal((await indexerState(stack)).seq, before.seq, "down/up: duplicates change nothing in the chain log");
      await deliverPart(third, rows, "part 3 (after down/up)");
    });

    // Non-root, then docker stop within 10 s.
    await timed("non-root and docker stop", async () => {
      const list = await containers(stack);
      for (const c of list.filter((x) => x.running)) {
        const main = await mainProcess(c.id);
        check(main.uid !== "0", `${c.name}: ${main.name} runs as a non-root user (uid ${main.uid})`);
      }
      for (const c of list.filter((x) => !x.running)) {
        const user = (await run([...dockerCmd(), "inspect", "--format", "{{.Config.User}}", c.id])).trim();
        check(user !== "" && user !== "root" && user !== "0", `one-shot ${c.name} ran as a non-root user (${user})`);
      }
      // Postgres is left out: its stand-in's runuser ignores the image's stop signal (SIGINT), so
      // it is always killed at the timeout (the official image's postgres gets SIGINT itself).
      for (const c of list.filter((x) => x.running && x.service !== "postgres")) {
        const t = Date.now();
        await run([...dockerCmd(), "stop", "--time", String(STOP_LIMIT_MS / 1000 + 5), c.id]);
        const ms = Date.now() - t;
        const code = (await run([...dockerCmd(), "inspect", "--format", "{{.State.ExitCode}}", c.id])).trim();
        check(ms < STOP_LIMIT_MS, `docker stop ${c.name}: ${(ms / 1000).toFixed(1)} s, exit code ${code}`);
        if (SERVICES.includes(c.service)) equal(code, "0", `${c.name} exited cleanly on SIGTERM`);
      }
    });

    say("image sizes:");
    for (const line of sizes) process.stdout.write(`${line}\n`);
  } catch (err) {
    failure = err;
    process.stdout.write(`\n${(err as Error).message}\n`);
    try {
      process.stdout.write(
        `\n---- last log lines ----\n${(await compose(stack, "logs", "--no-color", "--tail", "40")).slice(-20000)}\n`,
      );
    } catch {
      // the logs are a courtesy
    }
  } finally {
    await teardown(stack);
  }
  say("timings:");
  for (const [label, ms] of timings) process.stdout.write(`  ${label.padEnd(48)} ${(ms / 1000).toFixed(1)} s\n`);
  const total = ((Date.now() - started) / 1000).toFixed(1);
  if (failure) {
    process.stdout.write(`container smoke test FAILED after ${checks.length} checks passed (${total} s)\n`);
    process.exit(1);
  }
  process.stdout.write(`container smoke test passed: ${checks.length} checks in ${total} s\n`);
}

await main();
