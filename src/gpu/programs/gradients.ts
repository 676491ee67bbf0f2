import { numDirections, type RecurrentLayerSpec } from '../../rnn/spec.ts';
import type { LinearHead, RecurrentStack } from '../../rnn/stack.ts';
import { contractionDispatch, ONES_BUFFER, ONES_DATA, rowReduction, sequencesPerChunk } from '../kernels/backward/grad-contract.ts';
import { layerGradContractions } from '../kernels/backward/layer-gradients.ts';
import { gradRowWidth, planRecurrentBackward, planTrainingForward, trainingOutputFloatsPerSequence } from '../kernels/backward/plan.ts';
import { packedFloats } from '../kernels/forward/recurrent-common.ts';
import type { KernelLimits, RecurrentKernelChoice } from '../kernels/forward/plan.ts';
import { RECURRENT_STATE_SLOTS } from '../kernels/forward/recurrent-sequential.ts';
import { headDispatch } from '../kernels/head/linear-head.ts';
import type { Dispatch, ProgramBuffer } from '../program.ts';
import { layerDispatches } from './layer.ts';
import { segmentDispatches } from './segments.ts';

/**
 * The gradient program of a stack of batch-major recurrent layers and its optional nn.Linear head
 * (src/rnn/stack.ts) over one batch chunk: the forward pass with saving and the head's output
 * (`forward`), then the head's backward and each layer's backward in reverse order (reverse-time
 * kernel, parameter reductions, dX into the layer below: `backward`), so that a whole step runs as
 * one GPU program and only gradients (and outputs) come back. A training step (src/train/gpu-engine.ts)
 * puts its loss between the two and its optimizer update after them.
 *
 * Buffers are referred to by the names below; parameters are plain named buffers, so a training loop
 * can bind device-resident ones (the executor's `external` buffers) and run the same dispatches
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
 *   head        the head's weight [O, F] | bias [O]  (input)       ones   [1] = 1 (set here)
 *   dy{L−1}     dY of the last layer [n, T, D·H] (input without a head; with one, the head's
 *               backward writes it from dout [n, T, O], an input)
 *   dstate{k}   dY_h | dY_c of layer k (input; zeros when the loss does not read the final state)
 *   fwd{k}      layer k's Y then its saved values    final{k}  Y_h | Y_c     out  the head's output
 *   grads{k}    dW | dR | dB | dP packed like w{k}   dinit{k}  d h0 | d c0   dx   dX of layer 0
 *   headgrads   dWeight [O, F] | dBias [O]           dy{k}, dg{k}, partials, state, bstate: scratch
 *
 * Buffers are sized here; an input the caller has nothing for is zeros (`data`) where the kernels
 * read it, else a buffer of the right size to fill.
 */

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

/** The program's buffers and its two halves (see the module comment). */
export interface GradProgram {
  buffers: Record<string, ProgramBuffer>;
  /** The forward pass with saving, then the head: `out` holds the output when they have run. */
  forward: Dispatch[];
  /** From d loss / d out (`dout`, or `dy{L−1}` without a head) to every gradient. */
  backward: Dispatch[];
}

/** Floats the largest per-sequence binding of the program takes (for batch chunking). */
export function gradFloatsPerSequence(shape: Omit<GradProgramShape, 'batch'>): number {
  const T = shape.steps;
  const per = shape.layers.map(({ spec, peepholes }) => {
    const DH = numDirections(spec) * spec.hiddenSize;
    return Math.max(
      T * spec.inputSize,
      trainingOutputFloatsPerSequence(spec, T),
      T * gradRowWidth(spec, peepholes),
      RECURRENT_STATE_SLOTS * DH,
    );
  });
  return Math.max(...per, shape.head ? T * shape.head.outputSize : 0);
}

/**
 * Floats one training window of `steps` steps of `stack` takes in the training program's largest
 * binding (no initial states, state gradients or lengths): what bounds a training batch.
 */
export function trainingFloatsPerWindow(stack: Pick<RecurrentStack, 'layers' | 'head'>, steps: number): number {
  return gradFloatsPerSequence({
    layers: stack.layers.map(({ spec, weights }) => ({
      spec,
      peepholes: weights.P !== null,
      hasH0: false,
      hasC0: false,
      hasDh: false,
      hasDc: false,
    })),
    head: stack.head,
    steps,
    hasLens: false,
  });
}

/**
 * Floats from one model's block of a parameter buffer of `floats` floats to the next: with several
 * models a multiple of 64 (256 bytes, WebGPU's storage-offset alignment), so a program can bind the
 * blocks of any run of models at an offset.
 */
export function modelStride(floats: number, models: number): number {
  return models > 1 ? Math.ceil(floats / 64) * 64 : floats;
}

/** The whole program over one batch chunk (see the module comment). */
export function gradientProgram(shape: GradProgramShape, ctx: GradProgramContext): GradProgram {
  const { batch: n, steps: T } = shape;
  const M = shape.models ?? 1;
  if (!Number.isInteger(n / M)) throw new Error(`a batch of ${n} does not split into ${M} models`);
  const L = shape.layers.length;
  const maxGrid = ctx.limits.maxComputeWorkgroupsPerDimension;
  const sizes: Record<string, { bytes: number; zeros?: boolean }> = {};
  const forward: Dispatch[] = [];
  const backward: Dispatch[] = [];
  const need = (name: string, bytes: number, zeros = false) => {
    sizes[name] = { bytes: Math.max(bytes, sizes[name]?.bytes ?? 0), ...(zeros ? { zeros } : {}) };
  };
  const width = (spec: RecurrentLayerSpec) => numDirections(spec) * spec.hiddenSize;
  const stateFloats = (spec: RecurrentLayerSpec) => (spec.cell === 'lstm' ? 2 : 1) * n * width(spec);
  need('x', 4 * n * T * shape.layers[0]!.spec.inputSize);
  need('lens', shape.hasLens ? 4 * n : 4);

  // Forward with saving, layer by layer.
  const strides = shape.layers.map(({ spec }) => modelStride(packedFloats(spec), M));
  shape.layers.forEach((layer, k) => {
    const { spec } = layer;
    const plan = planTrainingForward(spec, n, ctx.limits, ctx.kernel, M);
    const names = {
      x: k === 0 ? 'x' : `fwd${k - 1}`,
      weights: `w${k}`,
      lens: 'lens',
      init: `init${k}`,
      y: `fwd${k}`,
      final: `final${k}`,
      state: 'state',
      head: 'no head',
    };
    const pass = layerDispatches(
      plan,
      spec,
      n,
      T,
      names,
      { h: layer.hasH0, c: layer.hasC0, lens: shape.hasLens },
      ctx.stepsPerDispatch(spec, n),
      {
        count: M,
        weightStride: strides[k]!,
      },
    );
    if (pass.scratchBytes) need('state', pass.scratchBytes);
    need(`w${k}`, 4 * M * strides[k]!);
    need(`init${k}`, 4 * stateFloats(spec), pass.segmented);
    need(`fwd${k}`, 4 * n * trainingOutputFloatsPerSequence(spec, T));
    need(`final${k}`, 4 * stateFloats(spec));
    forward.push(...pass.dispatches);
  });

  // A parameter gradient: a sum over each model's rows into its block of `stride` floats.
  const reduce = (c: Parameters<typeof rowReduction>[0], stride: number) => {
    const perChunk = sequencesPerChunk(c, n, ctx.maxBindingBytes / 4, M);
    const { dispatches: ds, partialFloats } = rowReduction(c, T, perChunk, 'partials', maxGrid, M, stride);
    if (partialFloats) need('partials', 4 * partialFloats);
    backward.push(...ds);
  };

  // The head: its output, then dWeight = Σ_rows dout ⊗ y, dBias = Σ_rows dout, dy = dout · weight.
  // Without a head, `out` receives the last layer's Y (the first part of fwd{L−1}).
  const last = `fwd${L - 1}`;
  const rows = n * T;
  if (!shape.head) {
    const yBytes = 4 * rows * width(shape.layers[L - 1]!.spec);
    need('out', yBytes);
    const final = forward[forward.length - 1]!;
    final.copies = [...(final.copies ?? []), [last, 'out', yBytes]];
  } else {
    const { inputSize: F, outputSize: O } = shape.head;
    const headStride = modelStride(O * (F + 1), M);
    const modelRows = rows / M;
    need('head', 4 * M * headStride);
    need('out', 4 * rows * O);
    need('dout', 4 * rows * O);
    need('headgrads', 4 * M * headStride);
    forward.push(headDispatch(shape.head, { y: last, weights: 'head', out: 'out' }, rows, maxGrid, modelRows, headStride));
    const dout = { buffer: 'dout', row: O, col: 1 };
    reduce({ a: dout, b: { buffer: last, row: F, col: 1 }, out: { buffer: 'headgrads', p: F, q: 1 }, p: O, q: F, rows }, headStride);
    reduce(
      { a: dout, b: { buffer: ONES_BUFFER, row: 0, col: 0 }, out: { buffer: 'headgrads', offset: O * F, p: 1, q: 1 }, p: O, q: 1, rows },
      headStride,
    );
    // dy = dout · weight, per model: the outputs are the summed index, a chunk per model.
    backward.push(
      contractionDispatch(
        {
          a: { buffer: 'dout', chunk: modelRows * O, row: 1, col: O },
          b: { buffer: 'head', chunk: headStride, row: F, col: 1 },
          out: { buffer: `dy${L - 1}`, chunk: modelRows * F, p: F, q: 1 },
          p: modelRows,
          q: F,
          rows: M * O,
          rowsPerChunk: O,
        },
        maxGrid,
      ),
    );
  }
  need(`dy${L - 1}`, 4 * rows * width(shape.layers[L - 1]!.spec));

  // Each layer's backward, last to first: reverse-time kernel, parameter gradients, dX.
  for (let k = L - 1; k >= 0; k--) {
    const layer = shape.layers[k]!;
    const { spec, peepholes } = layer;
    const plan = planRecurrentBackward(spec, peepholes, n, ctx.limits, ctx.kernel, M);
    const roles: Record<string, string> = {
      fwd: `fwd${k}`,
      weights: `w${k}`,
      lens: 'lens',
      dstate_in: `dstate${k}`,
      dg: `dg${k}`,
      dstate_out: `dinit${k}`,
      dy: `dy${k}`,
      scratch: 'bstate',
    };
    const bind = Object.fromEntries(plan.pipeline.kernel.bindings.map((b) => [b, roles[b]!]));
    if (plan.scratchBytes) need('bstate', plan.scratchBytes);
    const maxSteps = ctx.stepsPerDispatch(spec, n);
    const pass = segmentDispatches({
      spec,
      planned: plan.pipeline,
      bind,
      batch: n,
      steps: T,
      maxSteps,
      given: { h: layer.hasDh, c: layer.hasDc, lens: shape.hasLens },
      pass: 'backward',
      models: { count: M, weightStride: strides[k]! },
      carry: [`dinit${k}`, `dstate${k}`],
      submitLast: true,
    });
    need(`dstate${k}`, 4 * stateFloats(spec), pass.length > 1 || layer.hasDh || layer.hasDc);
    need(`dg${k}`, 4 * rows * gradRowWidth(spec, peepholes));
    need(`dinit${k}`, 4 * stateFloats(spec));
    backward.push(...pass);
    const dx = k === 0 ? 'dx' : `dy${k - 1}`;
    const wantDx = k > 0 || shape.inputGrad !== false;
    if (wantDx) need(dx, 4 * rows * spec.inputSize);
    const grads = layerGradContractions(
      spec,
      peepholes,
      n,
      T,
      { dg: `dg${k}`, fwd: `fwd${k}`, x: k === 0 ? 'x' : `fwd${k - 1}`, weights: `w${k}`, grads: `grads${k}`, dx },
      { count: M, weightStride: strides[k]! },
    );
    need(`grads${k}`, 4 * M * strides[k]!);
    for (const c of grads.params) reduce(c, strides[k]!);
    if (wantDx) backward.push(contractionDispatch(grads.dx, maxGrid));
  }

  const buffers: Record<string, ProgramBuffer> = {};
  for (const [name, { bytes, zeros }] of Object.entries(sizes)) buffers[name] = zeros ? { data: new Float32Array(bytes / 4) } : { bytes };
  buffers[ONES_BUFFER] = { data: ONES_DATA };
  return { buffers, forward, backward };
}
