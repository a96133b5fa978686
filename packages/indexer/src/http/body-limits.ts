import { errorBody } from "@second-layer/shared/error-body";
import type { Logger } from "@second-layer/shared/logger";
import type { Context, MiddlewareHandler } from "hono";
import type { ByteBudget } from "./byte-budget.ts";

export interface BodyLimitOptions {
  /** MAX_BODY_BYTES: larger bodies get 413. */
  maxBodyBytes: number;
  /** MAX_INFLIGHT_BODY_BYTES: body bytes held in memory at once, from the first byte read until answered. */
  inFlight: ByteBudget;
  log: Logger;
  /** How long a body waits for room before 503; under the node's 1 s timeout, so it hears "busy", not silence. */
  busyWaitMs?: number;
}

export type BodyVariables = { Variables: { body: Uint8Array } };

type Read =
  | { ok: true; body: Uint8Array }
  | { ok: false; status: 413; bytes: number; chunked: boolean }
  | { ok: false; status: 503; bytes: number };

type Take = (bytes: number) => Promise<boolean>;

/**
 * Reads the request body into `c.var.body` within both limits and keeps its bytes counted in flight
 * until the handler has answered. Nothing after this middleware runs for a refused body, so nothing is
 * journaled.
 */
export function bodyLimits(opts: BodyLimitOptions): MiddlewareHandler<BodyVariables> {
  const { maxBodyBytes, inFlight, log } = opts;
  const busyWaitMs = opts.busyWaitMs ?? 500;

  function refuse(c: Context, refused: Exclude<Read, { ok: true }>) {
    const path = c.req.path;
    if (refused.status === 413) {
      log.error({ path, bytes: refused.bytes, maxBodyBytes }, "body larger than MAX_BODY_BYTES refused");
      const size = refused.chunked
        ? `chunked body cut off after ${refused.bytes} bytes:`
        : `body of ${refused.bytes} bytes`;
      return c.json(errorBody("BODY_TOO_LARGE", `${size} exceeds MAX_BODY_BYTES=${maxBodyBytes}`), 413);
    }
    log.warn({ path, bytes: refused.bytes, inFlight: inFlight.inUse }, "too many body bytes in flight: answered 503");
    c.header("Retry-After", "1");
    const message =
      `${inFlight.inUse} body bytes are being processed and ${refused.bytes} more do not fit ` +
      `MAX_INFLIGHT_BODY_BYTES=${inFlight.capacity}; retry shortly`;
    return c.json(errorBody("BUSY", message), 503);
  }

  return async (c, next) => {
    let held = 0;
    const take: Take = async (bytes) => {
      const taken = await inFlight.take(bytes, busyWaitMs);
      if (taken) held += bytes;
      return taken;
    };
    try {
      const length = Number(c.req.header("content-length") ?? Number.NaN);
      const read = Number.isSafeInteger(length)
        ? await readDeclared(c.req.raw, length, maxBodyBytes, take)
        : await readChunked(c.req.raw, maxBodyBytes, take);
      if (!read.ok) return refuse(c, read);
      c.set("body", read.body);
      await next();
    } finally {
      inFlight.give(held);
    }
  };
}

/** A Content-Length body: refused, or reserved whole, before its first byte is read. */
async function readDeclared(req: Request, length: number, maxBodyBytes: number, take: Take): Promise<Read> {
  if (length > maxBodyBytes) return { ok: false, status: 413, bytes: length, chunked: false };
  if (!(await take(length))) return { ok: false, status: 503, bytes: length };
  return { ok: true, body: new Uint8Array(await req.arrayBuffer()) };
}

/** A chunked body, of unknown size: counted chunk by chunk, and cut off as soon as it is too large. */
async function readChunked(req: Request, maxBodyBytes: number, take: Take): Promise<Read> {
  if (!req.body) return { ok: true, body: new Uint8Array() };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { ok: true, body: Bun.concatArrayBuffers(chunks, Number.POSITIVE_INFINITY, true) };
    total += value.byteLength;
    if (total > maxBodyBytes) {
      await reader.cancel();
      return { ok: false, status: 413, bytes: total, chunked: true };
    }
    if (!(await take(value.byteLength))) {
      await reader.cancel();
      return { ok: false, status: 503, bytes: value.byteLength };
    }
    chunks.push(value);
  }
}
