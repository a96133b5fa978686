import { z } from "zod";
import { type IpRange, parseIpRange } from "./ip-ranges.ts";
import { redactUrl } from "./redact-url.ts";

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
  }));

export type Config = z.infer<typeof envSchema>;
export type StacksNetwork = z.infer<typeof network>;

export class ConfigError extends Error {
  readonly code = "INVALID_CONFIG";
}

/** Variables whose values an error message must never repeat. */
const SECRET_VARIABLES = new Set(["AUTO_BACKFILL_SOURCE_API_KEY"]);

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
    const name = issue.path.join(".");
    return `  ${name}=${shownValue(name, env[name])}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid environment:\n${lines.join("\n")}`);
}
