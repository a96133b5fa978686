import type { BlockSource as BlockOrigin } from "@second-layer/shared/db/tables";
import { describeIssues, type NewBlockPayload, newBlockSchema } from "@second-layer/shared/stacks/node-payloads";

/** A block fetched to fill a gap: the `/new_block` body that gets journaled, and its validated form. */
export interface SourceBlock {
  body: string;
  payload: NewBlockPayload;
}

/** Where missing blocks come from. Each source turns its own data into a node-shaped `/new_block` body. */
export interface BlockSource {
  readonly kind: Exclude<BlockOrigin, "node">;
  /** The canonical block at `height` as the source sees it; null when the source does not have it (yet). */
  fetchBlock(height: number, signal: AbortSignal): Promise<SourceBlock | null>;
}

/** A source failed. `retryable` says whether asking again soon can help (timeouts, 5xx, 429). */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Checks a body at the boundary, before it can reach the journal: a source that serves something else
 * than the block asked for must not leave a failed body (or a wrong block) behind.
 */
export function parseSourceBlock(body: string, height: number, origin: string): SourceBlock {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new SourceError(`${origin}: block ${height} is not JSON: ${(err as Error).message}`, false);
  }
  const parsed = newBlockSchema.safeParse(json);
  if (!parsed.success) {
    const first = describeIssues(parsed.error)[0];
    throw new SourceError(
      `${origin}: block ${height} is not a valid /new_block body: ${first?.path}: ${first?.message}`,
      false,
    );
  }
  if (parsed.data.block_height !== height) {
    throw new SourceError(`${origin}: asked for block ${height}, got ${parsed.data.block_height}`, false);
  }
  return { body, payload: parsed.data };
}
