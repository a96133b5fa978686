import { ClarityType, type ClarityValue, hexToCV } from "@stacks/transactions";

/**
 * A Clarity value as plain, exact JSON. The mapping (also documented in docs/streams.md):
 * - `uint`, `int` → decimal string (exact at any size: uint128 does not fit a JSON number)
 * - `bool` → boolean; principal → its string (`SP...` or `SP....name`)
 * - `buff` → `"0x<hex>"`; `string-ascii`, `string-utf8` → string
 * - `none` → `null`; `(some v)` → `v`
 * - `(ok v)` → `{"ok": v}`; `(err v)` → `{"err": v}`
 * - list → array; tuple → object with the tuple's keys
 * It is meant for reading and filtering, not for round trips: `(some none)` and `none` both become
 * `null`, and `{"ok": v}` looks like a one-field tuple named `ok`. The hex stays the exact form.
 */
export type PlainClarity = string | boolean | null | PlainClarity[] | { [key: string]: PlainClarity };

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
