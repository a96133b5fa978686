import type { PlainClarity } from "@second-layer/sdk/webhooks";
import { ClarityType, type ClarityValue, hexToCV } from "@stacks/transactions";

/** Clarity values as plain JSON: the SDK's type, whose comment (and docs/streams.md) has the mapping. */
export type { PlainClarity };

export function clarityToPlain(cv: ClarityValue): PlainClarity {
  switch (cv.type) {
    case ClarityType.UInt:
    case ClarityType.Int:
      return BigInt(cv.value).toString();
    case ClarityType.BoolTrue:
      return true;
    case ClarityType.BoolFalse:
      return false;
    case ClarityType.PrincipalStandard:
    case ClarityType.PrincipalContract:
    case ClarityType.StringASCII:
    case ClarityType.StringUTF8:
      return cv.value;
    case ClarityType.Buffer:
      return `0x${cv.value}`;
    case ClarityType.OptionalNone:
      return null;
    case ClarityType.OptionalSome:
      return clarityToPlain(cv.value);
    case ClarityType.ResponseOk:
      return { ok: clarityToPlain(cv.value) };
    case ClarityType.ResponseErr:
      return { err: clarityToPlain(cv.value) };
    case ClarityType.List:
      return cv.value.map(clarityToPlain);
    case ClarityType.Tuple: {
      const out: { [key: string]: PlainClarity } = {};
      for (const [key, value] of Object.entries(cv.value)) out[key] = clarityToPlain(value);
      return out;
    }
  }
}

/** Decodes hex (with or without 0x) of a serialized Clarity value to plain JSON; throws when it is not one. */
export function decodeClarityPlain(hex: string): PlainClarity {
  return clarityToPlain(hexToCV(hex));
}
