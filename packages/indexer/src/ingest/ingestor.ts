import type { StacksNetwork } from "@second-layer/shared/config";
import { type Db, isTransientDbError, type Sql } from "@second-layer/shared/db/connect";
import type { BlockSource } from "@second-layer/shared/db/tables";
import type { Logger } from "@second-layer/shared/logger";
import { lockChainState } from "../store/chain-state.ts";
import {
  appendJournal,
  type FailureInfo,
  readJournal,
  recordFailure,
  resolveFailure,
  retriedBody,
  sha256Hex,
} from "./journal.ts";
import { JOURNAL_ONLY_ROUTES, PayloadError, ROUTES, type Route } from "./routes.ts";

export type IngestOutcome =
  | { ok: true; journalId: string; path: string; result: unknown; duplicate?: true }
  | { ok: false; journalId: string; path: string; error: FailureInfo };

/** Said once per process: blocks of another network than STACKS_NETWORK are being indexed. */
export function warnForeignNetwork(log: Logger, network: string, address: string): void {
  log.warn(
    { network, address },
    `the node's blocks carry ${address}, which is not a ${network} address: is the node on another network? Set STACKS_NETWORK to the node's network`,
  );
}

/** Postgres is unreachable: nothing was stored, and the sender should retry (HTTP 503). */
export class DatabaseUnavailableError extends Error {
  readonly code = "DATABASE_UNAVAILABLE";
}

/** Thrown inside the ingest transaction to roll it back when the body cannot be stored (bad payload). */
class Unusable extends Error {
  constructor(readonly failure: FailureInfo) {
    super(failure.message);
  }
}

/** A route's pure parse, validate and decode: whatever it throws is about the body, never the database. */
function prepare(route: Route<never>, json: unknown): unknown {
  try {
    return route.prepare(json);
  } catch (err) {
    throw new Unusable(failureOf(err));
  }
}

/** Thrown inside the ingest transaction to roll it back when the body turns out to be stored already. */
class AlreadyStored extends Error {
  constructor(readonly journalId: string) {
    super("already stored");
  }
}

const decoder = new TextDecoder("utf-8");

/** Unknown paths remembered so each is warned about once; the oldest is forgotten beyond this. */
export const MAX_WARNED_PATHS = 100;

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(body));
  } catch (err) {
    throw new PayloadError("INVALID_JSON", `body is not valid JSON: ${(err as Error).message}`);
  }
}

function failureOf(err: unknown): FailureInfo {
  if (err instanceof PayloadError) return { code: err.code, message: err.message, details: err.details };
  const e = err as { code?: string; message?: string; detail?: string };
  return {
    code: "PROCESSING_FAILED",
    message: `could not process the body: ${e.message ?? String(err)}${e.detail ? ` (${e.detail})` : ""}`,
    details: e.code ? [{ path: "(database)", message: `SQLSTATE ${e.code}` }] : undefined,
  };
}

/**
 * Turns event-observer bodies into rows. Journal first: every body is appended to the journal in the
 * same transaction as its rows; a body we cannot store is journaled with its error instead, so nothing
 * the node sent is ever lost, and `reprocess` can re-run it after a fix. A retried POST is recognised
 * before it is decoded and answered without being journaled again.
 */
export class Ingestor {
  private readonly warnedPaths = new Set<string>();
  private warnedNetwork = false;

  constructor(
    private readonly db: Db,
    readonly network: StacksNetwork,
    private readonly log: Logger,
  ) {}

  async ingest(path: string, body: Uint8Array, source: BlockSource = "node"): Promise<IngestOutcome> {
    const route = ROUTES[path];
    if (!route && !JOURNAL_ONLY_ROUTES.has(path) && !this.warnedPaths.has(path)) {
      const [oldest] = this.warnedPaths;
      if (oldest !== undefined && this.warnedPaths.size >= MAX_WARNED_PATHS) this.warnedPaths.delete(oldest);
      this.warnedPaths.add(path);
      this.log.warn({ path }, "POST to an unknown event-observer path: journaled only");
    }
    const digest = sha256Hex(body);
    let json: unknown;
    let failure: FailureInfo | null = null;
    if (route) {
      try {
        json = parseJson(body);
      } catch (err) {
        failure = failureOf(err);
      }
    }
    return await this.guard(async () => {
      let foreign: string | null = null;
      if (!failure) {
        try {
          const outcome = await this.db.sql.begin(async (tx) => {
            // One round trip. The lock comes first on the server, so the duplicate check and the
            // route's look-up after it see every body committed before ours; a duplicate is recognised
            // before the body is decoded, and rolls the journal row back.
            const [state, copy, journalId, lookedUp] = await Promise.all([
              lockChainState(tx, this.network),
              this.storedCopy(tx, path, route, json, digest, source),
              appendJournal(tx, this.network, path, body, source, digest),
              route?.lookUp?.(tx, this.network, json),
            ]);
            if (copy !== null) throw new AlreadyStored(copy);
            const prepared = route ? prepare(route, json) : undefined;
            if (!this.warnedNetwork && route?.foreignAddress)
              foreign = route.foreignAddress(prepared as never, this.network);
            const ctx = { ...lookedUp, network: this.network, journalId, source, state };
            const result = route ? await route.store(tx, prepared as never, ctx) : null;
            if (route?.isDuplicate?.(result))
              throw new AlreadyStored((result as { journalId?: string }).journalId ?? "");
            return { ok: true as const, journalId, path, result };
          });
          const fields = { path, journalId: outcome.journalId, source, bytes: body.byteLength };
          if (route?.describe) this.log.info({ ...fields, ...route.describe(outcome.result) }, "ingested");
          else this.log.debug(fields, "ingested");
          if (foreign && !this.warnedNetwork) {
            this.warnedNetwork = true;
            warnForeignNetwork(this.log, this.network, foreign);
          }
          return outcome;
        } catch (err) {
          if (err instanceof AlreadyStored) return this.duplicate(path, err.journalId, source);
          if (err instanceof Unusable) {
            failure = err.failure;
          } else {
            if (isTransientDbError(err)) throw err;
            failure = failureOf(err);
            this.log.error({ path, err }, "storing a body failed; journaling it as a failure");
          }
        }
      } else {
        // Not JSON: only a retry of the node's last POST can be recognised.
        const copy = await this.storedCopy(this.db.sql, path, route, json, digest, source);
        if (copy !== null) return this.duplicate(path, copy, source);
      }
      const error = failure;
      const journalId = await this.db.sql.begin(async (tx) => {
        const id = await appendJournal(tx, this.network, path, body, source, digest);
        await recordFailure(tx, id, error);
        return id;
      });
      this.log.warn({ path, journalId, code: error.code, error: error.message }, "body journaled with an error");
      return { ok: false as const, journalId, path, error };
    });
  }

  /** Re-runs a journaled body through today's code. The journal itself is never rewritten. */
  async reprocess(journalId: string): Promise<IngestOutcome> {
    return await this.guard(async () => {
      const entry = await readJournal(this.db.sql, journalId);
      const route: Route<never> | undefined = ROUTES[entry.path];
      // Bodies journaled before the kind of backfill source was recorded are treated as the lossy kind.
      const source: BlockSource = entry.source === "backfill" ? "stacks-api" : entry.source;
      try {
        const prepared = route ? route.prepare(parseJson(entry.body)) : undefined;
        const result = await this.db.sql.begin(async (tx) => {
          const state = await lockChainState(tx, entry.network);
          const r = route
            ? await route.store(tx, prepared as never, { network: entry.network, journalId, source, state })
            : null;
          await resolveFailure(tx, journalId);
          return r;
        });
        return { ok: true, journalId, path: entry.path, result };
      } catch (err) {
        if (isTransientDbError(err)) throw err;
        const error = failureOf(err);
        await recordFailure(this.db.sql, journalId, error);
        return { ok: false, journalId, path: entry.path, error };
      }
    });
  }

  private async storedCopy(
    sql: Sql,
    path: string,
    route: Route<never> | undefined,
    json: unknown,
    digest: string,
    source: BlockSource,
  ): Promise<string | null> {
    if (route?.storedCopy && json !== undefined) return await route.storedCopy(sql, this.network, json, source);
    return source === "node" ? await retriedBody(sql, this.network, path, digest) : null;
  }

  private duplicate(path: string, journalId: string, source: BlockSource): IngestOutcome {
    this.log.debug({ path, journalId, source }, "duplicate body: already stored");
    return { ok: true, journalId, path, result: { status: "duplicate" }, duplicate: true };
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isTransientDbError(err)) {
        throw new DatabaseUnavailableError(`database unavailable: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
  }
}
