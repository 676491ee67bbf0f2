import fc from 'fast-check';
import { mulberry32 } from '../../../src/util/rng.ts';

/**
 * Building blocks of the API generators. A call is drawn as a valid base (small sizes that fit
 * together) plus zero to two perturbations, each replacing one field by a value from a pool of bad
 * ones (zero, negative, fractional, huge, NaN, ±Infinity, wrong types); arrays are described by a
 * {@link DataSpec} (type, length, scale, seed, special values) and built when the call runs. All of
 * it is plain data, so fast-check shrinks it and prints it.
 *
 * Huge sizes are chosen to fail fast: 2³³ and up make any allocation of that many elements an
 * immediate RangeError ("Invalid typed array length") when nothing refuses them first, whereas 2³¹
 * or 2³² elements would be allocated (16 GiB of address space) and then filled, taking the machine
 * down with the case. The one exception is hiddenSize 65,536, the largest that validation allows
 * (issue 12, item 6): an RNN cell of that size has 2³² weights, so the runs install an allocation
 * guard (memory-guard.ts) that turns such an allocation into a RangeError.
 */

/** Bad values for a size or count. */
export const BAD_SIZES: readonly unknown[] = [
  0,
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  -0,
  '2',
  null,
  undefined,
  true,
  {},
  [],
  65536,
  65537,
  2 ** 24 + 1,
  2 ** 33,
  2 ** 53,
  1e300,
  'x',
];

/** Bad values for an option of any kind (numbers, flags, names). */
export const BAD_OPTIONS: readonly unknown[] = [...BAD_SIZES, 'relu', 'tanh', 'gru', 'lstm', 'bogus', 1, 2, false, -1e-9, 1e-300];

/** Special values written into arrays: non-finite, past float32, subnormal, large but finite. */
export const SPECIALS: readonly number[] = [
  NaN,
  Infinity,
  -Infinity,
  1e200,
  -1e308,
  3.5e38,
  -3.5e38,
  3.4e38,
  1e38,
  1e30,
  -1e30,
  1e-320,
  5e-324,
  1e-40,
];

/** How an array argument is built: its element type, length (null: what the shape needs), values. */
export interface DataSpec {
  type: 'f32' | 'f64' | 'array' | 'int32' | 'string' | 'null';
  /** null: the length the call needs; else this many elements (a wrong length, usually). */
  length: number | null;
  /** Values uniform in ±scale. */
  scale: number;
  seed: number;
  /** [index (taken modulo the length), SPECIALS index]. */
  specials: Array<[number, number]>;
}

/** A data spec: mostly float32 of the right length with ordinary values, sometimes not. */
export function dataSpec(o: { specials?: number; types?: boolean | 'weights'; lengths?: boolean } = {}): fc.Arbitrary<DataSpec> {
  return fc.record({
    type:
      o.types === false
        ? fc.constant('f32' as const)
        : fc.oneof(
            // Weights must be Float32Array (float64 is one more wrong type for them) and come mostly right:
            // one bad weight refuses the call, and most calls should reach the kernels.
            { weight: o.types === 'weights' ? 36 : 12, arbitrary: fc.constant('f32' as const) },
            { weight: o.types === 'weights' ? 1 : 4, arbitrary: fc.constant('f64' as const) },
            { weight: 1, arbitrary: fc.constantFrom('array' as const, 'int32' as const, 'string' as const, 'null' as const) },
          ),
    length:
      o.lengths === false
        ? fc.constant(null)
        : fc.oneof({ weight: o.types === 'weights' ? 36 : 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat(40) }),
    scale: fc.constantFrom(1, 1, 1, 10, 0.01, 100),
    seed: fc.nat(),
    specials: fc.oneof(
      { weight: 10, arbitrary: fc.constant<Array<[number, number]>>([]) },
      {
        weight: Math.max(1, Math.round(3.3 * (o.specials ?? 1))),
        arbitrary: fc.array(fc.tuple(fc.nat(), fc.nat(SPECIALS.length - 1)), { minLength: 1, maxLength: 2 }),
      },
    ),
  });
}

/** The values of a data spec for a call that needs `n` of them; `f64` keeps what float32 could not. */
export function materialize(spec: DataSpec, n: number): any {
  if (spec.type === 'null') return null;
  if (spec.type === 'string') return 'not an array';
  const length = spec.length ?? (Number.isSafeInteger(n) && n >= 0 && n <= 1 << 16 ? n : 5);
  const r = mulberry32(spec.seed);
  const values = Array.from({ length }, () => (2 * r() - 1) * spec.scale);
  if (length > 0) for (const [i, k] of spec.specials) values[i % length] = SPECIALS[k]!;
  switch (spec.type) {
    case 'f32':
      return Float32Array.from(values);
    case 'f64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values, (v) => (Number.isFinite(v) ? Math.round(v) : 0));
    case 'array':
      return values;
  }
}

/** The number of elements of a shape when it is one an array could have; else NaN. */
export function elements(shape: unknown): number {
  if (!Array.isArray(shape)) return NaN;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return NaN;
    n *= d;
  }
  return n;
}

/** A replacement of one field by a pool value. */
export interface Perturbation {
  field: string;
  value: number;
}

/** Zero (half the time), one or two perturbations of the named fields, values from `pool`. */
export function perturbations(fields: readonly string[], pool: readonly unknown[]): fc.Arbitrary<Perturbation[]> {
  const one = fc.record({ field: fc.constantFrom(...fields), value: fc.nat(pool.length - 1) });
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<Perturbation[]>([]) },
    { weight: 2, arbitrary: fc.array(one, { minLength: 1, maxLength: 2 }) },
  );
}

/** The pool value a perturbation of `field` sets, if any (the last one wins). */
export function perturbed(list: readonly Perturbation[], field: string, pool: readonly unknown[]): { value: unknown } | null {
  let found: { value: unknown } | null = null;
  for (const p of list) if (p.field === field) found = { value: pool[p.value] };
  return found;
}

/** `value`, or the pool value a perturbation of `field` puts instead. */
export function field<T>(list: readonly Perturbation[], name: string, value: T, pool: readonly unknown[] = BAD_OPTIONS): T {
  const p = perturbed(list, name, pool);
  return p ? (p.value as T) : value;
}
