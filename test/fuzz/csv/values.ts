import fc from 'fast-check';

/**
 * Cell texts for the CSV generator: decimal numbers of every size (the parsed value must equal the
 * number the text writes), and texts that are not finite decimal numbers (they must be refused).
 */

/** Finite decimals at the edges of float64 and float32: huge, tiny, subnormal, signed zero. */
export const EXTREME_DECIMALS = [
  '1e200',
  '-1e200',
  '1e308',
  '-1e308',
  '1.7976931348623157e308',
  '-1.7976931348623157e308',
  '3.5e38',
  '-3.5e38',
  '3.4028235e38',
  '1e-320',
  '-1e-320',
  '5e-324',
  '2.2250738585072014e-308',
  '1e-45',
  '-0',
  '0',
  '+5',
  '.5',
  '5.',
  '1E5',
  '1e+5',
  '0.000001',
  '123456789012345678901234567890',
  '9007199254740993',
  '-9007199254740993',
];

/** A finite decimal as a CSV might write it: integers, fixed and exponent notation, extremes. */
export const decimalText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -100_000, max: 100_000 }).map(String) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.double({ min: -1e4, max: 1e4, noNaN: true }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 8 }))
      .map(([v, style, digits]) => [String(v), v.toFixed(digits), v.toExponential(digits), v.toPrecision(digits + 1)][style]!),
  },
  { weight: 2, arbitrary: fc.constantFrom(...EXTREME_DECIMALS) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map(String) },
  // Huge and tiny side by side in one series.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: -330, max: 308 }))
      .map(([m, e]) => `${m}e${e}`)
      .filter((t) => Number.isFinite(Number(t))),
  },
);

/**
 * Texts that are not a finite decimal number: non-finite words, other bases, numbers past float64,
 * empty or blank cells, decimal commas, stray characters.
 */
export const NOT_DECIMAL = [
  'NaN',
  'nan',
  'Infinity',
  '-Infinity',
  '+Infinity',
  'inf',
  'Inf',
  '∞',
  '1e400',
  '-1e999',
  '0x1A',
  '0X1a',
  '0b101',
  '0o17',
  '',
  ' ',
  '12abc',
  '1_000',
  '١٢',
  '--1',
  '1e',
  'e5',
  '.',
  '+',
  '-',
  '1.2.3',
  '1,5',
  'null',
  'true',
  '1/2',
  '0x',
  '1 000',
  '１２',
];

/** Whether `text` is a finite decimal number (what a value cell must hold). */
export function isDecimal(text: string): boolean {
  const t = text.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) && Number.isFinite(Number(t));
}
