// A view written in TypeScript: defineView checks the definition as you type (filter types and
// fields, table shapes) and returns it unchanged. Run to deploy it:
//   SL_API_KEY=sk_live_... bun docs/examples/define-view.ts
import { defineView } from "@second-layer/sdk";

export const alexSwaps = defineView({
  name: "alex-swap-amounts",
  tables: {
    swaps: {
      columns: { trader: { type: "principal" }, amount_in: { type: "uint" }, amount_out: { type: "uint" } },
      indexes: [["trader"]],
    },
  },
  handlers: [
    {
      on: {
        type: "contract_call",
        contractId: "SP3K8BC0PPEVCV7NZ6QSRWPQ2JE9E5B6N3PA0KBR9.swap-helper-v1-03",
        functionName: "swap-helper",
      },
      do: [
        { insert: "swaps", values: { trader: "$.tx.sender", amount_in: "$.tx.args[2]", amount_out: "$.tx.result.ok" } },
      ],
    },
  ],
});

if (import.meta.main) {
  const res = await fetch(`${process.env.SL_API_URL ?? "http://127.0.0.1:3800"}/api/views`, {
    method: "POST",
    headers: { authorization: `Bearer ${process.env.SL_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(alexSwaps),
  });
  console.log(res.status, await res.text());
}
