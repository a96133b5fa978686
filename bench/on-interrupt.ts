/**
 * Runs `cleanup` and exits 130 on SIGINT or SIGTERM until the returned function uninstalls it. A
 * bench needs it for what Ctrl-C alone would leave running: pg_ctl detaches Postgres from our process
 * group. `bun run` forwards the signal again: the handler stays installed so a repeat cannot cut
 * cleanup short.
 */
export function onInterrupt(cleanup: () => void): () => void {
  let stopping = false;
  const interrupted = () => {
    if (stopping) return;
    stopping = true;
    cleanup();
    process.exit(130);
  };
  process.on("SIGINT", interrupted);
  process.on("SIGTERM", interrupted);
  return () => {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  };
}
