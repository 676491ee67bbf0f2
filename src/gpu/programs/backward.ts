import type { RecurrentStackStateGrads } from '../../reference/recurrent-stack-backward.ts';
import type { LinearHeadGrads, RecurrentLayerGrads, RecurrentLayerOutputGrads } from '../../rnn/backward.ts';
import { GATES, numDirections, type RecurrentLayerInputs, type RecurrentLayerSpec, type RecurrentLayerWeights } from '../../rnn/spec.ts';
import type { LinearHead, RecurrentStack, RecurrentStackInputs } from '../../rnn/stack.ts';
import type { FloatArray } from '../../tensor.ts';
import type { ProgramExecutor } from '../executor.ts';
import { packedFloats, packLayerWeights } from '../kernels/forward/recurrent-common.ts';
import { packHead } from '../kernels/head/linear-head.ts';
import type { Program } from '../program.ts';
import { batchScatter, batchSlice } from '../rows.ts';
import { gradientProgram, type GradLayer, type GradProgramContext } from './gradients.ts';
import { stackWork } from './stack.ts';

/**
 * A backward call (one layer in either layout, or a stack of layout-1 layers and its head): the
 * gradient program (src/gpu/programs/gradients.ts) over batch chunks that fit the device, each
 * chunk's per-sequence results scattered into place and its parameter gradients summed in float64,
 * in chunk order.
 */

/** One layer of a backward call: its parameters, initial states and final-state gradients. */
export interface BackwardLayer {
  spec: RecurrentLayerSpec;
  weights: RecurrentLayerWeights;
  initialH: FloatArray | null;
  initialC: FloatArray | null;
  dYh: FloatArray | null;
  dYc: FloatArray | null;
}

export interface BackwardJob {
  layers: BackwardLayer[];
  head: LinearHead | null;
  inputs: Pick<RecurrentLayerInputs, 'X' | 'batch' | 'steps' | 'sequenceLens'>;
  /** The gradient with respect to the output (the head's, or the last layer's Y); null for none. */
  dOut: FloatArray | null;
}

export interface BackwardResult {
  Y: Float32Array;
  Yh: Float32Array[];
  Yc: Float32Array[] | null;
  layers: RecurrentLayerGrads<Float32Array>[];
  head: LinearHeadGrads<Float32Array> | null;
}

/** Splits a layer's packed dW | dR | dB | dP (packed like its weights). */
function unpackLayerGrads(
  spec: RecurrentLayerSpec,
  peepholes: boolean,
  packed: Float32Array,
  rest: Pick<RecurrentLayerGrads<Float32Array>, 'dX' | 'dInitialH' | 'dInitialC'>,
): RecurrentLayerGrads<Float32Array> {
  const D = numDirections(spec);
  const GH = GATES[spec.cell] * spec.hiddenSize;
  const sizes = [D * GH * spec.inputSize, D * GH * spec.hiddenSize, D * 2 * GH, D * 3 * spec.hiddenSize];
  const at = (k: number) => sizes.slice(0, k).reduce((a, b) => a + b, 0);
  const part = (k: number) => packed.slice(at(k), at(k) + sizes[k]!);
  return { dW: part(0), dR: part(1), dB: part(2), dP: spec.cell === 'lstm' && peepholes ? part(3) : null, ...rest };
}

/** Splits the head's dWeight [O, F] | dBias [O]. */
function unpackHeadGrads(head: LinearHead, packed: Float32Array): LinearHeadGrads<Float32Array> {
  const n = head.outputSize * head.inputSize;
  return { dWeight: packed.slice(0, n), dBias: head.bias ? packed.slice(n, n + head.outputSize) : null };
}

/** The backward call of one layer (either layout): its gradients with respect to Y, Y_h and Y_c. */
export function layerBackwardJob(
  spec: RecurrentLayerSpec,
  weights: RecurrentLayerWeights,
  inputs: RecurrentLayerInputs,
  g: RecurrentLayerOutputGrads,
): BackwardJob {
  return {
    layers: [{ spec, weights, initialH: inputs.initialH, initialC: inputs.initialC, dYh: g.dY_h, dYc: g.dY_c }],
    head: null,
    inputs,
    dOut: g.dY,
  };
}

/** The backward call of a stack and its head: dY of its output, and of each layer's final states where the loss reads them. */
export function stackBackwardJob(
  stack: RecurrentStack,
  inputs: RecurrentStackInputs,
  dY: FloatArray,
  stateGrads: RecurrentStackStateGrads,
): BackwardJob {
  return {
    layers: stack.layers.map(({ spec, weights }, k) => ({
      spec,
      weights,
      initialH: inputs.initialH[k]!,
      initialC: inputs.initialC[k]!,
      dYh: stateGrads.dY_h?.[k] ?? null,
      dYc: stateGrads.dY_c?.[k] ?? null,
    })),
    head: stack.head,
    inputs,
    dOut: dY,
  };
}

/** Runs a backward call on `executor` (see the module comment). */
export async function runBackward(executor: ProgramExecutor, ctx: GradProgramContext, job: BackwardJob): Promise<BackwardResult> {
  const { batch: B, steps: T, X, sequenceLens } = job.inputs;
  const layout = job.layers[0]!.spec.layout;
  const layers = job.layers.map(
    (l): GradLayer => ({
      spec: l.spec,
      peepholes: l.weights.P !== null,
      hasH0: !!l.initialH,
      hasC0: !!l.initialC,
      hasDh: !!l.dYh,
      hasDc: !!l.dYc,
    }),
  );
  const packed = job.layers.map(({ spec, weights }) => packLayerWeights(spec, weights));
  const head = job.head && packHead(job.head);

  // Per-sequence tensors as (outer, inner) around the batch index: layout 0 keeps the batch in the
  // middle of [T, B, I], [T, D, B, H] and [D, B, H]; layout 1 puts it first.
  const perStep = (inner: number) => (layout === 0 ? { outer: T, inner } : { outer: 1, inner: T * inner });
  const perState = (D: number, H: number) => (layout === 0 ? { outer: D, inner: H } : { outer: 1, inner: D * H });
  const slice = (a: FloatArray, o: { outer: number; inner: number }, b0: number, b1: number) => batchSlice(a, o.outer, B, o.inner, b0, b1);
  const scatter = (dst: Float32Array, part: Float32Array, o: { outer: number; inner: number }, b0: number, b1: number) =>
    batchScatter(dst, part, o.outer, B, o.inner, b0, b1);
  const dims = job.layers.map(({ spec }) => ({
    D: numDirections(spec),
    H: spec.hiddenSize,
    I: spec.inputSize,
    lstm: spec.cell === 'lstm',
  }));
  const yShape = (k: number) => (layout === 0 ? { outer: T * dims[k]!.D, inner: dims[k]!.H } : perStep(dims[k]!.D * dims[k]!.H));
  const outShape = job.head ? perStep(job.head.outputSize) : yShape(job.layers.length - 1);

  const Y = new Float32Array(outShape.outer * B * outShape.inner);
  const Yh = dims.map(({ D, H }) => new Float32Array(B * D * H));
  const Yc = dims[0]!.lstm ? dims.map(({ D, H }) => new Float32Array(B * D * H)) : null;
  const dX = dims.map(({ I }) => new Float32Array(B * T * I));
  const dH0 = dims.map(({ D, H }) => new Float32Array(B * D * H));
  const dC0 = dims.map(({ D, H, lstm }) => (lstm ? new Float32Array(B * D * H) : null));
  const paramSums = job.layers.map(({ spec }) => new Float64Array(packedFloats(spec)));
  const headSums = job.head && new Float64Array(head!.length);
  const addInto = (sum: Float64Array, part: Float32Array) => part.subarray(0, sum.length).forEach((v, i) => (sum[i]! += v));

  const L = job.layers.length;
  const build = (b0: number, b1: number): Program => {
    const n = b1 - b0;
    const program = gradientProgram({ layers, head: job.head, steps: T, hasLens: sequenceLens !== null, batch: n }, ctx);
    const buffers = program.buffers;
    const pair = (h: FloatArray | null, c: FloatArray | null, k: number) => {
      const { D, H, lstm } = dims[k]!;
      const both = new Float32Array((lstm ? 2 : 1) * n * D * H);
      if (h) both.set(slice(h, perState(D, H), b0, b1), 0);
      if (c) both.set(slice(c, perState(D, H), b0, b1), n * D * H);
      return both;
    };
    buffers.x = { data: slice(X, perStep(dims[0]!.I), b0, b1) };
    buffers.lens = { data: sequenceLens && Uint32Array.from(sequenceLens.subarray(b0, b1)) };
    const dOutName = job.head ? 'dout' : `dy${L - 1}`;
    buffers[dOutName] = { data: job.dOut ? slice(job.dOut, outShape, b0, b1) : new Float32Array(buffers[dOutName]!.bytes! / 4) };
    if (head) buffers.head = { data: head };
    job.layers.forEach((l, k) => {
      buffers[`w${k}`] = { data: packed[k]! };
      if (l.initialH || l.initialC) buffers[`init${k}`] = { data: pair(l.initialH, l.initialC, k) };
      if (l.dYh || l.dYc) buffers[`dstate${k}`] = { data: pair(l.dYh, l.dYc, k) };
      for (const name of [`final${k}`, `dinit${k}`, `grads${k}`, k === 0 ? 'dx' : `dy${k - 1}`]) buffers[name]!.read = true;
    });
    buffers.out!.read = true;
    if (job.head) buffers.headgrads!.read = true;
    return {
      what: `the backward pass of the ${L}-layer ${job.layers[0]!.spec.cell.toUpperCase()} stack`,
      buffers,
      dispatches: [...program.forward, ...program.backward],
    };
  };
  // Chunks in batch order: the parameter gradients are summed in that order.
  await executor.runChunked(B, 1, stackWork(job, T), build, (out, b0, b1) => {
    const n = b1 - b0;
    scatter(Y, out.out!, outShape, b0, b1);
    dims.forEach(({ D, H, I, lstm }, k) => {
      const count = n * D * H;
      const final = out[`final${k}`]!;
      const dinit = out[`dinit${k}`]!;
      scatter(Yh[k]!, final.subarray(0, count), perState(D, H), b0, b1);
      scatter(dH0[k]!, dinit.subarray(0, count), perState(D, H), b0, b1);
      if (lstm) {
        scatter(Yc![k]!, final.subarray(count, 2 * count), perState(D, H), b0, b1);
        scatter(dC0[k]!, dinit.subarray(count, 2 * count), perState(D, H), b0, b1);
      }
      scatter(dX[k]!, out[k === 0 ? 'dx' : `dy${k - 1}`]!.subarray(0, n * T * I), perStep(I), b0, b1);
      addInto(paramSums[k]!, out[`grads${k}`]!);
    });
    if (headSums) addInto(headSums, out.headgrads!);
  });

  const grads = job.layers.map(({ spec, weights }, k) =>
    unpackLayerGrads(spec, weights.P !== null, Float32Array.from(paramSums[k]!), { dX: dX[k]!, dInitialH: dH0[k]!, dInitialC: dC0[k]! }),
  );
  return { Y, Yh, Yc, layers: grads, head: job.head && unpackHeadGrads(job.head, Float32Array.from(headSums!)) };
}
