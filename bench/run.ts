// `bun run bench`: runs every bench/*.bench.ts, prints a table and writes bench/results.json.
// Each benchmark module exports `run(): Promise<BenchResult[]>`; `baseline` is the machine limit or
// peer measured in the same run, and `ratio` is value / baseline.
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
}

const dir = import.meta.dir;
const only = process.argv[2];
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts") && (!only || f.includes(only)))
  .sort();

const results: BenchResult[] = [];
for (const file of files) {
  process.stderr.write(`running ${file}...\n`);
  const mod = (await import(join(dir, file))) as { run: () => Promise<BenchResult[]> };
  results.push(...(await mod.run()));
}

const fmt = (n: number | undefined) => (n === undefined ? "" : n >= 100 ? Math.round(n).toString() : n.toFixed(2));
console.table(
  results.map((r) => ({
    name: r.name,
    value: fmt(r.value),
    unit: r.unit,
    baseline: fmt(r.baseline),
    ratio: fmt(r.ratio),
  })),
);
writeFileSync(join(dir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write(`wrote ${join(dir, "results.json")}\n`);
