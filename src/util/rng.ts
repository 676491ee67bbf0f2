/**
 * Small seeded pseudo-random generators, so weight initialisation, tests and benchmarks are
 * reproducible from a seed. mulberry32: 32-bit state, full period 2^32, good enough for test data
 * (not for cryptography).
 */

/** A function returning uniform floats in [0, 1). */
export type Random = () => number;

/** mulberry32 generator seeded with a 32-bit integer. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fills a new Float32Array of `n` values uniform in [lo, hi). */
export function uniformArray(rand: Random, n: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}
