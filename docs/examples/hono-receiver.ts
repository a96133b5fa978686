// A Second Layer webhook receiver with Hono (Bun, Node or Deno). Run: SL_WEBHOOK_SECRET=whsec_... bun hono-receiver.ts
import { type DeliveryBody, parseWebhook, SeqTracker, WebhookVerificationError } from "@second-layer/sdk/webhooks";
import { Hono } from "hono";

export function createReceiver(secret: string | string[], handle: (body: DeliveryBody) => Promise<void> | void) {
  const seqs = new SeqTracker();
  const app = new Hono();
  app.post("/webhooks/second-layer", async (c) => {
    // The exact bytes that were signed: read the text, never a re-serialized JSON object.
    const raw = await c.req.text();
    let webhook: ReturnType<typeof parseWebhook>;
    try {
      webhook = parseWebhook(secret, c.req.raw.headers, raw);
    } catch (err) {
      if (err instanceof WebhookVerificationError) return c.json({ error: err.code }, 401);
      throw err;
    }
    const { body } = webhook;
    if (body.type === "stream.test") return c.body(null, 204);
    const seen = seqs.observe(body);
    // A retry of something already handled: acknowledge it again, do nothing twice.
    if (seen.kind === "duplicate") return c.body(null, 204);
    if (seen.kind === "gap") console.warn(`stream ${body.streamId}: seqs ${JSON.stringify(seen.missing)} missing`);
    await handle(body);
    return c.body(null, 204);
  });
  return app;
}

if (import.meta.main) {
  const secret = process.env.SL_WEBHOOK_SECRET;
  if (!secret) throw new Error("set SL_WEBHOOK_SECRET to the stream's whsec_ secret");
  const app = createReceiver(secret, (body) => {
    const what = body.type === "block.apply" ? "apply" : "rollback";
    console.log(`#${body.seq} ${what} block ${body.block.height}: ${body.matches.events.length} events`);
  });
  Bun.serve({ port: Number(process.env.PORT ?? 4000), fetch: app.fetch });
}
