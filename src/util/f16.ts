/**
 * IEEE 754 binary16 ("half", f16) on the host, for the GPU's f16 storage (src/backends/webgpu-options.ts
 * `storage`): values rounded to f16 and packed two per 32-bit word as WGSL's `pack2x16float` lays
 * them out (value 2k in bits 0–15 of word k, value 2k+1 in bits 16–31), and back. Node 20 has no
 * Float16Array; a few lines of bit arithmetic, checked against known bit patterns and every half's
 * rounding midpoints in test/f16.test.ts, replace a dependency.
 *
 * f16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. Largest finite value 65504,
 * smallest normal 2⁻¹⁴, smallest subnormal 2⁻²⁴; relative rounding error at most 2⁻¹¹ (unit
 * roundoff) in the normal range.
 */

/** f16's largest finite value, (2 − 2⁻¹⁰)·2¹⁵. */
export const FLOAT16_MAX = 65504;

/** f16's unit roundoff: round to nearest moves a normal value by at most this fraction of itself. */
export const FLOAT16_UNIT_ROUNDOFF = 2 ** -11;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The f16 bits of `v` (first rounded to float32, as the GPU holds it), rounded to nearest with ties
 * to even: beyond ±65520 (where the rounding passes 65504) it is ±Infinity, below the normal range
 * a subnormal or ±0; NaN stays a (quiet) NaN.
 */
export function toHalfBits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const fraction = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (fraction ? 0x200 : 0);
  const e = exponent - 127 + 15; // the f16 exponent field, before rounding
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal (or 0): the 24-bit significand in units of 2⁻²⁴ is significand >> (14 − e).
    if (e < -10) return sign; // below 2⁻²⁵, half the smallest subnormal: rounds to 0
    const significand = fraction | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(significand, shift);
  }
  // Normal: drop 13 fraction bits. A carry out of the fraction steps the exponent up, and from
  // 65504 on to 0x7c00, +Infinity, which is what rounding there gives.
  return sign | roundShift((e << 23) | fraction, 13);
}

/** `n >> shift`, rounded to nearest with ties to even. */
function roundShift(n: number, shift: number): number {
  const kept = n >>> shift;
  const rest = n & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/** The value of f16 bits `h` (exact: every f16 is a float32 and a float64). */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

/** `v` rounded to f16 (as {@link toHalfBits}), as a number. */
export function roundToHalf(v: number): number {
  return fromHalfBits(toHalfBits(v));
}

/** Every value of `a` rounded to f16, as float32 (the values f16 storage computes with). */
export function roundedToHalf(a: ArrayLike<number>): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = roundToHalf(a[i]!);
  return out;
}

/** `a` as f16, two values per 32-bit word (`pack2x16float`'s layout); an odd count leaves the last high half 0. */
export function packHalves(a: ArrayLike<number>): Uint32Array {
  const words = new Uint32Array(Math.ceil(a.length / 2));
  for (let i = 0; i < a.length; i++) words[i >> 1]! |= toHalfBits(a[i]!) << (16 * (i & 1));
  return words;
}

/** The 2 · words.length values of packed f16 `words`, as float32. */
export function unpackHalves(words: Uint32Array): Float32Array {
  const out = new Float32Array(2 * words.length);
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!;
    out[2 * k] = fromHalfBits(w & 0xffff);
    out[2 * k + 1] = fromHalfBits(w >>> 16);
  }
  return out;
}
