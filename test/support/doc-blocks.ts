import { readFileSync } from "node:fs";
import { join } from "node:path";

// The fenced code blocks of a guide in docs/, so tests can run the examples the guides show. A
// block's info string is its language, then words that mark what it is (```json view) and
// key=value attributes (```json filter network=testnet).

export interface DocBlock {
  lang: string;
  words: string[];
  attrs: Record<string, string>;
  text: string;
  /** 1-based line of the opening fence, for failure messages. */
  line: number;
}

const ROOT = join(import.meta.dir, "../..");

/** Every fenced block of a Markdown file of the repository, in document order. */
export function docBlocks(path: string): DocBlock[] {
  const lines = readFileSync(join(ROOT, path), "utf8").split("\n");
  const out: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S+)(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    if (i === lines.length) throw new Error(`${path}:${start + 1}: code block never closed`);
    const words: string[] = [];
    const attrs: Record<string, string> = {};
    for (const word of (open[2] as string).trim().split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf("=");
      if (eq === -1) words.push(word);
      else attrs[word.slice(0, eq)] = word.slice(eq + 1);
    }
    out.push({ lang: open[1] as string, words, attrs, text: body.join("\n"), line: start + 1 });
  }
  return out;
}
