import { readFileSync } from "node:fs";
import { z } from "zod";
import { type IpRange, parseIpRange } from "./ip-ranges.ts";
import { redactUrl } from "./redact-url.ts";
import { secretsKeySchema } from "./secrets-box.ts";
import { parseAllowedHosts } from "./webhooks/url-guard.ts";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const network = z.enum(["mainnet", "testnet", "devnet"]);

/** Loopback and private ranges: a node on the same machine, in the same compose or private network. */
const LOCAL_NETWORKS = "127.0.0.0/8,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,::1/128,fc00::/7";

const ipRanges = z.string().transform((list, ctx): IpRange[] => {
  const ranges: IpRange[] = [];
  for (const entry of list.split(",").map((e) => e.trim())) {
    try {
      ranges.push(parseIpRange(entry));
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  }
  return ranges;
});

/** Proxy hops to trust in X-Forwarded-For: `false`/`true` for none/one, or a count. */
const proxyHops = z
  .string()
  .regex(/^(true|false|yes|no|\d+)$/, "expected true, false or a number of proxy hops")
  .transform((v) => (v === "true" || v === "yes" ? 1 : v === "false" || v === "no" ? 0 : Number(v)));

const GIB = 1024 * 1024 * 1024;

const commaList = z.string().transform((v) =>
  v
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== ""),
);

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "5s,30s,2m,1h" → milliseconds. */
const durations = z.string().transform((list, ctx): number[] => {
  const out: number[] = [];
  for (const entry of list.split(",").map((e) => e.trim())) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(entry);
    if (!m) {
      ctx.addIssue({ code: "custom", message: `${JSON.stringify(entry)} is not a duration such as 5s, 2m, 1h or 1d` });
      continue;
    }
    out.push(Number(m[1]) * (DURATION_UNITS[m[2] as string] as number));
  }
  return out;
});

/** The services of a deployment; each variable says which of them read it. */
export const SERVICES = ["indexer", "api", "worker", "view-processor"] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * What the configuration reference (docs/configuration.md, `bun run docs:config`) says about a
 * variable. `services: "all"` also covers the one-shot commands (`migrate`, `sl`).
 */
export type VariableDoc = {
  description: string;
  services: readonly ServiceName[] | "all";
  /** Never repeated in errors or logs. */
  secret?: boolean;
};

const doc = (
  services: VariableDoc["services"],
  description: string,
  extra: Partial<VariableDoc> = {},
): VariableDoc => ({
  description,
  services,
  ...extra,
});

/** Every environment variable any service reads. Defaults make `bun run dev` work with no setup. */
const envFields = z.object({
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/ })
    .optional()
    .meta(doc("all", "`postgres://user:pass@host:port/db`. Required, except by `bun run dev` (local Postgres).")),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info")
    .meta(doc("all", "Least severe log level written (pino JSON lines on stdout).")),
  PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .optional()
    .meta(doc(["indexer", "api"], "HTTP port; 3700 for the indexer, 3800 for the api.")),
  HOST: z
    .union([z.ipv4(), z.ipv6(), z.hostname()], { error: "expected an address or host name, e.g. 127.0.0.1 or 0.0.0.0" })
    .default("127.0.0.1")
    .meta(doc(["indexer", "api"], "Address to listen on; the Docker images set `0.0.0.0`.")),
  OBSERVER_ALLOWED_IPS: ipRanges
    .prefault(LOCAL_NETWORKS)
    .meta(
      doc(
        ["indexer"],
        "CIDRs or addresses (comma-separated) that may POST event-observer bodies; reads are open to anyone who can reach the port.",
      ),
    ),
  TRUST_PROXY: proxyHops
    .default(0)
    .meta(
      doc(
        ["indexer"],
        "Proxies in front: `true` (one) or a count; the client address is then read from `X-Forwarded-For`.",
      ),
    ),
  STACKS_NETWORK: network
    .default("mainnet")
    .meta(doc("all", "The Stacks node's network; the default network of streams and views.")),
  REQUIRE_INTEGRITY: bool
    .default(false)
    .meta(doc(["indexer"], "Refuse to start while blocks are missing between the lowest and highest indexed height.")),
  AUTO_BACKFILL: bool.default(false).meta(doc(["indexer"], "Fetch missing blocks from `AUTO_BACKFILL_SOURCE`.")),
  AUTO_BACKFILL_RATE: z.coerce
    .number()
    .positive()
    .default(10)
    .meta(doc(["indexer"], "Blocks backfilled per second at most.")),
  AUTO_BACKFILL_SOURCE: z
    .url()
    .optional()
    .meta(doc(["indexer"], "Base URL of the backfill source (required with `AUTO_BACKFILL=true`).")),
  AUTO_BACKFILL_SOURCE_TYPE: z
    .enum(["stacks-api", "second-layer"])
    .default("stacks-api")
    .meta(doc(["indexer"], "A Stacks Blockchain API, or another Second Layer indexer.")),
  AUTO_BACKFILL_GRACE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(60)
    .meta(doc(["indexer"], "Age a gap must reach before it is backfilled (the node may still send it).")),
  // Hiro's public API rate-limits anonymous clients hard.
  AUTO_BACKFILL_SOURCE_API_KEY: z
    .string()
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces: it is sent as an HTTP header")
    .optional()
    .meta(doc(["indexer"], "Sent as `x-api-key` to a `stacks-api` source.", { secret: true })),
  STACKS_NODE_RPC_URL: z
    .url()
    .optional()
    .meta(
      doc(["indexer"], "The node's RPC, e.g. `http://stacks-node:20443`; `/health` then reports how far behind it is."),
    ),
  NODE_TIP_CHECK_SECONDS: z.coerce
    .number()
    .positive()
    .default(5)
    .meta(doc(["indexer"], "How often the node's tip is checked to be canonical here (with `STACKS_NODE_RPC_URL`).")),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(500 * 1024 * 1024)
    .meta(doc(["indexer"], "Largest event-observer body accepted; the genesis block alone is about 80 MB.")),
  MAX_INFLIGHT_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .meta(
      doc(
        ["indexer"],
        "Body bytes held in memory across concurrent POSTs (further POSTs get `503 BUSY`); default max(1 GiB, `MAX_BODY_BYTES`).",
      ),
    ),

  // Worker: matching and webhook delivery.
  NETWORKS: commaList
    .pipe(z.array(network))
    .optional()
    .meta(
      doc(
        ["worker", "view-processor"],
        "Networks whose chain logs this process serves (comma-separated); default: `STACKS_NETWORK`.",
      ),
    ),
  WORKER_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(16)
    .meta(doc(["worker"], "Streams delivered in parallel by one worker process.")),
  METRICS_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .optional()
    .meta(
      doc(
        ["worker", "view-processor"],
        "Port of `/health` and `/metrics`; 3900 for the worker, 3901 for the view processor.",
      ),
    ),
  SECRETS_KEY: z
    .string()
    .refine((v) => secretsKeySchema.safeParse(v).success, {
      message: "must be 32 bytes as 64 hex digits or 44 base64 characters (`openssl rand -base64 32`)",
    })
    .optional()
    .meta(
      doc(
        ["api", "worker"],
        "Encrypts stream secrets at rest: 32 random bytes, base64 or hex (`openssl rand -base64 32`). Required; keep it: stored secrets cannot be read without it.",
        { secret: true },
      ),
    ),
  SECRETS_KEY_FILE: z
    .string()
    .optional()
    .meta(doc(["api", "worker"], "A file holding `SECRETS_KEY`, read at start-up when `SECRETS_KEY` is unset.")),
  WEBHOOK_ALLOWED_PRIVATE_HOSTS: z
    .string()
    .transform((v) => parseAllowedHosts(v))
    .prefault("")
    .meta(
      doc(
        ["api", "worker"],
        "Hosts exempt from the webhook SSRF guard (comma-separated), for receivers on a private network.",
      ),
    ),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce
    .number()
    .positive()
    .default(15)
    .meta(doc(["api", "worker"], "How long a webhook receiver may take to answer.")),
  WEBHOOK_RETRY_SCHEDULE: durations
    .prefault("5s,30s,2m,10m,30m,1h,3h,6h,12h,24h")
    .meta(doc(["worker"], "Waits before each retry of a failed delivery; after the last one the delivery is parked.")),
  STREAM_FAILURE_THRESHOLD: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .meta(doc(["worker"], "Consecutive failed attempts after which a stream is marked failed (its deliveries wait).")),
  DELIVERY_RETENTION_DAYS: z.coerce
    .number()
    .positive()
    .default(30)
    .meta(doc(["worker"], "Age after which delivered and cancelled deliveries and their attempts are deleted.")),

  // View processor
  VIEW_BATCH_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(500)
    .meta(doc(["view-processor"], "Chain log entries a view processes per transaction.")),
  VIEW_UNDO_DEPTH: z.coerce
    .number()
    .int()
    .min(1)
    .default(500)
    .meta(
      doc(
        ["view-processor"],
        "Blocks this close to the tip are applied with undo data for reorgs; a rollback deeper than this needs a reindex.",
      ),
    ),
  VIEW_QUERY_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(5000)
    .meta(doc(["api"], "Longest a query of a view's table may run, in milliseconds.")),

  // API
  API_BOOTSTRAP_KEY: z
    .string()
    .regex(/^sk_live_[A-Za-z0-9]{20,}$/, "must look like sk_live_ followed by at least 20 letters or digits")
    .optional()
    .meta(
      doc(["api"], "If set, an admin account with this API key (`sk_live_...`) exists after start-up.", {
        secret: true,
      }),
    ),
  API_BOOTSTRAP_KEY_FILE: z
    .string()
    .optional()
    .meta(doc(["api"], "A file holding `API_BOOTSTRAP_KEY`, read at start-up when `API_BOOTSTRAP_KEY` is unset.")),
  API_RATE_LIMIT: z.coerce
    .number()
    .int()
    .min(0)
    .default(600)
    .meta(doc(["api"], "Requests per API key per window; 0 turns rate limiting off.")),
  API_RATE_LIMIT_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(60)
    .meta(doc(["api"], "The rate limit's window.")),
  API_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024)
    .meta(doc(["api"], "Largest request body the api reads.")),
  SECRET_ROTATION_GRACE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(24 * 3600)
    .meta(doc(["api"], "How long a stream's previous secret keeps signing after a rotation.")),
  // Keep it under the server idle timeout of 120 s.
  API_SSE_HEARTBEAT_SECONDS: z.coerce
    .number()
    .positive()
    .default(15)
    .meta(doc(["api"], "A comment line on idle Server-Sent Events streams this often, so proxies keep them open.")),
  API_SSE_POLL_SECONDS: z.coerce
    .number()
    .positive()
    .default(5)
    .meta(doc(["api"], "How often the chain-log SSE stream reads the log without a NOTIFY wake-up (its safety net).")),
  STATUS_CACHE_SECONDS: z.coerce
    .number()
    .min(0)
    .default(3)
    .meta(doc(["api"], "How long `/status` may serve a cached answer.")),
});

/** The fields above plus the rules that tie several variables together. */
export const envSchema = envFields
  .superRefine((env, ctx) => {
    // A backfiller with nowhere to fetch from would run and silently never fill anything.
    if (env.AUTO_BACKFILL && !env.AUTO_BACKFILL_SOURCE) {
      ctx.addIssue({ code: "custom", path: ["AUTO_BACKFILL_SOURCE"], message: "required when AUTO_BACKFILL=true" });
    }
    // Below MAX_BODY_BYTES a body the indexer accepts could never find room, and the node would retry it forever.
    if (env.MAX_INFLIGHT_BODY_BYTES !== undefined && env.MAX_INFLIGHT_BODY_BYTES < env.MAX_BODY_BYTES) {
      ctx.addIssue({
        code: "custom",
        path: ["MAX_INFLIGHT_BODY_BYTES"],
        message: `must be at least MAX_BODY_BYTES (${env.MAX_BODY_BYTES})`,
      });
    }
  })
  .transform((env) => ({
    ...env,
    MAX_INFLIGHT_BODY_BYTES: env.MAX_INFLIGHT_BODY_BYTES ?? Math.max(GIB, env.MAX_BODY_BYTES),
    NETWORKS: env.NETWORKS && env.NETWORKS.length > 0 ? [...new Set(env.NETWORKS)] : [env.STACKS_NETWORK],
  }));

export type Config = z.infer<typeof envSchema>;
export type StacksNetwork = z.infer<typeof network>;

export class ConfigError extends Error {
  readonly code = "INVALID_CONFIG";
}

type FieldName = keyof typeof envFields.shape;

/** A field's default as an operator would write it: the input default, else a plain output default. */
function defaultText(field: z.ZodType, json: { default?: unknown }): string | undefined {
  if (json.default !== undefined) return String(json.default);
  if (!(field instanceof z.ZodDefault)) return undefined;
  const value: unknown = field._zod.def.defaultValue;
  return ["string", "number", "boolean"].includes(typeof value) ? String(value) : undefined;
}

/**
 * Each variable of the schema with what the configuration reference says about it, its default and
 * its input JSON schema (accepted values), in schema order.
 */
export function variableDocs(): {
  name: string;
  doc: VariableDoc;
  fallback: string | undefined;
  schema: Record<string, unknown>;
}[] {
  return Object.entries(envFields.shape).map(([name, field]) => {
    const doc = field.meta() as VariableDoc | undefined;
    if (!doc?.description) throw new Error(`config variable ${name} has no .meta(doc(...)) description`);
    const schema = z.toJSONSchema(field, { io: "input", unrepresentable: "any" });
    return { name, doc, fallback: defaultText(field, schema), schema };
  });
}

/** Variables whose values an error message must never repeat. */
const SECRET_VARIABLES = new Set(
  Object.entries(envFields.shape)
    .filter(([, field]) => (field.meta() as VariableDoc | undefined)?.secret)
    .map(([name]) => name),
);

/** `X_FILE` names a file holding X (Docker secrets, a volume written by the compose `init` service). */
const FILE_SUFFIX = "_FILE";
const FILE_VARIABLES = Object.keys(envFields.shape).filter(
  (name) => name.endsWith(FILE_SUFFIX) && name.slice(0, -FILE_SUFFIX.length) in envFields.shape,
);

function isUrlVariable(name: string): boolean {
  let field: unknown = envFields.shape[name as FieldName];
  while (field instanceof z.ZodOptional || field instanceof z.ZodDefault) field = field.unwrap();
  return field instanceof z.ZodURL;
}

/** A bad value as an operator may see it in a log: secrets hidden, URL credentials masked. */
function shownValue(name: string, value: string | undefined): string {
  if (SECRET_VARIABLES.has(name)) return "(hidden)";
  return JSON.stringify(value !== undefined && isUrlVariable(name) ? redactUrl(value) : (value ?? ""));
}

/**
 * Fills X from the file named by X_FILE when X itself is unset (X wins when both are set, so an
 * operator can override a generated secret in the environment). Returns the problems, by variable.
 */
function readFileVariables(env: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const fileVar of FILE_VARIABLES) {
    const target = fileVar.slice(0, -FILE_SUFFIX.length);
    const path = env[fileVar];
    if (path === undefined || env[target] !== undefined) continue;
    try {
      const value = readFileSync(path, "utf8").trim();
      if (value === "") problems.push(`  ${fileVar}=${JSON.stringify(path)}: the file is empty`);
      else env[target] = value;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      problems.push(`  ${fileVar}=${JSON.stringify(path)}: cannot read the file (${code})`);
    }
  }
  return problems;
}

/** Parses the environment; throws one error naming every bad variable, so an operator fixes them in one go. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""),
  );
  const fileProblems = readFileVariables(present);
  const parsed = envSchema.safeParse(present);
  if (parsed.success && fileProblems.length === 0) return parsed.data;
  const lines = (parsed.error?.issues ?? []).map((issue) => {
    const name = String(issue.path[0] ?? "");
    const entry = issue.path.length > 1 ? ` (entry ${issue.path.slice(1).join(".")})` : "";
    const from = env[name] === undefined && present[name] !== undefined ? ` (read from ${name}${FILE_SUFFIX})` : "";
    return `  ${name}=${shownValue(name, present[name])}${from}${entry}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid environment:\n${[...fileProblems, ...lines].join("\n")}`);
}
