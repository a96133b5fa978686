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

/** Every environment variable any service reads. Defaults make `bun run dev` work with no setup. */
const envFields = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Address to listen on; the Docker image sets 0.0.0.0. */
  HOST: z
    .union([z.ipv4(), z.ipv6(), z.hostname()], { error: "expected an address or host name, e.g. 127.0.0.1 or 0.0.0.0" })
    .default("127.0.0.1"),
  /** Who may POST event-observer bodies; reads are open to anyone who can reach the port. */
  OBSERVER_ALLOWED_IPS: ipRanges.prefault(LOCAL_NETWORKS),
  TRUST_PROXY: proxyHops.default(0),
  STACKS_NETWORK: network.default("mainnet"),
  REQUIRE_INTEGRITY: bool.default(false),
  AUTO_BACKFILL: bool.default(false),
  AUTO_BACKFILL_RATE: z.coerce.number().positive().default(10),
  AUTO_BACKFILL_SOURCE: z.url().optional(),
  AUTO_BACKFILL_SOURCE_TYPE: z.enum(["stacks-api", "second-layer"]).default("stacks-api"),
  AUTO_BACKFILL_GRACE_SECONDS: z.coerce.number().int().min(0).default(60),
  /** Sent as `x-api-key` to a stacks-api source: Hiro's public API rate-limits anonymous clients hard. */
  AUTO_BACKFILL_SOURCE_API_KEY: z
    .string()
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces: it is sent as an HTTP header")
    .optional(),
  STACKS_NODE_RPC_URL: z.url().optional(),
  /** How often the indexer checks that the node's tip is canonical here (with STACKS_NODE_RPC_URL). */
  NODE_TIP_CHECK_SECONDS: z.coerce.number().positive().default(5),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(500 * 1024 * 1024),
  /** Body bytes held in memory across concurrent POSTs; default max(1 GiB, MAX_BODY_BYTES). */
  MAX_INFLIGHT_BODY_BYTES: z.coerce.number().int().positive().optional(),

  // Worker: matching and webhook delivery.
  /** Networks whose chain logs this worker serves; default: STACKS_NETWORK. */
  NETWORKS: commaList.pipe(z.array(network)).optional(),
  /** Streams delivered in parallel by one worker process. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16),
  /** Port of the worker's (and view processor's) /health and /metrics. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Encrypts stream secrets at rest: 32 random bytes, base64 or hex (`openssl rand -base64 32`). */
  SECRETS_KEY: z
    .string()
    .refine((v) => secretsKeySchema.safeParse(v).success, {
      message: "must be 32 bytes as 64 hex digits or 44 base64 characters (`openssl rand -base64 32`)",
    })
    .optional(),
  /** Hosts exempt from the webhook SSRF guard (self-hosted receivers on a private network, tests). */
  WEBHOOK_ALLOWED_PRIVATE_HOSTS: z
    .string()
    .transform((v) => parseAllowedHosts(v))
    .prefault(""),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().positive().default(15),
  /** Waits before each retry of a failed delivery; the last one repeats until the delivery is parked. */
  WEBHOOK_RETRY_SCHEDULE: durations.prefault("5s,30s,2m,10m,30m,1h,3h,6h,12h,24h"),
  /** Consecutive failed attempts after which a stream is marked failed (its deliveries wait). */
  STREAM_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(20),
  /** Age after which delivered and cancelled deliveries and their attempts are deleted. */
  DELIVERY_RETENTION_DAYS: z.coerce.number().positive().default(30),

  // View processor
  /** Chain log entries a view processes per transaction. */
  VIEW_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Blocks this close to the tip keep undo data for reorgs; deeper rollbacks need a reindex. */
  VIEW_UNDO_DEPTH: z.coerce.number().int().min(1).default(500),
  /** Longest a query of a view's table may run (ms). */
  VIEW_QUERY_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),

  // API
  /** If set, an admin account with this key exists after start-up (`sk_live_...`). */
  API_BOOTSTRAP_KEY: z
    .string()
    .regex(/^sk_live_[A-Za-z0-9]{20,}$/, "must look like sk_live_ followed by at least 20 letters or digits")
    .optional(),
  /** Requests per API key per window; 0 turns rate limiting off. */
  API_RATE_LIMIT: z.coerce.number().int().min(0).default(600),
  API_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().positive().default(60),
  /** Largest request body the API reads. */
  API_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** How long the previous secret keeps signing after a rotation. */
  SECRET_ROTATION_GRACE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(24 * 3600),
  /** A comment line on idle Server-Sent Events streams this often, so proxies keep them open (keep it under the server idle timeout of 120 s). */
  API_SSE_HEARTBEAT_SECONDS: z.coerce.number().positive().default(15),
  /** How often the chain-log SSE stream reads the log without a NOTIFY wake-up (its safety net). */
  API_SSE_POLL_SECONDS: z.coerce.number().positive().default(5),
  /** How long /status may serve a cached answer. */
  STATUS_CACHE_SECONDS: z.coerce.number().min(0).default(3),
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

/** Variables whose values an error message must never repeat. */
const SECRET_VARIABLES = new Set(["AUTO_BACKFILL_SOURCE_API_KEY", "SECRETS_KEY", "API_BOOTSTRAP_KEY"]);

function isUrlVariable(name: string): boolean {
  let field: unknown = envFields.shape[name as keyof typeof envFields.shape];
  while (field instanceof z.ZodOptional || field instanceof z.ZodDefault) field = field.unwrap();
  return field instanceof z.ZodURL;
}

/** A bad value as an operator may see it in a log: secrets hidden, URL credentials masked. */
function shownValue(name: string, value: string | undefined): string {
  if (SECRET_VARIABLES.has(name)) return "(hidden)";
  return JSON.stringify(value !== undefined && isUrlVariable(name) ? redactUrl(value) : (value ?? ""));
}

/** Parses the environment; throws one error naming every bad variable, so an operator fixes them in one go. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "");
    const entry = issue.path.length > 1 ? ` (entry ${issue.path.slice(1).join(".")})` : "";
    return `  ${name}=${shownValue(name, env[name])}${entry}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid environment:\n${lines.join("\n")}`);
}
