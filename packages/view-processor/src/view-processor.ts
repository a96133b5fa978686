import type { StacksNetwork } from "@second-layer/shared/config";
import { type Db, isTransientDbError } from "@second-layer/shared/db/connect";
import type { Logger } from "@second-layer/shared/logger";
import { parseViewDefinition } from "@second-layer/shared/views/definition";
import { handlerIndex, ViewHandlerError } from "@second-layer/shared/views/plan-block";
import { Counter, Gauge, type Registry } from "prom-client";
import {
  type BatchOptions,
  type BatchOutcome,
  type LoadedView,
  processBatch,
  recordViewError,
} from "./process-batch.ts";

export interface ViewProcessorOptions {
  db: Db;
  log: Logger;
  networks: StacksNetwork[];
  registry: Registry;
  batchSize: number;
  undoDepth: number;
  /** Safety net when a wake-up is missed. */
  pollMs?: number;
  /** How long one view may work before the others get a turn. */
  sliceMs?: number;
}

interface ViewRow {
  id: string;
  name: string;
  network: StacksNetwork;
  schema_name: string;
  version: number;
  definition: unknown;
}

/**
 * Keeps every active view of NETWORKS in step with the chain log. Several processes may run: each
 * batch takes its view's advisory lock, so a view is processed by one of them at a time. Views take
 * turns (a time slice each), so a view catching up on history does not hold the others back.
 */
export class ViewProcessor {
  private readonly views = new Map<string, LoadedView>();
  private stopping = false;
  /** Counts wake-ups, so one that comes while views are being worked on is not slept through. */
  private pokes = 0;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private readonly metrics;

  constructor(private readonly opts: ViewProcessorOptions) {
    const r = [opts.registry];
    this.metrics = {
      events: new Counter({
        name: "second_layer_view_events_total",
        help: "Chain events read by views' handlers",
        labelNames: ["view"],
        registers: r,
      }),
      ops: new Counter({
        name: "second_layer_view_row_ops_total",
        help: "Row operations written by views",
        labelNames: ["view"],
        registers: r,
      }),
      errors: new Counter({
        name: "second_layer_view_errors_total",
        help: "Views stopped by a handler error",
        labelNames: ["view"],
        registers: r,
      }),
      views: new Gauge({
        name: "second_layer_views_loaded",
        help: "Active views this process keeps in step",
        registers: r,
      }),
    };
  }

  start(): void {
    this.running ??= this.loop();
  }

  poke(): void {
    this.pokes++;
    this.wake?.();
  }

  /** Finishes the batch in hand (committed or rolled back) and stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.poke();
    await this.running;
  }

  /** Loaded views (for /health). */
  loaded(): { id: string; name: string; version: number }[] {
    return [...this.views.values()].map((v) => ({ id: v.id, name: v.name, version: v.version }));
  }

  private async loop(): Promise<void> {
    const pollMs = this.opts.pollMs ?? 2000;
    while (!this.stopping) {
      const pokes = this.pokes;
      let busy = false;
      try {
        await this.refresh();
      } catch (err) {
        this.opts.log.error({ err }, "loading views failed; retrying");
      }
      for (const view of [...this.views.values()]) {
        if (this.stopping) break;
        // One view's trouble (the database, a bug) must not hold the others back: it is retried next round.
        try {
          busy = (await this.work(view)) || busy;
        } catch (err) {
          this.opts.log.error({ err, view: view.name, viewId: view.id }, "view processing failed; retrying");
        }
      }
      if (busy || this.pokes !== pokes) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Loads new views and new versions, and forgets views that stopped or went away. */
  private async refresh(): Promise<void> {
    const rows = await this.opts.db.sql<ViewRow[]>`
      select id, name, network, schema_name, version, definition from views
      where status = 'active' and network = any(${this.opts.networks}::text[])`;
    const seen = new Set<string>();
    for (const r of rows) {
      seen.add(r.id);
      if (this.views.get(r.id)?.version === r.version) continue;
      try {
        const compiled = parseViewDefinition(r.definition, r.network);
        this.views.set(r.id, {
          id: r.id,
          name: r.name,
          schema: r.schema_name,
          version: r.version,
          compiled,
          index: handlerIndex(compiled),
        });
      } catch (err) {
        this.opts.log.error(
          { view: r.name, viewId: r.id, err: (err as Error).message },
          "stored view definition does not parse",
        );
        this.views.delete(r.id);
      }
    }
    for (const id of [...this.views.keys()]) if (!seen.has(id)) this.views.delete(id);
    this.metrics.views.set(this.views.size);
  }

  /** Batches of one view for up to a time slice; true when there may be more to do. */
  private async work(view: LoadedView): Promise<boolean> {
    const { log } = this.opts;
    const until = Date.now() + (this.opts.sliceMs ?? 1000);
    const base: BatchOptions = { batchSize: this.opts.batchSize, undoDepth: this.opts.undoDepth, perBlock: false };
    while (!this.stopping && Date.now() < until) {
      let outcome: BatchOutcome;
      try {
        outcome = await processBatch(this.opts.db, view, base);
      } catch (err) {
        if (isTransientDbError(err) || !(err instanceof ViewHandlerError)) throw err;
        // Collapsed writes span several blocks: run them block by block to name the one that fails.
        try {
          outcome = await processBatch(this.opts.db, view, { ...base, perBlock: true });
        } catch (exact) {
          if (!(exact instanceof ViewHandlerError)) throw exact;
          await recordViewError(this.opts.db.sql, view, exact);
          this.metrics.errors.inc({ view: view.name });
          log.warn(
            { view: view.name, viewId: view.id, height: exact.height, reason: exact.message },
            "view stopped at a block it cannot apply",
          );
          this.views.delete(view.id);
          return false;
        }
      }
      if (outcome.status === "stale") {
        this.views.delete(view.id);
        return true;
      }
      if (outcome.status !== "progress") return false;
      this.metrics.events.inc({ view: view.name }, outcome.events);
      this.metrics.ops.inc({ view: view.name }, outcome.ops);
    }
    return true;
  }
}
