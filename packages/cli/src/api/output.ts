// How `sl` prints: aligned tables and key/value blocks for people, JSON for scripts (--json).

export type Cell = string | number | boolean | null | undefined;

const text = (v: Cell) => (v === null || v === undefined || v === "" ? "-" : String(v));

/** Rows under a header, columns padded to their widest cell. */
export function table(headers: string[], rows: Cell[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(text))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return `${cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")).join("\n")}\n`;
}

/** One record as `key  value` lines. */
export function fields(entries: [string, Cell][]): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return `${entries.map(([k, v]) => `${k.padEnd(width)}  ${text(v)}`).join("\n")}\n`;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** One line of newline-delimited JSON (for followed streams). */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
