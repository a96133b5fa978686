// A view written in TypeScript: the STX each address has received, and how many transfers brought it.
// Deploy it with `sl views deploy docs/examples/stx-received-view.ts` (the default export is sent as
// JSON; deploying it again updates the view of that name), then read it with
// `sl views query stx-received received --sort total --order desc --limit 10`.
import { defineView } from "@second-layer/sdk";

export default defineView({
  name: "stx-received",
  description: "STX received per address",
  tables: {
    received: {
      columns: { recipient: { type: "principal" }, total: { type: "uint" }, transfers: { type: "uint" } },
      primaryKey: ["recipient"],
      indexes: [["total"]],
    },
  },
  handlers: [
    {
      on: { type: "stx_transfer" },
      do: [
        {
          upsert: "received",
          key: { recipient: "$.event.recipient" },
          add: { total: "$.event.amount", transfers: 1 },
        },
      ],
    },
  ],
});
