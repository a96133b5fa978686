import { describe, expect, test } from "bun:test";
import {
  Cl,
  makeContractCall,
  makeContractDeploy,
  makeSTXTokenTransfer,
  makeUnsignedSTXTokenTransfer,
  Pc,
  PostConditionMode,
  privateKeyToAddress,
  sponsorTransaction,
} from "@stacks/transactions";
import { ALL_FIXTURES, fixture } from "../../../test/support/fixtures.ts";
import { TEST_KEYS, TEST_PUBLIC_KEYS } from "../../../test/support/stacks-keys.ts";
import { decodeTransaction, decodeWithLibrary } from "../src/stacks/decode-transaction.ts";
import { decodeTransactionWire } from "../src/stacks/transaction-wire.ts";

// The wire reader must give exactly what @stacks/transactions gives, and read everything a node sends
// without falling back to it.

const KEYS = TEST_KEYS;
const PUBS = TEST_PUBLIC_KEYS;
const DEPLOYER = privateKeyToAddress(KEYS[2] as string, "mainnet");

function bytesOf(rawTx: string): Uint8Array {
  return Buffer.from(rawTx.replace(/^0x/, ""), "hex");
}

function expectSameAsLibrary(rawTx: string): string {
  const bytes = bytesOf(rawTx);
  const decoded = decodeTransactionWire(bytes);
  expect(decoded).toEqual(decodeWithLibrary(bytes));
  return decoded.txType;
}

/** Every argument shape Clarity has, principals of both kinds included. */
const EVERY_ARG = [
  Cl.uint(340282366920938463463374607431768211455n),
  Cl.int(-170141183460469231731687303715884105728n),
  Cl.bool(true),
  Cl.bool(false),
  Cl.buffer(new Uint8Array([0, 1, 2, 255])),
  Cl.stringAscii('hello "world"\n'),
  Cl.stringUtf8("héllo ☃"),
  Cl.principal("SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159"),
  Cl.principal(`${DEPLOYER}.my-contract`),
  Cl.tuple({ b: Cl.uint(2), a: Cl.list([Cl.int(1), Cl.int(2)]) }),
  Cl.some(Cl.none()),
  Cl.ok(Cl.principal(`${DEPLOYER}.c`)),
  Cl.error(Cl.uint(7)),
  Cl.list([]),
];

async function generatedTransactions(): Promise<string[]> {
  const common = { senderKey: KEYS[0] as string, fee: 300n, nonce: 12n };
  const token = `${DEPLOYER}.my-token` as const;
  const call = {
    ...common,
    contractAddress: DEPLOYER,
    contractName: "my-contract",
    functionName: "do-everything",
    functionArgs: EVERY_ARG,
    network: "mainnet" as const,
    validateWithAbi: false,
    postConditionMode: PostConditionMode.Deny,
    postConditions: [
      Pc.principal(privateKeyToAddress(KEYS[0] as string, "mainnet"))
        .willSendEq(100)
        .ustx(),
      Pc.principal(`${DEPLOYER}.vault`).willSendGte(5).ft(token, "tok"),
      Pc.origin()
        .willNotSendAsset()
        .nft(`${token}::nft`, Cl.tuple({ id: Cl.uint(1) })),
    ],
  };
  const txs = [
    await makeSTXTokenTransfer({
      ...common,
      recipient: `${DEPLOYER}.vault`,
      amount: 1n,
      memo: "a memo",
      network: "testnet",
    }),
    await makeSTXTokenTransfer({ ...common, recipient: DEPLOYER, amount: 18446744073709551615n, network: "mainnet" }),
    await makeContractCall(call),
    await makeContractCall({ ...call, postConditionMode: PostConditionMode.Allow, network: "testnet" }),
    await makeContractDeploy({
      ...common,
      contractName: "my-contract",
      codeBody: ";; héllo\n(define-public (f) (ok u1))",
      clarityVersion: 3,
      network: "mainnet",
    }),
    await sponsorTransaction({
      transaction: await makeContractCall({ ...call, sponsored: true, fee: 0n }),
      sponsorPrivateKey: KEYS[1] as string,
      fee: 5000n,
      sponsorNonce: 9n,
      network: "mainnet",
    }),
  ];
  for (const useNonSequentialMultiSig of [false, true]) {
    txs.push(
      await makeUnsignedSTXTokenTransfer({
        recipient: DEPLOYER,
        amount: 1n,
        numSignatures: 2,
        publicKeys: PUBS,
        useNonSequentialMultiSig,
        network: "mainnet",
        fee: 300n,
        nonce: 1n,
      }),
    );
  }
  return txs.map((tx) => tx.serialize());
}

describe("decodeTransactionWire", () => {
  test("reads every transaction in the recorded node logs, to exactly what the library gives", () => {
    const raws: string[] = [];
    for (const file of ALL_FIXTURES) {
      for (const row of fixture(file)) {
        const body = JSON.parse(row.payload);
        if (row.path === "/new_mempool_tx") raws.push(...body);
        if (row.path === "/new_block" || row.path === "/new_microblocks")
          raws.push(...body.transactions.map((t: { raw_tx: string }) => t.raw_tx).filter((r: string) => r.length > 4));
      }
    }
    const types = new Set(raws.map(expectSameAsLibrary));
    const libraryTypes = new Set(raws.map((r) => decodeWithLibrary(bytesOf(r)).txType));
    expect(raws.length).toBeGreaterThan(0);
    expect(types).toEqual(libraryTypes);
  });

  test("reads every argument, post-condition, principal and authorization shape like the library", async () => {
    const types = (await generatedTransactions()).map(expectSameAsLibrary);
    expect(new Set(types)).toEqual(new Set(["token_transfer", "contract_call", "versioned_smart_contract"]));
  });

  test("what it leaves aside (a name that is not ASCII) is decoded by the library", async () => {
    const tx = await makeContractCall({
      contractAddress: DEPLOYER,
      contractName: "café",
      functionName: "f",
      functionArgs: [],
      senderKey: KEYS[0] as string,
      network: "mainnet",
      fee: 1n,
      nonce: 0n,
      validateWithAbi: false,
    });
    const bytes = bytesOf(tx.serialize());
    expect(() => decodeTransactionWire(bytes)).toThrow("name");
    const decoded = decodeTransaction(tx.serialize());
    expect(decoded).toEqual(decodeWithLibrary(bytes));
    expect(decoded.contractId).toBe(`${DEPLOYER}.café`);
  });

  test("a truncated transaction is refused, not half read", async () => {
    const raw = (await generatedTransactions())[2] as string;
    expect(() => decodeTransactionWire(bytesOf(raw).subarray(0, 100))).toThrow("truncated");
  });
});
