// When to try a failed delivery again. Pure: the sender feeds it the attempt number, the outcome and
// the clock, and gets back a time (or "park it").

export interface RetryPolicy {
  /** Waits before retry 1, 2, ...; after the last one the delivery is parked as failed. */
  scheduleMs: number[];
  /** Random spread added to each wait, as a fraction of it, so retries of many streams do not align. */
  jitter: number;
}

/**
 * The wait before the next attempt after `attempts` failed ones, or null when the schedule is used up
 * (the delivery is parked). A receiver's Retry-After is honoured when it asks for longer.
 */
export function nextRetryDelayMs(
  policy: RetryPolicy,
  attempts: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number | null {
  const base = policy.scheduleMs[attempts - 1];
  if (base === undefined) return null;
  const jittered = Math.round(base * (1 + policy.jitter * random()));
  // A receiver asking for more than a day would stall the stream: a day is the most it gets.
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, 86_400_000));
}
