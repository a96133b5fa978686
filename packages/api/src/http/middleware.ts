import type { Db } from "@second-layer/shared/db/connect";
import { errorBody } from "@second-layer/shared/error-body";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { routePath } from "hono/route";
import { type Caller, findCaller } from "../auth/api-keys.ts";
import type { AppEnv } from "./app-env.ts";
import type { ApiMetrics } from "./metrics.ts";

/** Counts and times every request by its route pattern (never the raw path: ids would explode labels). */
export function requestMetrics(metrics: ApiMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const route =
      c.res.status === 404 && !c.get("routePattern") ? "(unmatched)" : (c.get("routePattern") ?? routePath(c));
    metrics.requests.inc({ method: c.req.method, route, status: String(c.res.status) });
    metrics.requestSeconds.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
  };
}

/** 413 over API_MAX_BODY_BYTES, counted as the body streams in (a missing Content-Length does not help). */
export function apiBodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => c.json(errorBody("BODY_TOO_LARGE", `request body exceeds API_MAX_BODY_BYTES=${maxBytes}`), 413),
  });
}

const KEY_CACHE_MS = 5_000;

/** Looked-up keys, by key, for a few seconds; cleared when this process revokes a key. */
export type KeyCache = Map<string, { caller: Caller | null; until: number }>;
const LAST_USED_EVERY_MS = 60_000;

/**
 * `Authorization: Bearer sk_live_...` on every /api/* route. Keys are looked up by their hash; a
 * short cache keeps lookups off the hot path (a revoked key stops working within seconds), and
 * `last_used_at` is written at most once a minute per key.
 */
export function authenticate(db: Db, cache: KeyCache): MiddlewareHandler<AppEnv> {
  const lastUsed = new Map<string, number>();
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) {
      return c.json(errorBody("UNAUTHORIZED", "send an API key as `Authorization: Bearer sk_live_...`"), 401, {
        "www-authenticate": 'Bearer realm="second-layer"',
      });
    }
    const key = m[1] as string;
    const now = Date.now();
    let entry = cache.get(key);
    if (!entry || entry.until < now) {
      entry = { caller: await findCaller(db.sql, key), until: now + KEY_CACHE_MS };
      if (cache.size > 10_000) cache.clear();
      cache.set(key, entry);
    }
    if (!entry.caller) {
      return c.json(errorBody("UNAUTHORIZED", "this API key is unknown or revoked"), 401, {
        "www-authenticate": 'Bearer realm="second-layer", error="invalid_token"',
      });
    }
    const caller = entry.caller;
    if ((lastUsed.get(caller.keyId) ?? 0) + LAST_USED_EVERY_MS < now) {
      lastUsed.set(caller.keyId, now);
      void db.sql`update api_keys set last_used_at = now() where id = ${caller.keyId}`.catch(() => {});
    }
    c.set("caller", caller);
    await next();
  };
}

/**
 * Per-key fixed-window rate limit (API_RATE_LIMIT per API_RATE_LIMIT_WINDOW_SECONDS), in this
 * process's memory: with several API processes each enforces its own window. Answers carry
 * `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds) and `RateLimit-Policy`;
 * a refusal is 429 with `Retry-After`.
 */
export function rateLimit(limit: number, windowSeconds: number): MiddlewareHandler<AppEnv> {
  const windows = new Map<string, { start: number; count: number }>();
  const windowMs = windowSeconds * 1000;
  return async (c, next) => {
    if (limit === 0) return await next();
    const keyId = c.get("caller").keyId;
    const now = Date.now();
    let w = windows.get(keyId);
    if (!w || now - w.start >= windowMs) {
      w = { start: now, count: 0 };
      windows.set(keyId, w);
    }
    w.count++;
    const reset = Math.max(1, Math.ceil((w.start + windowMs - now) / 1000));
    const headers = {
      "ratelimit-limit": String(limit),
      "ratelimit-remaining": String(Math.max(0, limit - w.count)),
      "ratelimit-reset": String(reset),
      "ratelimit-policy": `${limit};w=${windowSeconds}`,
    };
    if (w.count > limit) {
      return c.json(errorBody("RATE_LIMITED", `more than ${limit} requests in ${windowSeconds} s with this key`), 429, {
        ...headers,
        "retry-after": String(reset),
      });
    }
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  };
}
