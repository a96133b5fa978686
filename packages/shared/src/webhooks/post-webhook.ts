import { sign } from "@second-layer/sdk/webhooks";
// The package itself, not Bun's built-in "undici" stand-in, which would ignore the guarded dispatcher.
import { type Dispatcher, request } from "undici/index.js";

export interface WebhookRequest {
  url: string;
  /** `webhook-id`: the delivery's id, the same on every attempt. */
  id: string;
  seq: number;
  body: string;
  /** Signing secrets: the current one, and the previous one during a rotation's grace period. */
  secrets: string[];
  timeoutMs: number;
  dispatcher: Dispatcher;
  /** Cancels the request (a worker shutting down); the outcome then says `aborted`. */
  signal?: AbortSignal;
}

export type WebhookOutcome =
  | { ok: true; status: number; ms: number; snippet: string }
  | {
      ok: false;
      status: number | null;
      ms: number;
      error: string;
      snippet: string | null;
      /** 410 Gone: the receiver asks us to stop; the stream is disabled. */
      gone: boolean;
      retryAfterMs: number | null;
      /**
       * Cancelled through `signal`: not an attempt that failed, and the receiver may or may not have
       * seen it. The delivery goes out again later with the same webhook-id.
       */
      aborted: boolean;
    };

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

const SNIPPET_BYTES = 512;
const USER_AGENT = "SecondLayer-Webhooks/1";

/**
 * One signed POST (Standard Webhooks headers, plus `webhook-seq`). Never throws: a timeout, a refused
 * connection or an address the SSRF guard refuses is an outcome like any non-2xx answer.
 */
export async function postWebhook(req: WebhookRequest): Promise<WebhookOutcome> {
  const started = performance.now();
  const timestamp = Math.floor(Date.now() / 1000);
  const ms = () => Math.round(performance.now() - started);
  try {
    const res = await request(req.url, {
      method: "POST",
      dispatcher: req.dispatcher,
      headers: {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": req.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": sign({ id: req.id, timestamp, body: req.body, secrets: req.secrets }),
        "webhook-seq": String(req.seq),
      },
      body: req.body,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
      signal: req.signal
        ? AbortSignal.any([AbortSignal.timeout(req.timeoutMs), req.signal])
        : AbortSignal.timeout(req.timeoutMs),
    });
    const snippet = await readSnippet(res.body);
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode, ms: ms(), snippet };
    const retryAfter = res.headers["retry-after"];
    return {
      ok: false,
      status: res.statusCode,
      ms: ms(),
      error: `HTTP ${res.statusCode}`,
      snippet,
      gone: res.statusCode === 410,
      retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? (retryAfter[0] ?? null) : (retryAfter ?? null)),
      aborted: false,
    };
  } catch (err) {
    const e = err as Error & { code?: string };
    const reason =
      e.name === "TimeoutError" || e.code === "UND_ERR_HEADERS_TIMEOUT"
        ? `timed out after ${req.timeoutMs} ms`
        : e.message;
    const aborted = req.signal?.aborted === true;
    return {
      ok: false,
      status: null,
      ms: ms(),
      error: aborted ? "cancelled: the sender is shutting down" : reason,
      snippet: null,
      gone: false,
      retryAfterMs: null,
      aborted,
    };
  }
}

/** The first bytes of the answer, for the attempt log; the rest is discarded without being read. */
async function readSnippet(body: Dispatcher.ResponseData["body"]): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).byteLength;
      if (size >= SNIPPET_BYTES) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, SNIPPET_BYTES).toString("utf8").replaceAll("\u0000", "");
}
