import { join } from "node:path";
import { generateApiKey } from "@second-layer/api/auth/api-keys";
import { freePort } from "@second-layer/shared/db/local-postgres";
import type { Subprocess } from "bun";
import { type BenchCluster, startBenchCluster } from "./bench-postgres.ts";
import type { LoadResult, LoadSpec } from "./load-generator.ts";
import { onInterrupt } from "./on-interrupt.ts";
import type { BenchResult } from "./run.ts";

// Servers run as subprocesses for the HTTP benchmarks, and the separate load generator that measures
// them (bench/load-generator.ts).

const LOAD_GENERATOR = join(import.meta.dir, "load-generator.ts");
const API_MAIN = join(import.meta.dir, "../packages/api/src/main.ts");
const HELLO_SERVER = join(import.meta.dir, "hello-server.ts");
const HOST = "127.0.0.1";
/** Uncounted seconds of load before each measured run: JIT, caches and connection pools warm up. */
const WARMUP_SECONDS = 2;

/** A server subprocess whose output is read as it comes (a full pipe would stall it); the tail is kept for errors. */
class Service {
  readonly tail: string[] = [];
  constructor(
    readonly name: string,
    readonly proc: Subprocess<"ignore", "pipe", "pipe">,
  ) {
    void this.drain(proc.stdout);
    void this.drain(proc.stderr);
  }

  private async drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      this.tail.push(...decoder.decode(chunk, { stream: true }).split("\n").filter(Boolean));
      this.tail.splice(0, Math.max(0, this.tail.length - 20));
    }
  }

  /** Resolves once `url` answers 200. */
  async ready(url: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) {
        throw new Error(`${this.name} exited with code ${this.proc.exitCode}:\n${this.tail.join("\n")}`);
      }
      if ((await fetch(url).catch(() => null))?.ok) return;
      await Bun.sleep(50);
    }
    throw new Error(`${this.name} did not answer ${url} within 60 s:\n${this.tail.join("\n")}`);
  }
}

function startService(name: string, script: string, env: Record<string, string>): Service {
  return new Service(
    name,
    Bun.spawn(["bun", script], { env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" }),
  );
}

/** One measured target, loaded from a separate process; every answer must be a 200. */
async function generateLoad(spec: LoadSpec, running: Set<Subprocess>): Promise<LoadResult> {
  const proc = Bun.spawn(["bun", LOAD_GENERATOR], {
    stdin: new Blob([JSON.stringify(spec)]),
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(proc);
  try {
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new Error(`load generator exited with code ${code}: ${err}`);
    const result = JSON.parse(out) as LoadResult;
    const other = Object.entries(result.statuses).filter(([status]) => status !== "200");
    // A 401, 404 or 429 is answered faster than the real thing: such a figure would flatter the API.
    if (other.length > 0 || result.requests === 0) {
      throw new Error(`GET ${spec.paths[0]}: expected only 200s, got ${JSON.stringify(result.statuses)}`);
    }
    return result;
  } finally {
    running.delete(proc);
  }
}

/** The API and the Hono hello-world beside it, on 127.0.0.1, each loaded the same way by `load`. */
export interface ApiUnderLoad {
  /** The API's base URL. */
  url: string;
  /** The database `prepare` made, which the API serves. */
  databaseUrl: string;
  port: number;
  helloPort: number;
  /** The bootstrap key, as the header that authenticates with it. */
  auth: Record<string, string>;
  /** Loads `paths` on `port` with the run's connections (or `connections`), warm-up and seconds. */
  load(port: number, paths: string[], headers?: Record<string, string>, connections?: number): Promise<LoadResult>;
}

/**
 * A throwaway cluster; the API (packages/api/src/main.ts as an operator runs it, LOG_LEVEL=info) over
 * the database `prepare` makes there, with a bare Hono hello-world beside it; then `measure`. Everything
 * is killed afterwards or on Ctrl-C: the database is about to be deleted, and a graceful shutdown would
 * only wait on dead connections. API_RATE_LIMIT=0: one key sending thousands of requests a second
 * would otherwise be refused after its 600th, and 429s are not what is measured.
 */
export async function withApiUnderLoad<T>(
  settings: { connections: number; seconds: number },
  prepare: (cluster: BenchCluster) => Promise<string>,
  measure: (api: ApiUnderLoad) => Promise<T>,
): Promise<T> {
  const cluster = await startBenchCluster();
  const services: Service[] = [];
  const loaders = new Set<Subprocess>();
  const cleanup = () => {
    for (const proc of loaders) proc.kill("SIGKILL");
    for (const s of services) s.proc.kill("SIGKILL");
    cluster.remove();
  };
  const uninstall = onInterrupt(cleanup);
  try {
    const databaseUrl = await prepare(cluster);
    const key = generateApiKey();
    const [port, helloPort] = [await freePort(), await freePort()];
    const api = startService("api", API_MAIN, {
      DATABASE_URL: databaseUrl,
      HOST,
      PORT: String(port),
      STACKS_NETWORK: "mainnet",
      LOG_LEVEL: "info",
      API_BOOTSTRAP_KEY: key,
      API_RATE_LIMIT: "0",
      SECRETS_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
    });
    services.push(api);
    const hello = startService("hello-world", HELLO_SERVER, { PORT: String(helloPort) });
    services.push(hello);
    const url = `http://${HOST}:${port}`;
    await api.ready(`${url}/health`);
    await hello.ready(`http://${HOST}:${helloPort}/`);
    return await measure({
      url,
      databaseUrl,
      port,
      helloPort,
      auth: { authorization: `Bearer ${key}` },
      load: (target, paths, headers = {}, connections = settings.connections) =>
        generateLoad(
          {
            host: HOST,
            port: target,
            paths,
            headers,
            connections,
            warmupSeconds: WARMUP_SECONDS,
            seconds: settings.seconds,
          },
          loaders,
        ),
    });
  } finally {
    uninstall();
    cleanup();
  }
}

/** A figure beside the same figure of the baseline, with their ratio. */
export function versusBaseline(name: string, value: number, baseline: number, unit: string): BenchResult {
  return { name, value, unit, baseline, ratio: value / baseline };
}
