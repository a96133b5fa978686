/** Waits `ms`, or less if `signal` aborts first. Never rejects: callers check `signal.aborted` after. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** At most `perSecond` takes per second, evenly spaced (a token bucket of size one). */
export class RateLimiter {
  private readonly intervalMs: number;
  private nextAt = 0;

  constructor(perSecond: number) {
    this.intervalMs = 1000 / perSecond;
  }

  async take(signal: AbortSignal): Promise<void> {
    const now = performance.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.intervalMs;
    await sleep(at - now, signal);
  }
}

export interface Backoff {
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Exponential backoff: base, 2×base, 4×base, ... capped at max; a server's Retry-After wins if longer. */
export function backoffDelay(policy: Backoff, failures: number, retryAfterMs = 0): number {
  return Math.max(retryAfterMs, Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failures - 1)));
}
