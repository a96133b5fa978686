import { redactUrl } from "@second-layer/shared/redact-url";
import type { z } from "zod";
import { SourceError } from "./block-source.ts";

/** A source that stops answering must not hold up the backfiller (or its shutdown) forever. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface RequestOptions {
  signal: AbortSignal;
  headers?: Record<string, string>;
}

function retryAfterMs(res: Response): number | undefined {
  const seconds = Number(res.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/**
 * GETs a URL as text; null on 404. Anything else that is not a 2xx becomes a SourceError saying whether
 * trying again can help. Aborts by `signal` (shutdown) are rethrown as they are: they are not source failures.
 * Error messages name the URL without credentials or query string: they end up in the log.
 */
export async function getText(url: string, opts: RequestOptions): Promise<string | null> {
  const shown = redactUrl(url);
  try {
    const res = await fetch(url, {
      headers: opts.headers,
      signal: AbortSignal.any([opts.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    const text = await res.text();
    if (res.ok) return text;
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    throw new SourceError(`GET ${shown}: HTTP ${res.status} ${text.slice(0, 200)}`, retryable, retryAfterMs(res));
  } catch (err) {
    if (err instanceof SourceError || opts.signal.aborted) throw err;
    // Connection refused or reset, timeout, body cut off: the network, not the data.
    throw new SourceError(`GET ${shown}: ${(err as Error).message}`, true);
  }
}

/** GETs JSON and validates it with `schema`; null on 404. A response of another shape is not retried. */
export async function getJson<S extends z.ZodType>(
  url: string,
  schema: S,
  opts: RequestOptions,
): Promise<z.infer<S> | null> {
  const text = await getText(url, opts);
  if (text === null) return null;
  const shown = redactUrl(url);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SourceError(`GET ${shown}: response is not JSON: ${text.slice(0, 200)}`, false);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SourceError(`GET ${shown}: unexpected response at ${issue?.path.join(".")}: ${issue?.message}`, false);
  }
  return parsed.data;
}
