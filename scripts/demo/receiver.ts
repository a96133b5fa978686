import { parseWebhook, type WebhookBody } from "@second-layer/sdk/webhooks";

// The demo's webhook receiver: checks every delivery's Standard Webhooks signature with the stream's
// secret and prints one line per delivery, the way an app's endpoint would see them.

export interface DemoReceiver {
  url: string;
  received: { seq: number; type: string; height: number; verified: boolean }[];
  setSecret(secret: string): void;
  stop(): void;
}

export function startDemoReceiver(port: number, print: (line: string) => void): DemoReceiver {
  let secret = "";
  const received: DemoReceiver["received"] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch: async (req) => {
      const raw = await req.text();
      let body: WebhookBody;
      try {
        body = parseWebhook(secret, req.headers, raw).body;
      } catch (err) {
        print(`✗ signature check failed: ${(err as Error).message}`);
        return new Response("bad signature", { status: 401 });
      }
      if (body.type === "stream.test") {
        print("✓ test delivery");
        return new Response("ok");
      }
      const events = body.matches.events;
      const kinds = [...new Set(events.map((e) => e.type))].map(
        (t) => `${events.filter((e) => e.type === t).length} ${t}`,
      );
      const what =
        body.type === "block.rollback" ? "ROLLBACK (the block was orphaned)" : kinds.join(", ") || "no events";
      print(
        `✓ seq ${body.seq} ${body.type} height ${body.block.height} ${body.isBackfill ? "(backfill) " : ""}— ${what}`,
      );
      received.push({ seq: body.seq, type: body.type, height: body.block.height, verified: true });
      return new Response("ok");
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/webhook`,
    received,
    setSecret: (s) => {
      secret = s;
    },
    stop: () => void server.stop(true),
  };
}
