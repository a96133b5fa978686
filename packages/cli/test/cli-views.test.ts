import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { startTestApi } from "../../../test/support/api.ts";
import { onCleanup } from "../../../test/support/cleanup.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { blocksOf, canonicalChain, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { type SlRunner, slRunner } from "../../../test/support/sl-cli.ts";
import { startTestViewProcessor } from "../../../test/support/views.ts";

// `sl views` as a user runs it (test/support/sl-cli.ts) against a real API, view processor and
// indexer over the reorg recording. The TypeScript view deployed is docs/examples/stx-received-view.ts.

const EXAMPLE = join(import.meta.dir, "../../../docs/examples/stx-received-view.ts");

/** STX received per address on the recording's canonical chain. */
const received = new Map<string, { total: bigint; transfers: number }>();
for (const b of canonicalChain(blocksOf(fixture("mainnet-reorg-scenario2.tsv")))) {
  for (const e of b.events) {
    if (e.type !== "stx_transfer_event") continue;
    const r = received.get(e.stx_transfer_event.recipient) ?? { total: 0n, transfers: 0 };
    received.set(e.stx_transfer_event.recipient, {
      total: r.total + BigInt(e.stx_transfer_event.amount),
      transfers: r.transfers + 1,
    });
  }
}
const byTotal = [...received].sort((a, b) => (a[1].total < b[1].total ? 1 : -1));

let home: string;
let sl: SlRunner["sl"];
let slJson: SlRunner["slJson"];

/** Waits until `sl views get` says the view has caught up (or stopped). */
async function caughtUp(name: string): Promise<any> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const run = await sl(["views", "get", name, "--json"]);
    const view = JSON.parse(run.stdout);
    if (view.status !== "active" || (view.progress.caughtUp && view.progress.headSeq > 0)) return view;
    if (Date.now() > deadline) throw new Error(`view ${name} did not catch up`);
    await Bun.sleep(100);
  }
}

// Hooks have their own 5 s limit; the stack and the recording take longer on a busy machine.
beforeAll(async () => {
  const db = await createTestDatabase();
  const indexer = await startTestIndexer(db);
  await startTestViewProcessor(db);
  const api = await startTestApi(db, { API_RATE_LIMIT: "0" });
  await replayEventLog(fixture("mainnet-reorg-scenario2.tsv"), { to: indexer.url, maxAttempts: 1 });
  home = mkdtempSync(join(tmpdir(), "sl-cli-views-"));
  onCleanup(() => rmSync(home, { recursive: true, force: true }));
  ({ sl, slJson } = slRunner({ apiUrl: api.url, apiKey: api.adminKey, home }));
}, 60_000);

describe("sl views", () => {
  test("deploy FILE.ts deploys its default export; the view's rows are the recording's", async () => {
    const deployed = await sl(["views", "deploy", EXAMPLE]);
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toMatch(/^name\s+stx-received$/m);
    expect(deployed.stderr).toContain("deployed stx-received: building from block 0");
    const view = await caughtUp("stx-received");
    expect(view.status).toBe("active");

    const page = await slJson(["views", "query", "stx-received", "received", "--sort", "total", "--order", "desc"]);
    expect(page.next).toBeNull();
    expect(page.rows.map((r: any) => [r.recipient, BigInt(r.total), Number(r.transfers)])).toEqual(
      byTotal.map(([who, r]) => [who, r.total, r.transfers]),
    );
    const top = await sl([
      "views",
      "query",
      "stx-received",
      "received",
      "--sort",
      "total",
      "--order",
      "desc",
      "--limit",
      "2",
      "--fields",
      "recipient,total",
    ]);
    expect(top.code).toBe(0);
    const lines = top.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^RECIPIENT\s+TOTAL$/);
    expect(lines.slice(1)).toEqual(
      byTotal.slice(0, 2).map(([who, r]) => expect.stringMatching(new RegExp(`^${who}\\s+${r.total}$`))),
    );
    expect(top.stderr).toMatch(/^more rows: --cursor \S+$/m);

    const list = await sl(["views", "list"]);
    expect(list.stdout.split("\n")[0]).toMatch(/^NAME\s+STATUS\s+NETWORK\s+VERSION\s+PROCESSED\s+TIP\s+LAG\s+UPDATED$/);
    expect(list.stdout).toMatch(/^stx-received\s+active\s+mainnet\s+1\s+4\s+4\s+0\s/m);
    const get = await sl(["views", "get", "stx-received"]);
    expect(get.stdout).toMatch(/^processed\s+4 of 4 \(0 blocks behind, caught up\)$/m);
    expect(get.stdout).toMatch(new RegExp(`^tables\\s+received ${received.size} rows$`, "m"));
  });

  test("query: --where conditions, --cursor pages, count; bad conditions name the parameter", async () => {
    const [first, second] = byTotal.slice(0, 2).map(([who, r]) => [who, r.total] as const) as [
      readonly [string, bigint],
      readonly [string, bigint],
    ];
    const floor = second[1];
    const above = await slJson(["views", "query", "stx-received", "received", "--where", `total.gte=${floor}`]);
    expect(above.rows.map((r: any) => r.recipient).sort()).toEqual([first[0], second[0]].sort());
    const inList = await slJson([
      "views",
      "count",
      "stx-received",
      "received",
      "-w",
      `recipient.in=${first[0]},${second[0]}`,
      "-w",
      "transfers.gte=1",
    ]);
    expect(inList).toEqual({ count: 2 });
    expect((await sl(["views", "count", "stx-received", "received"])).stdout).toBe(`${received.size}\n`);

    // Two rows a page, along the printed cursor: every row once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const args = ["views", "query", "stx-received", "received", "--sort", "total", "--limit", "2"];
      const page: any = await slJson(cursor ? [...args, "--cursor", cursor] : args);
      seen.push(...page.rows.map((r: any) => r.recipient));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(byTotal.map(([who]) => who).reverse());

    const bad = await sl(["views", "query", "stx-received", "received", "--where", "total.gt=lots", "-w", "nope=1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("VALIDATION_FAILED (HTTP 400)");
    expect(bad.stderr).toMatch(/^ {2}total\.gt: /m);
    expect(bad.stderr).toMatch(/^ {2}nope: no column nope/m);
    for (const args of [
      ["views", "query", "stx-received", "received", "--where", "total"],
      ["views", "query", "stx-received", "received", "-w", "total.gt=1", "-w", "total.gt=2"],
      ["views", "query", "stx-received", "received", "--order", "up"],
      ["views", "query", "stx-received"],
      ["views", "query", "stx-received", "received", "--limit", "many"],
    ]) {
      const run = await sl(args);
      expect({ args, code: run.code }).toEqual({ args, code: 1 });
    }
  });

  test("deploy again updates with PUT: additive in place, anything else rebuilds; JSON files too", async () => {
    const definition = (await import(EXAMPLE)).default;
    const file = join(home, "stx-received.json");
    writeFileSync(file, JSON.stringify({ ...definition, description: "received per address" }));
    const inPlace = await slJson(["views", "deploy", file]);
    expect([inPlace.created, inPlace.rebuilt, inPlace.view.version]).toEqual([false, false, 2]);
    expect(inPlace.view.description).toBe("received per address");

    writeFileSync(file, JSON.stringify({ ...definition, startBlock: 2 }));
    const human = await sl(["views", "deploy", file]);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain(
      "updated stx-received to version 3: the change is not additive, so it rebuilds from block 2",
    );
    const view = await caughtUp("stx-received");
    expect(view.startBlock).toBe(2);
    const fromBlock2 = canonicalChain(blocksOf(fixture("mainnet-reorg-scenario2.tsv")))
      .filter((b: any) => b.block_height >= 2)
      .flatMap((b: any) => b.events.filter((e: any) => e.type === "stx_transfer_event"));
    const count = await slJson(["views", "count", "stx-received", "received"]);
    expect(count.count).toBe(new Set(fromBlock2.map((e: any) => e.stx_transfer_event.recipient)).size);

    const invalid = join(home, "invalid.json");
    writeFileSync(invalid, JSON.stringify({ ...definition, name: "other", tables: {} }));
    const refused = await sl(["views", "deploy", invalid]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^ {2}tables: /m);
  });

  test("reindex shows a progress bar until the view has caught up again", async () => {
    const run = await sl(["views", "reindex", "stx-received"]);
    expect(run.code).toBe(0);
    // Not a terminal: one line per tenth, ending at 100%.
    const bar = run.stderr.trimEnd().split("\n");
    expect(bar.at(-1)).toMatch(/^reindexing stx-received \[#{30}\] 100% 3\/3 \(\d+\/s\) height 4$/);
    expect(run.stdout).toMatch(/^processed\s+4 of 4 \(0 blocks behind, caught up\)$/m);
    const quiet = await slJson(["views", "reindex", "stx-received"]);
    expect(quiet.progress.caughtUp).toBe(true);
    expect((await slJson(["views", "reindex", "stx-received", "--no-wait"])).progress.lastSeq).toBe(0);
    await caughtUp("stx-received");
  });

  test("files that are not views, unknown views and delete", async () => {
    const noDefault = join(home, "no-default.ts");
    writeFileSync(noDefault, "export const view = { name: 'x' };\n");
    const broken = join(home, "broken.ts");
    writeFileSync(broken, "export default {\n");
    for (const [file, message] of [
      [noDefault, "has no default export"],
      [broken, "cannot load"],
      [join(home, "missing.json"), "cannot read"],
      [join(home, "view.yaml"), "a view is a .json file"],
    ] as const) {
      const run = await sl(["views", "deploy", file]);
      expect({ file, code: run.code }).toEqual({ file, code: 1 });
      expect(run.stderr).toContain(message);
    }
    const unknown = await sl(["views", "get", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("NOT_FOUND (HTTP 404)");
    expect((await sl(["views", "delete", "stx-received"])).stdout).toBe("deleted stx-received\n");
    expect(await slJson(["views", "list"])).toEqual([]);
    const status = await sl(["status"]);
    expect(status.stdout).toMatch(/^views\s+0 active, 0 stopped by an error$/m);
  });
});
