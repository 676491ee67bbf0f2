import { GATES, numDirections, type RecurrentLayerSpec } from '../../rnn/spec.ts';
import type { RecurrentStack, RecurrentStackInputs, RecurrentStackOutputs } from '../../rnn/stack.ts';
import type { FloatArray } from '../../tensor.ts';
import { MIN_SEGMENT_STEPS, type ChunkWork } from '../chunks.ts';
import { storedInput, storedOutput } from '../kernels/forward/f16-storage.ts';
import { packedFloats, packLayerWeights, type Storage } from '../kernels/forward/recurrent-common.ts';
import type { RecurrentLayerPlan } from '../kernels/forward/plan.ts';
import { headDispatch, packHead } from '../kernels/head/linear-head.ts';
import type { ProgramExecutor } from '../executor.ts';
import type { Dispatch, Program, ProgramBuffer } from '../program.ts';
import { asFloat32, BatchRows } from '../rows.ts';
import { layerDispatches } from './layer.ts';

/**
 * A stack of batch-major layers and its optional nn.Linear head (src/rnn/stack.ts) as one program
 * per batch chunk: layer k's output feeds layer k+1 without leaving the device, the head runs
 * after the last layer (or inside it: src/gpu/kernels/forward/recurrent-small.ts), and only the
 * output and the final states come back. Per-series models (many stacks of one architecture) run
 * in the same dispatches, each on its own group of consecutive sequences.
 */

/** What the stack's programs plan their kernels with, on one device with one backend's options. */
export interface ForwardContext {
  /** The layer's kernel for `batch` sequences (src/gpu/kernels/forward/plan.ts planRecurrentLayer). */
  plan(spec: RecurrentLayerSpec, batch: number, headOutputs?: number, models?: number): RecurrentLayerPlan;
  /** Steps per dispatch of a layer over `batch` sequences (src/gpu/programs/segments.ts). */
  maxSteps(spec: RecurrentLayerSpec, batch: number): number;
  /** The device's maxComputeWorkgroupsPerDimension. */
  maxGrid: number;
  /** How the layers store x, weights and y (the backend's `storage`; default f32). */
  storage?: Storage;
}

/** Weights of one or many models of one architecture: per layer (and head) `count` blocks `stride` floats apart. */
export interface PackedModels {
  count: number;
  layers: { data: Float32Array; stride: number }[];
  head: { data: Float32Array; stride: number } | null;
}

/**
 * Every model's packed weights side by side: per layer (and for the head) one array of `count`
 * blocks, one after another (each upload is a buffer of its own, so no offset alignment is needed;
 * for one model the packed weights themselves).
 */
export function packModels(stacks: readonly RecurrentStack[]): PackedModels {
  const count = stacks.length;
  const side = (blocks: Float32Array[]) => {
    const stride = blocks[0]!.length;
    if (count === 1) return { data: blocks[0]!, stride };
    const data = new Float32Array(count * stride);
    blocks.forEach((b, m) => data.set(b, m * stride));
    return { data, stride };
  };
  const layers = stacks[0]!.layers.map((_, k) => side(stacks.map((s) => packLayerWeights(s.layers[k]!.spec, s.layers[k]!.weights))));
  const head = stacks[0]!.head ? side(stacks.map((s) => packHead(s.head!))) : null;
  return { count, layers, head };
}

/** What a DeviceError advises when one model's weights could not be bound. */
export const WEIGHTS_ADVICE = 'the model is too large for this device (run it on the CPU backend, or on a device with larger bindings)';

/**
 * Throws before any packing or GPU work when a layer's or the head's weights (of one model) could
 * not be bound. Per-series models bind the weights of a chunk's models together: the chunk sizing
 * keeps those within the limit, down to one model a chunk.
 */
export function checkStackWeights(executor: Pick<ProgramExecutor, 'checkFits'>, stack: Pick<RecurrentStack, 'layers' | 'head'>): void {
  for (const { spec } of stack.layers) executor.checkFits('the weights buffer', 4 * packedFloats(spec), WEIGHTS_ADVICE);
  if (stack.head) executor.checkFits("the head's weights buffer", 4 * stack.head.outputSize * (stack.head.inputSize + 1), WEIGHTS_ADVICE);
}

/** The weights of the models that run sequences [b0, b1) of a batch of `batch`. */
export function modelSlice(w: PackedModels, b0: number, b1: number, batch: number): PackedModels {
  if (w.count === 1) return w;
  const per = batch / w.count;
  const [m0, m1] = [b0 / per, b1 / per];
  const slice = (p: { data: Float32Array; stride: number }) => ({ data: p.data.subarray(m0 * p.stride, m1 * p.stride), stride: p.stride });
  return { count: m1 - m0, layers: w.layers.map(slice), head: w.head && slice(w.head) };
}

/** Sequences a batch chunk is a multiple of: 1 for one model, else one per-series model's sequences. */
export function modelUnit(w: PackedModels, batch: number): number {
  return w.count === 1 ? 1 : batch / w.count;
}

/** Multiply-adds of one step of one sequence through a layer (both directions). */
export function macsPerStep(spec: RecurrentLayerSpec): number {
  return numDirections(spec) * GATES[spec.cell] * spec.hiddenSize * (spec.inputSize + spec.hiddenSize);
}

/** The work of one step of one sequence of a stack, for the chunk sizing: its costliest layer. */
export function stackWork(stack: { layers: readonly { spec: RecurrentLayerSpec }[] }, steps: number): ChunkWork {
  return { steps: Math.min(steps, MIN_SEGMENT_STEPS), macsPerStep: Math.max(...stack.layers.map(({ spec }) => macsPerStep(spec))) };
}

/**
 * The buffers and dispatches of one pass of a stack over n sequences of T steps: each layer's
 * kernel (`y{k}{tag}` its output, `init{k}` / `final{k}` its states, shared between passes so a
 * later pass can continue from an earlier one), then the head into `out{tag}` unless the last
 * layer's kernel runs it. `init[k]`: layer k's initial states to upload (null: none given). Inputs
 * `x` (the name of [n, T, I]) and `lens` are the caller's. `weights`: the models' (one, or
 * per-series models running n / count sequences each, in the same dispatches).
 */
export function stackPass(
  ctx: ForwardContext,
  stack: RecurrentStack,
  weights: PackedModels,
  n: number,
  T: number,
  o: { x: string; tag: string; init: (Float32Array | null)[]; hasLens: boolean; continued?: boolean },
): { buffers: Record<string, ProgramBuffer>; dispatches: Dispatch[]; out: string } {
  const width = (spec: RecurrentLayerSpec) => numDirections(spec) * spec.hiddenSize;
  const L = stack.layers.length;
  const buffers: Record<string, ProgramBuffer> = {};
  const dispatches: Dispatch[] = [];
  let headFused = false;
  stack.layers.forEach(({ spec }, k) => {
    const last = k === L - 1;
    const given = o.continued || o.init[k] !== null;
    const names = {
      x: k === 0 ? o.x : `y${k - 1}${o.tag}`,
      weights: `w${k}`,
      lens: 'lens',
      init: `init${k}`,
      y: `y${k}${o.tag}`,
      final: `final${k}`,
      state: 'state',
      head: last && stack.head ? 'head' : 'no head',
    };
    const models = { count: weights.count, weightStride: weights.layers[k]!.stride };
    const plan = ctx.plan(spec, n, last ? stack.head?.outputSize : 0, models.count);
    const layer = layerDispatches(plan, spec, n, T, names, { h: given, c: given, lens: o.hasLens }, ctx.maxSteps(spec, n), models);
    headFused = layer.fusedHead;
    buffers[`w${k}`] = storedInput(plan.storage, weights.layers[k]!.data);
    buffers[`init${k}`] = o.init[k] ? { data: o.init[k] } : { bytes: 4 * layer.stateFloats };
    buffers[`y${k}${o.tag}`] = storedOutput(plan.storage, n * T * (headFused ? stack.head!.outputSize : width(spec)));
    if (layer.bindsHead) buffers[names.head] = { data: names.head === 'head' ? weights.head!.data : null };
    buffers[`final${k}`] = { bytes: 4 * layer.stateFloats };
    if (layer.scratchBytes) buffers.state = { bytes: Math.max(layer.scratchBytes, buffers.state?.bytes ?? 0) };
    dispatches.push(...layer.dispatches);
  });
  if (!stack.head || headFused) return { buffers, dispatches, out: `y${L - 1}${o.tag}` };
  buffers.head = { data: weights.head!.data };
  buffers[`out${o.tag}`] = { bytes: 4 * n * T * stack.head.outputSize };
  dispatches.push(
    headDispatch(
      stack.head,
      { y: `y${L - 1}${o.tag}`, weights: 'head', out: `out${o.tag}` },
      n * T,
      ctx.maxGrid,
      (n / weights.count) * T,
      weights.head!.stride,
    ),
  );
  return { buffers, dispatches, out: `out${o.tag}` };
}

/**
 * The program of sequences b0 … b1−1 of a stack call (`weights`: every model's, `B` sequences in
 * all): reads back the output (the head's, or the last layer's) and every layer's final states
 * (`final{k}`: Y_h then, for LSTM, Y_c, each `[n, D, H]`).
 */
export function stackProgram(
  ctx: ForwardContext,
  stack: RecurrentStack,
  weights: PackedModels,
  inputs: RecurrentStackInputs,
  b0: number,
  b1: number,
): Program {
  const { batch: B, steps: T } = inputs;
  const n = b1 - b0;
  const width = (spec: RecurrentLayerSpec) => numDirections(spec) * spec.hiddenSize;
  const I = stack.layers[0]!.spec.inputSize;
  // All layout 1: a chunk of sequences is a contiguous slice of every per-sequence tensor.
  const rows = (a: FloatArray, per: number) => asFloat32(a.subarray(b0 * per, b1 * per));
  const buffers: Record<string, ProgramBuffer> = {
    x: storedInput(ctx.storage, rows(inputs.X, T * I)),
    lens: { data: inputs.sequenceLens && Uint32Array.from(inputs.sequenceLens.subarray(b0, b1)) },
  };
  const init = stack.layers.map(({ spec }, k) => {
    const h0 = inputs.initialH[k];
    const c0 = inputs.initialC[k];
    if (!h0 && !c0) return null;
    // initial_h then initial_c, each [n, D, H] (layout 1)
    const both = new Float32Array((spec.cell === 'lstm' ? 2 : 1) * n * width(spec));
    if (h0) both.set(rows(h0, width(spec)), 0);
    if (c0) both.set(rows(c0, width(spec)), n * width(spec));
    return both;
  });
  const pass = stackPass(ctx, stack, modelSlice(weights, b0, b1, B), n, T, {
    x: 'x',
    tag: '',
    init,
    hasLens: inputs.sequenceLens !== null,
  });
  Object.assign(buffers, pass.buffers);
  buffers[pass.out]!.read = true;
  stack.layers.forEach((_, k) => (buffers[`final${k}`]!.read = true));
  return {
    what: `the ${stack.layers.length}-layer ${stack.layers[0]!.spec.cell.toUpperCase()} stack`,
    buffers,
    dispatches: pass.dispatches,
  };
}

/**
 * A stack call's outputs gathered from its chunks' programs ({@link stackProgram}'s output, the
 * head's `out` or else the last layer's `y{L−1}`, and every layer's `final{k}`), batch first.
 */
export class StackOutputRows {
  private readonly width: number[];
  private readonly Y: BatchRows;
  private readonly Yh: BatchRows[];
  private readonly Yc: BatchRows[] | null;

  constructor(stack: Pick<RecurrentStack, 'layers' | 'head'>, B: number, T: number) {
    this.width = stack.layers.map(({ spec }) => numDirections(spec) * spec.hiddenSize);
    const lstm = stack.layers[0]!.spec.cell === 'lstm';
    this.Y = new BatchRows(B, T * (stack.head ? stack.head.outputSize : this.width.at(-1)!), 'the output');
    this.Yh = this.width.map((w, k) => new BatchRows(B, w, `Y_h of layer ${k}`));
    this.Yc = lstm ? this.width.map((w, k) => new BatchRows(B, w, `Y_c of layer ${k}`)) : null;
  }

  /** The results of the program of sequences b0 … b1−1. */
  put(out: Record<string, Float32Array>, b0: number, b1: number): void {
    // The head's output, or the last layer's (no head, or the head fused into it): the one read back.
    this.Y.put(out.out ?? out[`y${this.width.length - 1}`]!, b0, b1);
    this.width.forEach((w, k) => {
      // Y_h then, for LSTM, Y_c, each [n, D, H].
      const final = out[`final${k}`]!;
      const count = (b1 - b0) * w;
      this.Yh[k]!.put(final.subarray(0, count), b0, b1);
      if (this.Yc) this.Yc[k]!.put(final.subarray(count, 2 * count), b0, b1);
    });
  }

  /** The call's outputs, once every chunk has been put. */
  get result(): RecurrentStackOutputs<Float32Array> {
    return { Y: this.Y.result, Y_h: this.Yh.map((r) => r.result), Y_c: this.Yc?.map((r) => r.result) ?? null };
  }
}
