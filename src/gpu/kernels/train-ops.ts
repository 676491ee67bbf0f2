import lossSource from '../../../shaders/loss.wgsl?raw';
import optimizerSource from '../../../shaders/optimizer.wgsl?raw';
import segmentSumSource from '../../../shaders/segment_sum.wgsl?raw';
import type { LossSpec } from '../../train/loss.ts';
import type { OptimizationSpec } from '../../train/optim.ts';
import { workgroupGrid } from '../grid.ts';
import type { PipelineSpec } from '../pipelines.ts';

/**
 * Descriptors of the training step's elementwise and reduction kernels: the loss and its gradient
 * (shaders/loss.wgsl), per-model sums (shaders/segment_sum.wgsl: loss per model, gradient norms for
 * clipping) and the optimizer update (shaders/optimizer.wgsl). Each gives dispatches in the shape of
 * the backend's program executor: a pipeline, its params uniform, the names of the buffers bound at
 * 1, 2, … and the grid. With S models (per-series mode) every buffer holds S consecutive blocks.
 */

/** One dispatch: bindings 0 = `params`, then the named buffers in order. */
export interface TrainDispatch {
  pipeline: PipelineSpec;
  params: Uint32Array;
  bind: string[];
  grid: [number, number];
}

const WORKGROUP = 256;
/** Values one segment-sum workgroup adds up (256 invocations × 8). */
const SUM_ITEMS = 8;
const SUM_CHUNK = WORKGROUP * SUM_ITEMS;

/** Where segment sums come from: `segments` runs of `length` values, run s starting at s·`stride` (default `length`). */
export interface Segments {
  segments: number;
  length: number;
  stride?: number;
}

/**
 * The passes that add up the segments of `src` into `dst` at float `dstOffset` (`segments` floats),
 * squaring the values first when `square` (a norm): each pass leaves one partial sum per chunk of
 * 2048 values, the next adds those, until one per segment is left. The partial sums go through
 * scratch buffers `${dst} partial k`; `scratch` lists their sizes in floats.
 */
export function segmentSumPasses(
  src: string,
  dst: string,
  seg: Segments,
  square: boolean,
  maxPerDimension: number,
  dstOffset = 0,
): { dispatches: TrainDispatch[]; scratch: Record<string, number> } {
  const dispatches: TrainDispatch[] = [];
  const scratch: Record<string, number> = {};
  const { segments } = seg;
  let from = src;
  let length = seg.length;
  let stride = seg.stride ?? seg.length;
  for (let k = 0; ; k++) {
    const chunks = Math.ceil(length / SUM_CHUNK);
    const last = chunks === 1;
    const to = last ? dst : `${dst} partial ${k}`;
    if (!last) scratch[to] = segments * chunks;
    dispatches.push({
      pipeline: { name: 'segment_sum', code: segmentSumSource, constants: { WORKGROUP_SIZE: WORKGROUP, ITEMS: SUM_ITEMS, SQUARE: k === 0 && square ? 1 : 0 } },
      params: new Uint32Array([length, chunks, segments, stride, last ? dstOffset : 0, 0, 0, 0]),
      bind: [from, to],
      grid: workgroupGrid(segments * chunks, 1, maxPerDimension),
    });
    if (last) break;
    from = to;
    length = chunks;
    stride = chunks;
  }
  return { dispatches, scratch };
}

/** The optimizer kernel for a run's fixed hyper-parameters (lr and the step's corrections go in the uniform). */
export function optimizerPipeline(spec: OptimizationSpec, normParts: number): PipelineSpec {
  const o = spec.optimizer;
  const constants: Record<string, number> = {
    WORKGROUP_SIZE: WORKGROUP,
    KIND: { sgd: 0, adam: 1, adamw: 2 }[o.kind],
    WEIGHT_DECAY: o.weightDecay,
    CLIP_VALUE: spec.clip?.kind === 'value' ? spec.clip.clipValue : 0,
    MAX_NORM: spec.clip?.kind === 'norm' ? spec.clip.maxNorm : 0,
    NORM_PARTS: normParts,
  };
  if (o.kind === 'sgd') Object.assign(constants, { MOMENTUM: o.momentum, DAMPENING: o.dampening, NESTEROV: o.nesterov ? 1 : 0 });
  else Object.assign(constants, { BETA1: o.betas[0], BETA2: o.betas[1], EPS: o.eps });
  return { name: 'optimizer', code: optimizerSource, constants };
}

/**
 * The optimizer's params uniform for step `step` (0-based: the steps taken before this one) at
 * learning rate `lr`: Adam's bias corrections in float64 on the host, rounded once.
 */
export function optimizerParams(spec: OptimizationSpec, models: number, trained: number, stride: number, step: number, lr: number): Uint32Array {
  const out = new ArrayBuffer(32);
  new Uint32Array(out, 0, 4).set([models * trained, trained, step === 0 ? 1 : 0, stride]);
  const o = spec.optimizer;
  const n = step + 1;
  const stepSize = o.kind === 'sgd' ? 0 : lr / (1 - o.betas[0] ** n);
  const bc2Sqrt = o.kind === 'sgd' ? 1 : Math.sqrt(1 - o.betas[1] ** n);
  new Float32Array(out, 16, 4).set([lr, stepSize, bc2Sqrt, 0]);
  return new Uint32Array(out);
}

/**
 * One parameter buffer of the models: `models` blocks of `stride` floats, the first `trained` of
 * each trained, with its gradient `g` and optimizer buffers `m`, `v` (v: a placeholder for SGD) laid
 * out the same way.
 */
export interface ParamBuffer {
  p: string;
  g: string;
  m: string;
  v: string;
  trained: number;
  stride: number;
}

/**
 * One optimizer step over several parameter buffers of `models` models: with norm clipping first the
 * squared gradient norms of every buffer per model into `sumsq` ([buffers, models] floats, a
 * placeholder without), so each model's norm covers all its parameters; then each buffer's update.
 */
export function optimizerDispatches(
  spec: OptimizationSpec,
  buffers: readonly ParamBuffer[],
  sumsq: string,
  models: number,
  step: number,
  lr: number,
  maxPerDimension: number,
): { dispatches: TrainDispatch[]; scratch: Record<string, number> } {
  const dispatches: TrainDispatch[] = [];
  const scratch: Record<string, number> = {};
  if (spec.clip?.kind === 'norm') {
    buffers.forEach((b, k) => {
      const sums = segmentSumPasses(b.g, sumsq, { segments: models, length: b.trained, stride: b.stride }, true, maxPerDimension, k * models);
      dispatches.push(...sums.dispatches);
      // Buffers' passes run one after another, so they share scratch of the largest size.
      for (const [name, n] of Object.entries(sums.scratch)) scratch[name] = Math.max(scratch[name] ?? 0, n);
    });
  }
  for (const b of buffers) {
    dispatches.push({
      pipeline: optimizerPipeline(spec, buffers.length),
      params: optimizerParams(spec, models, b.trained, b.stride, step, lr),
      bind: [b.p, b.g, b.m, b.v, sumsq],
      grid: workgroupGrid(models * b.trained, WORKGROUP, maxPerDimension),
    });
  }
  return { dispatches, scratch };
}

/** The loss kernel: d loss / d Y and each element's share of its model's loss. */
export function lossDispatch(
  spec: LossSpec,
  names: { y: string; target: string; mask: string; invN: string; dy: string; term: string },
  shape: { batch: number; steps: number; outputs: number; first: number; perModel: number; hasMask: boolean },
  maxPerDimension: number,
): TrainDispatch {
  const { batch: B, steps: T, outputs: O } = shape;
  return {
    pipeline: {
      name: 'loss',
      code: lossSource,
      constants: { WORKGROUP_SIZE: WORKGROUP, OUTPUTS: O, MAE: spec.kind === 'mae' ? 1 : 0, HAS_MASK: shape.hasMask ? 1 : 0 },
    },
    params: new Uint32Array([B, T, shape.first, shape.perModel]),
    bind: [names.y, names.target, names.mask, names.invN, names.dy, names.term],
    grid: workgroupGrid(B * T * O, WORKGROUP, maxPerDimension),
  };
}

/**
 * 1 / N_g for each of `models` groups of B / models consecutive sequences: N_g = O · the unmasked
 * steps t ≥ first of the group (0 when none, so that group's loss and gradient are 0).
 */
export function inverseCounts(batch: number, steps: number, outputs: number, first: number, models: number, mask: ArrayLike<number> | null): Float32Array {
  const per = batch / models;
  const out = new Float32Array(models);
  for (let g = 0; g < models; g++) {
    let n = 0;
    for (let b = g * per; b < (g + 1) * per; b++) for (let t = first; t < steps; t++) n += mask ? mask[b * steps + t]! : 1;
    out[g] = n === 0 ? 0 : 1 / (n * outputs);
  }
  return out;
}
