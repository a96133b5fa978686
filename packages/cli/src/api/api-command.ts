import { readFileSync } from "node:fs";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { SecondLayer } from "@second-layer/sdk";
import { resolveApiSettings } from "./api-config.ts";
import { EXIT, UsageError } from "./cli-errors.ts";

// The commands that talk to the API: `sl <group> <subcommand> [args] [options]`. Each group is a
// table of subcommands, so a new group is one module and one line in main.ts.

export const COMMON_OPTIONS = {
  "api-url": { type: "string" },
  "api-key": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsOptionsConfig;

export interface ApiContext {
  sl: SecondLayer;
  /** --json: machine-readable output only. */
  json: boolean;
  out(text: string): void;
  /** Notes for people (progress, reconnects): stderr, so --json output stays clean. */
  note(text: string): void;
  /** Aborted on Ctrl-C: followed streams end and the command exits 0. */
  signal: AbortSignal;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Subcommand {
  /** Arguments and options after the subcommand, for help. */
  usage: string;
  summary: string;
  options?: ParseArgsOptionsConfig;
  run(ctx: ApiContext, positionals: string[], values: Values): Promise<number>;
}

const COMMON_HELP = `Options of every API command:
  --api-url URL    the API (else SL_API_URL, ./.slrc.json, ~/.config/second-layer/config.json; default http://127.0.0.1:3800)
  --api-key KEY    an API key, sk_live_... (else SL_API_KEY or a config file)
  --json           JSON output for scripts (followed streams: one JSON object per line)
`;

export function groupHelp(group: string, subcommands: Record<string, Subcommand>): string {
  const lines = Object.entries(subcommands).map(([name, s]) => `  sl ${group} ${name} ${s.usage}\n      ${s.summary}`);
  return `Usage:\n${lines.join("\n")}\n\n${COMMON_HELP}`;
}

/** Runs `sl <group> <args...>`: picks the subcommand, parses its options, connects the SDK. */
export async function runGroup(
  group: string,
  subcommands: Record<string, Subcommand>,
  args: string[],
): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(groupHelp(group, subcommands));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const sub = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (!sub) {
    throw new UsageError(`unknown command "sl ${group} ${name}"; one of: ${Object.keys(subcommands).join(", ")}`);
  }
  return await runSubcommand(`${group} ${name}`, sub, rest);
}

/** Runs one command (`sl status`, `sl streams get`): parses its options, connects the SDK. */
export async function runSubcommand(title: string, sub: Subcommand, args: string[]): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...sub.options },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nusage: sl ${title} ${sub.usage}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`sl ${title} ${sub.usage}\n  ${sub.summary}\n\n${COMMON_HELP}`);
    return EXIT.ok;
  }
  const settings = resolveApiSettings(values as { "api-url"?: string; "api-key"?: string });
  const interrupted = new AbortController();
  const onSigint = () => interrupted.abort();
  process.once("SIGINT", onSigint);
  try {
    return await sub.run(
      {
        sl: new SecondLayer({ baseUrl: settings.apiUrl, apiKey: settings.apiKey }),
        json: values.json === true,
        out: (text) => process.stdout.write(text),
        note: (text) => process.stderr.write(text),
        signal: interrupted.signal,
      },
      positionals,
      values,
    );
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** The positional argument at `index`, or a usage error naming it. */
export function arg(positionals: string[], index: number, name: string, usage: string): string {
  const value = positionals[index];
  if (value === undefined) throw new UsageError(`missing ${name}\nusage: ${usage}`);
  return value;
}

/** An option's value as a whole number, or a usage error naming the option. */
export function intOption(values: Values, name: string): number | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^\d+$/.test(value)) {
    throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** Parses JSON given on the command line or read from a file, naming where it came from on failure. */
export function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A JSON file's content, naming the file when it cannot be read or parsed. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseJson(text, path);
}
