import { FLOAT32_MIN_NORMAL } from '../util/finite.ts';
import { ConfigError, ShapeError } from '../errors.ts';
import type { FloatArray } from '../tensor.ts';

/**
 * Optimizers, learning-rate schedules and gradient clipping as PyTorch defines them (torch.optim,
 * torch.optim.lr_scheduler, torch.nn.utils): their options, defaults and checks, the schedules'
 * closed forms, and the optimizer state as plain data. The float64 update rules are in
 * src/reference/optim.ts. Option names are PyTorch's in camelCase.
 */

/** torch.optim.SGD: momentum, dampening, Nesterov momentum and L2 weight decay (added to the gradient). */
export interface SgdOptions {
  kind: 'sgd';
  lr: number;
  /** Default 0 (plain SGD). */
  momentum?: number;
  /** Default 0. */
  dampening?: number;
  /** Default false; needs momentum > 0 and dampening 0. */
  nesterov?: boolean;
  /** Default 0. */
  weightDecay?: number;
}

/** torch.optim.Adam (`'adam'`, L2 weight decay added to the gradient) and AdamW (`'adamw'`, decoupled decay). */
export interface AdamOptions {
  kind: 'adam' | 'adamw';
  /** Default 1e-3. */
  lr?: number;
  /** (beta1, beta2), default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** Added to √v̂, default 1e-8. */
  eps?: number;
  /** Default 0 for Adam, 1e-2 for AdamW. */
  weightDecay?: number;
}

export type OptimizerOptions = SgdOptions | AdamOptions;

/** An optimizer with every default filled in and checked. */
export type OptimizerSpec =
  | Readonly<Required<SgdOptions>>
  | {
      readonly kind: 'adam' | 'adamw';
      readonly lr: number;
      readonly betas: readonly [number, number];
      readonly eps: number;
      readonly weightDecay: number;
    };

/**
 * A learning-rate schedule over optimizer steps n = 0, 1, … (the scheduler stepped once after each
 * optimizer step), from the optimizer's lr, lr₀:
 *   constant   lr_n = lr₀
 *   step       lr_n = lr₀ · gamma^⌊n / stepSize⌋                          (StepLR; gamma default 0.1)
 *   cosine     lr_n = etaMin + (lr₀ − etaMin) · (1 + cos(π n / tMax)) / 2  (CosineAnnealingLR's closed form; etaMin default 0)
 */
export type ScheduleOptions =
  | { kind: 'constant' }
  | { kind: 'step'; stepSize: number; gamma?: number }
  | { kind: 'cosine'; tMax: number; etaMin?: number };

export type ScheduleSpec =
  | { readonly kind: 'constant' }
  | { readonly kind: 'step'; readonly stepSize: number; readonly gamma: number }
  | { readonly kind: 'cosine'; readonly tMax: number; readonly etaMin: number };

/**
 * Gradient clipping before each step, over all parameters together:
 *   norm    total = ‖(‖g₁‖₂, ‖g₂‖₂, …)‖₂; every g ← g · min(1, maxNorm / (total + 1e-6))   (clip_grad_norm_)
 *   value   every element g ← min(clipValue, max(−clipValue, g))                        (clip_grad_value_)
 */
export type GradClipOptions = { kind: 'norm'; maxNorm: number } | { kind: 'value'; clipValue: number };

export type GradClipSpec = { readonly kind: 'norm'; readonly maxNorm: number } | { readonly kind: 'value'; readonly clipValue: number };

/** Everything one optimizer step does: clip, pick the learning rate, update. */
export interface OptimizationOptions {
  optimizer: OptimizerOptions;
  /** Default constant. */
  schedule?: ScheduleOptions;
  /** Default none. */
  clip?: GradClipOptions | null;
}

export interface OptimizationSpec {
  readonly optimizer: OptimizerSpec;
  readonly schedule: ScheduleSpec;
  readonly clip: GradClipSpec | null;
}

/** The ε that clip_grad_norm_ adds to the total norm. */
export const CLIP_NORM_EPS = 1e-6;

function finite(name: string, v: unknown, min: number, fallback?: number): number {
  const x = v === undefined ? fallback : v;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min) {
    throw new ConfigError(`${name} must be a finite number ≥ ${min}, got ${String(v)}`);
  }
  return x;
}

function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Fills PyTorch's defaults and applies its checks; throws {@link ConfigError} naming the bad option. */
export function optimizerSpec(o: OptimizerOptions): OptimizerSpec {
  if (o === null || typeof o !== 'object') throw new ConfigError('an optimizer must be an object { kind, lr, … }');
  if (o.kind === 'sgd') {
    if (o.lr === undefined) throw new ConfigError('SGD needs a learning rate lr (it has no default)');
    const spec = {
      kind: 'sgd' as const,
      lr: finite('lr', o.lr, 0),
      momentum: finite('momentum', o.momentum, 0, 0),
      dampening: finite('dampening', o.dampening, -Infinity, 0),
      nesterov: o.nesterov ?? false,
      weightDecay: finite('weightDecay', o.weightDecay, 0, 0),
    };
    if (typeof spec.nesterov !== 'boolean') throw new ConfigError(`nesterov must be true or false, got ${String(o.nesterov)}`);
    if (spec.nesterov && (spec.momentum <= 0 || spec.dampening !== 0)) {
      throw new ConfigError('Nesterov momentum requires a momentum > 0 and zero dampening');
    }
    return spec;
  }
  if (o.kind === 'adam' || o.kind === 'adamw') {
    const betas = o.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new ConfigError(`betas must be [beta1, beta2], got ${String(betas)}`);
    for (const [i, beta] of betas.entries()) {
      if (typeof beta !== 'number' || !(beta >= 0 && beta < 1)) throw new ConfigError(`betas[${i}] must be in [0, 1), got ${String(beta)}`);
    }
    return {
      kind: o.kind,
      lr: finite('lr', o.lr, 0, 1e-3),
      betas: [betas[0]!, betas[1]!],
      eps: finite('eps', o.eps, FLOAT32_MIN_NORMAL, 1e-8), // > 0: a zero gradient would step by 0/0
      weightDecay: finite('weightDecay', o.weightDecay, 0, o.kind === 'adamw' ? 1e-2 : 0),
    };
  }
  throw new ConfigError(`unknown optimizer ${JSON.stringify((o as { kind: unknown }).kind)}: expected sgd, adam or adamw`);
}

/** Fills a schedule's defaults and checks it ({@link ConfigError}). */
export function scheduleSpec(o: ScheduleOptions = { kind: 'constant' }): ScheduleSpec {
  if (o === null || typeof o !== 'object') throw new ConfigError('a schedule must be an object { kind, … }');
  switch (o.kind) {
    case 'constant':
      return { kind: 'constant' };
    case 'step':
      return { kind: 'step', stepSize: positiveInteger('stepSize', o.stepSize), gamma: finite('gamma', o.gamma, 0, 0.1) };
    case 'cosine':
      return { kind: 'cosine', tMax: positiveInteger('tMax', o.tMax), etaMin: finite('etaMin', o.etaMin, 0, 0) };
  }
  throw new ConfigError(`unknown schedule ${JSON.stringify((o as { kind: unknown }).kind)}: expected constant, step or cosine`);
}

/** Checks a clipping option ({@link ConfigError}); null or undefined means none. */
export function gradClipSpec(o: GradClipOptions | null | undefined): GradClipSpec | null {
  if (o === null || o === undefined) return null;
  if (typeof o !== 'object') throw new ConfigError('gradient clipping must be an object { kind, … } or null');
  // At least float32's smallest normal: the GPU reads 0 as "no clipping", the CPU as "zero gradients".
  if (o.kind === 'norm') return { kind: 'norm', maxNorm: finite('maxNorm', o.maxNorm, FLOAT32_MIN_NORMAL) };
  if (o.kind === 'value') return { kind: 'value', clipValue: finite('clipValue', o.clipValue, FLOAT32_MIN_NORMAL) };
  throw new ConfigError(`unknown gradient clipping ${JSON.stringify((o as { kind: unknown }).kind)}: expected norm or value`);
}

/** Checks and completes a whole optimization setup. */
export function optimizationSpec(o: OptimizationOptions): OptimizationSpec {
  if (o === null || typeof o !== 'object') throw new ConfigError('optimization options must be an object { optimizer, schedule, clip }');
  return { optimizer: optimizerSpec(o.optimizer), schedule: scheduleSpec(o.schedule), clip: gradClipSpec(o.clip) };
}

/** The learning rate of optimizer step n (0-based) under a schedule, from the optimizer's lr₀ (see {@link ScheduleOptions}). */
export function learningRateAt(schedule: ScheduleSpec, baseLr: number, n: number): number {
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'step':
      return baseLr * schedule.gamma ** Math.floor(n / schedule.stepSize);
    case 'cosine':
      return schedule.etaMin + ((baseLr - schedule.etaMin) * (1 + Math.cos((Math.PI * n) / schedule.tMax))) / 2;
  }
}

/**
 * An optimizer's state as plain data, ready to be saved: the number of steps taken and, per
 * parameter name, its buffers by PyTorch's names (see {@link optimizerSlots}), each of the
 * parameter's length. Float64Array for the reference, Float32Array for the GPU.
 */
export interface OptimizerState<D extends FloatArray = FloatArray> {
  /** Optimizer steps taken so far (Adam's bias correction and the schedules read it). */
  step: number;
  buffers: Record<string, Record<string, D>>;
}

/**
 * The buffers an optimizer keeps per parameter, by PyTorch's names: SGD `momentum_buffer` (only with
 * momentum; PyTorch sets it to the first step's gradient), Adam and AdamW `exp_avg` (m) and
 * `exp_avg_sq` (v).
 */
export function optimizerSlots(spec: OptimizerSpec): string[] {
  if (spec.kind === 'sgd') return spec.momentum !== 0 ? ['momentum_buffer'] : [];
  return ['exp_avg', 'exp_avg_sq'];
}

/** A fresh state (step 0, zero buffers) for parameters of the given lengths. */
export function createOptimizerState<D extends FloatArray>(
  spec: OptimizerSpec,
  sizes: Record<string, number>,
  array: new (n: number) => D,
): OptimizerState<D> {
  const buffers: Record<string, Record<string, D>> = {};
  for (const [name, n] of Object.entries(sizes)) {
    buffers[name] = Object.fromEntries(optimizerSlots(spec).map((slot) => [slot, new array(n)]));
  }
  return { step: 0, buffers };
}

/**
 * Checks a state against the optimizer and the parameters' lengths ({@link ShapeError}): the step
 * count, and exactly the expected buffers, each of its parameter's length.
 */
export function checkOptimizerState(spec: OptimizerSpec, state: OptimizerState, sizes: Record<string, number>): void {
  if (!Number.isInteger(state.step) || state.step < 0)
    throw new ShapeError(`optimizer state step must be a non-negative integer, got ${state.step}`);
  const slots = optimizerSlots(spec);
  const names = Object.keys(sizes);
  const stateNames = Object.keys(state.buffers);
  const extra = stateNames.find((n) => !Object.hasOwn(sizes, n));
  if (extra !== undefined) throw new ShapeError(`optimizer state holds buffers for ${extra}, which is not a parameter`);
  for (const name of names) {
    const buffers = state.buffers[name];
    if (buffers === undefined) throw new ShapeError(`optimizer state has no buffers for ${name}`);
    const keys = Object.keys(buffers).sort();
    if (keys.join() !== [...slots].sort().join()) {
      throw new ShapeError(`optimizer state for ${name} holds [${keys.join(', ')}], ${spec.kind} expects [${slots.join(', ')}]`);
    }
    for (const slot of slots) {
      const length = buffers[slot]!.length;
      if (length !== sizes[name]) throw new ShapeError(`${name}.${slot} has ${length} values but the parameter has ${sizes[name]}`);
    }
  }
}
