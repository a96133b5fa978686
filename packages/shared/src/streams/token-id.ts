import { Cl, type ClarityValue, hexToCV, serializeCV } from "@stacks/transactions";
import type { StacksNetwork } from "../config.ts";
import { principalProblem } from "../stacks/principals.ts";

const UINT128_MAX = (1n << 128n) - 1n;

/**
 * The serialized Clarity value (`0x` + lowercase hex) that an NFT event's value must equal for a
 * `tokenId` filter. Accepted forms, each meaning exactly one Clarity value:
 * - `"0x..."`: any serialized Clarity value (must decode and re-encode to the same bytes);
 * - `"u123"`, `"123"` or the JSON integer `123`: a `uint` (NFT ids are almost always uints; an `int`
 *   id is written as hex);
 * - `"SP..."` or `"SP....name"`: a principal of the stream's network.
 * Strings and other types are given as hex: `"abc"` alone could be string-ascii or string-utf8.
 * Throws with a message saying what was wrong.
 */
export function tokenIdHex(tokenId: string | number, network: StacksNetwork): string {
  const cv = tokenIdValue(tokenId, network);
  return `0x${serializeCV(cv)}`;
}

function tokenIdValue(tokenId: string | number, network: StacksNetwork): ClarityValue {
  if (typeof tokenId === "number") {
    if (!Number.isSafeInteger(tokenId) || tokenId < 0) {
      throw new Error(`token id ${tokenId} is not a uint; write large or signed ids as "u123" or hex`);
    }
    return Cl.uint(tokenId);
  }
  const uint = /^u?(\d{1,39})$/.exec(tokenId);
  if (uint) {
    const n = BigInt(uint[1] as string);
    if (n > UINT128_MAX) throw new Error(`token id ${tokenId} is larger than a uint128`);
    return Cl.uint(n);
  }
  if (/^0x[0-9a-fA-F]*$/.test(tokenId)) {
    const hex = tokenId.slice(2).toLowerCase();
    let cv: ClarityValue;
    try {
      cv = hexToCV(hex);
    } catch (err) {
      throw new Error(`token id ${tokenId} is not a serialized Clarity value (${(err as Error).message})`);
    }
    // The decoder tolerates trailing and missing bytes; only an exact encoding can equal an event's.
    if (serializeCV(cv) !== hex) throw new Error(`token id ${tokenId} is not exactly one serialized Clarity value`);
    return cv;
  }
  if (/^S[0-9A-Z]/.test(tokenId)) {
    const problem = principalProblem(tokenId, network);
    if (problem) throw new Error(problem);
    return Cl.principal(tokenId);
  }
  throw new Error(
    `token id ${JSON.stringify(tokenId)} is ambiguous; use u123 for a uint, a principal, or 0x-hex of the Clarity value`,
  );
}
