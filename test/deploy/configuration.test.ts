import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SERVICES, type ServiceName, variableDocs } from "@second-layer/shared/config";
import { REFERENCE_PATH, renderConfigurationReference, TOOLING_VARIABLES } from "../../scripts/config-docs.ts";

// The configuration reference is generated from the config schema; code that reads a variable the
// reference does not list, or a service that reads one the schema does not say it reads, fails here.

const ROOT = join(import.meta.dir, "../..");
const SCHEMA = new Map(variableDocs().map((v) => [v.name, v.doc]));

/** Non-test source: the services, the CLI, the scripts and the benchmarks. */
function sourceFiles(): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  for (const pattern of ["packages/*/src/**/*.ts", "scripts/**/*.ts", "bench/**/*.ts", "docker/**/*.ts"]) {
    for (const path of new Bun.Glob(pattern).scanSync({ cwd: ROOT })) {
      files.push({ path, text: readFileSync(join(ROOT, path), "utf8") });
    }
  }
  return files;
}

function matches(text: string, re: RegExp): string[] {
  return [...text.matchAll(re)].map((m) => m[1] as string);
}

/** Variables a file reads from the environment directly, or from the parsed config. */
function variablesRead(text: string): { env: string[]; config: string[] } {
  return {
    env: [
      ...matches(text, /process\.env\.([A-Z][A-Z0-9_]*)/g),
      ...matches(text, /process\.env\[\s*["'`]([A-Z][A-Z0-9_]*)["'`]\s*\]/g),
      ...matches(text, /Bun\.env\.([A-Z][A-Z0-9_]*)/g),
      ...matches(text, /benchSetting\(\s*["'`]([A-Z][A-Z0-9_]*)["'`]/g),
    ],
    config: matches(text, /\bconfig\.([A-Z][A-Z0-9_]*)\b/g),
  };
}

describe("configuration reference", () => {
  test("docs/configuration.md is what `bun run docs:config` generates from the schema", () => {
    expect(readFileSync(REFERENCE_PATH, "utf8")).toBe(renderConfigurationReference());
  });

  test("it lists every variable of the schema and every tooling variable", () => {
    const doc = readFileSync(REFERENCE_PATH, "utf8");
    for (const name of [...SCHEMA.keys(), ...TOOLING_VARIABLES.map((v) => v.name)]) {
      expect(doc).toContain(`| \`${name}\``);
    }
  });

  test("no code reads an environment variable that is not documented", () => {
    const documented = new Set([...SCHEMA.keys(), ...TOOLING_VARIABLES.map((v) => v.name)]);
    const undocumented: string[] = [];
    let reads = 0;
    for (const { path, text } of sourceFiles()) {
      const { env, config } = variablesRead(text);
      reads += env.length + config.length;
      for (const name of [...env, ...config]) if (!documented.has(name)) undocumented.push(`${path}: ${name}`);
    }
    expect(reads).toBeGreaterThan(50);
    expect(undocumented).toEqual([]);
  });

  test("the scan sees every way of reading a variable", () => {
    const text =
      'process.env.ALPHA; process.env["BETA"]; Bun.env.GAMMA; benchSetting("EPSILON", 1); deps.config.DELTA; config.lower';
    expect(variablesRead(text)).toEqual({ env: ["ALPHA", "BETA", "GAMMA", "EPSILON"], config: ["DELTA"] });
  });

  test("each service reads only variables the schema says it reads", () => {
    const wrong: string[] = [];
    for (const service of SERVICES) {
      for (const { path, text } of sourceFiles().filter((f) => f.path.startsWith(`packages/${service}/src/`))) {
        for (const name of variablesRead(text).config) {
          const services = SCHEMA.get(name)?.services;
          if (services !== "all" && !services?.includes(service as ServiceName)) wrong.push(`${path}: ${name}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
