// HEALTHCHECK of the images (the slim base has no curl): `bun docker/healthcheck.ts PORT_VARIABLE
// DEFAULT_PORT PATH` exits 0 when http://127.0.0.1:<port><path> answers 2xx within 4 s. The port is
// read from the same variable the service reads, so a changed PORT or METRICS_PORT is followed.
const [portVariable = "PORT", defaultPort = "3700", path = "/health"] = process.argv.slice(2);
const port = process.env[portVariable] || defaultPort;
try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
