import { onCleanup } from "./cleanup.ts";

type Body = NonNullable<Response["body"]>;
const readerOf = (body: Body) => body.getReader();
type Reader = ReturnType<typeof readerOf>;

/** One Server-Sent Event as the spec's parser dispatches it. */
export interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
  json: any;
}

/**
 * An open text/event-stream response, parsed as an EventSource would (events, ids, comments, retry),
 * read on demand. Closing it cancels the body: the server sees the client go away.
 */
export class SseStream {
  readonly comments: string[] = [];
  retry: number | undefined;
  /** The id an EventSource would send as Last-Event-ID on reconnect. */
  lastEventId: string | undefined;
  private readonly reader: Reader;
  private readonly decoder = new TextDecoder();
  private buffer = "";
  private queue: SseEvent[] = [];
  private done = false;

  constructor(
    body: Body,
    private readonly controller: AbortController,
  ) {
    this.reader = readerOf(body);
    onCleanup(() => this.close());
  }

  /** True once the server ended the stream. */
  get ended(): boolean {
    return this.done && this.queue.length === 0;
  }

  /** The next event, or null when the stream ends; fails the test after `timeoutMs`. */
  async next(timeoutMs = 15_000): Promise<SseEvent | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0 && !this.done) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      await this.pull(left);
    }
    return this.queue.shift() ?? null;
  }

  /** The next `n` events. */
  async take(n: number, timeoutMs = 15_000): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    while (out.length < n) {
      const e = await this.next(timeoutMs);
      if (!e) throw new Error(`the stream ended after ${out.length} of ${n} events`);
      out.push(e);
    }
    return out;
  }

  /** Events until `until` holds for one (included), or the stream ends. */
  async until(until: (e: SseEvent) => boolean, timeoutMs = 15_000): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    for (;;) {
      const e = await this.next(timeoutMs);
      if (!e) return out;
      out.push(e);
      if (until(e)) return out;
    }
  }

  /** Waits until the server has sent more comment lines than now (heartbeats). */
  async nextComment(timeoutMs = 15_000): Promise<string> {
    const seen = this.comments.length;
    const deadline = Date.now() + timeoutMs;
    while (this.comments.length === seen) {
      if (this.queue.length > 0) throw new Error("an event came before the comment");
      if (this.done) throw new Error("the stream ended");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no comment within ${timeoutMs} ms`);
      await this.pull(left);
    }
    return this.comments[seen] as string;
  }

  /** Whether nothing (no event) arrives within `ms`. */
  async quietFor(ms: number): Promise<boolean> {
    try {
      const e = await this.next(ms);
      if (e) this.queue.unshift(e);
      return false;
    } catch {
      return true;
    }
  }

  close(): void {
    this.done = true;
    this.controller.abort();
    this.reader.cancel().catch(() => {});
  }

  private async pull(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const read = this.pending ?? this.reader.read();
    this.pending = read;
    const result = await Promise.race([read, timeout]).catch(() => ({ done: true, value: undefined }) as const);
    clearTimeout(timer);
    if (result === "timeout") return;
    this.pending = undefined;
    if (result.done) {
      this.done = true;
      this.parse(true);
      return;
    }
    this.buffer += this.decoder.decode(result.value, { stream: true });
    this.parse(false);
  }

  private pending: ReturnType<Reader["read"]> | undefined;

  /** Dispatches every complete event in the buffer (a blank line ends one), per the SSE spec. */
  private parse(final: boolean): void {
    const blocks = this.buffer.split(/\r\n\r\n|\n\n|\r\r/);
    this.buffer = final ? "" : (blocks.pop() ?? "");
    for (const block of blocks) {
      let event = "message";
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split(/\r\n|\n|\r/)) {
        if (line.startsWith(":")) {
          this.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id") id = value;
        else if (field === "retry") this.retry = Number(value);
      }
      if (id !== undefined) this.lastEventId = id;
      if (data.length === 0) continue;
      const text = data.join("\n");
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      this.queue.push({ event, id, data: text, json });
    }
  }
}

/** Opens an SSE request; `body` is the parsed stream when the answer is a 200 text/event-stream. */
export async function openSse(
  url: string,
  headers: Record<string, string>,
): Promise<{ res: Response; stream: SseStream | null }> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal });
  const isStream = res.status === 200 && (res.headers.get("content-type") ?? "").startsWith("text/event-stream");
  if (!isStream || !res.body) return { res, stream: null };
  return { res, stream: new SseStream(res.body, controller) };
}
