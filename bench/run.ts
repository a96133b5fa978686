// `bun run bench [NAME]`: runs every bench/*.bench.ts (or those whose file name contains NAME), prints
// a table and writes bench/results.json. Each module exports `run(): Promise<BenchResult[]>`.
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** What the value is judged against: a limit measured in the same run, or a target. */
  baseline?: number;
  /** value / baseline */
  ratio?: number;
  /** The goal: a bound on the value or on the ratio, shown beside them with whether this run met it. */
  target?: { of: "value" | "ratio"; atLeast?: number; atMost?: number };
}

function targetText(t: NonNullable<BenchResult["target"]>): string {
  const bound = t.atLeast !== undefined ? `≥ ${t.atLeast}` : `≤ ${t.atMost}`;
  return t.of === "ratio" ? `ratio ${bound}` : bound;
}

function targetMet(r: BenchResult): boolean | undefined {
  const t = r.target;
  if (!t) return undefined;
  const x = t.of === "ratio" ? r.ratio : r.value;
  if (x === undefined) return false;
  return (t.atLeast === undefined || x >= t.atLeast) && (t.atMost === undefined || x <= t.atMost);
}

const dir = import.meta.dir;
const only = process.argv[2];
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts") && (!only || f.includes(only)))
  .sort();
if (files.length === 0) throw new Error(`no bench/*.bench.ts matches ${JSON.stringify(only)}`);

const results: BenchResult[] = [];
let failed = false;
for (const file of files) {
  process.stderr.write(`running ${file}...\n`);
  try {
    const mod = (await import(join(dir, file))) as { run: () => Promise<BenchResult[]> };
    results.push(...(await mod.run()));
  } catch (err) {
    failed = true;
    process.stderr.write(`${file} failed: ${(err as Error)?.stack ?? err}\n`);
  }
}

const fmt = (n: number | undefined) => (n === undefined ? "" : n >= 100 ? Math.round(n).toString() : n.toFixed(2));
if (results.length > 0) {
  console.table(
    results.map((r) => ({
      name: r.name,
      value: fmt(r.value),
      unit: r.unit,
      baseline: fmt(r.baseline),
      ratio: fmt(r.ratio),
      target: r.target ? targetText(r.target) : "",
      met: r.target ? (targetMet(r) ? "yes" : "NO") : "",
    })),
  );
}
// A partial run would overwrite the figures of the benches that failed: keep the last complete file.
if (failed) {
  process.stderr.write("a benchmark failed; bench/results.json left unchanged\n");
  process.exit(1);
}
writeFileSync(join(dir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write(`wrote ${join(dir, "results.json")}\n`);
