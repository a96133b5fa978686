import { describe, expect, test } from "bun:test";
import { addressFromVersionHash, addressToString } from "@stacks/transactions";
import { c32address } from "../src/stacks/c32-address.ts";

/** Deterministic bytes (a fixed-seed xorshift), so a failure names the same input every run. */
function bytes(seed: number, length: number): Uint8Array {
  let x = seed || 1;
  return Uint8Array.from({ length }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x & 0xff;
  });
}

describe("c32address", () => {
  test("matches @stacks/transactions for every version and hashes with leading zero bytes", () => {
    for (let version = 0; version < 32; version++) {
      for (let seed = 1; seed <= 40; seed++) {
        const hash = bytes(seed * 31 + version, 20);
        // Leading zero bytes are encoded as extra "0" digits: cover 0 to 3 of them.
        hash.fill(0, 0, seed % 4);
        const hex = Buffer.from(hash).toString("hex");
        expect(c32address(version, hash)).toBe(addressToString(addressFromVersionHash(version, hex)));
      }
    }
  });

  test("an all-zero hash", () => {
    const hash = new Uint8Array(20);
    expect(c32address(22, hash)).toBe(addressToString(addressFromVersionHash(22, "00".repeat(20))));
  });

  test("a version or hash length that cannot be an address is refused", () => {
    expect(() => c32address(32, new Uint8Array(20))).toThrow("invalid address version 32");
    expect(() => c32address(22, new Uint8Array(19))).toThrow("hash160 must be 20 bytes, got 19");
  });
});
