import { describe, expect, test } from "bun:test";
import { AddressVersion } from "@stacks/network";
import {
  AddressHashMode,
  addressFromPublicKeys,
  addressToString,
  Cl,
  createStacksPublicKey,
  makeContractCall,
  makeContractDeploy,
  makeSTXTokenTransfer,
  makeUnsignedSTXTokenTransfer,
  privateKeyToAddress,
  sponsorTransaction,
} from "@stacks/transactions";
import { TEST_KEYS, TEST_PUBLIC_KEYS } from "../../../test/support/stacks-keys.ts";
import { decodeClarityHex } from "../src/stacks/clarity.ts";
import { decodeTransaction } from "../src/stacks/decode-transaction.ts";

const KEYS = TEST_KEYS;
const PUBS = TEST_PUBLIC_KEYS;

describe("decodeTransaction", () => {
  test("single-sig token transfer on mainnet and testnet", async () => {
    for (const network of ["mainnet", "testnet"] as const) {
      const tx = await makeSTXTokenTransfer({
        recipient: "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159",
        amount: 123456789012345678n,
        memo: "hello",
        senderKey: KEYS[0] as string,
        network,
        fee: 180n,
        nonce: 7n,
      });
      const d = decodeTransaction(tx.serialize());
      expect(d.txType).toBe("token_transfer");
      expect(d.senderAddress).toBe(privateKeyToAddress(KEYS[0] as string, network));
      expect(d.nonce).toBe("7");
      expect(d.fee).toBe("180");
      expect(d.sponsored).toBe(false);
      expect(d.tokenTransfer?.amount).toBe("123456789012345678");
      expect(d.tokenTransfer?.memo).toBe(`0x${Buffer.from("hello").toString("hex")}`);
    }
  });

  test("sponsored contract call: origin is the sender, sponsor pays the fee, args decode", async () => {
    const unsponsored = await makeContractCall({
      contractAddress: "SP2C2YFP12AJZB4MABJBAJ55XECVS7E4PMMZ89YZR",
      contractName: "arkadiko-swap-v2-1",
      functionName: "swap-x-for-y",
      functionArgs: [
        Cl.uint(1000),
        Cl.principal("SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159"),
        Cl.some(Cl.bufferFromUtf8("ab")),
      ],
      senderKey: KEYS[0] as string,
      network: "mainnet",
      sponsored: true,
      fee: 0n,
      nonce: 3n,
    });
    const tx = await sponsorTransaction({
      transaction: unsponsored,
      sponsorPrivateKey: KEYS[1] as string,
      fee: 5000n,
      sponsorNonce: 9n,
      network: "mainnet",
    });
    const d = decodeTransaction(`0x${tx.serialize()}`);
    expect(d.txType).toBe("contract_call");
    expect(d.sponsored).toBe(true);
    expect(d.senderAddress).toBe(privateKeyToAddress(KEYS[0] as string, "mainnet"));
    expect(d.sponsorAddress).toBe(privateKeyToAddress(KEYS[1] as string, "mainnet"));
    expect(d.fee).toBe("5000");
    expect(d.sponsorNonce).toBe("9");
    expect(d.contractId).toBe("SP2C2YFP12AJZB4MABJBAJ55XECVS7E4PMMZ89YZR.arkadiko-swap-v2-1");
    expect(d.functionName).toBe("swap-x-for-y");
    expect(d.functionArgs?.map((a) => a.repr)).toEqual([
      "u1000",
      "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159",
      "(some 0x6162)",
    ]);
    expect(decodeClarityHex(d.functionArgs?.[0]?.hex as string).repr).toBe("u1000");
  });

  test.each([
    ["sequential multi-sig (P2SH)", false, AddressHashMode.P2SH],
    ["order-independent multi-sig (P2SH non-sequential)", true, AddressHashMode.P2SHNonSequential],
  ])("%s sender is the multi-sig address", async (_name, nonSequential, hashMode) => {
    const tx = await makeUnsignedSTXTokenTransfer({
      recipient: "SP3FGQ8Z7JY9BWYZ5WM53E0M9NK7WHJF0691NZ159",
      amount: 1n,
      numSignatures: 2,
      publicKeys: PUBS,
      useNonSequentialMultiSig: nonSequential,
      network: "mainnet",
      fee: 300n,
      nonce: 1n,
    });
    const expected = addressToString(
      addressFromPublicKeys(
        AddressVersion.MainnetMultiSig,
        hashMode,
        2,
        PUBS.map((p) => createStacksPublicKey(p)),
      ),
    );
    const d = decodeTransaction(tx.serialize());
    expect(expected.startsWith("SM")).toBe(true);
    expect(d.senderAddress).toBe(expected);
  });

  test("versioned smart contract deploy gets its contract id", async () => {
    const tx = await makeContractDeploy({
      contractName: "my-token",
      codeBody: "(define-fungible-token tok)",
      clarityVersion: 2,
      senderKey: KEYS[2] as string,
      network: "testnet",
      fee: 10n,
      nonce: 0n,
    });
    const d = decodeTransaction(tx.serialize());
    expect(d.txType).toBe("versioned_smart_contract");
    expect(d.clarityVersion).toBe(2);
    expect(d.contractId).toBe(`${privateKeyToAddress(KEYS[2] as string, "testnet")}.my-token`);
  });

  test("garbage is rejected with an error, not a half-decoded transaction", () => {
    expect(() => decodeTransaction("0x0102")).toThrow();
  });
});
