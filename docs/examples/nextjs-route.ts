// A Next.js App Router route handler: app/api/webhooks/second-layer/route.ts (Node.js runtime).
// SL_WEBHOOK_SECRET holds the stream's secret; during a rotation, both secrets comma-separated.
import { parseWebhook, WebhookVerificationError } from "@second-layer/sdk/webhooks";

export const runtime = "nodejs";

export async function POST(request: Request): Promise<Response> {
  const secrets = (process.env.SL_WEBHOOK_SECRET ?? "").split(",").filter(Boolean);
  // The raw text, before any JSON parsing: the signature covers these exact bytes.
  const raw = await request.text();
  try {
    const { id, body } = parseWebhook(secrets, request.headers, raw);
    if (body.type === "block.apply") {
      // Store body.matches keyed by id (or streamId + seq) so a retry is not applied twice.
      console.log(`delivery ${id}: apply block ${body.block.height}`);
    } else if (body.type === "block.rollback") {
      console.log(`delivery ${id}: undo block ${body.block.indexBlockHash}`);
    }
    return new Response(null, { status: 204 });
  } catch (err) {
    if (err instanceof WebhookVerificationError) return Response.json({ error: err.code }, { status: 401 });
    throw err;
  }
}
