import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { UsageError } from "./cli-errors.ts";

export const DEFAULT_API_URL = "http://127.0.0.1:3800";

export interface ApiSettings {
  apiUrl: string;
  apiKey: string | undefined;
  /** Where each setting came from, for `sl config`-style messages. */
  sources: { apiUrl: string; apiKey: string | null };
}

interface ConfigFile {
  apiUrl?: string;
  apiKey?: string;
}

/** The config files `sl` reads, most specific first: the project's, then the user's. */
export function configFiles(cwd: string, env: Record<string, string | undefined>): string[] {
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return [resolve(cwd, ".slrc.json"), join(configHome, "second-layer", "config.json")];
}

function readConfigFile(path: string): ConfigFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${path} must hold a JSON object such as {"apiUrl": "...", "apiKey": "..."}`);
  }
  const out: ConfigFile = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key !== "apiUrl" && key !== "apiKey") {
      throw new UsageError(`${path}: unknown setting ${JSON.stringify(key)} (known: apiUrl, apiKey)`);
    }
    if (typeof value !== "string") throw new UsageError(`${path}: ${key} must be a string`);
    out[key] = value;
  }
  return out;
}

/**
 * The API to talk to: each setting from the first of `--api-url`/`--api-key`, `SL_API_URL`/
 * `SL_API_KEY`, `./.slrc.json`, `~/.config/second-layer/config.json`; the URL defaults to the local
 * stack's.
 */
export function resolveApiSettings(
  flags: { "api-url"?: string; "api-key"?: string },
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): ApiSettings {
  const layers: { source: string; values: ConfigFile }[] = [
    { source: "--api-url/--api-key", values: { apiUrl: flags["api-url"], apiKey: flags["api-key"] } },
    { source: "SL_API_URL/SL_API_KEY", values: { apiUrl: env.SL_API_URL, apiKey: env.SL_API_KEY } },
    ...configFiles(cwd, env)
      .filter((path) => existsSync(path))
      .map((path) => ({ source: path, values: readConfigFile(path) })),
  ];
  const pick = (key: keyof ConfigFile) => layers.find((l) => l.values[key]);
  const url = pick("apiUrl");
  const key = pick("apiKey");
  const apiUrl = url?.values.apiUrl ?? DEFAULT_API_URL;
  if (!/^https?:\/\/[^/]/.test(apiUrl)) {
    throw new UsageError(`the API URL ${JSON.stringify(apiUrl)} (from ${url?.source}) is not an http(s) URL`);
  }
  return {
    apiUrl,
    apiKey: key?.values.apiKey,
    sources: { apiUrl: url?.source ?? "default", apiKey: key?.source ?? null },
  };
}
