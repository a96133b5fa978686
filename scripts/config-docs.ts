// `bun run docs:config`: writes docs/configuration.md, the configuration reference, from the zod
// schema in packages/shared/src/config.ts (names, accepted values, defaults, descriptions, which
// services read each variable) and the few variables only tooling reads. `--check` exits 1 instead
// of writing when the file is out of date. test/deploy/configuration.test.ts fails on drift, and on
// code that reads a variable documented nowhere.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { variableDocs } from "@second-layer/shared/config";

export const REFERENCE_PATH = resolve(import.meta.dir, "../docs/configuration.md");

/** Variables read by development tooling, not by the services (so not in the config schema). */
export const TOOLING_VARIABLES: { name: string; readBy: string; description: string }[] = [
  {
    name: "NODE_ENV",
    readBy: "logger",
    description: "`production` (set in the images) keeps logs as JSON lines even on a terminal.",
  },
  {
    name: "PG_BIN",
    readBy: "`bun run dev`, tests",
    description:
      "Folder of PostgreSQL's `initdb` and `pg_ctl` when they are neither on `PATH` nor in `/usr/lib/postgresql/*/bin`.",
  },
  { name: "BENCH_BLOCKS", readBy: "`bun run bench`", description: "Blocks in the ingest benchmark (default 2000)." },
  {
    name: "BENCH_REBUILD_BLOCKS",
    readBy: "`bun run bench`",
    description: "Blocks in the rebuild benchmark (default 1000).",
  },
  {
    name: "BENCH_VIEW_BLOCKS",
    readBy: "`bun run bench`",
    description: "Blocks in the view catch-up benchmark (default 2000).",
  },
  {
    name: "BENCH_STREAM_BLOCKS",
    readBy: "`bun run bench`",
    description: "Blocks posted in the streams latency benchmark (default 100).",
  },
  {
    name: "BENCH_STREAM_INTERVAL_MS",
    readBy: "`bun run bench`",
    description: "Milliseconds between those blocks (default 1000).",
  },
  {
    name: "BENCH_QUEUE_STREAMS",
    readBy: "`bun run bench`",
    description: "Streams in the delivery throughput benchmark (default 40).",
  },
  {
    name: "BENCH_QUEUE_BLOCKS",
    readBy: "`bun run bench`",
    description: "Blocks whose deliveries queue up in the throughput benchmark (default 500).",
  },
  {
    name: "BENCH_API_BLOCKS",
    readBy: "`bun run bench`",
    description: "Blocks in the API benchmark's database (default 300).",
  },
  {
    name: "BENCH_API_CONNECTIONS",
    readBy: "`bun run bench`",
    description: "Keep-alive connections of the API and view query benchmarks' load generator (default 16).",
  },
  {
    name: "BENCH_API_SECONDS",
    readBy: "`bun run bench`",
    description: "Seconds each API and view query benchmark loads its route (default 10).",
  },
  {
    name: "BENCH_VIEW_ROWS",
    readBy: "`bun run bench`",
    description: "Rows in the view query benchmark's table (default 1,000,000).",
  },
  {
    name: "SL_API_URL",
    readBy: "`sl` CLI",
    description: "The API the CLI talks to when `--api-url` is not given (default `http://127.0.0.1:3800`).",
  },
  {
    name: "SL_API_KEY",
    readBy: "`sl` CLI, SDK examples",
    description: "The API key (`sk_live_...`) the CLI sends when `--api-key` is not given.",
  },
  {
    name: "SL_CONTAINER_HOST",
    readBy: "`bun run test:containers`",
    description:
      "Path of the `container-host` tool (default `../shared/tools/container-host`); without it the machine's Docker is used.",
  },
];

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  anyOf?: JsonSchema[];
};

/** What a variable accepts, in a few words, from its JSON schema. */
function accepts(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((v) => `\`${v}\``).join(" ");
  if (schema.anyOf) return "address or host name";
  if (schema.format === "uri") return "URL";
  if (schema.type === "integer" || schema.type === "number") {
    const kind = schema.type === "integer" ? "integer" : "number";
    if (schema.exclusiveMinimum !== undefined) return `${kind} > ${schema.exclusiveMinimum}`;
    const max = schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER ? `..${schema.maximum}` : "";
    if (schema.minimum !== undefined) return max ? `${kind} ${schema.minimum}${max}` : `${kind} ≥ ${schema.minimum}`;
    return kind;
  }
  return "text";
}

const cell = (text: string) => text.replaceAll("|", "\\|");

/** A Markdown table with padded columns, the way `bun run format` (Biome) leaves it. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function renderConfigurationReference(): string {
  const services = variableDocs().map(({ name, doc, fallback, schema }) => [
    `\`${name}\``,
    doc.services === "all" ? "all" : doc.services.join(", "),
    fallback === undefined ? "" : fallback === "" ? "(none)" : `\`${cell(fallback)}\``,
    cell(accepts(schema as JsonSchema)),
    cell(doc.description) + (doc.secret ? " **Secret:** never logged." : ""),
  ]);
  const tooling = TOOLING_VARIABLES.map((v) => [`\`${v.name}\``, cell(v.readBy), cell(v.description)]);
  return `# Configuration reference

<!-- Generated by \`bun run docs:config\` from packages/shared/src/config.ts; do not edit by hand. -->

Every service reads its settings from environment variables, validated at start-up: a bad value stops
the service with a message naming the variable (secrets are never repeated, URL passwords are masked).
Bun also reads a \`.env\` file in the working directory. An empty value counts as unset.

\`X_FILE\` variables name a file holding the value of \`X\` (a Docker or Render secret file, the
compose \`secrets\` volume); it is read at start-up when \`X\` itself is unset.

In Docker Compose every variable below is set in \`docker/.env\` (\`docker/.env.example\` lists them with
the compose-only ones: ports, Postgres credentials, Hetzner settings); compose passes each service the
variables it reads. "all" includes the one-shot commands (\`bun run migrate\`, \`sl\`).

## Services

${table(["variable", "read by", "default", "accepts", "meaning"], services)}

## Tooling

Read by development and test tooling only, never by a service.

${table(["variable", "read by", "meaning"], tooling)}
`;
}

if (import.meta.main) {
  const text = renderConfigurationReference();
  const current = (() => {
    try {
      return readFileSync(REFERENCE_PATH, "utf8");
    } catch {
      return "";
    }
  })();
  if (process.argv.includes("--check")) {
    if (current !== text) {
      process.stderr.write("docs/configuration.md is out of date: run `bun run docs:config`\n");
      process.exit(1);
    }
    process.stdout.write("docs/configuration.md is up to date\n");
  } else {
    writeFileSync(REFERENCE_PATH, text);
    process.stdout.write(`wrote ${REFERENCE_PATH}\n`);
  }
}
