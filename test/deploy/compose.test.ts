import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, SERVICES, variableDocs } from "@second-layer/shared/config";

// The Dockerfile, the compose files and docker/.env.example against the config schema and each
// other. (The smoke test, `bun run test:containers`, runs them for real.)

const ROOT = join(import.meta.dir, "../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const base = Bun.YAML.parse(read("docker/docker-compose.yml")) as any;
const hetzner = Bun.YAML.parse(read("docker/docker-compose.hetzner.yml")) as any;
const dockerfile = read("docker/Dockerfile");

/** `NAME=value` lines of docker/.env.example. */
const example = new Map(
  read("docker/.env.example")
    .split("\n")
    .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string]),
);

function variablesOf(service: string): string[] {
  return variableDocs()
    .filter((v) => v.doc.services === "all" || (v.doc.services as readonly string[]).includes(service))
    .map((v) => v.name)
    .sort();
}

function substituted(text: string): Set<string> {
  return new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string));
}

describe("docker-compose.yml", () => {
  test("each service gets exactly the variables the schema says it reads", () => {
    for (const service of SERVICES) {
      expect([service, Object.keys(base.services[service].environment).sort()]).toEqual([
        service,
        variablesOf(service),
      ]);
    }
  });

  test("settings pass through from docker/.env; only addresses, ports and file paths are fixed", () => {
    const fixed = new Set([
      "DATABASE_URL",
      "HOST",
      "PORT",
      "METRICS_PORT",
      "SECRETS_KEY_FILE",
      "API_BOOTSTRAP_KEY_FILE",
    ]);
    for (const service of SERVICES) {
      for (const [name, value] of Object.entries(base.services[service].environment as Record<string, string>)) {
        if (fixed.has(name)) continue;
        expect(`${name}: ${value}`).toMatch(new RegExp(`^${name}: \\$\\{${name}:-[^}]*\\}$`));
      }
    }
  });

  test("every variable the compose files substitute is documented in .env.example, and every one there is used", () => {
    const used = new Set([
      ...substituted(read("docker/docker-compose.yml")),
      ...substituted(read("docker/docker-compose.hetzner.yml")),
    ]);
    expect([...used].filter((name) => !example.has(name))).toEqual([]);
    // COMPOSE_PROJECT_NAME is read by compose itself.
    expect([...example.keys()].filter((name) => !used.has(name) && name !== "COMPOSE_PROJECT_NAME")).toEqual([]);
  });

  test("a fresh copy of .env.example is a valid configuration for every service", () => {
    const env = Object.fromEntries(variableDocs().map((v) => [v.name, example.get(v.name) ?? ""]));
    expect(() => loadConfig(env)).not.toThrow();
  });

  test("one-shots first, then the services; restart policies; the indexer on loopback; workers scale", () => {
    for (const oneShot of ["init", "migrate"]) expect(base.services[oneShot].restart).toBe("no");
    expect(base.services.migrate.depends_on.postgres.condition).toBe("service_healthy");
    expect(base.services.postgres.volumes).toContain("pgdata:/var/lib/postgresql/data");
    expect(base.services.postgres.healthcheck.test.join(" ")).toContain("pg_isready");
    for (const service of SERVICES) {
      const s = base.services[service];
      expect([service, s.restart]).toEqual([service, "unless-stopped"]);
      expect([service, s.depends_on.migrate.condition]).toEqual([service, "service_completed_successfully"]);
      expect([service, s.build.target]).toEqual([service, service]);
    }
    for (const service of ["api", "worker"]) {
      expect(base.services[service].depends_on.init.condition).toBe("service_completed_successfully");
    }
    expect(base.services.indexer.ports).toEqual([`127.0.0.1:\${INDEXER_HOST_PORT:-3700}:3700`]);
    expect(base.services.api.ports).toEqual([`\${API_HOST_BIND:-0.0.0.0}:\${API_HOST_PORT:-3800}:3800`]);
    for (const scaled of ["worker", "view-processor"]) {
      expect(base.services[scaled].ports).toBeUndefined();
      expect(base.services[scaled].container_name).toBeUndefined();
    }
  });
});

describe("Dockerfile", () => {
  test("a Debian slim Bun base of the version the lockfile and CI use", () => {
    const version = JSON.parse(read("package.json")).devDependencies["@types/bun"];
    expect(dockerfile).toContain(`FROM oven/bun:${version}-slim AS base`);
    expect(read(".ci/run")).toContain(`BUN_VERSION="\${BUN_VERSION:-${version}}"`);
    expect(read("test/containers/smoke.compose.yml")).toContain(`oven/bun:${version}-slim`);
    expect(dockerfile).not.toMatch(/^FROM .*alpine/m);
  });

  test("a target per service, each with its command and a health check, as a non-root user", () => {
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const target = (name: string) => stages.find((s) => s.split("\n")[0]?.endsWith(` AS ${name}`)) ?? "";
    for (const service of SERVICES) {
      const stage = target(service);
      expect([service, stage.split("\n")[0]]).toEqual([service, `app AS ${service}`]);
      expect(stage).toContain("HEALTHCHECK");
      expect(stage).toContain(`CMD ["bun", "packages/${service}/src/main.ts"]`);
    }
    expect(target("app")).toMatch(/^USER bun$/m);
    expect(target("deps")).toContain("bun install --frozen-lockfile --production");
  });

  test(".dockerignore keeps tests, .git, data folders and benchmarks out of the images", () => {
    const ignored = read(".dockerignore").split("\n");
    for (const entry of ["test", "packages/*/test", ".git", ".sl-data", "bench", "**/node_modules", "**/.env"]) {
      expect(ignored).toContain(entry);
    }
  });
});

describe("docker-compose.hetzner.yml", () => {
  test("a Stacks node posting every event to the indexer", () => {
    const node = hetzner.services["stacks-node"];
    expect(node.volumes).toContain("./stacks-node/Config.toml:/etc/stacks-node/Config.toml:ro");
    const config = Bun.TOML.parse(read("docker/stacks-node/Config.toml")) as any;
    expect(config.events_observer).toEqual([{ endpoint: "indexer:3700", events_keys: ["*"], timeout_ms: 300000 }]);
    expect(node.ports).toEqual(["20444:20444"]);
  });

  test("Caddy in front of the api for $DOMAIN, data on DATA_DIR, tuned Postgres, nightly backups", () => {
    expect(hetzner.services.caddy.ports).toEqual(["80:80", "443:443"]);
    expect(read("docker/caddy/Caddyfile")).toMatch(/^\{\$DOMAIN\} \{[\s\S]*reverse_proxy api:3800/m);
    expect(hetzner.services.postgres.volumes).toEqual([`\${DATA_DIR:-/mnt/data}/postgres:/var/lib/postgresql/data`]);
    expect(hetzner.services.postgres.command).toContain("shared_buffers=16GB");
    expect(hetzner.services.backup.environment.BACKUP_RETENTION_DAYS).toBe(`\${BACKUP_RETENTION_DAYS:-7}`);
    expect(read("docker/backup-loop.sh")).toContain("pg_dump --format=custom");
  });
});
