import { GATES, numDirections, type RecurrentLayerSpec } from '../../rnn/spec.ts';
import type { LinearHead } from '../../rnn/stack.ts';
import { contractionDispatch, ONES_BUFFER, rowReduction, sequencesPerChunk, type KernelDispatch } from './grad-contract.ts';
import { headGrid, headParams, linearHeadPipeline } from './linear-head.ts';
import {
  gradRowWidth,
  layerGradContractions,
  planRecurrentBackward,
  planTrainingForward,
  segmentOffsets,
  trainingOutputFloatsPerSequence,
} from './recurrent-backward.ts';
import { recurrentParams, RECURRENT_STATE_SLOTS, timeSegments, type KernelLimits, type RecurrentKernelChoice } from './recurrent-layer.ts';

/**
 * The training program of a stack of batch-major recurrent layers and its optional nn.Linear head
 * (src/rnn/stack.ts) over one batch chunk, as named buffers and dispatches for WebGPUBackend's
 * program executor: the forward pass with saving, the head's output, the head's backward, each
 * layer's backward in reverse order (reverse-time kernel, parameter reductions, dX into the layer
 * below), so that a whole step runs as one GPU program and only gradients (and outputs) come back.
 *
 * Buffers are referred to by the names below; parameters are plain named buffers, so a training loop
 * can bind device-resident ones (the executor's caller-owned buffers) and run the same dispatches
 * every step without uploading weights.
 *
 * Per-series models (`models` > 1): the batch is `models` groups of batch / models consecutive
 * sequences, group m trained by model m, and every parameter and gradient buffer (w{k}, grads{k},
 * head, headgrads) holds `models` blocks of {@link modelStride} floats, model m's at block m. The
 * kernels pick each sequence's model (the recurrent kernels' tiles never mix two, the head reads its
 * row's block), each parameter gradient is summed over its own model's rows, and dX and dy contract
 * each model's rows with its own weights: all models train in the same dispatches.
 *
 *   x           X [n, T, I]                          (input)       lens   [n] u32 or absent (input)
 *   w{k}        layer k's W | R | B | P packed       (input)       init{k} h0 | c0 [n, D, H] (input)
 *   head        the head's weight [O, F] | bias [O]  (input)       ones   [1] = 1 (input)
 *   dy{L−1}     dY of the last layer [n, T, D·H] (input without a head; with one, the head's
 *               backward writes it from dout [n, T, O], an input)
 *   dstate{k}   dY_h | dY_c of layer k (input; zeros when the loss does not read the final state)
 *   fwd{k}      layer k's Y then its saved values    final{k}  Y_h | Y_c     out  the head's output
 *   grads{k}    dW | dR | dB | dP packed like w{k}   dinit{k}  d h0 | d c0   dx   dX of layer 0
 *   headgrads   dWeight [O, F] | dBias [O]           dy{k}, dg{k}, partials, state, bstate: scratch
 */

/** One dispatch of the program (WebGPUBackend's ProgramDispatch). */
export interface ProgramStep extends KernelDispatch {
  /** Buffer copies after the dispatch: [from, to] all of `from`, or [from, to, bytes] its first bytes. */
  copies?: ([string, string] | [string, string, number])[];
  /** End the submission after this dispatch. */
  submit?: boolean;
}

/** A buffer the program needs: its size, and whether the caller must upload zeros when it has no data. */
export interface ProgramBufferSize {
  bytes: number;
  zeros?: boolean;
}

/** One layer as the program sees it. */
export interface GradLayer {
  spec: RecurrentLayerSpec;
  /** LSTM peepholes given (their gradient is computed only then). */
  peepholes: boolean;
  hasH0: boolean;
  hasC0: boolean;
  /** dY_h / dY_c given for this layer. */
  hasDh: boolean;
  hasDc: boolean;
}

export interface GradProgramShape {
  layers: GradLayer[];
  head: LinearHead | null;
  /** Sequences of this chunk (all models' together). */
  batch: number;
  steps: number;
  hasLens: boolean;
  /** Per-series models side by side, batch / models sequences each (default 1: one model). */
  models?: number;
  /**
   * Whether to compute dX of layer 0 (`dx`; default true). A training step has no use for the
   * gradient of its data: without it, one contraction over every row less.
   */
  inputGrad?: boolean;
}

/** What the program's kernels are planned from. */
export interface GradProgramContext {
  limits: KernelLimits;
  /** The largest buffer one binding may hold (the partial sums stay below it). */
  maxBindingBytes: number;
  kernel: RecurrentKernelChoice;
  /** Steps per dispatch of a layer's time loop (segments, one submission each). */
  stepsPerDispatch(spec: RecurrentLayerSpec, batch: number): number;
}

export interface GradProgram {
  buffers: Record<string, ProgramBufferSize>;
  dispatches: ProgramStep[];
}

/** Floats the largest per-sequence binding of the program takes (for batch chunking). */
export function gradFloatsPerSequence(shape: Omit<GradProgramShape, 'batch'>): number {
  const T = shape.steps;
  const per = shape.layers.map(({ spec, peepholes }) => {
    const DH = numDirections(spec) * spec.hiddenSize;
    return Math.max(T * spec.inputSize, trainingOutputFloatsPerSequence(spec, T), T * gradRowWidth(spec, peepholes), RECURRENT_STATE_SLOTS * DH);
  });
  return Math.max(...per, shape.head ? T * shape.head.outputSize : 0);
}

/**
 * Floats from one model's block of a parameter buffer of `floats` floats to the next: with several
 * models a multiple of 64 (256 bytes, WebGPU's storage-offset alignment), so a program can bind the
 * blocks of any run of models at an offset.
 */
export function modelStride(floats: number, models: number): number {
  return models > 1 ? Math.ceil(floats / 64) * 64 : floats;
}

/** The whole program over one batch chunk (see above). */
export function stackGradProgram(shape: GradProgramShape, ctx: GradProgramContext): GradProgram {
  const { batch: n, steps: T } = shape;
  const M = shape.models ?? 1;
  if (!Number.isInteger(n / M)) throw new Error(`a batch of ${n} does not split into ${M} models`);
  const L = shape.layers.length;
  const maxGrid = ctx.limits.maxComputeWorkgroupsPerDimension;
  const buffers: Record<string, ProgramBufferSize> = {};
  const dispatches: ProgramStep[] = [];
  const need = (name: string, bytes: number, zeros = false) => {
    buffers[name] = { bytes: Math.max(bytes, buffers[name]?.bytes ?? 0), ...(zeros ? { zeros } : {}) };
  };
  const width = (spec: RecurrentLayerSpec) => numDirections(spec) * spec.hiddenSize;
  const stateFloats = (spec: RecurrentLayerSpec) => (spec.cell === 'lstm' ? 2 : 1) * n * width(spec);
  need(ONES_BUFFER, 4);
  need('x', 4 * n * T * shape.layers[0]!.spec.inputSize);
  need('lens', shape.hasLens ? 4 * n : 4);

  // Forward with saving, layer by layer.
  const strides = shape.layers.map(({ spec }) => modelStride(packedFloats(spec), M));
  const modelParams = (k: number) => ({ modelBatch: n / M, weightStride: strides[k]! });
  shape.layers.forEach((layer, k) => {
    const { spec } = layer;
    const plan = planTrainingForward(spec, n, ctx.limits, ctx.kernel, M);
    const { segment, segments } = timeSegments(T, ctx.stepsPerDispatch(spec, n));
    const bind = [k === 0 ? 'x' : `fwd${k - 1}`, `w${k}`, 'lens', `init${k}`, `fwd${k}`, `final${k}`];
    if (plan.scratch.length) {
      bind.push('state');
      need('state', plan.scratch[0]![1]);
    }
    need(`w${k}`, 4 * M * strides[k]!);
    need(`init${k}`, 4 * stateFloats(spec), segments > 1);
    need(`fwd${k}`, 4 * n * trainingOutputFloatsPerSequence(spec, T));
    need(`final${k}`, 4 * stateFloats(spec));
    for (let s = 0; s < segments; s++) {
      const last = s === segments - 1;
      dispatches.push({
        pipeline: plan.pipeline,
        params: recurrentParams({
          batch: n, steps: segment, totalSteps: T, hasH0: layer.hasH0 || s > 0, hasC0: layer.hasC0 || s > 0, hasLens: shape.hasLens,
          offsets: segmentOffsets(spec, s, segments, segment, 'forward'), ...modelParams(k),
        }),
        bind,
        grid: plan.grid,
        ...(last ? {} : { copies: [[`final${k}`, `init${k}`]], submit: true }),
      });
    }
  });

  // A parameter gradient: a sum over each model's rows into its block of `stride` floats.
  const reduce = (c: Parameters<typeof rowReduction>[0], stride: number) => {
    const perChunk = sequencesPerChunk(c, n, ctx.maxBindingBytes / 4, M);
    const { dispatches: ds, partialFloats } = rowReduction(c, T, perChunk, 'partials', maxGrid, M, stride);
    if (partialFloats) need('partials', 4 * partialFloats);
    dispatches.push(...ds);
  };

  // The head: its output, then dWeight = Σ_rows dout ⊗ y, dBias = Σ_rows dout, dy = dout · weight.
  // Without a head, `out` receives the last layer's Y (the first part of fwd{L−1}).
  const last = `fwd${L - 1}`;
  const rows = n * T;
  if (!shape.head) {
    const yBytes = 4 * rows * width(shape.layers[L - 1]!.spec);
    need('out', yBytes);
    const final = dispatches[dispatches.length - 1]!;
    final.copies = [...(final.copies ?? []), [last, 'out', yBytes]];
  } else {
    const { inputSize: F, outputSize: O } = shape.head;
    const headStride = modelStride(O * (F + 1), M);
    const modelRows = rows / M;
    need('head', 4 * M * headStride);
    need('out', 4 * rows * O);
    need('dout', 4 * rows * O);
    need('headgrads', 4 * M * headStride);
    dispatches.push({
      pipeline: linearHeadPipeline(shape.head),
      params: headParams(rows, modelRows, headStride),
      bind: [last, 'head', 'out'],
      grid: headGrid(rows, shape.head, maxGrid),
    });
    const dout = { buffer: 'dout', row: O, col: 1 };
    reduce({ a: dout, b: { buffer: last, row: F, col: 1 }, out: { buffer: 'headgrads', p: F, q: 1 }, p: O, q: F, rows }, headStride);
    reduce({ a: dout, b: { buffer: ONES_BUFFER, row: 0, col: 0 }, out: { buffer: 'headgrads', offset: O * F, p: 1, q: 1 }, p: O, q: 1, rows }, headStride);
    // dy = dout · weight, per model: the outputs are the summed index, a chunk per model.
    dispatches.push(contractionDispatch({
      a: { buffer: 'dout', chunk: modelRows * O, row: 1, col: O },
      b: { buffer: 'head', chunk: headStride, row: F, col: 1 },
      out: { buffer: `dy${L - 1}`, chunk: modelRows * F, p: F, q: 1 },
      p: modelRows, q: F, rows: M * O, rowsPerChunk: O,
    }, maxGrid));
  }
  need(`dy${L - 1}`, 4 * rows * width(shape.layers[L - 1]!.spec));

  // Each layer's backward, last to first: reverse-time kernel, parameter gradients, dX.
  for (let k = L - 1; k >= 0; k--) {
    const layer = shape.layers[k]!;
    const { spec, peepholes } = layer;
    const plan = planRecurrentBackward(spec, peepholes, n, ctx.limits, ctx.kernel, M);
    const { segment, segments } = timeSegments(T, ctx.stepsPerDispatch(spec, n));
    const bind = [`fwd${k}`, `w${k}`, 'lens', `dstate${k}`, `dg${k}`, `dinit${k}`, `dy${k}`];
    if (plan.scratchBytes) {
      bind.push('bstate');
      need('bstate', plan.scratchBytes);
    }
    need(`dstate${k}`, 4 * stateFloats(spec), segments > 1 || layer.hasDh || layer.hasDc);
    need(`dg${k}`, 4 * rows * gradRowWidth(spec, peepholes));
    need(`dinit${k}`, 4 * stateFloats(spec));
    for (let s = 0; s < segments; s++) {
      const lastSegment = s === segments - 1;
      dispatches.push({
        pipeline: plan.pipeline,
        params: recurrentParams({
          batch: n, steps: segment, totalSteps: T, hasH0: layer.hasDh || s > 0, hasC0: layer.hasDc || s > 0, hasLens: shape.hasLens,
          offsets: segmentOffsets(spec, s, segments, segment, 'backward'), ...modelParams(k),
        }),
        bind,
        grid: plan.grid,
        ...(lastSegment ? { submit: true } : { copies: [[`dinit${k}`, `dstate${k}`]], submit: true }),
      });
    }
    const dx = k === 0 ? 'dx' : `dy${k - 1}`;
    const wantDx = k > 0 || shape.inputGrad !== false;
    if (wantDx) need(dx, 4 * rows * spec.inputSize);
    const grads = layerGradContractions(spec, peepholes, n, T, {
      dg: `dg${k}`, fwd: `fwd${k}`, x: k === 0 ? 'x' : `fwd${k - 1}`, weights: `w${k}`, grads: `grads${k}`, dx,
    }, { count: M, weightStride: strides[k]! });
    need(`grads${k}`, 4 * M * strides[k]!);
    for (const c of grads.params) reduce(c, strides[k]!);
    if (wantDx) dispatches.push(contractionDispatch(grads.dx, maxGrid));
  }
  return { buffers, dispatches };
}

/** Floats of a layer's packed W | R | B | P (src/gpu/kernels/recurrent-layer.ts packLayerWeights). */
export function packedFloats(spec: RecurrentLayerSpec): number {
  const D = numDirections(spec);
  const GH = GATES[spec.cell] * spec.hiddenSize;
  return D * GH * (spec.inputSize + spec.hiddenSize + 2) + D * 3 * spec.hiddenSize;
}
