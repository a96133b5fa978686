import type { StacksNetwork } from "@second-layer/shared/config";
import type { Sql } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import {
  parseStreamFilters,
  parseStreamOptions,
  type StreamFilter,
  type StreamOptions,
} from "@second-layer/shared/streams/filters";
import { FilterIndex } from "@second-layer/shared/streams/match";

/** What the matcher knows of one stream of its network. */
export interface RegisteredStream {
  id: string;
  status: "active" | "paused" | "failed" | "disabled";
  filters: StreamFilter[];
  options: StreamOptions;
  startBlock: number | null;
  endBlock: number | null;
  confirmations: number;
  /** Log entries after this seq are matched live; null while the stream catches up on stored blocks. */
  liveFromSeq: number | null;
}

interface StreamRow {
  id: string;
  status: RegisteredStream["status"];
  filters: unknown;
  options: unknown;
  start_block: number | null;
  end_block: number | null;
  confirmations: number;
  live_from_seq: string | null;
}

/**
 * The streams of one network, with an index of the live ones' filters so that a block is matched once
 * for all of them. It reloads when `stream_registry.version` moves, which every change to a stream's
 * definition bumps in its own transaction: a reload always sees the change that moved the version.
 */
export class StreamRegistry {
  readonly streams = new Map<string, RegisteredStream>();
  index: FilterIndex;
  private version = -1;

  constructor(
    private readonly network: StacksNetwork,
    private readonly log: Logger,
  ) {
    this.index = new FilterIndex(network);
  }

  /** Reloads if a stream changed since the last load; true when it did. */
  async refresh(sql: Sql): Promise<boolean> {
    const [row] = await sql<{ version: string }[]>`
      select version from stream_registry where network = ${this.network}`;
    const version = Number(row?.version ?? 0);
    if (version === this.version) return false;
    const rows = await sql<StreamRow[]>`
      select s.id, s.status, s.filters, s.options, s.start_block, s.end_block, s.confirmations, st.live_from_seq
      from streams s join stream_state st on st.stream_id = s.id
      where s.network = ${this.network}`;
    this.streams.clear();
    this.index = new FilterIndex(this.network);
    for (const r of rows) {
      let filters: StreamFilter[];
      let options: StreamOptions;
      try {
        filters = parseStreamFilters(this.network, r.filters);
        options = parseStreamOptions(r.options);
      } catch (err) {
        // Stored definitions were validated on the way in; one that no longer parses is left out, loudly.
        this.log.error(
          { streamId: r.id, err: (err as Error).message },
          "stream definition does not parse: not matched",
        );
        continue;
      }
      const stream: RegisteredStream = {
        id: r.id,
        status: r.status,
        filters,
        options,
        startBlock: r.start_block,
        endBlock: r.end_block,
        confirmations: r.confirmations,
        liveFromSeq: r.live_from_seq === null ? null : Number(r.live_from_seq),
      };
      this.streams.set(r.id, stream);
      this.indexIfLive(stream);
    }
    this.version = version;
    this.log.debug({ network: this.network, streams: this.streams.size, version }, "stream registry loaded");
    return true;
  }

  /** Streams still catching up on stored blocks, oldest first (the order they were created). */
  catchingUp(): RegisteredStream[] {
    return [...this.streams.values()].filter((s) => s.liveFromSeq === null && s.status !== "disabled");
  }

  /** The catch-up of `id` reached the chain's head at `seq`: it is matched live from there on. */
  markLive(id: string, seq: number): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    stream.liveFromSeq = seq;
    this.indexIfLive(stream);
  }

  private indexIfLive(stream: RegisteredStream): void {
    // Paused and failed streams keep accumulating deliveries (they go out on resume); disabled ones do not.
    if (stream.liveFromSeq !== null && stream.status !== "disabled") {
      this.index.set(stream.id, stream.filters, stream.options);
    }
  }
}
