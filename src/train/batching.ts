import { ConfigError } from '../errors.ts';

/**
 * Batch sizes that scale with the data, and the learning rate that goes with them (issue 13,
 * item 5). Pure functions: the forecaster (or any caller) picks `autoBatchSize(windows, limits)`
 * windows per optimizer step and `scaledLearningRate(lr, batch)` as Adam's learning rate.
 *
 * Why: a GPU step costs about the same for 64 windows as for thousands (one program, launch and
 * synchronisation bound), so an epoch of 660,000 windows in batches of 64 is 10,313 programs where
 * 161 of 4,096 do the same passes over the data. Fewer, larger steps need a larger learning rate to
 * make similar progress per epoch; how much larger is the rule below.
 */

/** The batch size the default learning rates were chosen at (the forecaster's and the app's 64). */
export const BASE_BATCH = 64;

/**
 * Optimizer steps an epoch aims at once the data outgrows {@link BASE_BATCH}: with the app's 8
 * epochs that is about 1,600 updates, in the range where the small models here (H ≤ 64) have
 * converged at batch 64 on the built-in sets.
 */
export const TARGET_STEPS_PER_EPOCH = 200;

/** The largest batch on a software adapter: past it a step's time grows linearly (no idle lanes left to fill). */
export const SOFTWARE_MAX_BATCH = 4096;

/** The largest batch on a hardware adapter: enough to fill a large GPU with small recurrent models. */
export const HARDWARE_MAX_BATCH = 16384;

/** What bounds the batch size chosen for the data (`autoBatchSize` in src/train/batching.ts). */
export interface BatchLimits {
  /** The largest batch the device takes in one step (memory, bindings, a program's duration). */
  maxBatch: number;
  /** The smallest batch, used for small data (default 64). */
  minBatch?: number;
  /** Steps per epoch to aim at (default 200). */
  targetSteps?: number;
}

function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** The largest power of two ≤ n (n ≥ 1). */
function floorPow2(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

/**
 * Windows per optimizer step for `windows` training windows: about `windows / targetSteps`, rounded
 * to the nearest power of two (in log scale: the kernels' tiles divide it, and nearby data sizes
 * share a batch), never below `minBatch` (small data keeps the batch the defaults were tuned at)
 * nor above `maxBatch`, and never above the data itself (rounded up to a power of two: one step
 * then reads it all). Per-series mode: pass the windows of one series; the batch is per series.
 *
 * Examples with the defaults and maxBatch 4096: 1,500 windows → 64; 50,000 → 256;
 * 660,000 (the app's 10,000 × 96 set) → 4096.
 */
export function autoBatchSize(windows: number, limits: BatchLimits): number {
  positiveInteger('windows', windows);
  const maxBatch = floorPow2(positiveInteger('maxBatch', limits.maxBatch));
  const minBatch = Math.min(maxBatch, positiveInteger('minBatch', limits.minBatch ?? BASE_BATCH));
  const target = positiveInteger('targetSteps', limits.targetSteps ?? TARGET_STEPS_PER_EPOCH);
  const ideal = 2 ** Math.round(Math.log2(Math.max(1, windows / target)));
  const all = 2 ** Math.ceil(Math.log2(windows));
  return Math.max(Math.min(minBatch, all), Math.min(ideal, maxBatch, all));
}

/** The device facts {@link batchLimits} reads (a GPUSupportedLimits has them). */
export interface DeviceBatchFacts {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/**
 * The {@link BatchLimits} of a device: {@link SOFTWARE_MAX_BATCH} on a software adapter,
 * {@link HARDWARE_MAX_BATCH} on a GPU, and never more windows than one binding holds at
 * `bytesPerWindow` (what a training step keeps per window on the device: its saved states and
 * gradients; e.g. 4 × src/gpu/programs/gradients.ts gradFloatsPerSequence). Without a device (the
 * CPU backend) pass null: the float64 reference gains nothing from large batches, so {@link BASE_BATCH}.
 */
export function batchLimits(device: DeviceBatchFacts | null, options: { software?: boolean; bytesPerWindow?: number } = {}): BatchLimits {
  if (!device) return { maxBatch: BASE_BATCH };
  const cap = options.software ? SOFTWARE_MAX_BATCH : HARDWARE_MAX_BATCH;
  const binding = Math.min(device.maxStorageBufferBindingSize, device.maxBufferSize);
  const byMemory = options.bytesPerWindow ? Math.floor(binding / options.bytesPerWindow) : cap;
  return { maxBatch: Math.max(1, floorPow2(Math.max(1, Math.min(cap, byMemory)))) };
}

/** How {@link scaledLearningRate} grows the rate with the batch. */
export interface LearningRateScaling {
  /** The batch `lr` was chosen at (default {@link BASE_BATCH}). */
  baseBatch?: number;
  /** 'sqrt' (default; Adam) or 'linear' (SGD). */
  rule?: 'sqrt' | 'linear';
  /** The largest factor applied (default 8: sqrt(4096 / 64)). */
  maxFactor?: number;
}

/**
 * The learning rate for `batch` windows per step, from `lr` chosen at `baseBatch`:
 *
 *   sqrt (default)  lr · min(maxFactor, √(batch / baseBatch))   — for Adam: Malladi et al. 2022, "On
 *                   the SDEs and Scaling Rules for Adaptive Gradient Algorithms" (NeurIPS), derive the
 *                   square-root rule for Adam/RMSprop; Hoffer et al. 2017, "Train longer, generalize
 *                   better", proposed √ scaling from the gradient noise's variance;
 *   linear          lr · min(maxFactor, batch / baseBatch)     — for SGD: Goyal et al. 2017, "Accurate,
 *                   Large Minibatch SGD" (with a warm-up of a few epochs, which this rule leaves out).
 *
 * Batches at or below `baseBatch` keep `lr`: small data keeps the rate the defaults were tuned at.
 */
export function scaledLearningRate(lr: number, batch: number, o: LearningRateScaling = {}): number {
  if (!(typeof lr === 'number' && lr > 0 && Number.isFinite(lr))) throw new ConfigError(`lr must be a positive number, got ${String(lr)}`);
  positiveInteger('batch', batch);
  const base = positiveInteger('baseBatch', o.baseBatch ?? BASE_BATCH);
  const maxFactor = o.maxFactor ?? 8;
  if (!(maxFactor >= 1 && Number.isFinite(maxFactor))) throw new ConfigError(`maxFactor must be a number ≥ 1, got ${String(maxFactor)}`);
  const rule = o.rule ?? 'sqrt';
  if (rule !== 'sqrt' && rule !== 'linear') throw new ConfigError(`rule must be 'sqrt' or 'linear', got ${String(rule)}`);
  const ratio = Math.max(1, batch / base);
  return lr * Math.min(maxFactor, rule === 'sqrt' ? Math.sqrt(ratio) : ratio);
}
