import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { alexSwaps } from "../../../../docs/examples/define-view.ts";
import { docBlocks } from "../../../../test/support/doc-blocks.ts";
import type { FieldIssue } from "../../src/streams/filters.ts";
import { parseViewDefinition, ViewValidationError } from "../../src/views/definition.ts";

// docs/views.md cannot drift from the parser: every ```json view block is a definition the API
// accepts, and every ```json invalid-view block is refused with exactly the problems listed in the
// ```text block after it. The TypeScript example is checked the same way (tsc checks only its shape),
// and the page shows it as it is in docs/examples.

const DOC = "docs/views.md";
const blocks = docBlocks(DOC);
const views = blocks.filter((b) => b.lang === "json" && b.words.includes("view"));
const invalid = blocks.filter((b) => b.lang === "json" && b.words.includes("invalid-view"));

/** The problems the parser finds in a definition, as `path: message` lines; none when it is valid. */
function problems(definition: unknown): string[] {
  try {
    parseViewDefinition(definition, "mainnet");
    return [];
  } catch (err) {
    if (!(err instanceof ViewValidationError)) throw err;
    return err.details.map((d: FieldIssue) => `${d.path}: ${d.message}`);
  }
}

describe(`view definitions of ${DOC}`, () => {
  test("the first view and the four worked examples are marked, with distinct names", () => {
    expect(views.length).toBeGreaterThanOrEqual(5);
    const names = views.map((b) => (JSON.parse(b.text) as { name: string }).name);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const b of views) {
    test(`${DOC}:${b.line} is a valid definition`, () => {
      expect(problems(JSON.parse(b.text))).toEqual([]);
    });
  }

  for (const b of invalid) {
    test(`${DOC}:${b.line} is refused with the problems listed after it`, () => {
      const listed = blocks[blocks.indexOf(b) + 1];
      expect(listed?.lang).toBe("text");
      expect(problems(JSON.parse(b.text))).toEqual(listed?.text.split("\n") ?? []);
    });
  }

  test("docs/examples/define-view.ts is a valid definition, shown as it is", () => {
    expect(problems(alexSwaps)).toEqual([]);
    const file = readFileSync(join(import.meta.dir, "../../../../docs/examples/define-view.ts"), "utf8");
    const shown = blocks.find((b) => b.lang === "ts");
    expect(shown).toBeDefined();
    expect(file.trimEnd().endsWith(shown?.text ?? "(none)")).toBe(true);
  });
});
