import { readFileSync } from "node:fs";

// Recorded event-observer logs (and our own journal exports): one POST per line,
// `id \t receive_timestamp \t path \t payload`. Older recordings escape the payload in Postgres
// COPY text format; they are recognisable by a Postgres-style timestamp ("2022-10-05 16:20:34+00").

export interface EventLogRow {
  id: string;
  receivedAt: string;
  path: string;
  /** The JSON body exactly as the node sent it. */
  payload: string;
}

const COPY_ESCAPE = /\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))/g;
const SIMPLE: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

/** Undoes Postgres COPY text escaping (`\\`, `\n`, `\t`, ..., `\NNN` octal, `\xHH`). */
export function unescapeCopyText(text: string): string {
  if (!text.includes("\\")) return text;
  return text.replace(COPY_ESCAPE, (_m, octal: string, hexByte: string, ch: string) => {
    if (octal) return String.fromCharCode(Number.parseInt(octal, 8));
    if (hexByte) return String.fromCharCode(Number.parseInt(hexByte, 16));
    return SIMPLE[ch] ?? ch;
  });
}

function isCopyFormatted(timestamp: string): boolean {
  return !/^\d{4}-\d{2}-\d{2}T/.test(timestamp);
}

export function parseEventLogLine(line: string, lineNumber: number): EventLogRow {
  const parts = line.split("\t");
  if (parts.length < 4) {
    throw new Error(
      `line ${lineNumber}: expected 4 tab-separated fields (id, timestamp, path, payload), got ${parts.length}`,
    );
  }
  const [id, receivedAt, path] = parts as [string, string, string];
  const raw = parts.slice(3).join("\t");
  if (!path.startsWith("/")) throw new Error(`line ${lineNumber}: path ${JSON.stringify(path)} does not start with /`);
  return { id, receivedAt, path, payload: isCopyFormatted(receivedAt) ? unescapeCopyText(raw) : raw };
}

export function parseEventLog(text: string): EventLogRow[] {
  return text
    .split("\n")
    .map((line, i) => ({ line: line.replace(/\r$/, ""), n: i + 1 }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, n }) => parseEventLogLine(line, n));
}

export function readEventLog(file: string): EventLogRow[] {
  return parseEventLog(readFileSync(file, "utf8"));
}

/** One row of our own export format: ISO timestamp, raw JSON (tabs and newlines cannot occur in compact JSON). */
export function formatEventLogRow(row: EventLogRow): string {
  if (/[\t\n]/.test(row.payload))
    throw new Error(`row ${row.id}: payload must be compact JSON without tabs or newlines`);
  return `${row.id}\t${row.receivedAt}\t${row.path}\t${row.payload}`;
}

/**
 * A JSON body as one event-log line. In valid JSON a tab or line break can only be whitespace between
 * tokens (inside strings they must be escaped), so a space replaces it without touching any value;
 * re-serializing instead would round large numbers.
 */
export function jsonOnOneLine(json: string): string {
  return json.replace(/[\t\n\r]/g, " ");
}
