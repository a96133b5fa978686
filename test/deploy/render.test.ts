import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { variableDocs } from "@second-layer/shared/config";

// render.yaml against the fields Render's Blueprint reference documents
// (https://render.com/docs/blueprint-spec), encoded here, and against this repository: the
// Dockerfile it builds, the commands and health paths the services have, the variables they read.

const ROOT = join(import.meta.dir, "../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const blueprint = Bun.YAML.parse(read("render.yaml")) as any;

/** The documented Blueprint fields, by where they may appear. */
const SPEC = {
  root: ["services", "databases", "envVarGroups", "projects", "ungrouped", "previews", "version"],
  serviceTypes: ["web", "pserv", "worker", "cron", "keyvalue", "redis"],
  runtimes: ["docker", "image", "node", "python", "ruby", "go", "rust", "elixir", "static"],
  service: [
    "type",
    "name",
    "runtime",
    "repo",
    "region",
    "plan",
    "previewPlan",
    "branch",
    "rootDir",
    "buildCommand",
    "startCommand",
    "preDeployCommand",
    "dockerfilePath",
    "dockerContext",
    "dockerCommand",
    "registryCredential",
    "image",
    "numInstances",
    "scaling",
    "healthCheckPath",
    "envVars",
    "autoDeploy",
    "autoDeployTrigger",
    "maxShutdownDelaySeconds",
    "domains",
    "disk",
    "buildFilter",
    "schedule",
    "ipAllowList",
    "maxmemoryPolicy",
    "staticPublishPath",
    "headers",
    "routes",
    "pullRequestPreviewsEnabled",
    "previews",
  ],
  /** Service fields only some types take. */
  only: {
    healthCheckPath: ["web"],
    domains: ["web"],
    schedule: ["cron"],
    preDeployCommand: ["web", "pserv", "worker"],
  } as Record<string, string[]>,
  dockerFields: ["dockerfilePath", "dockerContext", "dockerCommand", "registryCredential"],
  database: [
    "name",
    "databaseName",
    "user",
    "plan",
    "previewPlan",
    "region",
    "postgresMajorVersion",
    "diskSizeGB",
    "ipAllowList",
    "readReplicas",
    "highAvailability",
  ],
  databaseProperties: ["connectionString", "host", "port", "user", "password", "database"],
  /** An env var entry has a key and exactly one source; `fromGroup` stands alone. */
  envSources: ["value", "generateValue", "sync", "fromDatabase", "fromService"],
  groupSources: ["value", "generateValue", "sync"],
};

const unknown = (obj: object, allowed: string[]) => Object.keys(obj).filter((k) => !allowed.includes(k));

function envEntryProblems(entry: any, sources: string[], where: string): string[] {
  if ("fromGroup" in entry && sources === SPEC.envSources) {
    return Object.keys(entry).length === 1 ? [] : [`${where}: fromGroup takes no other field`];
  }
  const problems: string[] = [];
  if (typeof entry.key !== "string" || entry.key === "") problems.push(`${where}: no key`);
  const given = Object.keys(entry).filter((k) => k !== "key");
  if (given.length !== 1 || !sources.includes(given[0] as string)) {
    problems.push(`${where} (${entry.key}): needs exactly one of ${sources.join(", ")}; has ${given.join(", ")}`);
  }
  if ("sync" in entry && entry.sync !== false) problems.push(`${where} (${entry.key}): sync may only be false`);
  if ("generateValue" in entry && entry.generateValue !== true) problems.push(`${where}: generateValue must be true`);
  if ("value" in entry && typeof entry.value !== "string") {
    problems.push(`${where} (${entry.key}): quote the value, env values are strings`);
  }
  return problems;
}

/** The variables a service gets: its own entries and those of the groups it pulls in. */
function keysOf(service: any): string[] {
  const groups = new Map(blueprint.envVarGroups.map((g: any) => [g.name, g.envVars]));
  return service.envVars.flatMap((e: any) =>
    "fromGroup" in e ? (groups.get(e.fromGroup) as any[]).map((g) => g.key) : [e.key],
  );
}

const byName = (name: string) => blueprint.services.find((s: any) => s.name === `second-layer-${name}`);

describe("render.yaml", () => {
  test("uses only documented Blueprint fields, with valid types, runtimes and env var sources", () => {
    const problems: string[] = [...unknown(blueprint, SPEC.root).map((k) => `root: unknown field ${k}`)];
    const databases = new Set(blueprint.databases.map((d: any) => d.name));
    const groups = new Set(blueprint.envVarGroups.map((g: any) => g.name));
    for (const db of blueprint.databases) {
      problems.push(...unknown(db, SPEC.database).map((k) => `database ${db.name}: unknown field ${k}`));
      if (typeof db.postgresMajorVersion !== "string") problems.push(`database ${db.name}: quote postgresMajorVersion`);
    }
    for (const group of blueprint.envVarGroups) {
      for (const entry of group.envVars)
        problems.push(...envEntryProblems(entry, SPEC.groupSources, `group ${group.name}`));
    }
    for (const s of blueprint.services) {
      const where = `service ${s.name}`;
      problems.push(...unknown(s, SPEC.service).map((k) => `${where}: unknown field ${k}`));
      if (!SPEC.serviceTypes.includes(s.type)) problems.push(`${where}: type ${s.type}`);
      if (!SPEC.runtimes.includes(s.runtime)) problems.push(`${where}: runtime ${s.runtime}`);
      for (const [field, types] of Object.entries(SPEC.only)) {
        if (field in s && !types.includes(s.type)) problems.push(`${where}: ${field} is not for ${s.type} services`);
      }
      if (s.runtime !== "docker") {
        for (const f of SPEC.dockerFields) if (f in s) problems.push(`${where}: ${f} needs runtime docker`);
      }
      if (s.healthCheckPath !== undefined && !String(s.healthCheckPath).startsWith("/")) {
        problems.push(`${where}: healthCheckPath must start with /`);
      }
      for (const entry of s.envVars ?? []) {
        problems.push(...envEntryProblems(entry, SPEC.envSources, where));
        if (entry.fromDatabase) {
          if (!databases.has(entry.fromDatabase.name))
            problems.push(`${where}: no database ${entry.fromDatabase.name}`);
          if (!SPEC.databaseProperties.includes(entry.fromDatabase.property)) {
            problems.push(`${where}: fromDatabase property ${entry.fromDatabase.property}`);
          }
        }
        if (entry.fromGroup && !groups.has(entry.fromGroup)) problems.push(`${where}: no env group ${entry.fromGroup}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("the check itself refuses what the spec does not allow", () => {
    expect(envEntryProblems({ key: "A", value: "1", sync: false }, SPEC.envSources, "x")).toHaveLength(1);
    expect(envEntryProblems({ key: "A", fromDatabase: {} }, SPEC.groupSources, "x")).toHaveLength(1);
    expect(envEntryProblems({ key: "A", value: 1 }, SPEC.envSources, "x")).toHaveLength(1);
    expect(unknown({ type: "web", healthcheckPath: "/" }, SPEC.service)).toEqual(["healthcheckPath"]);
  });

  test("the database and four services: web services for indexer and api with health paths, workers for the rest", () => {
    expect(blueprint.databases.map((d: any) => d.name)).toEqual(["second-layer-db"]);
    expect(blueprint.services.map((s: any) => [s.name, s.type])).toEqual([
      ["second-layer-indexer", "web"],
      ["second-layer-api", "web"],
      ["second-layer-worker", "worker"],
      ["second-layer-view-processor", "worker"],
    ]);
    expect(byName("indexer").healthCheckPath).toBe("/health");
    expect(byName("api").healthCheckPath).toBe("/ready");
    for (const name of ["indexer", "api"]) expect(byName(name).preDeployCommand).toBe("bun run migrate");
    expect(JSON.parse(read("package.json")).scripts.migrate).toBeDefined();
  });

  test("each service builds the Dockerfile and runs the command of its own Dockerfile target", () => {
    const dockerfile = read("docker/Dockerfile");
    for (const name of ["indexer", "api", "worker", "view-processor"]) {
      const s = byName(name);
      expect(existsSync(join(ROOT, s.dockerfilePath))).toBe(true);
      expect(s.dockerContext).toBe(".");
      const cmd = JSON.stringify(s.dockerCommand.split(" ")).replaceAll(",", ", ");
      expect(dockerfile).toContain(`FROM app AS ${name}`);
      expect(dockerfile.split(`FROM app AS ${name}`)[1]?.split("\nFROM ")[0]).toContain(`CMD ${cmd}`);
    }
  });

  test("env wired from the database and a shared generated SECRETS_KEY; only variables the service reads", () => {
    const docs = new Map(variableDocs().map((v) => [v.name, v.doc]));
    for (const name of ["indexer", "api", "worker", "view-processor"]) {
      const s = byName(name);
      expect(s.envVars.find((e: any) => e.key === "DATABASE_URL")?.fromDatabase).toEqual({
        name: "second-layer-db",
        property: "connectionString",
      });
      for (const key of keysOf(s)) {
        const services = docs.get(key)?.services;
        expect([name, key, services === "all" || (services as string[] | undefined)?.includes(name)]).toEqual([
          name,
          key,
          true,
        ]);
      }
    }
    for (const name of ["api", "worker"]) expect(keysOf(byName(name))).toContain("SECRETS_KEY");
    const secrets = blueprint.envVarGroups.find((g: any) => g.name === "second-layer-secrets");
    expect(secrets.envVars).toEqual([{ key: "SECRETS_KEY", generateValue: true }]);
    expect(byName("api").envVars).toContainEqual({ key: "API_BOOTSTRAP_KEY", sync: false });
    for (const name of ["indexer", "api"])
      expect(byName(name).envVars).toContainEqual({ key: "HOST", value: "0.0.0.0" });
  });
});
