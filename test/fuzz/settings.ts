/**
 * How many inputs a fuzz test file runs, from what seed. `npm test` runs the short seeded default;
 * `npm run fuzz` (scripts/fuzz.mjs → test/fuzz/main.ts) passes its own numbers. In the browser there
 * is no process.env: the defaults hold.
 */
const env: Record<string, string | undefined> =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};

/** The seed of `npm test`'s short run (fixed, so the run is the same every time). */
export const DEFAULT_SEED = Number(env.FUZZ_SEED ?? 20261201);

/** Inputs per property in `npm test`, scaled by FUZZ_SCALE (e.g. 0.5 on a slow machine). */
export function shortRuns(n: number): number {
  const scale = Number(env.FUZZ_SCALE ?? 1);
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
