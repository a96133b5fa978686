// `bun run deploy`: deploys Second Layer with Docker Compose on this machine, to a Hetzner dedicated
// server over SSH (hetzner-setup.sh), or to Render (render.yaml). Without --target it asks for what it
// needs, checking each answer; with --target it takes flags only (automation). It validates every
// input, then runs the steps (compose, hetzner) or prints them (render, or any target with --print).
// docs/deploy.md explains each path.
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { generateApiKey } from "@second-layer/api/auth/api-keys";
import { ConfigError, loadConfig } from "@second-layer/shared/config";

const ROOT = resolve(import.meta.dir, "..");
const TARGETS = ["compose", "hetzner", "render"] as const;
type Target = (typeof TARGETS)[number];
const NETWORKS = ["mainnet", "testnet", "devnet"] as const;

const USAGE = `Usage: bun run deploy [--target compose|hetzner|render] [options]

Without --target: an interactive wizard. With it: flags only, nothing is asked.

  --target compose   Docker Compose on this machine
      --env-file F       settings file (default docker/.env; created from docker/.env.example if missing)
      --network N        mainnet | testnet | devnet (default mainnet)
      --api-port P       host port of the api (default 3800)
      --no-start         write the settings file, print the start command, start nothing
  --target hetzner   a Hetzner dedicated server (Ubuntu 24.04), provisioned over SSH
      --ssh USER@HOST    the server (required)
      --domain D         the API's public host name; Caddy gets its TLS certificate (required)
      --repo URL         repository the server clones (default: this checkout's origin)
      --branch B         (default main)
      --network N        (default mainnet)
      --dry-run          hetzner-setup.sh prints its steps on the server and changes nothing
  --target render    Render (render.yaml): prints the steps and the values to enter
      --repo URL         the repository Render deploys (default: this checkout's origin)
      --admin-key K      API_BOOTSTRAP_KEY to use (default: a new one)
      --node-ip CIDR     the Stacks node's public address, for OBSERVER_ALLOWED_IPS
  --print            print the steps instead of running them
`;

export class InputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

// ---- Validation (pure) -------------------------------------------------------------------------------

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function validateDomain(value: string, field = "--domain"): string {
  const v = value.trim().toLowerCase();
  if (!HOSTNAME.test(v)) {
    throw new InputError(field, `${JSON.stringify(value)} is not a public host name, e.g. api.example.com`);
  }
  return v;
}

/** `user@host` or `host`; host a name, an IPv4 address or a bracket-free IPv6 address. */
export function validateSshTarget(value: string, field = "--ssh"): string {
  const v = value.trim();
  const at = v.lastIndexOf("@");
  const user = at >= 0 ? v.slice(0, at) : "root";
  const host = at >= 0 ? v.slice(at + 1) : v;
  const userOk = /^[a-z_][a-z0-9_-]{0,31}$/.test(user);
  const hostOk = HOSTNAME.test(host) || IPV4.test(host) || /^[0-9a-fA-F:]+:[0-9a-fA-F:]*$/.test(host);
  if (!userOk || !hostOk) {
    throw new InputError(field, `${JSON.stringify(value)} is not an SSH target such as root@203.0.113.7`);
  }
  return `${user}@${host}`;
}

export function validateRepo(value: string, field = "--repo"): string {
  const v = value.trim();
  if (!/^(https:\/\/[^\s]+|git@[^\s:]+:[^\s]+|ssh:\/\/[^\s]+)$/.test(v)) {
    throw new InputError(field, `${JSON.stringify(value)} is not a git URL (https://..., git@host:owner/repo.git)`);
  }
  return v;
}

export function validateNetwork(value: string, field = "--network"): (typeof NETWORKS)[number] {
  const v = value.trim();
  if (!(NETWORKS as readonly string[]).includes(v)) throw new InputError(field, `must be ${NETWORKS.join(", ")}`);
  return v as (typeof NETWORKS)[number];
}

export function validatePort(value: string, field = "--api-port"): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InputError(field, `${JSON.stringify(value)} is not a port`);
  return n;
}

/** A setting checked by the services' own config schema, so the wizard accepts exactly what they do. */
function validateSetting(name: string, value: string, field: string): string {
  try {
    loadConfig({ [name]: value });
    return value;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new InputError(field, err.message.split("\n").slice(1).join("; ").trim());
  }
}

// ---- Plans ------------------------------------------------------------------------------------------

export type Plan =
  | { target: "compose"; envFile: string; network: string; apiPort: number; start: boolean }
  | { target: "hetzner"; ssh: string; domain: string; repo: string; branch: string; network: string; dryRun: boolean }
  | { target: "render"; repo: string; adminKey: string; adminKeyGenerated: boolean; nodeIp: string | null };

export interface Step {
  say: string;
  /** Run (or shown) as a command; `stdinFile` is fed to it. */
  command?: string[];
  stdinFile?: string;
}

function originUrl(): string | null {
  const run = Bun.spawnSync(["git", "remote", "get-url", "origin"], { cwd: ROOT, stderr: "ignore" });
  const url = run.stdout.toString().trim();
  return run.exitCode === 0 && url ? url : null;
}

function composeCommand(envFile: string, ...args: string[]): string[] {
  return ["docker", "compose", "-f", "docker/docker-compose.yml", "--env-file", envFile, ...args];
}

export function steps(plan: Plan): Step[] {
  switch (plan.target) {
    case "compose":
      return [
        {
          say: `settings in ${plan.envFile} (STACKS_NETWORK=${plan.network}, API_HOST_PORT=${plan.apiPort}); secrets are generated by the init service on the first start`,
        },
        { say: "build the images and start the stack", command: composeCommand(plan.envFile, "up", "-d", "--build") },
        { say: "see the state of every service", command: composeCommand(plan.envFile, "ps") },
        { say: "the admin API key, printed once by init", command: composeCommand(plan.envFile, "logs", "init") },
        { say: `the api: http://127.0.0.1:${plan.apiPort}/docs; the indexer: http://127.0.0.1:3700/health` },
      ];
    case "hetzner": {
      const args = ["--domain", plan.domain, "--repo", plan.repo, "--branch", plan.branch, "--network", plan.network];
      return [
        { say: `point the DNS record of ${plan.domain} at the server (Caddy needs it for the certificate)` },
        {
          say: `provision ${plan.ssh} with hetzner-setup.sh${plan.dryRun ? " (dry run: nothing changes)" : ""}`,
          command: ["ssh", plan.ssh, "bash", "-s", "--", ...args, ...(plan.dryRun ? ["--dry-run"] : [])],
          stdinFile: resolve(ROOT, "hetzner-setup.sh"),
        },
        { say: `then: https://${plan.domain}/docs; the admin key was printed once by the setup and is in docker/.env` },
      ];
    }
    case "render":
      return [
        { say: `push this repository to ${plan.repo} (Render builds from it)` },
        {
          say: `create the Blueprint: https://dashboard.render.com/blueprint/new?repo=${encodeURIComponent(plan.repo)}`,
        },
        {
          say: `when asked, enter API_BOOTSTRAP_KEY = ${plan.adminKey}${plan.adminKeyGenerated ? " (generated now: keep it, it is your admin key)" : ""}`,
        },
        {
          say: `and OBSERVER_ALLOWED_IPS = ${plan.nodeIp ?? "the public address of your Stacks node (e.g. 203.0.113.7/32)"}`,
        },
        {
          say: "the node posts plain HTTP and Render serves HTTPS only: run a forwarder beside the node (docs/deploy.md, Render) and point [[events_observer]] at it",
        },
      ];
  }
}

// ---- Flags ------------------------------------------------------------------------------------------

export function planFromFlags(argv: string[]): { plan: Plan; print: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: "string" },
      "env-file": { type: "string" },
      network: { type: "string" },
      "api-port": { type: "string" },
      "no-start": { type: "boolean" },
      ssh: { type: "string" },
      domain: { type: "string" },
      repo: { type: "string" },
      branch: { type: "string" },
      "dry-run": { type: "boolean" },
      "admin-key": { type: "string" },
      "node-ip": { type: "string" },
      print: { type: "boolean" },
    },
  });
  const target = values.target;
  if (!target || !(TARGETS as readonly string[]).includes(target)) {
    throw new InputError("--target", `must be ${TARGETS.join(", ")}`);
  }
  const network = validateNetwork(values.network ?? "mainnet");
  const print = values.print === true;
  const repo = () => {
    const url = values.repo ?? originUrl();
    if (!url) throw new InputError("--repo", "required (this checkout has no origin remote)");
    return validateRepo(url);
  };
  const required = (name: string, value: string | undefined) => {
    if (!value) throw new InputError(`--${name}`, "required");
    return value;
  };
  switch (target as Target) {
    case "compose":
      return {
        print,
        plan: {
          target: "compose",
          envFile: values["env-file"] ?? "docker/.env",
          network,
          apiPort: validatePort(values["api-port"] ?? "3800"),
          start: values["no-start"] !== true,
        },
      };
    case "hetzner":
      return {
        print,
        plan: {
          target: "hetzner",
          ssh: validateSshTarget(required("ssh", values.ssh)),
          domain: validateDomain(required("domain", values.domain)),
          repo: repo(),
          branch: values.branch ?? "main",
          network,
          dryRun: values["dry-run"] === true,
        },
      };
    case "render": {
      const adminKey = values["admin-key"] ?? generateApiKey();
      return {
        print: true,
        plan: {
          target: "render",
          repo: repo(),
          adminKey: validateSetting("API_BOOTSTRAP_KEY", adminKey, "--admin-key"),
          adminKeyGenerated: values["admin-key"] === undefined,
          nodeIp: values["node-ip"] ? validateSetting("OBSERVER_ALLOWED_IPS", values["node-ip"], "--node-ip") : null,
        },
      };
    }
  }
}

// ---- The wizard -------------------------------------------------------------------------------------

/** Questions on stdin, one line per answer (also from a pipe); an invalid answer is asked again. */
class Prompter {
  private readonly lines = console[Symbol.asyncIterator]();

  async ask<T>(question: string, fallback: string | null, check: (answer: string) => T): Promise<T> {
    for (;;) {
      process.stdout.write(`${question}${fallback ? ` [${fallback}]` : ""}: `);
      const next = await this.lines.next();
      if (next.done) throw new InputError(question, "no answer (input ended)");
      const answer = next.value.trim() || fallback || "";
      try {
        return check(answer);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        process.stdout.write(`  ${err.message}\n`);
      }
    }
  }
}

async function wizard(): Promise<{ plan: Plan; print: boolean }> {
  const p = new Prompter();
  process.stdout.write(
    "Deploy Second Layer\n  1) Docker Compose on this machine\n  2) Hetzner dedicated server\n  3) Render\n",
  );
  const target = await p.ask("Where (1-3)", "1", (a) => {
    const t = ({ "1": "compose", "2": "hetzner", "3": "render" } as Record<string, Target>)[a];
    if (!t) throw new InputError("choice", "answer 1, 2 or 3");
    return t;
  });
  const network = () =>
    p.ask("Stacks network (mainnet, testnet, devnet)", "mainnet", (a) => validateNetwork(a, "network"));
  const repo = () => p.ask("Git repository URL", originUrl(), (a) => validateRepo(a, "repository"));
  const yes = (a: string) => {
    if (!/^(y|yes|n|no)$/i.test(a)) throw new InputError("answer", "y or n");
    return /^y/i.test(a);
  };
  switch (target) {
    case "compose": {
      const plan: Plan = {
        target,
        envFile: "docker/.env",
        network: await network(),
        apiPort: await p.ask("Host port of the api", "3800", (a) => validatePort(a, "port")),
        start: await p.ask("Start it now (y/n)", "y", yes),
      };
      return { plan, print: false };
    }
    case "hetzner": {
      const plan: Plan = {
        target,
        ssh: await p.ask("SSH target (user@host)", null, (a) => validateSshTarget(a, "ssh target")),
        domain: await p.ask("API domain (DNS pointing at the server)", null, (a) => validateDomain(a, "domain")),
        repo: await repo(),
        branch: await p.ask("Branch", "main", (a) => a),
        network: await network(),
        dryRun: await p.ask("Dry run first (y/n)", "y", yes),
      };
      return { plan, print: !(await p.ask("Run it now over SSH (y/n)", "y", yes)) };
    }
    case "render": {
      const nodeIp = await p.ask("Your Stacks node's public address (CIDR; empty: later)", "-", (a) =>
        a === "-" ? null : validateSetting("OBSERVER_ALLOWED_IPS", a, "node address"),
      );
      return {
        plan: { target, repo: await repo(), adminKey: generateApiKey(), adminKeyGenerated: true, nodeIp },
        print: true,
      };
    }
  }
}

// ---- Running ----------------------------------------------------------------------------------------

function setEnvLine(text: string, name: string, value: string): string {
  const re = new RegExp(`^${name}=.*$`, "m");
  return re.test(text) ? text.replace(re, `${name}=${value}`) : `${text.trimEnd()}\n${name}=${value}\n`;
}

/** docker/.env from the example the first time (never overwritten: it may hold secrets). */
function prepareEnvFile(plan: Extract<Plan, { target: "compose" }>): string {
  const path = resolve(ROOT, plan.envFile);
  if (existsSync(path)) return `${plan.envFile} exists: kept as it is`;
  copyFileSync(resolve(ROOT, "docker/.env.example"), path);
  let text = readFileSync(path, "utf8");
  text = setEnvLine(text, "STACKS_NETWORK", plan.network);
  text = setEnvLine(text, "API_HOST_PORT", String(plan.apiPort));
  writeFileSync(path, text);
  chmodSync(path, 0o600);
  return `${plan.envFile} created from docker/.env.example`;
}

const shown = (cmd: string[]) => cmd.map((c) => (/^[\w@%+=:,./-]+$/.test(c) ? c : `'${c.replaceAll("'", "'\\''")}'`));

async function execute(plan: Plan, print: boolean): Promise<number> {
  const list = steps(plan);
  const runNothing = print || (plan.target === "compose" && !plan.start) || plan.target === "render";
  if (plan.target === "compose" && !print) process.stdout.write(`${prepareEnvFile(plan)}\n`);
  for (const [i, step] of list.entries()) {
    process.stdout.write(`\n${i + 1}. ${step.say}\n`);
    if (!step.command) continue;
    process.stdout.write(`   $ ${shown(step.command).join(" ")}${step.stdinFile ? ` < ${step.stdinFile}` : ""}\n`);
    if (runNothing) continue;
    const proc = Bun.spawn(step.command, {
      cwd: ROOT,
      stdin: step.stdinFile ? Bun.file(step.stdinFile) : "inherit",
      stdout: "inherit",
      stderr: "inherit",
    });
    const code = await proc.exited;
    if (code !== 0) {
      process.stderr.write(`step ${i + 1} failed (exit ${code})\n`);
      return code;
    }
  }
  return 0;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const { plan, print } = argv.length === 0 ? await wizard() : planFromFlags(argv);
    return await execute(plan, print);
  } catch (err) {
    if (err instanceof InputError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`deploy: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

if (import.meta.main) process.exit(await main());
