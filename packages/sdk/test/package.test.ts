import { expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startTestApi } from "../../../test/support/api.ts";
import { onCleanup } from "../../../test/support/cleanup.ts";
import { createTestDatabase } from "../../../test/support/database.ts";

// The package as published: built with its own tsconfig, installed into a project outside this
// repository (no workspace, no src), then imported by Node and type-checked by tsc as a consumer
// would. Nothing of the monorepo may leak into it.

const SDK = join(import.meta.dir, "..");
const TSC = join(SDK, "../../node_modules/.bin/tsc");

/** Runs a command without blocking this process (the API it talks to is served from here). */
async function run(cmd: string[], cwd: string): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}:\n${stdout}${stderr}`);
  return stdout;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

test("built and installed elsewhere, it works under Node and type-checks with nothing but its own files", async () => {
  const project = mkdtempSync(join(tmpdir(), "sl-sdk-consumer-"));
  onCleanup(() => rmSync(project, { recursive: true, force: true }));
  const installed = join(project, "node_modules/@second-layer/sdk");
  mkdirSync(installed, { recursive: true });
  await run([TSC, "-p", join(SDK, "tsconfig.build.json"), "--outDir", join(installed, "dist")], SDK);
  cpSync(join(SDK, "package.json"), join(installed, "package.json"));
  const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
  expect(manifest.dependencies).toBeUndefined();

  // Only relative imports and Node built-ins: the monorepo's packages are not there to import.
  const specifiers = filesUnder(join(installed, "dist"))
    .filter((f) => f.endsWith(".js") || f.endsWith(".d.ts"))
    .flatMap((f) => [...readFileSync(f, "utf8").matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1]));
  expect(specifiers.filter((s) => !s?.startsWith(".") && !s?.startsWith("node:"))).toEqual([]);

  // @types/node, as any Node project has it.
  const typesNode = dirname(Bun.resolveSync("@types/node/package.json", SDK));
  mkdirSync(join(project, "node_modules/@types"), { recursive: true });
  symlinkSync(typesNode, join(project, "node_modules/@types/node"));

  const api = await startTestApi(await createTestDatabase());
  writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(
    join(project, "consumer.mjs"),
    `import { SecondLayer, SecondLayerError, defineView } from "@second-layer/sdk";
import { verifyWebhook } from "@second-layer/sdk/webhooks";
const headers = { "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
  "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" };
const verified = verifyWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers, '{"test": 2432232314}', { now: 1614265331 });
const sl = new SecondLayer({ baseUrl: process.argv[2], apiKey: process.argv[3] });
const status = await sl.status();
let code = null;
try { await new SecondLayer({ baseUrl: process.argv[2], apiKey: "sk_live_wrong" }).streams.list(); }
catch (err) { code = err instanceof SecondLayerError ? err.code : String(err); }
console.log(JSON.stringify({ verified, network: status.network, code, view: defineView({ name: "v" }).name }));
`,
  );
  const out = JSON.parse(await run(["node", "consumer.mjs", api.url, api.adminKey], project));
  expect(out).toEqual({
    verified: { id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330 },
    network: "mainnet",
    code: "UNAUTHORIZED",
    view: "v",
  });

  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        types: ["node"],
      },
      files: ["consumer.ts"],
    }),
  );
  writeFileSync(
    join(project, "consumer.ts"),
    `import { defineView, SecondLayer, type Stream } from "@second-layer/sdk";
import { type DeliveryBody, parseWebhook } from "@second-layer/sdk/webhooks";
const sl = new SecondLayer({ baseUrl: "http://127.0.0.1:3800" });
export async function names(): Promise<string[]> {
  const streams: Stream[] = [];
  for await (const s of sl.streams.iterate({ status: "active" })) streams.push(s);
  return streams.map((s) => s.name);
}
export function onWebhook(raw: string, headers: Headers): number {
  const { body } = parseWebhook("whsec_x", headers, raw);
  if (body.type === "stream.test") return 0;
  const delivery: DeliveryBody = body;
  return delivery.block.height + delivery.matches.events.length;
}
export const view = defineView({
  name: "transfers",
  tables: { t: { columns: { amount: { type: "uint" } } } },
  handlers: [{ on: { type: "stx_transfer" }, do: [{ insert: "t", values: { amount: "$.event.amount" } }] }],
});
// @ts-expect-error: a stream needs filters
sl.streams.create({ name: "x", webhookUrl: "https://example.com" });
// @ts-expect-error: not a filter type
defineView({ name: "v", tables: {}, handlers: [{ on: { type: "nope" }, do: [] }] });
`,
  );
  await run([TSC, "-p", join(project, "tsconfig.json")], project);
}, 120_000);
