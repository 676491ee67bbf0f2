import { describe, expect, it } from 'vitest';
import { fromHalfBits, packHalves, roundToHalf, toHalfBits, unpackHalves } from '../src/util/f16.ts';

// The host's f16 conversion (src/util/f16.ts) against IEEE 754 binary16 bit patterns worked out by
// hand, and against every half's own rounding midpoints: what f16 storage uploads must be the f16
// nearest each float32, ties to even.

describe('f16 conversion', () => {
  it('encodes known values to their binary16 bit patterns', () => {
    const known: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [0.1, 0x2e66], // 0.0999755859375
      [1 / 3, 0x3555],
      [65504, 0x7bff], // largest finite
      [65519.99, 0x7bff], // below the midpoint to 65536: stays finite
      [65520, 0x7c00], // the midpoint ties to even, which is Infinity
      [-1e6, 0xfc00],
      [Number.POSITIVE_INFINITY, 0x7c00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -14 - 2 ** -25, 0x0400], // midpoint between the largest subnormal (odd) and 2⁻¹⁴ (even)
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // half of it ties to even: 0
      [1.5 * 2 ** -25, 0x0001],
      [-3 * 2 ** -24, 0x8003],
      [1 + 2 ** -11, 0x3c00], // tie between 1 (even) and 1 + 2⁻¹⁰
      [1 + 3 * 2 ** -11, 0x3c02], // tie between 1 + 2⁻¹⁰ (odd) and 1 + 2⁻⁹
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
    ];
    for (const [v, bits] of known) expect([v, toHalfBits(v)]).toEqual([v, bits]);
    expect(toHalfBits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(toHalfBits(Number.NaN) & 0x3ff).not.toBe(0);
    expect(fromHalfBits(0x7e00)).toBeNaN();
    expect(fromHalfBits(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('round-trips every f16 and rounds every midpoint between neighbours to the even one', () => {
    for (let h = 0; h < 0x7c00; h++) {
      for (const sign of [0, 0x8000]) {
        const bits = sign | h;
        const v = fromHalfBits(bits);
        expect(toHalfBits(v)).toBe(bits);
        if (h === 0x7bff) continue;
        // The midpoint to the next half up in magnitude (exact in float32: 12 significant bits).
        const mid = (v + fromHalfBits(bits + 1)) / 2;
        const even = h & 1 ? bits + 1 : bits;
        if (toHalfBits(mid) !== even) expect([bits, mid, toHalfBits(mid)]).toEqual([bits, mid, even]);
        // Just inside the midpoint on either side: the nearer neighbour.
        const below = Math.fround(mid - Math.abs(mid) * 2 ** -20);
        const above = Math.fround(mid + Math.abs(mid) * 2 ** -20);
        const [lo, hi] = sign ? [bits + 1, bits] : [bits, bits + 1];
        if (toHalfBits(below) !== lo || toHalfBits(above) !== hi) {
          expect([bits, toHalfBits(below), toHalfBits(above)]).toEqual([bits, lo, hi]);
        }
      }
    }
  });

  it("packs two values per word as WGSL's pack2x16float does, and unpacks them", () => {
    const words = packHalves([1, -2, 0.5]);
    expect([...words]).toEqual([0xc0003c00, 0x00003800]);
    expect([...unpackHalves(words)]).toEqual([1, -2, 0.5, 0]);
    expect(roundToHalf(0.1)).toBe(0.0999755859375);
  });
});
