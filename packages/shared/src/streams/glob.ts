/**
 * A name pattern as a predicate: `*` matches any run of characters (also none), `?` exactly one,
 * `\*` and `\?` (and `\\`) the character itself; everything else matches only itself, whole name.
 * Clarity names may contain `*` and `?`, hence the escapes.
 */
export function compileGlob(pattern: string): (name: string) => boolean {
  if (!/[*?\\]/.test(pattern)) return (name) => name === pattern;
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "\\" && i + 1 < pattern.length) source += escapeRegExp(pattern[++i] as string);
    else if (ch === "*") source += ".*";
    else if (ch === "?") source += ".";
    else source += escapeRegExp(ch);
  }
  const re = new RegExp(`^${source}$`, "s");
  return (name) => re.test(name);
}

/** The name a pattern stands for when it has no wildcard (an exact key for indexing), else null. */
export function literalOfGlob(pattern: string): string | null {
  if (/(?<!\\)[*?]/.test(pattern.replace(/\\\\/g, ""))) return null;
  return pattern.replace(/\\(.)/g, "$1");
}

/** The pattern that matches exactly `name` (its `*`, `?` and `\\` escaped). */
export function globOfLiteral(name: string): string {
  return name.replace(/[*?\\]/g, "\\$&");
}

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}
