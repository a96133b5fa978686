// A Second Layer webhook receiver with Express. Run: SL_WEBHOOK_SECRET=whsec_... node --experimental-strip-types express-receiver.ts
import { type DeliveryBody, parseWebhook, SeqTracker, WebhookVerificationError } from "@second-layer/sdk/webhooks";
import express from "express";

export function createReceiver(secret: string | string[], handle: (body: DeliveryBody) => Promise<void> | void) {
  const seqs = new SeqTracker();
  const app = express();
  // express.raw keeps the body as the Buffer that was signed (express.json would re-parse it).
  app.post("/webhooks/second-layer", express.raw({ type: "application/json" }), async (req, res) => {
    let webhook: ReturnType<typeof parseWebhook>;
    try {
      webhook = parseWebhook(secret, req.headers, req.body as Buffer);
    } catch (err) {
      if (err instanceof WebhookVerificationError) {
        res.status(401).json({ error: err.code });
        return;
      }
      throw err;
    }
    const { body } = webhook;
    if (body.type !== "stream.test" && seqs.observe(body).kind !== "duplicate") await handle(body);
    res.status(204).end();
  });
  return app;
}

if (import.meta.main) {
  const secret = process.env.SL_WEBHOOK_SECRET;
  if (!secret) throw new Error("set SL_WEBHOOK_SECRET to the stream's whsec_ secret");
  createReceiver(secret, (body) => console.log(`#${body.seq} ${body.type} block ${body.block.height}`)).listen(
    Number(process.env.PORT ?? 4000),
  );
}
