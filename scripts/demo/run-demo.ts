import { chainAccounts } from "@second-layer/simulator/generate-chain";
import { SimulatedNode } from "@second-layer/simulator/simulated-node";
import { startDemoReceiver } from "./receiver.ts";

// `bun run dev --demo`: a chain, a stream and a view without any real node. A simulated node posts a
// block every second (with a fork now and then), an example stream delivers STX transfers and the
// marketplace's print events to a built-in receiver that checks signatures, and an example view keeps
// token balances and marketplace sales.

export interface DemoOptions {
  indexerUrl: string;
  apiUrl: string;
  adminKey: string;
  network: "mainnet" | "testnet";
  receiverPort: number;
  say: (line: string) => void;
}

const STREAM_NAME = "demo";
const VIEW_NAME = "demo-market";

async function api(opts: DemoOptions, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${opts.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${opts.adminKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json?.error?.message ?? text}`);
  return json;
}

export function demoView(network: "mainnet" | "testnet") {
  const { market, token } = chainAccounts(network);
  return {
    name: VIEW_NAME,
    description: "Token balances and marketplace sales of the simulated chain",
    tables: {
      balances: {
        columns: { holder: { type: "principal" }, balance: { type: "int", default: 0 } },
        primaryKey: ["holder"],
        indexes: [["balance"]],
      },
      sales: {
        columns: {
          buyer: { type: "principal" },
          token_id: { type: "uint" },
          price: { type: "uint" },
          at: { type: "timestamp" },
        },
        indexes: [["buyer"]],
      },
    },
    handlers: [
      {
        on: { type: "ft_transfer", assetIdentifier: `${token}::bench` },
        do: [
          { upsert: "balances", key: { holder: "$.event.recipient" }, add: { balance: "$.event.amount" } },
          { upsert: "balances", key: { holder: "$.event.sender" }, add: { balance: "-$.event.amount" } },
        ],
      },
      {
        on: { type: "print_event", contractId: market },
        when: { "$.event.value.action": { eq: "mint" } },
        do: [
          {
            insert: "sales",
            values: {
              buyer: "$.event.value.buyer",
              token_id: "$.event.value.id",
              price: "$.event.value.price",
              at: "$.block.time",
            },
          },
        ],
      },
    ],
  };
}

export async function startDemo(opts: DemoOptions): Promise<() => Promise<void>> {
  const { say } = opts;
  const receiver = startDemoReceiver(opts.receiverPort, (line) => say(`receiver: ${line}`));
  // A fresh demo stream each run: its secret is shown only when it is created.
  const existing = await api(opts, "GET", "/api/streams?limit=200");
  for (const s of existing.streams) if (s.name === STREAM_NAME) await api(opts, "DELETE", `/api/streams/${s.id}`);
  const { market } = chainAccounts(opts.network);
  const created = await api(opts, "POST", "/api/streams", {
    name: STREAM_NAME,
    webhookUrl: receiver.url,
    filters: [
      { type: "stx_transfer", minAmount: "1000000" },
      { type: "print_event", contractId: market },
    ],
  });
  receiver.setSecret(created.secret);
  say(`demo stream ${created.stream.id} → ${receiver.url} (secret ${created.secret.slice(0, 12)}…)`);

  const views = await api(opts, "GET", "/api/views");
  if (!views.views.some((v: { name: string }) => v.name === VIEW_NAME)) {
    await api(opts, "POST", "/api/views", demoView(opts.network));
  }
  say(`demo view ${VIEW_NAME}: ${opts.apiUrl}/api/views/${VIEW_NAME}/balances?_sort=balance&_order=desc&_limit=3`);

  const node = new SimulatedNode({ indexerUrl: opts.indexerUrl, network: opts.network, blockMs: 1000, forkEvery: 15 });
  await node.start();
  say("simulated node posting a block every second (a fork every 15 blocks)");
  const peek = setInterval(async () => {
    try {
      const top = await api(opts, "GET", `/api/views/${VIEW_NAME}/balances?_sort=balance&_order=desc&_limit=3`);
      const sales = await api(opts, "GET", `/api/views/${VIEW_NAME}/sales/count`);
      const rows = top.rows.map((r: { holder: string; balance: string }) => `${r.holder.slice(0, 8)}… ${r.balance}`);
      say(`view ${VIEW_NAME}: ${sales.count} sales; top balances ${rows.join(", ")}`);
    } catch (err) {
      say(`view ${VIEW_NAME}: ${(err as Error).message}`);
    }
  }, 10_000);
  return async () => {
    clearInterval(peek);
    await node.stop();
    receiver.stop();
  };
}
