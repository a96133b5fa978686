import { expect } from "bun:test";
import { join } from "node:path";

// `sl` as a user runs it: a separate process (bun packages/cli/src/main.ts) configured by environment,
// flags or config files, checked by its output and exit code.

const MAIN = join(import.meta.dir, "../../packages/cli/src/main.ts");

export interface SlRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SlOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** false: no SL_API_URL / SL_API_KEY in the environment. */
  auth?: boolean;
}

/**
 * Runners of `sl` against one API with one key; `home` (no config file in it) is the HOME and the
 * working directory unless `cwd` is given.
 */
export function slRunner(settings: { apiUrl: string; apiKey: string; home: string }) {
  const spawnSl = (args: string[], opts: SlOptions = {}) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: settings.home,
      XDG_CONFIG_HOME: join(settings.home, ".config"),
      ...(opts.auth === false ? {} : { SL_API_URL: settings.apiUrl, SL_API_KEY: settings.apiKey }),
      ...opts.env,
    };
    return Bun.spawn(["bun", MAIN, ...args], { cwd: opts.cwd ?? settings.home, env, stdout: "pipe", stderr: "pipe" });
  };

  /** Runs `sl` to the end (asynchronously: the API answering it lives in this process). */
  const sl = async (args: string[], opts: SlOptions = {}): Promise<SlRun> => {
    const proc = spawnSl(args, opts);
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, stdout, stderr };
  };

  /** `sl ... --json`, which must succeed with nothing on stderr; its output parsed. */
  const slJson = async (args: string[], opts: SlOptions = {}): Promise<any> => {
    const run = await sl([...args, "--json"], opts);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    return JSON.parse(run.stdout);
  };

  return { spawnSl, sl, slJson };
}

export type SlRunner = ReturnType<typeof slRunner>;

/** Reads a running command's stdout line by line. */
export function lines(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return async function next(timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!buffer.includes("\n")) {
      if (Date.now() > deadline) throw new Error(`no line within ${timeoutMs} ms; have ${JSON.stringify(buffer)}`);
      const { done, value } = await reader.read();
      if (done) throw new Error(`output ended; have ${JSON.stringify(buffer)}`);
      buffer += decoder.decode(value, { stream: true });
    }
    const at = buffer.indexOf("\n");
    const line = buffer.slice(0, at);
    buffer = buffer.slice(at + 1);
    return line;
  };
}
