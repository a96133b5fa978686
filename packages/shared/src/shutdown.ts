import type { Logger } from "./logger.ts";

/**
 * `docker stop` (and Compose, systemd, Render) send SIGTERM and kill 10 s later; a service exits
 * before that on its own, so it is never killed halfway through a step it could have finished.
 */
export const SHUTDOWN_DEADLINE_MS = 9_000;

export interface ShutdownOptions {
  log: Logger;
  /** Logged when the signal arrives: what the service does while it stops. */
  message: string;
  /** Stops the service's work and closes its connections; the process exits when it resolves. */
  stop: () => Promise<void>;
  deadlineMs?: number;
}

/**
 * Stops the service once on SIGINT or SIGTERM and exits 0. If stopping takes longer than the
 * deadline, exits 1 anyway: whatever was still open is then rolled back by Postgres and was never
 * acknowledged, so the node resends its POST, or the next worker sends the delivery again.
 */
export function stopOnSignals(opts: ShutdownOptions): void {
  const { log, message, stop, deadlineMs = SHUTDOWN_DEADLINE_MS } = opts;
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, message);
      const timer = setTimeout(() => {
        log.warn({ deadlineMs }, "shutdown took too long: exiting with work unfinished (it was not acknowledged)");
        process.exit(1);
      }, deadlineMs);
      stop().then(
        () => {
          clearTimeout(timer);
          log.info("stopped");
          process.exit(0);
        },
        (err) => {
          log.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
    });
  }
}
