import { beforeAll, describe, expect, test } from "bun:test";
import { replayEventLog } from "@second-layer/shared/replay-event-log";
import { viewSchemaName } from "@second-layer/shared/views/ddl";
import { type ApiClient, startTestApi } from "../../../test/support/api.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { blocksOf, canonicalChain, fixture } from "../../../test/support/fixtures.ts";
import { startTestIndexer } from "../../../test/support/indexer.ts";
import { startTestViewProcessor } from "../../../test/support/views.ts";

// The views routes over a real indexer, view processor and API: the recording poisonmicroblock.tsv
// (163 token transfers, 157 mints, 7 failed transactions) is built into a view, and every answer is
// compared with what the recording's events say and checked against the OpenAPI document.

const tokens = {
  name: "tokens",
  description: "Token transfers, balances and every movement",
  tables: {
    transfers: {
      columns: {
        txid: { type: "text" },
        event_index: { type: "int" },
        asset: { type: "text" },
        sender: { type: "principal" },
        recipient: { type: "principal" },
        amount: { type: "uint" },
        at: { type: "timestamp" },
      },
      primaryKey: ["txid", "event_index"],
      indexes: [["recipient"], ["amount"]],
    },
    balances: {
      columns: { asset: { type: "text" }, holder: { type: "principal" }, balance: { type: "int", default: 0 } },
      primaryKey: ["asset", "holder"],
      indexes: [["balance"]],
    },
    moves: {
      columns: {
        asset: { type: "text" },
        sender: { type: "principal", nullable: true },
        recipient: { type: "principal" },
        amount: { type: "uint" },
        minted: { type: "bool" },
        detail: { type: "json", nullable: true },
      },
    },
  },
  handlers: [
    {
      on: { type: "ft_transfer" },
      do: [
        {
          insert: "transfers",
          values: {
            txid: "$.tx.id",
            event_index: "$.event.eventIndex",
            asset: "$.event.assetIdentifier",
            sender: "$.event.sender",
            recipient: "$.event.recipient",
            amount: "$.event.amount",
            at: "$.block.time",
          },
        },
        {
          upsert: "balances",
          key: { asset: "$.event.assetIdentifier", holder: "$.event.recipient" },
          add: { balance: "$.event.amount" },
        },
        {
          upsert: "balances",
          key: { asset: "$.event.assetIdentifier", holder: "$.event.sender" },
          add: { balance: "-$.event.amount" },
        },
        {
          insert: "moves",
          values: {
            asset: "$.event.assetIdentifier",
            sender: "$.event.sender",
            recipient: "$.event.recipient",
            amount: "$.event.amount",
            minted: false,
            detail: { literal: { kind: "transfer" } },
          },
        },
      ],
    },
    {
      on: { type: "ft_mint" },
      do: [
        {
          upsert: "balances",
          key: { asset: "$.event.assetIdentifier", holder: "$.event.recipient" },
          add: { balance: "$.event.amount" },
        },
        {
          insert: "moves",
          values: {
            asset: "$.event.assetIdentifier",
            recipient: "$.event.recipient",
            amount: "$.event.amount",
            minted: true,
          },
        },
      ],
    },
  ],
};

/** What the recording says the view holds, from its canonical committed events of successful transactions. */
function recorded() {
  const transfers: any[] = [];
  /** Transfers as the view writes them: block by block, transaction by transaction, event by event. */
  const written: [number, number, number, string][] = [];
  const mints: any[] = [];
  const balances = new Map<string, bigint>();
  const add = (asset: string, holder: string, delta: bigint) =>
    balances.set(`${asset}|${holder}`, (balances.get(`${asset}|${holder}`) ?? 0n) + delta);
  for (const b of canonicalChain(blocksOf(fixture("poisonmicroblock.tsv")))) {
    const ok = new Set(b.transactions.filter((t: any) => t.status === "success").map((t: any) => t.txid));
    const txIndex = new Map(b.transactions.map((t: any) => [t.txid, t.tx_index]));
    for (const e of b.events) {
      if (!e.committed || !ok.has(e.txid)) continue;
      const body = e[e.type];
      if (e.type === "ft_transfer_event") {
        transfers.push({
          txid: e.txid,
          event_index: String(e.event_index),
          asset: body.asset_identifier,
          sender: body.sender,
          recipient: body.recipient,
          amount: String(body.amount),
          _block_height: b.block_height,
          _tx_id: e.txid,
        });
        written.push([b.block_height, txIndex.get(e.txid) as number, e.event_index, String(e.event_index)]);
        add(body.asset_identifier, body.recipient, BigInt(body.amount));
        add(body.asset_identifier, body.sender, -BigInt(body.amount));
      } else if (e.type === "ft_mint_event") {
        mints.push({ asset: body.asset_identifier, recipient: body.recipient, amount: String(body.amount) });
        add(body.asset_identifier, body.recipient, BigInt(body.amount));
      }
    }
  }
  const order = written.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]).map((w) => w[3]);
  return { transfers, mints, balances, order };
}

const byKey = (a: any, b: any) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
const want = recorded();

let db: TestDatabase;
let alice: ApiClient;
let bob: ApiClient;
let viewsEnv: { url: string; adminKey: string };

/** Waits until the view (as its owner sees it through the API) has processed the chain log's head. */
async function caughtUp(client: ApiClient, name: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await client.get(`/api/views/${name}`);
    expect(res.status).toBe(200);
    if (res.json.status !== "active" || (res.json.progress.caughtUp && res.json.progress.headSeq > 0)) return res.json;
    if (Date.now() > deadline) throw new Error(`view ${name} did not catch up: ${JSON.stringify(res.json.progress)}`);
    await Bun.sleep(50);
  }
}

/** Every row of a query, page by page along `next` (from `cursor` on, if given). */
async function allPages(
  client: ApiClient,
  path: string,
  cursor: string | null = null,
): Promise<{ rows: any[]; pages: number }> {
  const rows: any[] = [];
  let pages = 0;
  let next = cursor;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const res: any = await client.get(next ? `${path}${sep}_cursor=${encodeURIComponent(next)}` : path);
    expect(res.status).toBe(200);
    rows.push(...res.json.rows);
    pages++;
    next = res.json.next;
  } while (next);
  return { rows, pages };
}

// Hooks have their own 5 s limit; the stack and the recording take longer on a busy machine.
beforeAll(async () => {
  db = await createTestDatabase();
  const indexer = await startTestIndexer(db);
  await startTestViewProcessor(db);
  const api = await startTestApi(db, { STATUS_CACHE_SECONDS: "0", API_RATE_LIMIT: "0" });
  viewsEnv = { url: api.url, adminKey: api.adminKey };
  const admin = api.client();
  const a = await admin.post("/api/accounts", { name: "alice" });
  const b = await admin.post("/api/accounts", { name: "bob" });
  alice = api.client(a.json.key);
  bob = api.client(b.json.key);
  const deployed = await alice.post("/api/views", tokens);
  expect(deployed.status).toBe(201);
  await replayEventLog(fixture("poisonmicroblock.tsv"), { to: indexer.url, maxAttempts: 1 });
  expect((await caughtUp(alice, "tokens")).status).toBe("active");
}, 60_000);

describe("deploy and read views", () => {
  test("no key or an unknown key: 401 on every views route", async () => {
    for (const client of [alice.withKey(null), alice.withKey("sk_live_unknown")]) {
      for (const [method, path] of [
        ["GET", "/api/views"],
        ["POST", "/api/views"],
        ["GET", "/api/views/tokens"],
        ["PUT", "/api/views/tokens"],
        ["DELETE", "/api/views/tokens"],
        ["POST", "/api/views/tokens/reindex"],
        ["GET", "/api/views/tokens/transfers"],
        ["GET", "/api/views/tokens/transfers/count"],
      ] as const) {
        const res = await client.request(method, path, method === "GET" || method === "DELETE" ? undefined : tokens);
        expect(res.status).toBe(401);
        expect(res.json.error.code).toBe("UNAUTHORIZED");
      }
    }
  });

  test("a deployed view: definition with defaults, status, progress at the tip, exact row counts", async () => {
    const res = await alice.get("/api/views/tokens");
    expect(res.status).toBe(200);
    const [state] = await db.sql`select tip_height, log_seq::int from chain_state where network = 'mainnet'`;
    expect(res.json).toMatchObject({
      name: "tokens",
      description: tokens.description,
      network: "mainnet",
      status: "active",
      statusReason: null,
      errorHeight: null,
      version: 1,
      startBlock: 0,
      progress: {
        processedHeight: state?.tip_height,
        chainTip: state?.tip_height,
        lagBlocks: 0,
        lastSeq: state?.log_seq,
        headSeq: state?.log_seq,
        lagEntries: 0,
        caughtUp: true,
      },
    });
    expect(res.json.definition.tables.moves.columns.minted).toEqual({ type: "bool", nullable: false });
    expect(res.json.definition.handlers).toEqual(tokens.handlers);
    expect(res.json.tables).toEqual([
      { name: "transfers", rows: want.transfers.length, rowsExact: true },
      { name: "balances", rows: want.balances.size, rowsExact: true },
      { name: "moves", rows: want.transfers.length + want.mints.length, rowsExact: true },
    ]);
    const list = await alice.get("/api/views");
    expect(list.json.views.map((v: any) => v.name)).toEqual(["tokens"]);
    expect(list.json.views[0].progress.caughtUp).toBe(true);
    expect(list.json.views[0].definition).toBeUndefined();
  });

  test("invalid definitions: 400 with the path of each problem", async () => {
    const broken = {
      tables: { t: { columns: { n: { type: "uint" }, who: { type: "principal" } } } },
      handlers: [
        {
          on: { type: "stx_transfer" },
          do: [
            { insert: "nope", values: { n: 1 } },
            { insert: "t", values: { n: "$.event.sender", who: "$.event.recipient", extra: 1 } },
            { upsert: "t", key: { who: "$.event.sender" }, add: { n: "$.event.amount" } },
          ],
        },
        { on: { type: "block" }, do: [{ insert: "t", values: { n: "$.event.amount", who: "$.block.hash" } }] },
      ],
    };
    const res = await alice.post("/api/views", { name: "Bad Name", ...broken });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_FAILED");
    // The name is checked first (by the schema); the rest once the shape is right.
    expect(res.json.error.details.map((d: any) => d.path)).toEqual(["name"]);
    const deepRes = await alice.post("/api/views", { name: "bad", ...broken });
    expect(deepRes.status).toBe(400);
    const paths = deepRes.json.error.details.map((d: any) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "handlers.0.do.0.insert", // unknown table
        "handlers.0.do.1.values.n", // a principal into a uint column
        "handlers.0.do.1.values.extra", // unknown column
        "handlers.0.do.2.upsert", // upsert without a primary key
        "handlers.1.do.0.values.n", // a block handler has no $.event
      ]),
    );
    const detail = (p: string) => deepRes.json.error.details.find((d: any) => d.path === p)?.message;
    expect(detail("handlers.0.do.1.values.n")).toContain("uint column cannot hold it");
    expect(detail("handlers.1.do.0.values.n")).toContain("has no $.event");
    const notJson = await alice.request("POST", "/api/views", "{nope", { "content-type": "application/json" });
    expect(notJson.status).toBe(400);
    expect((await alice.get("/api/views")).json.views.map((v: any) => v.name)).toEqual(["tokens"]);
  });

  test("names are unique per account: the same name again is 409; another account may use it", async () => {
    const again = await alice.post("/api/views", tokens);
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("VIEW_EXISTS");
    const bobs = await bob.post("/api/views", { ...tokens, startBlock: 1_000_000 });
    expect(bobs.status).toBe(201);
    expect(bobs.json.id).not.toBe((await alice.get("/api/views/tokens")).json.id);
    await caughtUp(bob, "tokens");
    // Each key sees its own view under the name: Bob's starts above the chain and holds nothing.
    expect((await bob.get("/api/views/tokens/transfers/count")).json).toEqual({ count: 0 });
    expect((await alice.get("/api/views/tokens/transfers/count")).json).toEqual({ count: want.transfers.length });
    expect((await bob.delete("/api/views/tokens")).status).toBe(204);
    expect((await alice.get("/api/views/tokens/transfers/count")).json).toEqual({ count: want.transfers.length });
  });

  test("another account's view answers 404 like an unknown one, and no path reaches a schema", async () => {
    const aliceView = await alice.get("/api/views/tokens");
    const schema = viewSchemaName(aliceView.json.id);
    for (const name of ["tokens", "unknown", schema]) {
      for (const [method, path, body] of [
        ["GET", `/api/views/${name}`],
        ["PUT", `/api/views/${name}`, { ...tokens, name }],
        ["DELETE", `/api/views/${name}`],
        ["POST", `/api/views/${name}/reindex`, {}],
        ["GET", `/api/views/${name}/transfers`],
        ["GET", `/api/views/${name}/transfers/count`],
      ] as const) {
        const res = await bob.request(method, path, body);
        expect(res.status).toBe(404);
        expect(res.json.error.code).toBe("NOT_FOUND");
      }
    }
    expect((await bob.get("/api/views")).json.views).toEqual([]);
    // Tables are only the definition's: not the undo log, nothing an object inherits, not another schema.
    expect((await alice.get("/api/views/tokens/_undo")).status).toBe(400);
    expect((await alice.get("/api/views/tokens/constructor")).status).toBe(404);
    expect((await alice.get("/api/views/tokens/nope")).json.error.message).toBe("table nope of view tokens not found");
    expect((await alice.get(`/api/views/tokens/${schema}`)).status).toBe(404);
    // Alice's own view still counts every row.
    expect((await alice.get("/api/views/tokens/transfers/count")).json.count).toBe(want.transfers.length);
  });
});

describe("querying a table", () => {
  test("every row, with what last wrote it: exact uint/int strings, block height and tx id", async () => {
    const { rows } = await allPages(alice, "/api/views/tokens/transfers?_limit=1000");
    const got = rows.map(({ at, ...r }) => r);
    expect(got.sort(byKey)).toEqual([...want.transfers].sort(byKey));
    for (const r of rows) expect(typeof r.at).toBe("string");
    expect(new Date(rows[0].at).getTime()).toBeGreaterThan(0);
    const { rows: balances } = await allPages(alice, "/api/views/tokens/balances?_limit=1000");
    expect(new Map(balances.map((b) => [`${b.asset}|${b.holder}`, BigInt(b.balance)]))).toEqual(want.balances);
    expect(balances.every((b) => typeof b.balance === "string" && b._tx_id !== undefined)).toBe(true);
  });

  test("filters: equality, comparisons, in, like, bool, the system columns; count agrees", async () => {
    const vault = "SP3K8BC0PPEVCV7NZ6QSRWPQ2JE9E5B6N3PA0KBR9.alex-vault";
    const amounts = want.transfers.map((t) => BigInt(t.amount)).sort((a, b) => (a < b ? -1 : 1));
    const median = amounts[Math.floor(amounts.length / 2)] as bigint;
    const alexAssets = [...new Set(want.transfers.map((t) => t.asset))].filter((a) => a.endsWith("::alex"));
    const cases: [string, (t: any) => boolean][] = [
      [`recipient=${vault}`, (t) => t.recipient === vault],
      [`amount.gt=${median}`, (t) => BigInt(t.amount) > median],
      [`amount.gte=${median}&amount.lte=${median}`, (t) => BigInt(t.amount) === median],
      [`amount.lt=${median}&recipient.ne=${vault}`, (t) => BigInt(t.amount) < median && t.recipient !== vault],
      [`asset.in=${alexAssets.join(",")},nothing`, (t) => alexAssets.includes(t.asset)],
      ["asset.like=%25auto-alex%25", (t) => t.asset.includes("auto-alex")],
      [`_tx_id=${want.transfers[0].txid}`, (t) => t.txid === want.transfers[0].txid],
      ["_block_height=1&event_index.lt=20", (t) => t._block_height === 1 && Number(t.event_index) < 20],
      ["_block_height.gt=1", () => false],
      // Values are bound, never SQL: quotes and statements are only text that matches nothing.
      [`asset=${encodeURIComponent("x'; drop table transfers; --")}`, () => false],
      [`asset.like=${encodeURIComponent("%' or '1'='1")}`, () => false],
    ];
    for (const [query, keep] of cases) {
      const expected = want.transfers.filter(keep);
      const { rows } = await allPages(alice, `/api/views/tokens/transfers?${query}&_fields=txid,event_index`);
      expect(rows.map((r) => `${r.txid}/${r.event_index}`).sort(), query).toEqual(
        expected.map((t) => `${t.txid}/${t.event_index}`).sort(),
      );
      const count = await alice.get(`/api/views/tokens/transfers/count?${query}`);
      expect(count.json, query).toEqual({ count: expected.length });
    }
    const minted = await alice.get("/api/views/tokens/moves/count?minted=true");
    expect(minted.json.count).toBe(want.mints.length);
    const mints = await allPages(alice, "/api/views/tokens/moves?minted=true&_fields=sender,detail,minted");
    expect(mints.rows.every((r) => r.sender === null && r.detail === null && r.minted === true)).toBe(true);
    const moved = await alice.get("/api/views/tokens/moves?minted.ne=true&_limit=1&_fields=detail,minted");
    expect(moved.json.rows).toEqual([{ detail: { kind: "transfer" }, minted: false }]);
    // ne keeps the rows whose value is null: a mint has no sender, so it is not sent by the vault.
    const notFromVault = await alice.get(`/api/views/tokens/moves/count?sender.ne=${vault}`);
    const fromVault = want.transfers.filter((t) => t.sender === vault).length;
    expect(notFromVault.json.count).toBe(want.transfers.length + want.mints.length - fromVault);
    // Times: unix seconds or ISO dates.
    const at = (await alice.get("/api/views/tokens/transfers?_limit=1&_fields=at")).json.rows[0].at;
    const seconds = Math.floor(new Date(at).getTime() / 1000);
    expect((await alice.get(`/api/views/tokens/transfers/count?at.gte=${seconds}`)).json.count).toBe(
      want.transfers.length,
    );
    expect((await alice.get(`/api/views/tokens/transfers/count?at.gt=${encodeURIComponent(at)}`)).json.count).toBe(0);
  });

  test("_fields picks columns; every row has only those", async () => {
    const res = await alice.get("/api/views/tokens/balances?_fields=holder,balance,_block_height&_limit=5");
    expect(res.json.rows).toHaveLength(5);
    for (const r of res.json.rows) expect(Object.keys(r)).toEqual(["holder", "balance", "_block_height"]);
  });

  test("bad parameters: 400 naming each, with what would be right", async () => {
    const bad: [string, string[]][] = [
      ["amount.gt=abc", ["amount.gt"]],
      ["amount=-5", ["amount"]],
      ["minted=yes", ["minted"]],
      ["recipient=not-a-principal", ["recipient"]],
      ["nope=1", ["nope"]],
      ["amount.between=1", ["amount.between"]],
      ["minted.gt=true", ["minted.gt"]],
      ["amount.like=1%25", ["amount.like"]],
      ["detail=1", ["detail"]],
      ["at.gt=yesterday", ["at.gt"]],
      ["at.gt=99999999999999999", ["at.gt"]],
      ["_block_height=99999999999", ["_block_height"]],
      ["amount=1&amount=2", ["amount"]],
      ["asset.in=", []],
      ["_limit=1001", ["_limit"]],
      ["_limit=0", ["_limit"]],
      ["_order=up", ["_order"]],
      ["_sort=nope", ["_sort"]],
      ["_sort=detail", ["_sort"]],
      ["_fields=txid,nope", ["_fields"]],
      ["_cursor=garbage", ["_cursor"]],
      ["_offset=10", ["_offset"]],
      ["nope=1&amount.gt=x&_sort=nope", ["nope", "amount.gt", "_sort"]],
    ];
    for (const [query, paths] of bad) {
      const table = query.startsWith("minted") || query.startsWith("detail") ? "moves" : "transfers";
      const res = await alice.get(`/api/views/tokens/${table}?${query}`);
      if (paths.length === 0) {
        // An empty text is a value like any other: no asset is called "".
        expect(res.json.rows, query).toEqual([]);
        continue;
      }
      expect(res.status, query).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
      expect(res.json.error.details.map((d: any) => d.path).sort(), query).toEqual([...paths].sort());
    }
    const unknown = await alice.get("/api/views/tokens/transfers?nope=1");
    expect(unknown.json.error.details[0].message).toContain("it has txid, event_index, asset");
    // The count takes filters only.
    const count = await alice.get("/api/views/tokens/transfers/count?_limit=3");
    expect(count.status).toBe(400);
    expect(count.json.error.details[0].path).toBe("_limit");
  });
});

describe("pagination", () => {
  test("keyset pages: every row once, in order, for a sort column with ties and both orders", async () => {
    for (const [sort, order] of [
      ["amount", "desc"],
      ["amount", "asc"],
      ["asset", "asc"],
      ["asset", "desc"],
      ["_block_height", "desc"],
      [null, "asc"],
      [null, "desc"],
    ] as const) {
      const q = `${sort ? `_sort=${sort}&` : ""}_order=${order}&_limit=7`;
      const { rows, pages } = await allPages(alice, `/api/views/tokens/transfers?${q}`);
      expect(pages, q).toBe(Math.ceil(want.transfers.length / 7));
      const ids = rows.map((r) => `${r.txid}/${r.event_index}`);
      expect(new Set(ids).size, q).toBe(want.transfers.length);
      if (sort) {
        const values = rows.map((r) => (sort === "amount" ? BigInt(r[sort]) : r[sort]));
        const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(values, q).toEqual(order === "asc" ? sorted : sorted.reverse());
      }
    }
    // Without _sort, pages follow the order rows were written in (newest first with _order=desc).
    const { rows } = await allPages(alice, "/api/views/tokens/transfers?_limit=50&_fields=event_index");
    expect(rows.map((r) => r.event_index)).toEqual(want.order);
    const newest = await allPages(alice, "/api/views/tokens/transfers?_order=desc&_limit=50&_fields=event_index");
    expect(newest.rows.map((r) => r.event_index)).toEqual([...want.order].reverse());
  });

  test("nullable sort columns: nulls last ascending, first descending, each row once", async () => {
    const total = want.transfers.length + want.mints.length;
    for (const order of ["asc", "desc"]) {
      const { rows } = await allPages(alice, `/api/views/tokens/moves?_sort=sender&_order=${order}&_limit=9`);
      expect(rows).toHaveLength(total);
      const senders = rows.map((r) => r.sender);
      const nulls = senders.filter((s) => s === null).length;
      expect(nulls).toBe(want.mints.length);
      const named = order === "asc" ? senders.slice(0, total - nulls) : senders.slice(nulls);
      expect(named.every((s) => s !== null)).toBe(true);
      expect(named).toEqual(order === "asc" ? [...named].sort() : [...named].sort().reverse());
    }
  });

  test("stable while rows are written: a row written before the cursor shifts nothing after it", async () => {
    const view = await alice.get("/api/views/tokens");
    const schema = viewSchemaName(view.json.id);
    const path = "/api/views/tokens/balances?_sort=balance&_order=desc&_limit=5";
    const first = await alice.get(path);
    expect(first.json.rows).toHaveLength(5);
    // A new top balance lands on page 1's side of the cursor; an OFFSET would repeat page 1's last row.
    await db.sql.unsafe(
      `insert into "${schema}".balances (asset, holder, balance, _block_height) values ('x', 'SP000000000000000000002Q6VF78', 99999999999999999999999, 1)`,
    );
    try {
      const rest = await allPages(alice, path, first.json.next);
      const all = [...first.json.rows, ...rest.rows].map((r) => `${r.asset}|${r.holder}`);
      expect(new Set(all).size).toBe(all.length);
      expect(new Set(all)).toEqual(new Set(want.balances.keys()));
    } finally {
      await db.sql.unsafe(`delete from "${schema}".balances where asset = 'x'`);
    }
  });

  test("a cursor belongs to its sort: another _sort or _order is 400", async () => {
    const page = await alice.get("/api/views/tokens/transfers?_sort=amount&_order=desc&_limit=2");
    const next = encodeURIComponent(page.json.next);
    for (const q of ["_sort=amount&_order=asc", "_sort=asset&_order=desc", "_order=desc"]) {
      const res = await alice.get(`/api/views/tokens/transfers?${q}&_cursor=${next}`);
      expect(res.status, q).toBe(400);
      expect(res.json.error.details[0]).toMatchObject({ path: "_cursor" });
      expect(res.json.error.details[0].message).toContain("_sort=amount and _order=desc");
    }
    // A forged cursor with a value of the wrong type is refused before it reaches Postgres.
    const forged = Buffer.from(JSON.stringify({ s: "amount", o: "desc", k: "1e5", i: "1" })).toString("base64url");
    const res = await alice.get(`/api/views/tokens/transfers?_sort=amount&_order=desc&_cursor=${forged}`);
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].path).toBe("_cursor");
  });
});

describe("changing views", () => {
  test("PUT: additive changes apply in place, others rebuild from startBlock; the name stays", async () => {
    const additive = structuredClone(tokens) as any;
    additive.tables.moves.columns.note = { type: "text", nullable: true };
    additive.tables.moves.indexes = [["asset"]];
    additive.tables.extra = { columns: { n: { type: "uint" } } };
    const put = await alice.put("/api/views/tokens", additive);
    expect(put.status).toBe(200);
    expect(put.json.rebuilt).toBe(false);
    expect(put.json.view).toMatchObject({ version: 2, status: "active" });
    expect(put.json.view.tables.map((t: any) => t.name)).toEqual(["transfers", "balances", "moves", "extra"]);
    // The rows stay; the new column reads null.
    expect((await alice.get("/api/views/tokens/transfers/count")).json.count).toBe(want.transfers.length);
    const moves = await alice.get("/api/views/tokens/moves?_fields=note&_limit=2");
    expect(moves.json.rows).toEqual([{ note: null }, { note: null }]);
    expect((await alice.get("/api/views/tokens/extra")).json).toEqual({ rows: [], next: null });

    const renamed = await alice.put("/api/views/tokens", { ...additive, name: "other" });
    expect(renamed.status).toBe(400);
    expect(renamed.json.error.details[0].path).toBe("name");
    const invalid = await alice.put("/api/views/tokens", { ...additive, handlers: [] });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.details[0].path).toBe("handlers");

    const breaking = structuredClone(additive);
    breaking.handlers = breaking.handlers.slice(0, 1);
    const rebuilt = await alice.put("/api/views/tokens", breaking);
    expect(rebuilt.json.rebuilt).toBe(true);
    expect(rebuilt.json.view.version).toBe(3);
    expect(rebuilt.json.view.progress.lastSeq).toBe(0);
    await caughtUp(alice, "tokens");
    // Without the mint handler, mints are gone from the rebuilt tables.
    expect((await alice.get("/api/views/tokens/moves/count?minted=true")).json.count).toBe(0);
    expect((await alice.get("/api/views/tokens/transfers/count")).json.count).toBe(want.transfers.length);

    const back = await alice.put("/api/views/tokens", tokens);
    expect(back.json.rebuilt).toBe(true);
    await caughtUp(alice, "tokens");
    expect((await alice.get("/api/views/tokens/moves/count?minted=true")).json.count).toBe(want.mints.length);
  });

  test("reindex: 202, the tables empty and fill again to the same rows", async () => {
    const before = await allPages(alice, "/api/views/tokens/balances?_limit=1000&_fields=asset,holder,balance");
    const res = await alice.post("/api/views/tokens/reindex");
    expect(res.status).toBe(202);
    expect(res.json.progress).toMatchObject({ lastSeq: 0, processedHeight: null, caughtUp: false });
    const done = await caughtUp(alice, "tokens");
    expect(done.status).toBe("active");
    const after = await allPages(alice, "/api/views/tokens/balances?_limit=1000&_fields=asset,holder,balance");
    expect(after.rows.sort(byKey)).toEqual(before.rows.sort(byKey));
  });

  test("a view stopped by an error: status, reason and height in the API, /status and /metrics", async () => {
    // Two transfers of one asset in a table keyed by asset: the second insert cannot be written.
    const broken = await alice.post("/api/views", {
      name: "broken",
      tables: { first: { columns: { asset: { type: "text" } }, primaryKey: ["asset"] } },
      handlers: [
        { on: { type: "ft_transfer" }, do: [{ insert: "first", values: { asset: "$.event.assetIdentifier" } }] },
      ],
    });
    expect(broken.status).toBe(201);
    const stopped = await caughtUp(alice, "broken");
    expect(stopped).toMatchObject({ status: "error", errorHeight: 1 });
    expect(stopped.statusReason).toContain("duplicate key");
    expect(stopped.progress.caughtUp).toBe(false);

    const status = await alice.get("/status");
    expect(status.json.views).toEqual({ active: 1, error: 1 });
    expect(status.json.status).toBe("degraded");
    await db.sql.unsafe(`analyze`);
    const metrics = await (await fetch(`${viewsEnv.url}/metrics`)).text();
    const tokensId = (await alice.get("/api/views/tokens")).json.id;
    expect(metrics).toContain(`second_layer_views{network="mainnet",status="error"} 1`);
    expect(metrics).toContain(`second_layer_view_error{view_id="${stopped.id}",view="broken"} 1`);
    expect(metrics).toContain(`second_layer_view_error{view_id="${tokensId}",view="tokens"} 0`);
    expect(metrics).toContain(`second_layer_view_lag_blocks{view_id="${tokensId}",view="tokens",network="mainnet"} 0`);
    expect(metrics).toContain(
      `second_layer_view_rows{view_id="${tokensId}",view="tokens",table="transfers"} ${want.transfers.length}`,
    );
    expect(metrics).toMatch(/second_layer_api_requests_total\{method="GET",route="\/api\/views\/:name\/:table"/);

    expect((await alice.delete("/api/views/broken")).status).toBe(204);
    expect((await alice.get("/api/views/broken")).status).toBe(404);
    const [schema] =
      await db.sql`select count(*)::int as n from pg_namespace where nspname = ${viewSchemaName(stopped.id)}`;
    expect(schema?.n).toBe(0);
    expect((await alice.get("/status")).json.views).toEqual({ active: 1, error: 0 });
  });

  test("a query that runs past VIEW_QUERY_TIMEOUT_MS is cancelled: 503 QUERY_TIMEOUT", async () => {
    const api = await startTestApi(db, { VIEW_QUERY_TIMEOUT_MS: "200" });
    const client = api.client(alice.key);
    const view = await client.get("/api/views/tokens");
    const schema = viewSchemaName(view.json.id);
    // A lock held elsewhere keeps the query waiting; waiting counts against the statement timeout.
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let locked = () => {};
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holder = db.sql.begin(async (tx) => {
      await tx.unsafe(`lock table "${schema}".transfers in access exclusive mode`);
      locked();
      await held;
    });
    await isLocked;
    try {
      for (const path of ["/api/views/tokens/transfers", "/api/views/tokens/transfers/count"]) {
        const res = await client.get(path);
        expect(res.status, path).toBe(503);
        expect(res.json.error.code).toBe("QUERY_TIMEOUT");
        expect(res.json.error.message).toContain("200 ms");
      }
    } finally {
      release();
      await holder;
    }
    expect((await client.get("/api/views/tokens/transfers/count")).status).toBe(200);
  });
});
