import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, variableDocs } from "@second-layer/shared/config";
import { InputError, validateDomain, validateRepo, validateSshTarget } from "../../scripts/deploy.ts";
import { onCleanup } from "../support/cleanup.ts";

// `bun run deploy` driven the way automation drives it (flags) and the way a person does (answers on
// stdin, piped here). Nothing is deployed: --print, --no-start, render (which only prints).

const SCRIPT = join(import.meta.dir, "../../scripts/deploy.ts");
const REPO = "https://github.com/example/second-layer.git";

function deploy(args: string[], stdin?: string) {
  const run = Bun.spawnSync([process.execPath, SCRIPT, ...args], {
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
  });
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() };
}

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error("expected an InputError");
}

describe("validation", () => {
  test("domains, SSH targets and repository URLs", () => {
    expect(validateDomain("API.Example.com")).toBe("api.example.com");
    for (const bad of ["localhost", "203.0.113.7", "https://api.example.com", "api..example.com", "-a.example.com"]) {
      expect(errorOf(() => validateDomain(bad)).message).toStartWith("--domain: ");
    }
    expect(validateSshTarget("203.0.113.7")).toBe("root@203.0.113.7");
    expect(validateSshTarget("deploy@box.example.com")).toBe("deploy@box.example.com");
    expect(validateSshTarget("root@2001:db8::7")).toBe("root@2001:db8::7");
    for (const bad of ["root@", "Root User@host.example.com", "root@bad host", "root@203.0.113.7;rm -rf /"]) {
      expect(errorOf(() => validateSshTarget(bad)).field).toBe("--ssh");
    }
    expect(validateRepo("git@github.com:example/second-layer.git")).toBe("git@github.com:example/second-layer.git");
    expect(errorOf(() => validateRepo("ftp://example.com/x")).field).toBe("--repo");
  });
});

describe("bun run deploy with flags", () => {
  test("hetzner --print: the provisioning command over SSH, nothing run", () => {
    const { code, out } = deploy([
      "--target",
      "hetzner",
      "--ssh",
      "root@203.0.113.7",
      "--domain",
      "api.example.com",
      "--repo",
      REPO,
      "--network",
      "testnet",
      "--dry-run",
      "--print",
    ]);
    expect(code).toBe(0);
    expect(out).toContain(
      `$ ssh root@203.0.113.7 bash -s -- --domain api.example.com --repo ${REPO} --branch main --network testnet --dry-run < `,
    );
    expect(out).toContain("hetzner-setup.sh");
  });

  test("bad or missing input stops with the flag named and exit code 2", () => {
    const cases: [string[], string][] = [
      [["--target", "moon"], "deploy: --target: must be compose, hetzner, render"],
      [["--target", "hetzner", "--domain", "api.example.com", "--repo", REPO], "deploy: --ssh: required"],
      [
        ["--target", "hetzner", "--ssh", "root@h.example.com", "--domain", "nope", "--repo", REPO],
        "deploy: --domain: ",
      ],
      [["--target", "compose", "--network", "moonnet"], "deploy: --network: must be mainnet, testnet, devnet"],
      [["--target", "compose", "--api-port", "99999"], "deploy: --api-port: "],
      [
        ["--target", "render", "--repo", REPO, "--admin-key", "letmein"],
        "deploy: --admin-key: API_BOOTSTRAP_KEY=(hidden)",
      ],
      [["--target", "render", "--repo", REPO, "--node-ip", "10.0.0.0/33"], "deploy: --node-ip: OBSERVER_ALLOWED_IPS="],
      [["--target", "compose", "--colour"], "deploy: Unknown option '--colour'"],
    ];
    for (const [args, message] of cases) {
      const { code, err } = deploy(args);
      expect({ args, code, line: err.split("\n")[0] }).toEqual({
        args,
        code: 2,
        line: expect.stringContaining(message),
      });
    }
  });

  test("render: the values to enter, with a newly generated admin key the api accepts", () => {
    const { code, out } = deploy(["--target", "render", "--repo", REPO, "--node-ip", "203.0.113.7/32"]);
    expect(code).toBe(0);
    const key = /API_BOOTSTRAP_KEY = (\S+)/.exec(out)?.[1] as string;
    expect(loadConfig({ API_BOOTSTRAP_KEY: key }).API_BOOTSTRAP_KEY).toBe(key);
    expect(out).toContain("OBSERVER_ALLOWED_IPS = 203.0.113.7/32");
    expect(out).toContain(`blueprint/new?repo=${encodeURIComponent(REPO)}`);
    // Each run makes its own.
    expect(deploy(["--target", "render", "--repo", REPO]).out).not.toContain(key);
  });

  test("compose --no-start: writes the settings file once from the example (mode 600), starts nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "sl-deploy-"));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const envFile = join(dir, "stack.env");
    const first = deploy([
      "--target",
      "compose",
      "--env-file",
      envFile,
      "--network",
      "testnet",
      "--api-port",
      "3811",
      "--no-start",
    ]);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`${envFile} created from docker/.env.example`);
    expect(first.out).toContain(`$ docker compose -f docker/docker-compose.yml --env-file ${envFile} up -d --build`);
    const text = readFileSync(envFile, "utf8");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const values = new Map(
      text
        .split("\n")
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect([values.get("STACKS_NETWORK"), values.get("API_HOST_PORT")]).toEqual(["testnet", "3811"]);
    const env = Object.fromEntries(variableDocs().map((v) => [v.name, values.get(v.name) ?? ""]));
    expect(loadConfig(env).STACKS_NETWORK).toBe("testnet");

    const second = deploy(["--target", "compose", "--env-file", envFile, "--network", "mainnet", "--no-start"]);
    expect(second.out).toContain("exists: kept as it is");
    expect(readFileSync(envFile, "utf8")).toBe(text);
  });
});

describe("bun run deploy as a wizard", () => {
  test("asks, re-asks after an invalid answer, and prints the plan when told not to run it", () => {
    const answers = ["2", "root@bad host", "root@203.0.113.7", "api.example.com", REPO, "", "", "y", "n"];
    const { code, out } = deploy([], `${answers.join("\n")}\n`);
    expect(code).toBe(0);
    expect(out).toContain('ssh target: "root@bad host" is not an SSH target');
    expect(out.match(/SSH target \(user@host\)/g)).toHaveLength(2);
    expect(out).toContain(
      `$ ssh root@203.0.113.7 bash -s -- --domain api.example.com --repo ${REPO} --branch main --network mainnet --dry-run`,
    );
  });

  test("input that ends before the questions do stops with exit code 2", () => {
    const { code, err } = deploy([], "2\n");
    expect(code).toBe(2);
    expect(err).toContain("no answer (input ended)");
  });
});
