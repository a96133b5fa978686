import { beforeAll, describe, expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { type ApiClient, startTestApi } from "../../../test/support/api.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { blocksOf, canonicalChain, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { startTestViewProcessor } from "../../../test/support/views.ts";
import { collect, defineView, SecondLayer, viewQueryParams } from "../src/index.ts";
import { errorOf } from "./error-of.ts";

// The views resource against a real API, view processor and indexer over the reorg recording: the
// view built from its canonical chain is read through the SDK and compared with the recording and
// with what the API itself answers (the raw client checks every answer against the OpenAPI document).

const stx = defineView({
  name: "stx",
  tables: {
    transfers: {
      columns: {
        sender: { type: "principal" },
        recipient: { type: "principal" },
        amount: { type: "uint" },
        height: { type: "uint" },
      },
      indexes: [["amount"]],
    },
    balances: {
      columns: { holder: { type: "principal" }, balance: { type: "int", default: 0 } },
      primaryKey: ["holder"],
    },
  },
  handlers: [
    {
      on: { type: "stx_transfer" },
      do: [
        {
          insert: "transfers",
          values: {
            sender: "$.event.sender",
            recipient: "$.event.recipient",
            amount: "$.event.amount",
            height: "$.block.height",
          },
        },
        { upsert: "balances", key: { holder: "$.event.recipient" }, add: { balance: "$.event.amount" } },
        { upsert: "balances", key: { holder: "$.event.sender" }, add: { balance: "-$.event.amount" } },
      ],
    },
  ],
});

/** The canonical chain's STX transfers, as the view's rows. */
const transfers = canonicalChain(blocksOf(fixture("mainnet-reorg-scenario2.tsv"))).flatMap((b: any) =>
  b.events
    .filter((e: any) => e.type === "stx_transfer_event")
    .map((e: any) => ({
      sender: e.stx_transfer_event.sender,
      recipient: e.stx_transfer_event.recipient,
      amount: String(e.stx_transfer_event.amount),
      height: String(b.block_height),
    })),
);

let sl: SecondLayer;
let raw: ApiClient;

async function caughtUp(name: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const view = await sl.views.get(name);
    if (view.status !== "active" || (view.progress.caughtUp && view.progress.headSeq > 0)) return view;
    if (Date.now() > deadline) throw new Error(`view ${name} did not catch up`);
    await Bun.sleep(50);
  }
}

const byJson = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

// Hooks have their own 5 s limit; the stack and the recording take longer on a busy machine.
beforeAll(async () => {
  const db = await createTestDatabase();
  const indexer = await startTestIndexer(db);
  await startTestViewProcessor(db);
  const api = await startTestApi(db, { API_RATE_LIMIT: "0" });
  raw = api.client();
  sl = new SecondLayer({ baseUrl: api.url, apiKey: api.adminKey });
  const deployed = await sl.views.deploy(stx);
  expect(deployed.name).toBe("stx");
  await replayEventLog(fixture("mainnet-reorg-scenario2.tsv"), { to: indexer.url, maxAttempts: 1 });
  expect((await caughtUp("stx")).status).toBe("active");
}, 60_000);

describe("views", () => {
  test("list and get: typed, and what the API answers", async () => {
    const view = await sl.views.get("stx");
    expect(view).toEqual((await raw.get("/api/views/stx")).json);
    expect(view.tables).toEqual([
      { name: "transfers", rows: transfers.length, rowsExact: true },
      { name: "balances", rows: new Set(transfers.flatMap((t) => [t.sender, t.recipient])).size, rowsExact: true },
    ]);
    expect(view.progress).toMatchObject({ lagBlocks: 0, caughtUp: true });
    const { views } = await sl.views.list();
    expect(views).toEqual((await raw.get("/api/views")).json.views);
    expect(views.map((v) => v.name)).toEqual(["stx"]);
  });

  test("query: where, sort, order, limit and fields become the API's parameters; iterate walks every page", async () => {
    const all = await sl.views.query("stx", "transfers", { limit: 1000 });
    expect(all.next).toBeNull();
    expect(all.rows.map(({ _block_height, _tx_id, ...r }) => r).sort(byJson)).toEqual([...transfers].sort(byJson));

    const floor = 100_000_000n;
    const big = await sl.views.query<{ amount: string; recipient: string }>("stx", "transfers", {
      where: { amount: { gte: floor }, height: { in: [1, 4] } },
      sort: "amount",
      order: "desc",
      fields: ["amount", "recipient"],
    });
    const want = transfers
      .filter((t) => BigInt(t.amount) >= floor && ["1", "4"].includes(t.height))
      .sort((a, b) => (BigInt(b.amount) > BigInt(a.amount) ? 1 : -1))
      .map(({ amount, recipient }) => ({ amount, recipient }));
    expect(big.rows).toEqual(want);
    expect(await sl.views.count("stx", "transfers", { amount: { gte: floor }, height: { in: [1, 4] } })).toEqual({
      count: want.length,
    });

    // Page by page, two rows at a time, in amount order: every row once.
    const walked = await collect(
      sl.views.iterate<{ amount: string }>("stx", "transfers", { sort: "amount", limit: 2 }),
    );
    expect(walked.map((r) => r.amount)).toEqual(
      transfers.map((t) => t.amount).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
    );
    const first = await sl.views.query("stx", "transfers", { sort: "amount", limit: 2 });
    const second = await sl.views.query("stx", "transfers", { sort: "amount", limit: 2, cursor: first.next ?? "" });
    expect([...first.rows, ...second.rows]).toEqual(
      (await collect(sl.views.iterate("stx", "transfers", { sort: "amount", limit: 2 }), 4)) as any[],
    );
    const recipient = transfers[0]?.recipient as string;
    expect((await sl.views.query("stx", "balances", { where: { holder: recipient } })).rows).toEqual(
      (await raw.get(`/api/views/stx/balances?holder=${recipient}`)).json.rows,
    );
  });

  test("viewQueryParams: values of every kind, operators, lists", () => {
    expect(
      viewQueryParams({
        where: {
          amount: { gt: 10n ** 30n, lte: "5" },
          minted: true,
          at: { gte: new Date(Date.UTC(2025, 0, 1)) },
          asset: { in: ["a", "b"], like: "%x%" },
          holder: { eq: "SP1" },
        },
        sort: "amount",
        order: "desc",
        limit: 10,
        cursor: "abc",
        fields: ["amount", "holder"],
      }),
    ).toEqual({
      "amount.gt": "1000000000000000000000000000000",
      "amount.lte": "5",
      minted: "true",
      "at.gte": "2025-01-01T00:00:00.000Z",
      "asset.in": "a,b",
      "asset.like": "%x%",
      holder: "SP1",
      _sort: "amount",
      _order: "desc",
      _limit: "10",
      _cursor: "abc",
      _fields: "amount,holder",
    });
  });

  test("update, reindex and delete; errors are typed with the paths the API names", async () => {
    const additive = { ...stx, description: "STX transfers and balances" };
    const updated = await sl.views.update("stx", additive);
    expect(updated.rebuilt).toBe(false);
    expect(updated.view.description).toBe("STX transfers and balances");
    const reindexed = await sl.views.reindex("stx");
    expect(reindexed.progress.lastSeq).toBe(0);
    await caughtUp("stx");
    expect(await sl.views.count("stx", "transfers")).toEqual({ count: transfers.length });

    const duplicate = await errorOf(sl.views.deploy(stx));
    expect([duplicate.status, duplicate.code]).toEqual([409, "VIEW_EXISTS"]);
    const invalid = await errorOf(
      sl.views.deploy({
        ...stx,
        name: "bad",
        tables: { ...stx.tables, balances: { ...stx.tables.balances, primaryKey: undefined } },
      }),
    );
    expect([invalid.status, invalid.code]).toEqual([400, "VALIDATION_FAILED"]);
    expect(invalid.details?.map((d) => d.path)).toEqual(["handlers.0.do.1.upsert", "handlers.0.do.2.upsert"]);
    const badFilter = await errorOf(sl.views.query("stx", "transfers", { where: { amount: { gt: "lots" }, nope: 1 } }));
    expect(badFilter.details?.map((d) => d.path).sort()).toEqual(["amount.gt", "nope"]);

    await sl.views.delete("stx");
    const gone = await errorOf(sl.views.get("stx"));
    expect([gone.status, gone.code]).toEqual([404, "NOT_FOUND"]);
    expect((await sl.views.list()).views).toEqual([]);
  });
});
