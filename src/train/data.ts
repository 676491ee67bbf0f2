import { ConfigError, ShapeError } from '../errors.ts';
import type { FloatArray } from '../tensor.ts';
import { checkFiniteInput, checkFloatArray } from '../util/finite.ts';
import { mulberry32, type Random } from '../util/rng.ts';

/**
 * Training data as the trainer consumes it: N samples of T steps, inputs `[N, T, I]`, targets
 * `[N, T, O]` and an optional mask `[N, T]` of 0/1 for padded steps, all batch-major. In per-series
 * mode the samples are grouped: `series` groups of N / series consecutive samples, group s feeding
 * model s only.
 */
export interface Samples {
  x: Float32Array;
  y: Float32Array;
  mask: Float32Array | null;
  count: number;
  steps: number;
  inputSize: number;
  outputSize: number;
  /** Groups of consecutive samples, one per model (per-series mode); 1 for one global model. */
  series: number;
}

/** What {@link samples} checks and completes. */
export interface SamplesOptions {
  x: FloatArray;
  y: FloatArray;
  mask?: FloatArray | null;
  /** Samples N; with steps, inputSize and outputSize it must account for every value. */
  count: number;
  steps: number;
  inputSize: number;
  outputSize: number;
  series?: number;
}

function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Checks sizes, finiteness and the mask ({@link ShapeError}), and copies to float32. */
export function samples(o: SamplesOptions): Samples {
  const N = positiveInteger('count', o.count);
  const T = positiveInteger('steps', o.steps);
  const I = positiveInteger('inputSize', o.inputSize);
  const O = positiveInteger('outputSize', o.outputSize);
  const series = positiveInteger('series', o.series ?? 1);
  if (N % series !== 0) throw new ShapeError(`${N} samples do not split into ${series} series of equal size`);
  const check = (name: string, a: FloatArray, n: number, shape: number[]) => {
    checkFloatArray(name, a);
    if (a.length !== n) throw new ShapeError(`${name} has ${a.length} values but shape [${shape.join(', ')}] needs ${n}`);
    checkFiniteInput(name, a, shape);
  };
  check('x', o.x, N * T * I, [N, T, I]);
  check('y', o.y, N * T * O, [N, T, O]);
  const mask = o.mask ?? null;
  if (mask) {
    check('mask', mask, N * T, [N, T]);
    const bad = mask.findIndex((m) => m !== 0 && m !== 1);
    if (bad >= 0) throw new ShapeError(`mask must hold only 0 and 1, got ${mask[bad]} at [${Math.floor(bad / T)}, ${bad % T}]`);
  }
  return {
    x: Float32Array.from(o.x),
    y: Float32Array.from(o.y),
    mask: mask && Float32Array.from(mask),
    count: N,
    steps: T,
    inputSize: I,
    outputSize: O,
    series,
  };
}

/** Samples `indices` (in that order) as a new {@link Samples} of `indices.length` samples in `series` groups. */
export function gatherSamples(d: Samples, indices: ArrayLike<number>, series = 1): Samples {
  const n = indices.length;
  const { steps: T, inputSize: I, outputSize: O } = d;
  const x = new Float32Array(n * T * I);
  const y = new Float32Array(n * T * O);
  const mask = d.mask ? new Float32Array(n * T) : null;
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    x.set(d.x.subarray(i * T * I, (i + 1) * T * I), k * T * I);
    y.set(d.y.subarray(i * T * O, (i + 1) * T * O), k * T * O);
    mask?.set(d.mask!.subarray(i * T, (i + 1) * T), k * T);
  }
  return { ...d, x, y, mask, count: n, series };
}

/** Fisher–Yates shuffle of 0 … n−1 with `rand`. */
export function permutation(n: number, rand: Random): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/**
 * One epoch's mini-batches: the sample indices of each, shuffled with `rand`. One global model:
 * batches of `batchSize` samples drawn from all N (the last one smaller). Per-series mode: every
 * batch holds `batchSize` samples of each series (group s at positions s·size …), all series in the
 * same shuffled order, so that model s sees exactly the batches a global model trained on series s
 * alone with the same seed sees; `batchSize` is then per series.
 */
export function epochBatches(d: Samples, batchSize: number, rand: Random): Uint32Array[] {
  positiveInteger('batchSize', batchSize);
  const per = d.count / d.series;
  const order = permutation(per, rand);
  const batches: Uint32Array[] = [];
  for (let start = 0; start < per; start += batchSize) {
    const size = Math.min(batchSize, per - start);
    const batch = new Uint32Array(size * d.series);
    for (let s = 0; s < d.series; s++) {
      for (let k = 0; k < size; k++) batch[s * size + k] = s * per + order[start + k]!;
    }
    batches.push(batch);
  }
  return batches;
}

/**
 * Holds out a validation split: the last ⌈fraction·n⌉ samples of each series (the latest windows
 * of a time series, so validation never looks behind training), at least one when fraction > 0.
 */
export function splitValidation(d: Samples, fraction: number): { train: Samples; validation: Samples | null } {
  if (!(fraction >= 0 && fraction < 1)) throw new ConfigError(`the validation fraction must be in [0, 1), got ${fraction}`);
  if (fraction === 0) return { train: d, validation: null };
  const per = d.count / d.series;
  const held = Math.max(1, Math.ceil(fraction * per));
  if (held >= per) throw new ShapeError(`a validation split of ${fraction} leaves no training sample out of ${per} per series`);
  const pick = (from: number, to: number) =>
    Array.from({ length: d.series }, (_, s) => Array.from({ length: to - from }, (_, k) => s * per + from + k)).flat();
  return { train: gatherSamples(d, pick(0, per - held), d.series), validation: gatherSamples(d, pick(per - held, per), d.series) };
}

/**
 * Windows of `steps` + 1 consecutive values of each series, every `stride` values: x the first
 * `steps`, y the same window shifted by one (next-value targets), univariate (I = O = 1). Series
 * shorter than a window give none; in per-series mode every series must give the same number.
 */
export function seriesWindows(
  series: readonly ArrayLike<number>[],
  steps: number,
  options: { stride?: number; perSeries?: boolean } = {},
): Samples {
  positiveInteger('steps', steps);
  const stride = positiveInteger('stride', options.stride ?? 1);
  const counts = series.map((s) => (s.length > steps ? Math.floor((s.length - steps - 1) / stride) + 1 : 0));
  if (options.perSeries && new Set(counts).size > 1) {
    throw new ShapeError(`per-series training needs the same number of windows from every series, got ${[...new Set(counts)].join(', ')}`);
  }
  const N = counts.reduce((a, b) => a + b, 0);
  if (N === 0) throw new ShapeError(`no series is longer than a window of ${steps} + 1 values`);
  const x = new Float32Array(N * steps);
  const y = new Float32Array(N * steps);
  let n = 0;
  series.forEach((s, k) => {
    for (let w = 0; w < counts[k]!; w++, n++) {
      for (let t = 0; t < steps; t++) {
        x[n * steps + t] = s[w * stride + t]!;
        y[n * steps + t] = s[w * stride + t + 1]!;
      }
    }
  });
  return samples({ x, y, count: N, steps, inputSize: 1, outputSize: 1, series: options.perSeries ? series.length : 1 });
}

/** A seeded random source for the trainer's shuffles. */
export function trainingRandom(seed: number): Random {
  return mulberry32(seed);
}
