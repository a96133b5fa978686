import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestApi } from "../../../test/support/api.ts";
import { onCleanup } from "../../../test/support/cleanup.ts";
import { lines, type SlRunner, slRunner } from "../../../test/support/sl-cli.ts";
import {
  expectLogOfBlocks,
  recordedDelivered,
  type Scenario,
  stopScenarioWorkers,
  streamScenario,
} from "../../../test/support/stream-scenario.ts";
import { hashOf } from "../../../test/support/synthetic-blocks.ts";
import { status } from "../../../test/support/webhook-receiver.ts";

// `sl` as a user runs it (test/support/sl-cli.ts) against a real API.

let s: Scenario;
let apiUrl: string;
let adminKey: string;
/** A directory with no config file, used as HOME and working directory. */
let home: string;
let spawnSl: SlRunner["spawnSl"];
let sl: SlRunner["sl"];
let slJson: SlRunner["slJson"];

beforeAll(async () => {
  s = await streamScenario();
  const api = await startTestApi(s.db, { STATUS_CACHE_SECONDS: "0" });
  apiUrl = api.url;
  adminKey = api.adminKey;
  home = mkdtempSync(join(tmpdir(), "sl-cli-"));
  onCleanup(() => rmSync(home, { recursive: true, force: true }));
  ({ spawnSl, sl, slJson } = slRunner({ apiUrl, apiKey: adminKey, home }));
});

// One scenario for the file: its database, indexer and worker stop after the last test.
afterAll(stopScenarioWorkers);

describe("sl streams", () => {
  test("create, get, list, update, pause, resume, rotate-secret, test, replay, redeliver, delete", async () => {
    const url = s.receiver.url("cli");
    const created = await slJson([
      "streams",
      "create",
      "--name",
      "cli stream",
      "--url",
      url,
      "--filter",
      '{"type":"block"}',
    ]);
    expect(created.secret).toStartWith("whsec_");
    const id = created.stream.id;
    s.receiver.setSecret("cli", created.secret);

    const get = await sl(["streams", "get", id]);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^name\s+cli stream$/m);
    expect(get.stdout).toMatch(/^delivered\s+0$/m);
    const list = await slJson(["streams", "list"]);
    expect(list.map((x: any) => x.id)).toContain(id);
    const table = await sl(["streams", "list"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+STATUS\s+NETWORK\s+WEBHOOK URL\s+CREATED$/);
    expect(table.stdout).toContain(id);

    expect((await slJson(["streams", "update", id, "--name", "renamed", "--confirmations", "1"])).name).toBe("renamed");
    expect((await sl(["streams", "pause", id])).stdout).toMatch(/^status\s+paused \(paused by its owner\)$/m);
    expect((await slJson(["streams", "resume", id])).status).toBe("active");
    const rotated = await slJson(["streams", "rotate-secret", id]);
    expect(rotated.secret).not.toBe(created.secret);

    const tested = await sl(["streams", "test", id]);
    expect(tested.code).toBe(0);
    expect(tested.stdout).toMatch(/^ok\s+true$/m);
    const arrived = s.receiver.at("cli").at(-1);
    expect([arrived?.body.type, arrived?.signatureValid]).toEqual(["stream.test", true]);
    s.receiver.setBehavior("cli", () => status(503));
    const refused = await sl(["streams", "test", id]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/^status\s+503$/m);

    expect(await slJson(["streams", "replay", id, "--from", "1", "--to", "2"])).toEqual({ queued: true });
    expect(await slJson(["streams", "redeliver", id])).toEqual({ redelivered: 0 });
    expect((await sl(["streams", "delete", id])).stdout).toBe(`deleted ${id}\n`);
    const gone = await sl(["streams", "get", id]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain("NOT_FOUND (HTTP 404)");
  });

  test("a stream from a file with flags on top; validation errors name the field and exit 2", async () => {
    const file = join(home, "stream.json");
    writeFileSync(
      file,
      JSON.stringify({ name: "from file", webhookUrl: s.receiver.url("file"), filters: [{ type: "block" }] }),
    );
    const created = await slJson(["streams", "create", "--file", file, "--name", "flag wins", "--end-block", "100"]);
    expect([created.stream.name, created.stream.endBlock]).toEqual(["flag wins", 100]);

    const invalid = await sl([
      "streams",
      "create",
      "--file",
      file,
      "--filter",
      '{"type":"stx_transfer","minAmount":"-1"}',
    ]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("VALIDATION_FAILED (HTTP 400)");
    expect(invalid.stderr).toMatch(/^ {2}filters\.0\.minAmount: /m);
  });

  test("usage errors exit 1 without calling the API", async () => {
    for (const args of [
      ["streams", "get"],
      ["streams", "create", "--filter", "{not json"],
      ["streams", "replay", "x", "--from", "one", "--to", "2"],
      ["streams", "list", "--bogus"],
      ["streams", "frobnicate"],
      ["nonsense"],
    ]) {
      const run = await sl(args, { env: { SL_API_URL: "http://127.0.0.1:1" } });
      expect({ args, code: run.code }).toEqual({ args, code: 1 });
      expect(run.stderr).not.toBe("");
    }
  });

  test("an API that cannot be reached exits 3; a bad key exits 2 with UNAUTHORIZED", async () => {
    const server = Bun.serve({ port: 0, fetch: () => new Response("") });
    const dead = `http://127.0.0.1:${server.port}`;
    await server.stop(true);
    const unreachable = await sl(["status"], { env: { SL_API_URL: dead } });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain("could not reach");
    const unauthorized = await sl(["streams", "list"], { env: { SL_API_KEY: "sk_live_wrong" } });
    expect(unauthorized.code).toBe(2);
    expect(unauthorized.stderr).toContain("UNAUTHORIZED (HTTP 401)");
  });

  test("import-chainhook: the stream and its notes; an untranslatable predicate exits 2 with its path", async () => {
    const predicate = {
      chain: "stacks",
      uuid: "7",
      name: "prints",
      version: 1,
      networks: {
        mainnet: {
          if_this: { scope: "print_event", contract_identifier: "SP000000000000000000002Q6VF78.pox", contains: "x" },
          then_that: { http_post: { url: s.receiver.url("chainhook"), authorization_header: "" } },
        },
      },
    };
    const file = join(home, "predicate.json");
    writeFileSync(file, JSON.stringify(predicate));
    const run = await sl(["streams", "import-chainhook", file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^name\s+prints$/m);
    expect(run.stdout).toMatch(/^secret\s+whsec_/m);
    expect(run.stderr).toContain("Imported from Chainhook predicate 7 (prints)");

    (predicate.networks.mainnet.if_this as any) = {
      scope: "print_event",
      contract_identifier: "*",
      matches_regex: "a+",
    };
    writeFileSync(file, JSON.stringify(predicate));
    const refused = await sl(["streams", "import-chainhook", file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("UNTRANSLATABLE_PREDICATE");
    expect(refused.stderr).toMatch(/^ {2}networks\.mainnet\.if_this/m);
  });

  test("logs: the deliveries as a table or JSON, and --follow live until Ctrl-C", async () => {
    const { stream, secret } = await slJson([
      "streams",
      "create",
      "--name",
      "logged",
      "--url",
      s.receiver.url("logged"),
      "--filter",
      '{"type":"block"}',
    ]);
    s.receiver.setSecret("logged", secret);
    const follow = spawnSl(["streams", "logs", stream.id, "--follow", "--json"]);
    const next = lines(follow.stdout);
    await s.startWorker();
    await s.extend("a", 1, 2, "g");
    const events = [await next(), await next(), await next(), await next()].map((l) => JSON.parse(l));
    expectLogOfBlocks(events, [1, 2]);
    expect(events.filter((e) => e.type === "delivery.attempt").map((e) => [e.data.seq, e.data.ok])).toEqual([
      [1, true],
      [2, true],
    ]);
    follow.kill("SIGINT");
    expect(await follow.exited).toBe(0);

    await recordedDelivered(s.db.sql, stream.id, 2);
    const listed = await slJson(["streams", "logs", stream.id]);
    expect(listed.map((d: any) => [d.seq, d.status, d.blockHeight])).toEqual([
      [1, "delivered", 1],
      [2, "delivered", 2],
    ]);
    const last = await sl(["streams", "logs", stream.id, "--limit", "1"]);
    expect(last.stdout.trim().split("\n")).toHaveLength(2);
    expect(last.stdout.split("\n")[1]).toMatch(/^2\s+apply\s+delivered\s+2\s+1\s+200\s/);
  });
});

describe("sl chain follow, sl status, sl keys", () => {
  test("chain follow prints the log from a seq, live, and stops cleanly on Ctrl-C", async () => {
    const { chainLog, chainTip } = await slJson(["status"]);
    const head: number = chainLog.seq;
    const follow = spawnSl(["chain", "follow", "--after", String(head), "--json"]);
    const next = lines(follow.stdout);
    // Two blocks on whatever the tip is (earlier tests may have added some).
    const h = (chainTip?.height ?? 0) + 1;
    await s.extend("c", h, h + 1, "g", (height) =>
      height === h && chainTip
        ? { parent_index_block_hash: chainTip.indexBlockHash, parent_block_hash: chainTip.blockHash }
        : {},
    );
    const first = JSON.parse(await next());
    const second = JSON.parse(await next());
    expect([first.seq, first.kind, first.block.indexBlockHash]).toEqual([head + 1, "apply", hashOf(`c${h}`)]);
    expect([second.seq, second.block.indexBlockHash]).toEqual([head + 2, hashOf(`c${h + 1}`)]);
    follow.kill("SIGINT");
    expect(await follow.exited).toBe(0);

    const human = spawnSl(["chain", "follow", "--after", String(head)]);
    const line = await lines(human.stdout)();
    expect(line).toMatch(new RegExp(`^\\s*${head + 1} apply\\s+height ${h} ${hashOf(`c${h}`)} txs 0 events 0$`));
    human.kill("SIGINT");
    expect(await human.exited).toBe(0);
  });

  test("status: fields for people, the API's JSON for scripts", async () => {
    const json = await slJson(["status"]);
    expect(json.network).toBe("mainnet");
    const run = await sl(["status"]);
    expect(run.code).toBe(json.status === "ok" ? 0 : 2);
    expect(run.stdout).toMatch(new RegExp(`^chain log seq\\s+${json.chainLog.seq}$`, "m"));
    expect(run.stdout).toMatch(new RegExp(`^api\\s+${apiUrl}$`, "m"));
  });

  test("keys: create (shown once), list, revoke; the revoked key is refused", async () => {
    const created = await slJson(["keys", "create", "--name", "deploy"]);
    expect(created.key).toStartWith("sk_live_");
    const listed = await slJson(["keys", "list"]);
    expect(listed.find((k: any) => k.id === created.apiKey.id)?.prefix).toBe(created.apiKey.prefix);
    expect(JSON.stringify(listed)).not.toContain(created.key);
    const asNewKey = await sl(["streams", "list"], { env: { SL_API_KEY: created.key } });
    expect(asNewKey.code).toBe(0);
    expect((await sl(["keys", "revoke", created.apiKey.id])).stdout).toBe(`revoked ${created.apiKey.id}\n`);
    const revoked = await sl(["streams", "list"], { env: { SL_API_KEY: created.key } });
    expect(revoked.code).toBe(2);
  });
});

describe("configuration", () => {
  test("flags beat environment, which beats ./.slrc.json, which beats the user's config file", async () => {
    const project = mkdtempSync(join(home, "project-"));
    const userConfig = join(home, ".config", "second-layer");
    mkdirSync(userConfig, { recursive: true });
    onCleanup(() => rmSync(join(userConfig, "config.json"), { force: true }));

    // The user's file alone.
    writeFileSync(join(userConfig, "config.json"), JSON.stringify({ apiUrl, apiKey: adminKey }));
    expect((await sl(["keys", "list"], { auth: false })).code).toBe(0);
    // The project's file wins over it.
    writeFileSync(join(project, ".slrc.json"), JSON.stringify({ apiKey: "sk_live_from_project" }));
    const fromProject = await sl(["keys", "list"], { auth: false, cwd: project });
    expect([fromProject.code, fromProject.stderr.includes("UNAUTHORIZED")]).toEqual([2, true]);
    // The environment wins over both; a flag wins over the environment.
    expect((await sl(["keys", "list"], { auth: false, cwd: project, env: { SL_API_KEY: adminKey } })).code).toBe(0);
    const flagged = await sl(["keys", "list", "--api-key", "sk_live_flag"], {
      auth: false,
      cwd: project,
      env: { SL_API_KEY: adminKey },
    });
    expect(flagged.code).toBe(2);

    writeFileSync(join(project, ".slrc.json"), "{ nope");
    const broken = await sl(["keys", "list"], { auth: false, cwd: project });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(".slrc.json is not valid JSON");
    writeFileSync(join(project, ".slrc.json"), JSON.stringify({ apiUrl: "ftp://x" }));
    expect((await sl(["keys", "list"], { auth: false, cwd: project })).code).toBe(1);
  });
});
