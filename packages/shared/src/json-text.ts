// Postgres text and jsonb cannot hold U+0000, yet the node sends it (e.g. in vm_error of fuzzed
// contracts). Matches an escaped NUL that is not itself an escaped backslash followed by "u0000".
const ESCAPED_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g;

/** JSON.stringify for values bound for Postgres: NUL characters are dropped, everything else kept. */
export function toPostgresJson(value: unknown): string {
  const json = JSON.stringify(value);
  // The regex walks every character (a millisecond on a block's rows); a NUL is rare, so look first.
  return json.includes("\\u0000") ? json.replace(ESCAPED_NUL, "$1") : json;
}
