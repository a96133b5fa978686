import { SecondLayerError } from "@second-layer/sdk";

/** Exit codes of `sl` (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** A bad command line, config or input file, or a local failure. */
  usage: 1,
  /** The API answered with an error, or the operation reported a failure. */
  failed: 2,
  /** The API could not be reached (refused, unresolvable, timed out). */
  unreachable: 3,
} as const;

/** A mistake in how `sl` was called or configured: exit 1 with the message and a hint. */
export class UsageError extends Error {}

/** The exit code and the lines to print for an error that ended a command. */
export function describeError(err: unknown): { code: number; lines: string[] } {
  if (err instanceof UsageError) return { code: EXIT.usage, lines: [err.message] };
  if (err instanceof SecondLayerError) {
    if (err.code === "NETWORK_ERROR" || err.code === "TIMEOUT") {
      return { code: EXIT.unreachable, lines: [err.message, "check --api-url / SL_API_URL, and that the API runs"] };
    }
    const lines = [`${err.code}${err.status ? ` (HTTP ${err.status})` : ""}: ${err.message}`];
    for (const d of err.details ?? []) lines.push(`  ${d.path}: ${d.message}`);
    if (err.code === "UNAUTHORIZED") lines.push("check --api-key / SL_API_KEY");
    return { code: EXIT.failed, lines };
  }
  return { code: EXIT.usage, lines: [(err as Error).message ?? String(err)] };
}
