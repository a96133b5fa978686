import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@second-layer/shared/config";
import { parseSecretsKey } from "@second-layer/shared/secrets-box";
import { onCleanup } from "../../../test/support/cleanup.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sl-init-secrets-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function initSecrets(dir: string, env: Record<string, string> = {}) {
  const { SECRETS_KEY: _s, API_BOOTSTRAP_KEY: _a, ...rest } = process.env;
  const run = Bun.spawnSync([process.execPath, MAIN, "init-secrets", "--dir", dir], { env: { ...rest, ...env } });
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() };
}

describe("sl init-secrets", () => {
  test("first run generates both secrets (mode 600) and prints the admin key once; later runs keep them and print it no more", () => {
    const dir = join(tempDir(), "secrets");
    const first = initSecrets(dir);
    expect(first.code).toBe(0);
    const secretsKey = readFileSync(join(dir, "secrets-key"), "utf8").trim();
    const adminKey = readFileSync(join(dir, "admin-key"), "utf8").trim();
    expect(parseSecretsKey(secretsKey)).toHaveLength(32);
    expect(adminKey).toMatch(/^sk_live_[A-Za-z0-9]{20,}$/);
    expect(first.out).toContain(adminKey);
    expect(first.out).not.toContain(secretsKey);
    for (const f of ["secrets-key", "admin-key"]) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);

    const second = initSecrets(dir);
    expect(second.code).toBe(0);
    expect(second.out).not.toContain(adminKey);
    expect(second.out).toContain("not shown again");
    expect(readFileSync(join(dir, "secrets-key"), "utf8").trim()).toBe(secretsKey);
    expect(readFileSync(join(dir, "admin-key"), "utf8").trim()).toBe(adminKey);

    // What the api and worker read through the _FILE variables.
    const config = loadConfig({
      SECRETS_KEY_FILE: join(dir, "secrets-key"),
      API_BOOTSTRAP_KEY_FILE: join(dir, "admin-key"),
    });
    expect([config.SECRETS_KEY, config.API_BOOTSTRAP_KEY]).toEqual([secretsKey, adminKey]);
  });

  test("values set in the environment are used instead: no file, nothing printed", () => {
    const dir = tempDir();
    const adminKey = `sk_live_${"b2".repeat(12)}`;
    const run = initSecrets(dir, { SECRETS_KEY: "0".repeat(64), API_BOOTSTRAP_KEY: adminKey });
    expect(run.code).toBe(0);
    expect(existsSync(join(dir, "secrets-key")) || existsSync(join(dir, "admin-key"))).toBe(false);
    expect(run.out).not.toContain(adminKey);
  });

  test("without --dir it says what is missing", () => {
    const run = Bun.spawnSync([process.execPath, MAIN, "init-secrets"]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr.toString()).toContain("--dir DIR is required");
  });
});
