/**
 * A benchmark's size setting: the positive integer in the environment variable `name`, or `fallback`.
 * Every such variable is listed in docs/configuration.md (scripts/config-docs.ts).
 */
export function benchSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = Number(raw ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}
