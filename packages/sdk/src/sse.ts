import { errorFromBody, SecondLayerError } from "./errors.ts";
import { type CallInit, readBody, type Transport } from "./http.ts";

/** One Server-Sent Event as the EventSource algorithm dispatches it. */
export interface SseEvent {
  event: string;
  data: string;
  /** The last event id the stream set (what a reconnect sends as Last-Event-ID). */
  id: string | undefined;
}

/**
 * Parses a text/event-stream body into events (the WHATWG EventSource rules: `event`, `data`, `id`,
 * `retry` fields, comments ignored, an event dispatched at a blank line when it has data).
 */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
  onRetry: (ms: number) => void = () => {},
): AsyncGenerator<SseEvent, void, undefined> {
  const decoder = new TextDecoder();
  let buffer = "";
  let lastId: string | undefined;
  let event = "";
  let data: string[] = [];
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // Complete lines only; a trailing "\r" may still be half of a "\r\n".
      const lines = buffer.split(/\r\n|\n|\r(?!$)/);
      buffer = done ? "" : (lines.pop() ?? "");
      for (const line of lines) {
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id: lastId };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const val = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = val;
        else if (field === "data") data.push(val);
        else if (field === "id" && !val.includes("\0")) lastId = val;
        else if (field === "retry" && /^\d+$/.test(val)) onRetry(Number(val));
      }
      if (done) return;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

export interface FollowOptions {
  /** Resume after this event id (a seq for the chain log), as a reconnect would. */
  lastEventId?: string;
  /** Stops following: the loop ends without an error. */
  signal?: AbortSignal;
  /** First wait before reconnecting, in ms, when the server sent no `retry` (default 1000). */
  initialDelayMs?: number;
  /** Longest wait between reconnects (default 30 000); waits double after each failed attempt. */
  maxDelayMs?: number;
  /** Told before each reconnect: why, after how many failures in a row, and how long it waits. */
  onReconnect?: (info: ReconnectInfo) => void;
}

export interface ReconnectInfo {
  attempt: number;
  delayMs: number;
  reason: string;
  lastEventId: string | undefined;
}

/** Error codes an event stream's `error` event ends with that a reconnect can get past. */
const TRANSIENT_STREAM_ERRORS = new Set(["DATABASE_UNAVAILABLE", "INTERNAL"]);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Follows an SSE route for as long as the caller iterates: on a dropped connection, a server restart
 * or a transient `error` event it reconnects with `Last-Event-ID` set to the last event received, so
 * nothing is missed or repeated, waiting longer after each failure in a row (with jitter). Errors a
 * retry cannot fix (a bad key, a deleted stream, a bad request) are thrown as SecondLayerError.
 */
export async function* followEventStream(
  transport: Transport,
  path: string,
  init: Pick<CallInit, "params" | "query">,
  options: FollowOptions = {},
): AsyncGenerator<SseEvent, void, undefined> {
  const { signal } = options;
  let lastEventId = options.lastEventId;
  let serverRetryMs: number | undefined;
  let failures = 0;
  const url = transport.url(path, init.params, init.query);
  while (!signal?.aborted) {
    const connection = new AbortController();
    const stop = () => connection.abort();
    signal?.addEventListener("abort", stop, { once: true });
    let reason = "";
    try {
      const res = await transport.send(url, {
        method: "GET",
        headers: {
          accept: "text/event-stream",
          ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }),
        },
        signal: connection.signal,
      });
      if (!res.ok) {
        const err = errorFromBody(res.status, await readBody(res), res.headers);
        if (res.status !== 429 && res.status < 500) throw err;
        reason = `${err.code}: ${err.message}`;
        if (err.retryAfterSeconds !== undefined) serverRetryMs = err.retryAfterSeconds * 1000;
      } else if (!res.body || !(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
        throw new SecondLayerError({
          code: "INVALID_RESPONSE",
          message: `${path} did not answer with an event stream`,
          status: res.status,
        });
      } else {
        failures = 0;
        reason = "the server closed the stream";
        for await (const event of readEventStream(res.body, (ms) => {
          serverRetryMs = ms;
        })) {
          if (event.event === "error") {
            const body = safeJson(event.data) as { error?: { code?: string; message?: string } } | undefined;
            const code = body?.error?.code ?? "STREAM_ERROR";
            const message = body?.error?.message ?? event.data;
            if (!TRANSIENT_STREAM_ERRORS.has(code)) throw new SecondLayerError({ code, message, status: null });
            reason = `${code}: ${message}`;
            break;
          }
          lastEventId = event.id;
          yield event;
        }
      }
    } catch (err) {
      if (signal?.aborted) return;
      // No answer, or a connection dropped mid-body (a read error): reconnect. The API's refusals are final.
      if (err instanceof SecondLayerError && err.code !== "NETWORK_ERROR" && err.code !== "TIMEOUT") throw err;
      reason = (err as Error).message;
    } finally {
      signal?.removeEventListener("abort", stop);
      connection.abort();
    }
    if (signal?.aborted) return;
    failures++;
    const base = serverRetryMs ?? options.initialDelayMs ?? 1000;
    const delayMs = Math.round(
      Math.min(options.maxDelayMs ?? 30_000, base * 2 ** (failures - 1)) * (0.8 + Math.random() * 0.4),
    );
    options.onReconnect?.({ attempt: failures, delayMs, reason, lastEventId });
    await sleep(delayMs, signal);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
