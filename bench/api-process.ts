import { join } from "node:path";
import type { Subprocess } from "bun";
import type { LoadResult, LoadSpec } from "./load-generator.ts";

// Servers run as subprocesses for the HTTP benchmarks, and the separate load generator that measures
// them (bench/load-generator.ts).

const LOAD_GENERATOR = join(import.meta.dir, "load-generator.ts");

/** A server subprocess whose output is read as it comes (a full pipe would stall it); the tail is kept for errors. */
export class Service {
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

export function startService(name: string, script: string, env: Record<string, string>): Service {
  return new Service(
    name,
    Bun.spawn(["bun", script], { env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" }),
  );
}

/** One measured target, loaded from a separate process; every answer must be a 200. */
export async function generateLoad(spec: LoadSpec, running: Set<Subprocess>): Promise<LoadResult> {
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
