import { ConfigError, ShapeError, WeightError } from '../../../errors.ts';
import type { RecurrentLayerSpec, RecurrentLayerWeights } from '../../../rnn/spec.ts';
import type { Tolerance } from '../../../util/compare.ts';
import { FLOAT16_MAX, FLOAT16_UNIT_ROUNDOFF, packHalves, roundedToHalf } from '../../../util/f16.ts';
import { firstOutside } from '../../../util/finite.ts';
import type { ProgramBuffer } from '../../program.ts';
import { planRecurrentLayer, type KernelLimits, type KernelTraits, type RecurrentLayerPlan } from './plan.ts';
import type { Storage } from './recurrent-common.ts';
import { recurrentTileF16 } from './recurrent-tile.ts';

/**
 * f16 storage of a recurrent layer (the backend's `storage: 'f16'`, src/backends/webgpu-options.ts):
 * x, the weights and y as f16, two per 32-bit word (shaders/forward/storage_f16.wgsl), arithmetic
 * and the states in f32. The tiled kernel runs it (the others read f32 only), for inference.
 */

/** Throws a ConfigError for a layer f16 storage cannot run, before any GPU work. */
export function checkF16Layer(spec: RecurrentLayerSpec): void {
  // A word of y holds units j and j + 1 of one row only when H is even (storage_f16.wgsl).
  if (spec.hiddenSize % 2 !== 0) {
    throw new ConfigError(`storage 'f16' needs an even hidden_size (two f16 values per 32-bit word of a row), got ${spec.hiddenSize}`);
  }
}

/**
 * The plan of a layer with f16 storage: the tiled kernel's (as planRecurrentLayer shapes it for
 * `'tile'`, a DeviceError when its tile does not fit the device) on its f16 source.
 */
export function planF16Layer(
  spec: RecurrentLayerSpec,
  batch: number,
  limits: KernelLimits,
  models: number,
  traits: KernelTraits,
): RecurrentLayerPlan {
  checkF16Layer(spec);
  const plan = planRecurrentLayer(spec, batch, limits, 'tile', 0, models, traits);
  return { ...plan, pipeline: { ...plan.pipeline, kernel: recurrentTileF16 }, storage: 'f16' };
}

/** A program buffer of x or weights uploaded in `storage`: the values, or their f16 halves packed. */
export function storedInput(storage: Storage | undefined, data: Float32Array): ProgramBuffer {
  return storage === 'f16' ? { data: packHalves(data) } : { data };
}

/** A program buffer of `values` outputs in `storage` (f16: read back as float32 by the executor). */
export function storedOutput(storage: Storage | undefined, values: number): ProgramBuffer {
  return storage === 'f16' ? { bytes: 4 * Math.ceil(values / 2), f16: true } : { bytes: 4 * values };
}

/**
 * Throws before any GPU work for a call f16 storage cannot run: a layer of odd hidden size, a head
 * (the head kernel reads f32), or x or weights beyond f16's largest value (they would be Infinity).
 */
export function checkF16Call(
  layers: readonly { spec: RecurrentLayerSpec; weights: RecurrentLayerWeights }[],
  hasHead: boolean,
  X: ArrayLike<number>,
): void {
  if (hasHead) throw new ConfigError("storage 'f16' runs layers and stacks without a head; use storage 'f32' for a model with a head");
  layers.forEach(({ spec, weights }, k) => {
    checkF16Layer(spec);
    for (const [name, a] of Object.entries(weights)) {
      const i = a ? firstOutside(a, FLOAT16_MAX) : -1;
      if (i >= 0)
        throw new WeightError(
          `${name} of layer ${k} holds ${a![i]} at index ${i}, beyond f16's range (±${FLOAT16_MAX}): use storage 'f32'`,
        );
    }
  });
  const i = firstOutside(X, FLOAT16_MAX);
  if (i >= 0)
    throw new ShapeError(`X holds ${X[i]} at index ${i}, beyond f16's range (±${FLOAT16_MAX}): scale the data, or use storage 'f32'`);
}

/** A layer's weights as f16 storage holds them, each value rounded to f16 (for the float64 reference in tests and benchmarks). */
export function roundedLayerWeights(w: RecurrentLayerWeights): RecurrentLayerWeights {
  return { W: roundedToHalf(w.W), R: roundedToHalf(w.R), B: w.B && roundedToHalf(w.B), P: w.P && roundedToHalf(w.P) };
}

/**
 * What storing y as f16 adds to a comparison: WGSL's f32 → f16 conversion may round either way,
 * so one f16 step, 2⁻¹⁰ of the value (2⁻²⁴ below f16's normal range).
 */
export const F16_OUTPUT_ROUNDING: Tolerance = { atol: 2 ** -24, rtol: 2 * FLOAT16_UNIT_ROUNDOFF };
