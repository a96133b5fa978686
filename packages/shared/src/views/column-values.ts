import type { ExprType } from "./expressions.ts";

// Column types of view tables, their SQL types, and the conversion of expression values to them.
// `uint` and `int` are exact numerics (never floats), carried as decimal strings.

export const COLUMN_TYPES = ["text", "uint", "int", "principal", "bool", "timestamp", "json"] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export const SQL_TYPES: Record<ColumnType, string> = {
  text: "text",
  uint: "numeric",
  int: "numeric",
  principal: "text",
  bool: "boolean",
  timestamp: "timestamptz",
  json: "jsonb",
};

/** Which expression types a column of each type takes (`any`: decoded Clarity, checked when written). */
const ACCEPTS: Record<ColumnType, ExprType[]> = {
  text: ["text", "principal", "uint", "int", "any"],
  uint: ["uint", "int", "any"],
  int: ["uint", "int", "any"],
  principal: ["principal", "text", "any"],
  bool: ["bool", "any"],
  timestamp: ["timestamp", "uint", "any"],
  json: ["text", "principal", "uint", "int", "bool", "timestamp", "any"],
};

export function accepts(column: ColumnType, expr: ExprType): boolean {
  return ACCEPTS[column].includes(expr);
}

const CANONICAL_INTEGER = /^(0|-?[1-9]\d*)$/;
const PRINCIPAL = /^S[PMTN][0-9A-Z]{28,41}(\.[a-zA-Z][a-zA-Z0-9-]{0,127})?$/;

export class ColumnValueError extends Error {
  readonly code = "VIEW_VALUE_DOES_NOT_FIT";
}

/**
 * An expression's value as it is written to a column of `type`: decimal strings for numbers, ISO
 * strings for timestamps (from unix seconds), booleans, JSON values as they are. Throws
 * ColumnValueError saying what did not fit; null stays null (nullability is the caller's check).
 */
export function toColumnValue(type: ColumnType, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return null;
  const fail = (why: string): never => {
    throw new ColumnValueError(`${where}: ${JSON.stringify(value)?.slice(0, 100)} ${why}`);
  };
  switch (type) {
    case "uint":
    case "int": {
      const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
      if (typeof text !== "string" || !/^-?\d{1,78}$/.test(text))
        return fail(`is not an integer (column type ${type})`);
      if (type === "uint" && text.startsWith("-") && BigInt(text) !== 0n) return fail("is negative (column type uint)");
      // Most values are canonical already (the chain's decimal strings); others are normalized.
      return CANONICAL_INTEGER.test(text) ? text : BigInt(text).toString();
    }
    case "text":
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      return fail("is not text");
    case "principal":
      if (typeof value !== "string" || !PRINCIPAL.test(value)) return fail("is not a Stacks principal");
      return value;
    case "bool":
      if (typeof value !== "boolean") return fail("is not a boolean");
      return value;
    case "timestamp": {
      const seconds = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
      if (typeof seconds === "number" && Number.isFinite(seconds)) return new Date(seconds * 1000).toISOString();
      if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
      return fail("is not a time (unix seconds or an ISO date)");
    }
    case "json":
      return value;
  }
}
