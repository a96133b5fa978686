import { randomBytes } from "node:crypto";
import { loadConfig } from "@second-layer/shared/config";
import { connect } from "@second-layer/shared/db/connect";
import { createLogger } from "@second-layer/shared/logger";
import { createApiApp } from "./app.ts";
import { createApiDeps } from "./start.ts";

/**
 * The API's OpenAPI document, built in this process without a server or a database: the route
 * serving it reads no data, so the pool below is never connected. Used to generate the SDK's types.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({ LOG_LEVEL: "silent" });
  const db = connect("postgres://openapi@127.0.0.1:1/unused", { max: 1 });
  const deps = createApiDeps({
    config,
    db,
    log: createLogger("openapi", "silent"),
    // Seals nothing here; a throwaway key keeps every dependency real.
    secretsKey: randomBytes(32).toString("base64"),
  });
  try {
    const res = await createApiApp(deps).request("/openapi.json");
    return (await res.json()) as Record<string, unknown>;
  } finally {
    await deps.dispatcher.close();
    await db.close();
  }
}
