import { describe, expect, test } from "bun:test";
import { AddressVersion } from "@stacks/network";
import { addressFromVersionHash, addressToString, Cl, serializeCV } from "@stacks/transactions";
import { fixtureBlocks } from "../../../../test/support/chain-rows.ts";
import {
  FILTER_TYPES,
  parseStreamFilters,
  parseStreamOptions,
  StreamValidationError,
  streamFilterSchema,
} from "../../src/streams/filters.ts";
import { tokenIdHex } from "../../src/streams/token-id.ts";

// Real principals from the recordings: mainnet from the poison-microblock block, testnet from mocknet.
const poison = fixtureBlocks("poisonmicroblock.tsv");
const MAINNET = poison[0]!.transactions.find((t) => t.tx_type === "token_transfer")!.sender_address!;
const MAINNET_CONTRACT = poison[0]!.transactions.find((t) => t.tx_type === "contract_call")!.contract_id!;
const MAINNET_ASSET = poison[0]!.events.find((e) => e.type === "ft_transfer_event")!.asset_identifier!;
const TESTNET = fixtureBlocks("mocknet.tsv")
  .flatMap((b) => b.events)
  .find((e) => e.type === "stx_mint_event")!.recipient!;
const hash = "df0ba3e79792be7be5e50a370289accfc8c9e032";
const MULTISIG = {
  mainnet: addressToString(addressFromVersionHash(AddressVersion.MainnetMultiSig, hash)),
  testnet: addressToString(addressFromVersionHash(AddressVersion.TestnetMultiSig, hash)),
};

/** The field issues of parsing `filters` on `network`, or [] when they parse. */
function issues(filters: unknown, network: "mainnet" | "testnet" | "devnet" = "mainnet") {
  try {
    parseStreamFilters(network, filters);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(StreamValidationError);
    expect((err as StreamValidationError).code).toBe("INVALID_STREAM");
    return (err as StreamValidationError).details;
  }
}

describe("filter schemas", () => {
  test("every filter type of the issue parses with all of its fields", () => {
    const all = [
      { type: "stx_transfer", sender: MAINNET, recipient: MAINNET_CONTRACT, minAmount: "1", maxAmount: "2" },
      { type: "stx_mint", recipient: MAINNET, minAmount: "1" },
      { type: "stx_burn", sender: MAINNET, minAmount: "1" },
      { type: "stx_lock", lockedAddress: MAINNET, minAmount: "1" },
      { type: "ft_transfer", assetIdentifier: MAINNET_ASSET, sender: MAINNET, recipient: MAINNET, minAmount: "1" },
      { type: "ft_mint", assetIdentifier: MAINNET_ASSET, recipient: MAINNET, minAmount: "1" },
      { type: "ft_burn", assetIdentifier: MAINNET_ASSET, sender: MAINNET, minAmount: "1" },
      { type: "nft_transfer", assetIdentifier: MAINNET_ASSET, sender: MAINNET, recipient: MAINNET, tokenId: "u1" },
      { type: "nft_mint", assetIdentifier: MAINNET_ASSET, recipient: MAINNET, tokenId: 7 },
      { type: "nft_burn", assetIdentifier: MAINNET_ASSET, sender: MAINNET, tokenId: `0x${serializeCV(Cl.int(-1))}` },
      { type: "contract_call", contractId: MAINNET_CONTRACT, functionName: "swap-*", caller: MAINNET },
      { type: "contract_deploy", deployer: MAINNET, contractName: "token-?" },
      { type: "print_event", contractId: MAINNET_CONTRACT, topic: "print", contains: "x", where: { "a.b": "1" } },
      {
        type: "tx",
        txId: `0x${"ab".repeat(32)}`,
        txType: "contract_call",
        sender: MULTISIG.mainnet,
        status: "success",
      },
      { type: "block" },
    ];
    expect(new Set(all.map((f) => f.type))).toEqual(new Set(FILTER_TYPES));
    expect(issues(all)).toEqual([]);
    for (const network of ["testnet", "devnet"] as const) {
      expect(issues([{ type: "stx_transfer", sender: TESTNET, recipient: `${TESTNET}.c` }], network)).toEqual([]);
      expect(issues([{ type: "tx", sender: MULTISIG.testnet }], network)).toEqual([]);
    }
  });

  test("amounts come out as canonical decimal strings; JSON integers are accepted when exact", () => {
    const [f] = parseStreamFilters("mainnet", [
      { type: "stx_transfer", minAmount: 1000, maxAmount: "00340282366920938463463374607431768211455" },
    ]);
    expect(f).toEqual({
      type: "stx_transfer",
      minAmount: "1000",
      maxAmount: "340282366920938463463374607431768211455",
    });
    expect(issues([{ type: "stx_mint", minAmount: 2 ** 53 }])).toEqual([
      { path: "filters.0.minAmount", message: expect.stringContaining("decimal strings") },
    ]);
    for (const bad of ["340282366920938463463374607431768211456", "-1", "1.5", "1e6", "", " 1", 1.5, -3, true]) {
      expect(issues([{ type: "stx_mint", minAmount: bad }]).map((i) => i.path)).toEqual(["filters.0.minAmount"]);
    }
  });

  test("errors carry the path of the field, one per problem", () => {
    expect(
      issues([
        { type: "stx_transfer", recipient: MAINNET },
        { type: "stx_transfer", minAmount: "abc" },
        { type: "ft_mint", sender: MAINNET, colour: "red" },
        { type: "stx_transfer", minAmount: "10", maxAmount: "9" },
        { type: "print_event", where: { "ok.amount": 1.5 } },
        { type: "nope" },
        "stx_transfer",
        { type: "contract_call", functionName: "has space" },
        { type: "tx", txId: "0x12", status: "failed" },
      ]),
    ).toEqual([
      { path: "filters.1.minAmount", message: expect.stringContaining("uint128") },
      { path: "filters.2.sender", message: "unknown field" },
      { path: "filters.2.colour", message: "unknown field" },
      { path: "filters.3.maxAmount", message: expect.stringContaining("below minAmount") },
      { path: "filters.4.where.ok.amount", message: expect.stringContaining("1.5") },
      { path: "filters.5.type", message: expect.stringContaining("unknown filter type") },
      { path: "filters.6", message: expect.any(String) },
      { path: "filters.7.functionName", message: expect.any(String) },
      { path: "filters.8.txId", message: expect.stringContaining("transaction id") },
      { path: "filters.8.status", message: expect.any(String) },
    ]);
    expect(issues([]).map((i) => i.path)).toEqual(["filters"]);
    expect(issues({ type: "block" }).map((i) => i.path)).toEqual(["filters"]);
    expect(issues(Array.from({ length: 101 }, () => ({ type: "block" }))).map((i) => i.path)).toEqual(["filters"]);
  });

  test("principals are checked against the stream's network, and must be canonical and c32check-valid", () => {
    expect(issues([{ type: "stx_mint", recipient: TESTNET }], "mainnet")).toEqual([
      { path: "filters.0.recipient", message: expect.stringContaining("not a mainnet address") },
    ]);
    expect(issues([{ type: "stx_mint", recipient: MAINNET }], "testnet")).toEqual([
      { path: "filters.0.recipient", message: expect.stringContaining("not a testnet address") },
    ]);
    expect(issues([{ type: "stx_mint", recipient: MAINNET }], "devnet")[0]?.message).toContain("not a devnet address");
    // One changed character breaks the checksum.
    const last = MAINNET.at(-1) === "A" ? "B" : "A";
    expect(issues([{ type: "stx_mint", recipient: MAINNET.slice(0, -1) + last }])[0]?.message).toContain("checksum");
    // c32 decoding forgives lower case; a stored address never has it, so it could never match.
    const lower = `S${MAINNET.slice(1).toLowerCase()}`;
    expect(issues([{ type: "stx_mint", recipient: lower }])[0]?.message).toContain(`use "${MAINNET}"`);
    expect(issues([{ type: "stx_mint", recipient: `${MAINNET}.9bad` }])[0]?.message).toContain("contract name");
    expect(issues([{ type: "contract_call", contractId: MAINNET }])[0]?.message).toContain("not a contract identifier");
    expect(issues([{ type: "contract_call", caller: MAINNET_CONTRACT }])[0]?.message).toContain("is a contract");
    expect(issues([{ type: "ft_mint", assetIdentifier: MAINNET_CONTRACT }])[0]?.message).toContain("asset identifier");
  });

  test("token ids: the accepted forms and what each means", () => {
    const u5 = `0x${serializeCV(Cl.uint(5))}`;
    expect(tokenIdHex("u5", "mainnet")).toBe(u5);
    expect(tokenIdHex("5", "mainnet")).toBe(u5);
    expect(tokenIdHex(5, "mainnet")).toBe(u5);
    expect(tokenIdHex(u5.toUpperCase().replace("0X", "0x"), "mainnet")).toBe(u5);
    expect(tokenIdHex(MAINNET, "mainnet")).toBe(`0x${serializeCV(Cl.principal(MAINNET))}`);
    const ascii = `0x${serializeCV(Cl.stringAscii("gold"))}`;
    expect(tokenIdHex(ascii, "mainnet")).toBe(ascii);
    const bad = ["gold", "-5", "i5", u5.slice(0, -2), `${u5}00`, "0xzz", MAINNET.replace("SP", "ST"), 1.5, -1];
    for (const tokenId of bad) {
      expect(issues([{ type: "nft_mint", tokenId }]).map((i) => i.path)).toEqual(["filters.0.tokenId"]);
    }
    expect(issues([{ type: "nft_mint", tokenId: MAINNET }], "testnet")[0]?.message).toContain("not a testnet address");
  });

  test("where values: integers become decimal strings (how Clarity integers decode), the rest is kept", () => {
    const [f] = parseStreamFilters("mainnet", [
      { type: "print_event", where: { a: 5, "b.c": ["1", 2, true, null], d: { e: 3, f: "x" } } },
    ]);
    expect(f).toEqual({ type: "print_event", where: { a: "5", "b.c": ["1", "2", true, null], d: { e: "3", f: "x" } } });
    expect(issues([{ type: "print_event", where: {} }]).map((i) => i.path)).toEqual(["filters.0.where"]);
    expect(issues([{ type: "print_event", where: { "a..b": "1" } }]).map((i) => i.path)).toEqual([
      "filters.0.where.a..b",
    ]);
  });

  test("the schema of one network is built once", () => {
    expect(streamFilterSchema("mainnet")).toBe(streamFilterSchema("mainnet"));
    expect(streamFilterSchema("mainnet")).not.toBe(streamFilterSchema("testnet"));
  });
});

describe("stream options", () => {
  test("defaults, and unknown or mistyped options with their paths", () => {
    const defaults = {
      includeFailed: false,
      decodeClarityValues: true,
      includeRawTx: false,
      includeBlockMetadata: false,
    };
    expect(parseStreamOptions(undefined)).toEqual(defaults);
    expect(parseStreamOptions({})).toEqual(defaults);
    expect(parseStreamOptions({ includeFailed: true, includeRawTx: true })).toEqual({
      ...defaults,
      includeFailed: true,
      includeRawTx: true,
    });
    try {
      parseStreamOptions({ includeFailed: "yes", decodeClarity: true });
      throw new Error("expected a validation error");
    } catch (err) {
      expect((err as StreamValidationError).details.map((d) => d.path).sort()).toEqual([
        "options.decodeClarity",
        "options.includeFailed",
      ]);
    }
  });
});
