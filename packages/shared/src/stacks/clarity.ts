import { cvToJSON, cvToString, hexToCV } from "@stacks/transactions";

/** Decodes a hex-encoded Clarity value (as stored in events.value_hex and raw_result). */
export function decodeClarityHex(hexValue: string): { repr: string; json: unknown } {
  const cv = hexToCV(hexValue);
  return { repr: cvToString(cv), json: cvToJSON(cv) };
}
