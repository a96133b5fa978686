// The smoke test's webhook receiver, run in its own container on the compose network (reached by the
// worker as http://receiver:8080/<endpoint>). Every request's signature is checked with the
// `standardwebhooks` package, not with Second Layer's signer, against the endpoint's secret from
// /data/secrets.json (written by the test); each request is appended to /data/received.jsonl, which
// the test reads from the host. The file outlives the container, so a compose down/up loses nothing.
import { appendFileSync, readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const DATA = "/data";

function secretOf(endpoint: string): string | undefined {
  try {
    return JSON.parse(readFileSync(`${DATA}/secrets.json`, "utf8"))[endpoint];
  } catch {
    return undefined;
  }
}

Bun.serve({
  hostname: "0.0.0.0",
  port: 8080,
  async fetch(req) {
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname === "/health") return new Response("ok");
    if (req.method !== "POST") return new Response("not found", { status: 404 });
    const endpoint = url.pathname.slice(1);
    const raw = await req.text();
    const headers = Object.fromEntries(req.headers);
    const secret = secretOf(endpoint);
    let signatureValid = false;
    if (secret) {
      try {
        new Webhook(secret).verify(raw, headers);
        signatureValid = true;
      } catch {
        // recorded as invalid; the test fails on it
      }
    }
    const record = {
      endpoint,
      id: headers["webhook-id"],
      seq: Number(headers["webhook-seq"]),
      signatureValid,
      body: JSON.parse(raw),
      receivedAt: Date.now(),
    };
    appendFileSync(`${DATA}/received.jsonl`, `${JSON.stringify(record)}\n`);
    return Response.json({ ok: true });
  },
});

// PID 1 in its container: without a handler SIGTERM would be ignored until docker stop kills it.
process.on("SIGTERM", () => process.exit(0));
