// The baseline of the API benchmark: a bare Hono hello-world on Bun.serve, as fast as a Hono route
// on this machine can answer. PORT sets the port; it listens on 127.0.0.1 only.
import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.text("Hello Hono!"));
Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT ?? 0), fetch: app.fetch });
