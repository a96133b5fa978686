import { describe, expect, test } from "bun:test";
import { newBlockSchema } from "@second-layer/shared/stacks/node-payloads";
import { hashOf, syntheticBlock } from "../../../test/support/synthetic-blocks.ts";
import { blockRows, eventRow, isBurnchainOp } from "../src/store/block-rows.ts";

describe("blockRows", () => {
  test("a burnchain operation (raw_tx 0x00) is stored with its op, without decoding", () => {
    const op = {
      transfer_stx: {
        burn_block_height: 800001,
        burn_header_hash: "aa".repeat(32),
        burn_txid: "bb".repeat(32),
        memo: "",
        recipient: {
          address: "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159",
          address_hash_bytes: "0x00",
          address_version: 22,
        },
        sender: {
          address: "SP2C2YFP12AJZB4MABJBAJ55XECVS7E4PMMZ89YZR",
          address_hash_bytes: "0x00",
          address_version: 22,
        },
        transfer_amount: 5000000,
        vtxindex: 3,
      },
    };
    const payload = newBlockSchema.parse(
      syntheticBlock("op", 1, "g", {
        transactions: [
          {
            txid: hashOf("op-tx"),
            tx_index: 0,
            status: "success",
            raw_tx: "0x00",
            raw_result: "0x0703",
            burnchain_op: op,
          },
        ],
      }),
    );
    const tx = payload.transactions[0];
    expect(tx && isBurnchainOp(tx)).toBe(true);
    const [row] = blockRows(payload).transactions;
    expect(row).toMatchObject({
      tx_type: "burnchain_op",
      sender_address: "SP2C2YFP12AJZB4MABJBAJ55XECVS7E4PMMZ89YZR",
      token_transfer_recipient: "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159",
      token_transfer_amount: "5000000",
      burnchain_op: op,
      raw_tx: "0x00",
    });
  });

  test("events keep the node's type, exact amounts as strings and the raw Clarity value", () => {
    const row = eventRow(
      {
        txid: hashOf("t"),
        event_index: 4,
        committed: false,
        type: "nft_transfer_event",
        nft_transfer_event: {
          asset_identifier: "SP000000000000000000002Q6VF78.bns::names",
          sender: "SPA",
          recipient: "SPB",
          raw_value: "0x0100000000000000000000000000000001",
          value: { UInt: 1 },
        },
      } as never,
      true,
    );
    expect(row).toMatchObject({
      event_index: 4,
      committed: false,
      tx_success: true,
      type: "nft_transfer_event",
      asset_identifier: "SP000000000000000000002Q6VF78.bns::names",
      value_hex: "0x0100000000000000000000000000000001",
    });
    expect(row.data).not.toHaveProperty("value");
    const big = eventRow(
      {
        txid: hashOf("t"),
        event_index: 0,
        committed: true,
        type: "stx_mint_event",
        stx_mint_event: { recipient: "SPA", amount: "340282366920938463463374607431768211455" },
      } as never,
      true,
    );
    expect(big.amount).toBe("340282366920938463463374607431768211455");
  });
});
