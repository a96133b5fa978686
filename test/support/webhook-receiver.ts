import { Webhook } from "standardwebhooks";
import { onCleanup } from "./cleanup.ts";

/** One webhook as it arrived, with its signature checked by the `standardwebhooks` package (not our signer). */
export interface Received {
  endpoint: string;
  id: string;
  timestamp: number;
  seq: number;
  body: any;
  raw: string;
  /** Request headers, lowercased names (for checking signatures with other secrets). */
  headers: Record<string, string>;
  signatureValid: boolean;
  receivedAt: number;
  /** Whether it was answered with a 2xx. */
  acked?: boolean;
}

/**
 * How an endpoint answers its n-th request (0-based, counting every request it got). `closed` aborts
 * when the sender goes away (it timed out or died).
 */
export type Behavior = (n: number, received: Received, closed: AbortSignal) => Response | Promise<Response>;

interface Endpoint {
  secret: string | null;
  behavior: Behavior;
  count: number;
}

/**
 * A real HTTP receiver on 127.0.0.1 for webhook tests. Each endpoint (`/<name>`) verifies signatures
 * with its stream's secret and records what came; its behaviour is programmable (fail, hang, 410...).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly server: ReturnType<typeof Bun.serve>;
  private waiters: (() => void)[] = [];

  constructor() {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 60,
      fetch: (req) => this.handle(req),
    });
    onCleanup(() => this.server.stop(true));
  }

  get base(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** The URL of an endpoint; answers 200 until told otherwise. */
  url(name: string): string {
    if (!this.endpoints.has(name)) this.endpoints.set(name, { secret: null, behavior: () => ok(), count: 0 });
    return `${this.base}/${name}`;
  }

  setSecret(name: string, secret: string): void {
    this.url(name);
    (this.endpoints.get(name) as Endpoint).secret = secret;
  }

  setBehavior(name: string, behavior: Behavior): void {
    this.url(name);
    (this.endpoints.get(name) as Endpoint).behavior = behavior;
  }

  /**
   * The endpoint's first request waits for the returned function to be called, then is answered 200
   * (as are the rest): a delivery kept in flight while the test changes something behind it.
   */
  holdFirst(name: string): () => void {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.setBehavior(name, async (n) => {
      if (n === 0) await held;
      return ok();
    });
    return release;
  }

  /** What an endpoint received (every request, retries included), in arrival order. */
  at(name: string): Received[] {
    return this.received.filter((r) => r.endpoint === name);
  }

  /** The deliveries an endpoint acknowledged with a 2xx: first acknowledgement per webhook-id. */
  acknowledged(name: string): Received[] {
    const seen = new Set<string>();
    return this.received.filter((r) => {
      if (r.endpoint !== name || !r.acked || seen.has(r.id)) return false;
      seen.add(r.id);
      return true;
    });
  }

  /** How many times each webhook-id was acknowledged with a 2xx (more than once is a duplicate). */
  ackCounts(name: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.at(name)) if (r.acked) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    return counts;
  }

  async waitFor(predicate: () => boolean, timeoutMs = 20_000, what = "condition"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private async handle(req: Request): Promise<Response> {
    const name = new URL(req.url).pathname.slice(1);
    const endpoint = this.endpoints.get(name);
    if (!endpoint) return new Response("no such endpoint", { status: 404 });
    const raw = await req.text();
    const headers = Object.fromEntries(req.headers.entries());
    let signatureValid = false;
    if (endpoint.secret) {
      try {
        new Webhook(endpoint.secret).verify(raw, headers);
        signatureValid = true;
      } catch {
        signatureValid = false;
      }
    }
    const received: Received = {
      endpoint: name,
      id: headers["webhook-id"] ?? "",
      timestamp: Number(headers["webhook-timestamp"]),
      seq: Number(headers["webhook-seq"]),
      body: safeJson(raw),
      raw,
      headers,
      signatureValid,
      receivedAt: Date.now(),
    };
    this.received.push(received);
    this.notify();
    const n = endpoint.count++;
    const res = await endpoint.behavior(n, received, req.signal);
    // An answer to a sender that already went away acknowledges nothing.
    received.acked = res.status >= 200 && res.status < 300 && !req.signal.aborted;
    this.notify();
    return res;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export function ok(): Response {
  return new Response("ok");
}

/** A receiver that never answers: the request stays open until the sender gives up or dies. */
export function hang(closed: AbortSignal): Promise<Response> {
  return new Promise((resolve) => {
    const done = () => resolve(new Response("sender went away", { status: 503 }));
    if (closed.aborted) done();
    else closed.addEventListener("abort", done, { once: true });
  });
}

export function status(code: number, headers: Record<string, string> = {}): Response {
  return new Response(`answered ${code}`, { status: code, headers });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
