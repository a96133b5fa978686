import { parseEventLog } from "@second-layer/shared/event-log";
import { redactUrl } from "@second-layer/shared/redact-url";
import { type BlockSource, parseSourceBlock, type SourceBlock, SourceError } from "./block-source.ts";
import { getText } from "./http.ts";

/**
 * Blocks from another Second Layer indexer's `GET /journal/blocks`: the journaled `/new_block` bodies,
 * byte for byte as its node sent them, so nothing has to be rebuilt.
 */
export class SecondLayerSource implements BlockSource {
  readonly kind = "second-layer";
  private readonly base: string;

  constructor(baseUrl: string) {
    this.base = baseUrl.replace(/\/+$/, "");
  }

  async fetchBlock(height: number, signal: AbortSignal): Promise<SourceBlock | null> {
    const url = `${this.base}/journal/blocks?from=${height}&to=${height}`;
    const text = await getText(url, { signal });
    // The route itself is missing: not a Second Layer indexer, or one too old to serve its journal.
    if (text === null) throw new SourceError(`${this.kind}: GET ${redactUrl(url)} answered 404`, false);
    let rows: ReturnType<typeof parseEventLog>;
    try {
      rows = parseEventLog(text);
    } catch (err) {
      throw new SourceError(`${this.kind}: GET ${redactUrl(url)}: ${(err as Error).message}`, false);
    }
    const row = rows.find((r) => r.path === "/new_block");
    return row ? parseSourceBlock(row.payload, height, this.kind) : null;
  }
}
