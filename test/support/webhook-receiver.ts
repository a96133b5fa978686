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
  signatureValid: boolean;
  receivedAt: number;
}

/** How an endpoint answers its n-th request (0-based, counting every request it got). */
export type Behavior = (n: number, received: Received) => Response | Promise<Response>;

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

  /** What an endpoint received (every request, retries included), in arrival order. */
  at(name: string): Received[] {
    return this.received.filter((r) => r.endpoint === name);
  }

  /** The deliveries an endpoint acknowledged with a 2xx: first acknowledgement per webhook-id. */
  acknowledged(name: string): Received[] {
    const seen = new Set<string>();
    return this.received.filter((r) => {
      if (r.endpoint !== name || !(r as Received & { acked?: boolean }).acked || seen.has(r.id)) return false;
      seen.add(r.id);
      return true;
    });
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
    const received: Received & { acked?: boolean } = {
      endpoint: name,
      id: headers["webhook-id"] ?? "",
      timestamp: Number(headers["webhook-timestamp"]),
      seq: Number(headers["webhook-seq"]),
      body: safeJson(raw),
      raw,
      signatureValid,
      receivedAt: Date.now(),
    };
    this.received.push(received);
    const n = endpoint.count++;
    const res = await endpoint.behavior(n, received);
    received.acked = res.status >= 200 && res.status < 300;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    return res;
  }
}

export function ok(): Response {
  return new Response("ok");
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
