import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const network = z.enum(["mainnet", "testnet", "devnet"]);

/** Every environment variable any service reads. Defaults make `bun run dev` work with no setup. */
const envFields = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  STACKS_NETWORK: network.default("mainnet"),
  REQUIRE_INTEGRITY: bool.default(false),
  AUTO_BACKFILL: bool.default(false),
  AUTO_BACKFILL_RATE: z.coerce.number().positive().default(10),
  AUTO_BACKFILL_SOURCE: z.url().optional(),
  AUTO_BACKFILL_SOURCE_TYPE: z.enum(["stacks-api", "second-layer"]).default("stacks-api"),
  AUTO_BACKFILL_GRACE_SECONDS: z.coerce.number().int().min(0).default(60),
  /** Sent as `x-api-key` to a stacks-api source: Hiro's public API rate-limits anonymous clients hard. */
  AUTO_BACKFILL_SOURCE_API_KEY: z.string().optional(),
  STACKS_NODE_RPC_URL: z.url().optional(),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(500 * 1024 * 1024),
});

/** The fields above plus the rules that tie several variables together. */
export const envSchema = envFields.superRefine((env, ctx) => {
  // A backfiller with nowhere to fetch from would run and silently never fill anything.
  if (env.AUTO_BACKFILL && !env.AUTO_BACKFILL_SOURCE) {
    ctx.addIssue({ code: "custom", path: ["AUTO_BACKFILL_SOURCE"], message: "required when AUTO_BACKFILL=true" });
  }
});

export type Config = z.infer<typeof envSchema>;
export type StacksNetwork = z.infer<typeof network>;

export class ConfigError extends Error {
  readonly code = "INVALID_CONFIG";
}

/** Parses the environment; throws one error naming every bad variable, so an operator fixes them in one go. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const name = issue.path.join(".");
    return `  ${name}=${JSON.stringify(env[name] ?? "")}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid environment:\n${lines.join("\n")}`);
}
