import { ConfigError, ShapeError } from '../errors.ts';
import type { FloatArray } from '../tensor.ts';

/**
 * Training losses over a model's outputs Y `[B, T, O]` (batch-major, what a stack gives) against
 * targets of the same shape, over chosen steps and with an optional mask for padded steps:
 *
 *   mse   loss = (1/N) Σ m_bt (y_bto − target_bto)²        dL/dy_bto = (2/N) m_bt (y_bto − target_bto)
 *   mae   loss = (1/N) Σ m_bt |y_bto − target_bto|         dL/dy_bto = (1/N) m_bt sign(y_bto − target_bto)
 *
 * summed over b, o and the selected steps t (all T, or the last h: t ≥ T − h, for forecasting), with
 * m_bt the mask (1 everywhere without one) and N = O · Σ m_bt over those steps: the mean over the
 * unmasked selected elements, as PyTorch's `mse_loss` / `l1_loss` of the selected, unmasked elements.
 * sign(0) = 0, as PyTorch's. Unselected or masked elements get a zero gradient.
 */
export type LossKind = 'mse' | 'mae';

/** Which steps the loss reads: every step, or the last `last` (1 ≤ last ≤ T). */
export type LossSteps = 'all' | { readonly last: number };

/** A checked loss definition. */
export interface LossSpec {
  readonly kind: LossKind;
  readonly steps: LossSteps;
}

/** What {@link lossSpec} accepts; steps default to `'all'`. */
export interface LossOptions {
  kind: LossKind;
  steps?: LossSteps;
}

/** Validates a loss definition; throws {@link ConfigError} naming the bad option. */
export function lossSpec(o: LossOptions): LossSpec {
  if (o === null || typeof o !== 'object') throw new ConfigError('a loss must be an object { kind, steps }');
  if (o.kind !== 'mse' && o.kind !== 'mae') throw new ConfigError(`unknown loss ${JSON.stringify(o.kind)}: expected mse or mae`);
  const steps = o.steps ?? 'all';
  if (steps === 'all') return { kind: o.kind, steps };
  const last: unknown = typeof steps === 'object' && steps !== null ? steps.last : undefined;
  if (typeof last !== 'number' || !Number.isInteger(last) || last < 1) {
    throw new ConfigError(`loss steps must be 'all' or { last: h } with h a positive integer, got ${JSON.stringify(steps)}`);
  }
  return { kind: o.kind, steps: { last } };
}

/** The first step the loss reads out of T; throws {@link ShapeError} when it asks for more than T steps. */
export function firstLossStep(spec: LossSpec, steps: number): number {
  if (spec.steps === 'all') return 0;
  if (spec.steps.last > steps) throw new ShapeError(`the loss reads the last ${spec.steps.last} steps but the output has ${steps}`);
  return steps - spec.steps.last;
}

/** One loss evaluation's tensors: Y and target `[B, T, O]`, mask `[B, T]` of 0 and 1 or null. */
export interface LossInputs {
  Y: FloatArray;
  target: FloatArray;
  mask: FloatArray | Uint8Array | null;
  batch: number;
  steps: number;
  outputSize: number;
}

/** The loss, its gradient with respect to Y, and N, the number of elements averaged over. */
export interface LossResult {
  loss: number;
  /** d loss / d Y `[B, T, O]`. */
  dY: Float64Array;
  /** N: O times the unmasked selected steps. When it is 0 the loss and its gradient are 0 (PyTorch's mean would be NaN). */
  count: number;
}

/** Checks a loss call's sizes and mask values ({@link ShapeError}); returns the first step read. */
export function checkLossInputs(spec: LossSpec, x: LossInputs): number {
  const { batch: B, steps: T, outputSize: O } = x;
  for (const [name, v] of [
    ['batch', B],
    ['steps', T],
    ['outputSize', O],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(`${name} must be a positive integer, got ${v}`);
  }
  const n = B * T * O;
  if (x.Y.length !== n) throw new ShapeError(`Y has ${x.Y.length} values but shape [${B}, ${T}, ${O}] needs ${n}`);
  if (x.target.length !== n) throw new ShapeError(`target has ${x.target.length} values but shape [${B}, ${T}, ${O}] needs ${n}`);
  if (x.mask) {
    if (x.mask.length !== B * T) throw new ShapeError(`mask has ${x.mask.length} values but shape [${B}, ${T}] needs ${B * T}`);
    const bad = x.mask.findIndex((m) => m !== 0 && m !== 1);
    if (bad >= 0) throw new ShapeError(`mask must hold only 0 and 1, got ${x.mask[bad]} at [${Math.floor(bad / T)}, ${bad % T}]`);
  }
  return firstLossStep(spec, T);
}

/** The float64 reference of a loss and its gradient (see {@link LossKind} for the definitions). */
export function lossReference(spec: LossSpec, x: LossInputs): LossResult {
  const first = checkLossInputs(spec, x);
  const { batch: B, steps: T, outputSize: O } = x;
  const dY = new Float64Array(B * T * O);
  let count = 0;
  for (let b = 0; b < B; b++) for (let t = first; t < T; t++) count += x.mask ? x.mask[b * T + t]! : 1;
  count *= O;
  if (count === 0) return { loss: 0, dY, count };
  let sum = 0;
  for (let b = 0; b < B; b++) {
    for (let t = first; t < T; t++) {
      if (x.mask && x.mask[b * T + t] === 0) continue;
      for (let o = 0; o < O; o++) {
        const k = (b * T + t) * O + o;
        const e = x.Y[k]! - x.target[k]!;
        if (spec.kind === 'mse') {
          sum += e * e;
          dY[k] = (2 * e) / count;
        } else {
          sum += Math.abs(e);
          dY[k] = Math.sign(e) / count;
        }
      }
    }
  }
  return { loss: sum / count, dY, count };
}
