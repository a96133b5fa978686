import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { openApiDocument } from "@second-layer/api/openapi-document";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { API_TYPES_PATH, apiTypesSource } from "../scripts/generate-api-types.ts";

// The SDK's types are generated from the OpenAPI document; a route whose schema changed without
// `bun run sdk:generate` fails here, so the published types always describe the API.

test("the committed api-types.ts is what the served OpenAPI document generates", async () => {
  const api = await startTestApi(await createTestDatabase());
  const served = (await (await fetch(`${api.url}/openapi.json`)).json()) as Record<string, unknown>;
  expect(readFileSync(API_TYPES_PATH, "utf8")).toBe(await apiTypesSource(served));
  // The generator's in-process document is the served one.
  expect(await openApiDocument()).toEqual(served);
});

test("the generator follows the document: a changed schema changes the types", async () => {
  const doc: any = await openApiDocument();
  doc.components.schemas.Stream.properties.name.description = "changed for this test";
  const source = await apiTypesSource(doc);
  expect(source).not.toBe(readFileSync(API_TYPES_PATH, "utf8"));
  expect(source).toContain("changed for this test");
});
