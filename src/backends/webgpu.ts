import { ConfigError, DeviceError, ShapeError } from '../errors.ts';
import { checkedOutputs as checked } from '../util/finite.ts';
import { BufferPool, isOutOfMemoryError, markOutOfMemory, type BufferRequest } from '../gpu/buffers.ts';
import { footprint, planChunk, programBufferBytes, resultArray, type ChunkLimits, type ChunkWork } from '../gpu/chunks.ts';
import { PassTimer, type GpuTiming } from '../gpu/timing.ts';
import { acquireGpu, type AcquireOptions, type GpuContext } from '../gpu/device.ts';
import { headGrid, headParams, linearHeadPipeline, packHead } from '../gpu/kernels/linear-head.ts';
import {
  ELMAN_WORKGROUP_SIZE,
  elmanForwardPipeline,
  elmanMacsPerStep,
  elmanPackedFloats,
  elmanParams,
  packElmanWeights,
} from '../gpu/kernels/elman-forward.ts';
import {
  adapterTraits,
  packLayerWeights,
  planRecurrentLayer,
  recurrentParams,
  timeSegments,
  type KernelTraits,
  type RecurrentKernelChoice,
  type RecurrentLayerPlan,
} from '../gpu/kernels/recurrent-layer.ts';
import { ONES_BUFFER, ONES_DATA } from '../gpu/kernels/grad-contract.ts';
import { gradFloatsPerSequence, packedFloats, stackGradProgram, type GradLayer, type GradProgramContext } from '../gpu/kernels/stack-grad.ts';
import { batchLimits, type BatchLimits } from '../train/batching.ts';
import type { EngineSetup, TrainEngine } from '../train/engine.ts';
import { feedbackGrid, feedbackParams, feedbackPipeline } from '../gpu/kernels/forecast-feedback.ts';
import { checkForecastModels, type ForecastInputs } from '../rnn/forecast.ts';
import { GpuTrainEngine } from '../train/gpu-engine.ts';
import { workgroupGrid } from '../gpu/grid.ts';
import { getPipeline, type PipelineSpec } from '../gpu/pipelines.ts';
import type { ResolvedElmanConfig } from '../model/config.ts';
import type { ForwardArgs, ForwardResult } from '../model/forward.ts';
import type { ElmanStateDict } from '../model/params.ts';
import {
  checkLayerInputs,
  checkLayerWeights,
  GATES,
  numDirections,
  type RecurrentLayerInputs,
  type RecurrentLayerOutputs,
  type RecurrentLayerSpec,
  type RecurrentLayerWeights,
} from '../rnn/spec.ts';
import { checkModels, checkStack, type LinearHead, type RecurrentStack, type RecurrentStackInputs, type RecurrentStackOutputs, type StackModels } from '../rnn/stack.ts';
import type { FloatArray } from '../tensor.ts';
import type { LinearHeadGrads, RecurrentLayerGrads, RecurrentLayerOutputGrads } from '../rnn/backward.ts';
import type { Backend, RecurrentLayerBackwardResult, RecurrentStackBackwardResult, RecurrentStackStateGrads } from './backend.ts';

/** Options of {@link WebGPUBackend.create}. */
export interface WebGPUBackendOptions extends AcquireOptions {
  /**
   * Fill every output buffer with NaN before each dispatch, so an element the kernel fails to write
   * reads back as NaN instead of a stale value. For tests; costs one extra upload per output.
   */
  poisonOutputs?: boolean;
  /**
   * Which recurrent-layer kernel to run: picked by shape (`'auto'`, default; see
   * src/gpu/kernels/recurrent-layer.ts, which also weighs the adapter), or forced to `'small'`,
   * `'tile'`, `'sequential'` or `'lanes'` (tests, benchmarks). Training runs the tiled or the
   * sequential kernel: forcing `'small'` or `'lanes'` leaves its choice to shape.
   */
  recurrentKernel?: RecurrentKernelChoice;
  /**
   * The tiled kernel's shape: invocations per workgroup it aims at, a power of two from 1 to the
   * device's limit (default 128: src/gpu/kernels/recurrent-layer.ts's TILE_INVOCATIONS). For benchmarks sweeping tile shapes.
   */
  tileInvocations?: number;
  /**
   * Split batches so that no binding exceeds this many bytes (default: the device's binding limit).
   * For tests of the chunking, which otherwise needs gigabytes.
   */
  maxBindingBytes?: number;
  /** Steps per dispatch of a recurrent layer (default: as many as keep a submission under 2³¹ multiply-adds). For tests. */
  maxStepsPerDispatch?: number;
  /**
   * Time every call's GPU work (src/gpu/timing.ts: timestamp queries when the device has
   * `timestamp-query`, which `acquireGpu({ features })` can ask for; else submit-to-completion wall
   * time) and keep it in {@link WebGPUBackend.lastTiming}. For benchmarks; costs a wait per call.
   */
  timing?: boolean;
}

/** The options that shape how a backend runs (everything but device acquisition). */
export type BackendTuning = Omit<WebGPUBackendOptions, keyof AcquireOptions>;

/** Throws a ConfigError for a tuning option no kernel can take, before any device is acquired. */
function checkTuning(options: BackendTuning): void {
  const tile = options.tileInvocations;
  if (tile !== undefined && !(Number.isInteger(tile) && tile >= 1 && (tile & (tile - 1)) === 0)) {
    throw new ConfigError(`tileInvocations must be a power of two, got ${tile}`);
  }
}

/**
 * Multiply-adds one submission may hold before a recurrent layer is split into time segments. About
 * a second of work for the tiled kernel on a software adapter and a few milliseconds on a discrete
 * GPU: far from the seconds after which browsers and drivers reset a device that does not answer.
 */
export const MACS_PER_SUBMISSION = 2 ** 31;

/**
 * Batch chunks keep at least this many steps of a recurrent layer in one submission where they can
 * (see {@link MIN_CHUNK_SEQUENCES}): a larger chunk would split T into shorter segments, each one
 * more pass over the state and the weights. On SwiftShader's tiled kernel a 2-step segment costs
 * about three times as much per step as a 5-step one: before chunks were bounded, one chunk of
 * 800k Elman H=32 sequences (T = 5, three segments) took 3.1× the CPU time per sequence of
 * B ≤ 400k (one segment), LSTM 4.1× at 400k (bench/big-batch.ts; bench/RESULTS.md, "Big batches").
 */
export const MIN_SEGMENT_STEPS = 16;

/**
 * Bytes one batch chunk aims to allocate at most, its buffers and readback together: memory stays
 * bounded whatever B, chunks of a large batch are all alike (time linear in B), and the pool keeps
 * a chunk's buffers for the next (it retains 256 MiB).
 */
export const CHUNK_BYTES = 128 * 2 ** 20;

/** Sequences a chunk keeps whatever the targets above say, where the device's limits allow: enough to fill a GPU. */
export const MIN_CHUNK_SEQUENCES = 4096;

/**
 * Rows `b0 … b1−1` of the batch dimension of a `[outer, B, inner]` array, as `[outer, b1−b0, inner]`
 * float32 (layout 0 keeps the batch in the middle; layout 1 passes outer = 1).
 */
function batchSlice(a: FloatArray, outer: number, B: number, inner: number, b0: number, b1: number): Float32Array {
  const out = new Float32Array(outer * (b1 - b0) * inner);
  for (let o = 0; o < outer; o++) {
    out.set(a.subarray((o * B + b0) * inner, (o * B + b1) * inner), o * (b1 - b0) * inner);
  }
  return out;
}

/** The inverse of {@link batchSlice}: writes `part` into rows `b0 … b1−1` of `dst`. */
function batchScatter(dst: Float32Array, part: Float32Array, outer: number, B: number, inner: number, b0: number, b1: number): void {
  const rows = (b1 - b0) * inner;
  for (let o = 0; o < outer; o++) dst.set(part.subarray(o * rows, (o + 1) * rows), (o * B + b0) * inner);
}

const { STORAGE, COPY_DST, COPY_SRC, MAP_READ, UNIFORM } = {
  STORAGE: 0x80,
  COPY_DST: 0x08,
  COPY_SRC: 0x04,
  MAP_READ: 0x01,
  UNIFORM: 0x40,
} as const; // GPUBufferUsage values, spelled out so this module loads before Dawn's globals exist

/**
 * A buffer of a {@link GpuProgram}: uploaded from `data`, or `bytes` long; read back when `read`.
 * `external`: a buffer the caller owns and keeps on the device across programs (a training loop's
 * parameters, gradients, optimizer state), bound as it is from byte `offset` (default 0; a multiple
 * of the device's minStorageBufferOffsetAlignment), `bytes` long (default: its size): never
 * uploaded, poisoned, pooled or released here. It needs STORAGE, and COPY_SRC / COPY_DST where the
 * program copies or reads it back.
 */
export interface ProgramBuffer {
  data?: Float32Array | Uint32Array | null;
  bytes?: number;
  read?: boolean;
  external?: GPUBuffer;
  offset?: number;
}

/** One dispatch: bindings 0 = its own params uniform, then the named buffers in order. */
export interface ProgramDispatch {
  pipeline: PipelineSpec;
  params: Uint32Array;
  bind: string[];
  grid: [number, number];
  /**
   * Buffer copies after the dispatch, `[from, to]` of all of `from` (the state carried into the next
   * time segment), or `[from, to, bytes]` of its first bytes.
   */
  copies?: ([string, string] | [string, string, number])[];
  /** End the submission after this dispatch (time segments: no submission runs too long). */
  submit?: boolean;
}

/**
 * Everything one call does on the GPU: buffers by name, dispatches in order, and the buffers to read
 * back (in the order of `read` flags). {@link WebGPUBackend.run} checks every size against the
 * device's limits before any GPU work, takes buffers from the pool and always gives them back.
 */
export interface GpuProgram {
  what: string;
  buffers: Record<string, ProgramBuffer>;
  dispatches: ProgramDispatch[];
}

/** Options of {@link WebGPUBackend.runProgram}. */
export interface RunProgramOptions {
  /**
   * Submit without waiting: no buffer may be marked `read` (results stay in `external` buffers, read
   * later by a program that waits), the program's own buffers go back to the pool as soon as it is
   * submitted (the queue runs later uploads into them after this work), and the WebGPU error check
   * of the program is appended to this list, as a promise of the {@link DeviceError} it would have
   * thrown (or null), for the caller to await when it next reads results. Nothing waits for the GPU,
   * so a loop of programs keeps it busy. Not with the backend's `timing` option (it waits per call).
   */
  deferred?: Promise<DeviceError | null>[];
}

/** Weights of one or many models of one architecture: per layer (and head) `count` blocks `stride` floats apart. */
interface PackedModels {
  count: number;
  layers: { data: Float32Array; stride: number }[];
  head: { data: Float32Array; stride: number } | null;
}

/** One layer of a {@link WebGPUBackend.trainingPass}: its parameters, initial states and final-state gradients. */
interface TrainingLayer {
  spec: RecurrentLayerSpec;
  weights: RecurrentLayerWeights;
  initialH: FloatArray | null;
  initialC: FloatArray | null;
  dYh: FloatArray | null;
  dYc: FloatArray | null;
}

interface TrainingJob {
  layers: TrainingLayer[];
  head: LinearHead | null;
  inputs: Pick<RecurrentLayerInputs, 'X' | 'batch' | 'steps' | 'sequenceLens'>;
  /** The gradient with respect to the output (the head's, or the last layer's Y); null for none. */
  dOut: FloatArray | null;
}

interface TrainingResult {
  Y: Float32Array;
  Yh: Float32Array[];
  Yc: Float32Array[] | null;
  layers: RecurrentLayerGrads<Float32Array>[];
  head: LinearHeadGrads<Float32Array> | null;
}

/** Splits a layer's packed dW | dR | dB | dP (packed like src/gpu/kernels/recurrent-layer.ts packLayerWeights). */
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

function asFloat32(a: FloatArray): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/**
 * Runs models on a WebGPU device: every step of every sequence in one dispatch per forward pass.
 * Create with {@link WebGPUBackend.create} (acquires a device) or {@link WebGPUBackend.fromContext};
 * `dispose()` frees its buffers, and the device when the backend acquired it.
 */
export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  /**
   * Buffers this backend allocated; public so tests can check that nothing leaks.
   * @internal
   */
  readonly pool: BufferPool;
  private lostReason: string | null = null;
  private disposed = false;
  /**
   * With `timing`: the GPU time of the programs run since the caller last set this to null (a call
   * may run several, one per batch chunk: their times add up). Null until then.
   */
  lastTiming: GpuTiming | null = null;

  /** What the adapter is like for the choice of recurrent kernel. */
  private readonly traits: KernelTraits;

  private constructor(
    readonly gpu: GpuContext,
    private readonly ownsDevice: boolean,
    private readonly options: BackendTuning,
  ) {
    this.pool = new BufferPool(gpu.device);
    const tile = options.tileInvocations;
    this.traits = { ...adapterTraits(gpu.summary), maxBindingBytes: this.bindingLimit(), ...(tile ? { tileInvocations: tile } : {}) };
    gpu.device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /** Acquires a device (hardware first, software fallback) and wraps it. */
  static async create(options: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
    checkTuning(options);
    return new WebGPUBackend(await acquireGpu(options), true, options);
  }

  /** Wraps a device the caller acquired; `dispose()` leaves that device alive. */
  static fromContext(gpu: GpuContext, options: BackendTuning = {}): WebGPUBackend {
    checkTuning(options);
    return new WebGPUBackend(gpu, false, options);
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  private checkUsable(): void {
    if (this.disposed) throw new DeviceError('this WebGPU backend was disposed');
    if (this.lostReason) throw new DeviceError(`the WebGPU device was lost (${this.lostReason})`);
  }

  /** Throws before any GPU work when a buffer would exceed the device's limits. */
  private checkFits(what: string, bytes: number, advice = 'split the batch'): void {
    const limit = this.bindingLimit();
    if (bytes > limit) {
      throw new DeviceError(`${what} needs ${bytes} bytes, more than this device binds at once (${limit}); ${advice}`);
    }
  }

  /** {@link checkFits} for a model's weights, which no chunking makes smaller. */
  private checkWeightsFit(what: string, bytes: number): void {
    this.checkFits(what, bytes, 'the model is too large for this device (run it on the CPU backend, or on a device with larger bindings)');
  }

  async elmanForward(c: ResolvedElmanConfig, sd: ElmanStateDict, args: ForwardArgs): Promise<ForwardResult<Float32Array>> {
    this.checkUsable();
    const { batch: B, steps: T, lastOnly } = args;
    const { inputSize: I, hiddenSize: H, outputSize: O, numLayers: L } = c;
    // Sizes first: packing weights that could never be bound would only spend memory.
    this.checkWeightsFit('the weights buffer', 4 * elmanPackedFloats(c));
    const perSequence = lastOnly ? O : T * O;
    const weights = packElmanWeights(c, sd);
    const pipeline = elmanForwardPipeline(c);
    const maxGrid = this.device.limits.maxComputeWorkgroupsPerDimension;
    // Sequences b0 … b1−1: x and y are batch-first, h0 and hn [L, B, H], the state [L, 2, H, n].
    const program = (b0: number, b1: number): GpuProgram => {
      const n = b1 - b0;
      const h0 = args.h0 && (n === B ? asFloat32(args.h0) : batchSlice(args.h0, L, B, H, b0, b1));
      return {
        what: 'the Elman forward pass',
        buffers: {
          x: { data: asFloat32(args.x.subarray(b0 * T * I, b1 * T * I)) },
          weights: { data: weights },
          h0: { data: h0 },
          y: { bytes: 4 * n * perSequence, read: true },
          hn: { bytes: 4 * L * n * H, read: true },
          state: { bytes: 4 * L * 2 * H * n },
        },
        dispatches: [{
          pipeline,
          params: elmanParams(n, T, lastOnly, h0 !== null),
          bind: ['x', 'weights', 'h0', 'y', 'hn', 'state'],
          grid: workgroupGrid(n, ELMAN_WORKGROUP_SIZE, maxGrid),
        }],
      };
    };
    let y: Float32Array | null = null;
    let hn: Float32Array | null = null;
    // The kernel runs all T steps in one dispatch: a chunk's submission holds all of them.
    await this.runChunked(B, 1, { steps: T, macsPerStep: elmanMacsPerStep(c) }, program, (out, b0, b1) => {
      if (b1 - b0 === B) {
        ({ y, hn } = out as { y: Float32Array; hn: Float32Array });
        return;
      }
      (y ??= resultArray(B * perSequence, 'the output')).set(out.y!, b0 * perSequence);
      batchScatter((hn ??= resultArray(L * B * H, 'hn')), out.hn!, L, B, H, b0, b1);
    });
    return checked('the Elman network', {
      output: { data: y!, shape: lastOnly ? [B, O] : [B, T, O] },
      hn: { data: hn!, shape: [L, B, H] },
    });
  }

  async recurrentLayer(
    spec: RecurrentLayerSpec,
    weights: RecurrentLayerWeights,
    inputs: RecurrentLayerInputs,
  ): Promise<RecurrentLayerOutputs<Float32Array>> {
    this.checkUsable();
    checkLayerWeights(spec, weights);
    checkLayerInputs(spec, inputs);
    const { batch: B, steps: T } = inputs;
    const D = numDirections(spec);
    const H = spec.hiddenSize;
    const I = spec.inputSize;
    const lstm = spec.cell === 'lstm';
    this.checkWeightsFit('the weights buffer', 4 * packedFloats(spec));
    const packed = packLayerWeights(spec, weights);

    // Layout 0 puts the batch in the middle ([T, B, I], [T, D, B, H], [D, B, H]); layout 1 first.
    const outer = (n: number) => (spec.layout === 0 ? n : 1);
    const inner = (perStep: number, n: number) => (spec.layout === 0 ? perStep : n * perStep);
    const rows = (a: FloatArray | null, o: number, perStep: number, b0: number, b1: number) =>
      a && (b1 - b0 === B ? asFloat32(a) : batchSlice(a, outer(o), B, inner(perStep, o), b0, b1));
    const part = (b0: number, b1: number): RecurrentLayerInputs => ({
      X: rows(inputs.X, T, I, b0, b1)!,
      batch: b1 - b0,
      steps: T,
      sequenceLens: inputs.sequenceLens && inputs.sequenceLens.subarray(b0, b1),
      initialH: rows(inputs.initialH, D, H, b0, b1),
      initialC: rows(inputs.initialC, D, H, b0, b1),
    });
    let Y: Float32Array | null = null;
    let final: Float32Array | null = null;
    const stateCount = D * B * H;
    await this.runChunked(B, 1, { steps: Math.min(T, MIN_SEGMENT_STEPS), macsPerStep: this.macsPerStep(spec) }, (b0, b1) => this.layerProgram(spec, packed, part(b0, b1)), (out, b0, b1) => {
      if (b1 - b0 === B) {
        Y = out.Y!;
        final = out['Y_h|Y_c']!;
        return;
      }
      const n = b1 - b0;
      batchScatter((Y ??= resultArray(T * D * B * H, 'Y')), out.Y!, outer(T * D), B, inner(H, T * D), b0, b1);
      final ??= resultArray((lstm ? 2 : 1) * stateCount, 'Y_h and Y_c');
      const chunkFinal = out['Y_h|Y_c']!;
      batchScatter(final.subarray(0, stateCount), chunkFinal.subarray(0, D * n * H), outer(D), B, inner(H, D), b0, b1);
      if (lstm) batchScatter(final.subarray(stateCount), chunkFinal.subarray(D * n * H), outer(D), B, inner(H, D), b0, b1);
    });
    const Yh = final!.subarray(0, stateCount);
    return checked(`the ${spec.cell.toUpperCase()} layer`, { Y: Y!, Y_h: Yh, Y_c: lstm ? final!.subarray(stateCount) : null });
  }

  async recurrentStack(models: StackModels, inputs: RecurrentStackInputs): Promise<RecurrentStackOutputs<Float32Array>> {
    this.checkUsable();
    const stacks = checkModels(models, inputs.batch);
    for (const s of stacks) checkStack(s, inputs);
    const stack = stacks[0]!;
    const { batch: B, steps: T } = inputs;
    const width = (spec: RecurrentLayerSpec) => numDirections(spec) * spec.hiddenSize;
    const I = stack.layers[0]!.spec.inputSize;
    const lstm = stack.layers[0]!.spec.cell === 'lstm';
    const outFeatures = stack.head ? stack.head.outputSize : width(stack.layers.at(-1)!.spec);
    this.checkStackWeights(stack);
    const weights = this.packModels(stacks);

    // All layout 1: a chunk of sequences is a contiguous slice of every per-sequence tensor.
    const program = (b0: number, b1: number): GpuProgram => {
      const n = b1 - b0;
      const rows = (a: FloatArray, per: number) => asFloat32(a.subarray(b0 * per, b1 * per));
      const buffers: Record<string, ProgramBuffer> = {
        x: { data: rows(inputs.X, T * I) },
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
      const pass = this.stackPass(stack, this.modelSlice(weights, b0, b1, B), n, T, { x: 'x', tag: '', init, hasLens: inputs.sequenceLens !== null });
      Object.assign(buffers, pass.buffers);
      buffers[pass.out]!.read = true;
      stack.layers.forEach((_, k) => (buffers[`final${k}`]!.read = true));
      return { what: `the ${stack.layers.length}-layer ${stack.layers[0]!.spec.cell.toUpperCase()} stack`, buffers, dispatches: pass.dispatches };
    };

    let Y: Float32Array | null = null;
    const Yh: Float32Array[] = [];
    const Yc: Float32Array[] | null = lstm ? [] : null;
    await this.runChunked(B, this.unitOf(weights, B), this.stackWork(stack, T), program, (out, b0, b1) => {
      const n = b1 - b0;
      const whole = n === B;
      // The head's output, or the last layer's (no head, or the head fused into it): the one read back.
      const y = out.out ?? out[`y${stack.layers.length - 1}`]!;
      if (whole) Y = y;
      else (Y ??= resultArray(B * T * outFeatures, 'the output')).set(y, b0 * T * outFeatures);
      stack.layers.forEach(({ spec }, k) => {
        const final = out[`final${k}`]!;
        const w = width(spec);
        const count = n * w;
        if (whole) {
          Yh[k] = final.subarray(0, count);
          if (Yc) Yc[k] = final.subarray(count, 2 * count);
          return;
        }
        (Yh[k] ??= new Float32Array(B * w)).set(final.subarray(0, count), b0 * w);
        if (Yc) (Yc[k] ??= new Float32Array(B * w)).set(final.subarray(count, 2 * count), b0 * w);
      });
    });
    return checked('the stack', { Y: Y!, Y_h: Yh, Y_c: Yc });
  }

  /**
   * Recursive forecasting (src/rnn/forecast.ts) in one GPU program per batch chunk: the stack over
   * the histories, then for each of the horizon's steps the feedback kernel (prediction k into the
   * forecast and into the next one-step input, with the covariates) and the stack over that one step
   * from the states the last pass left (copied from `final` into `init`); one readback.
   */
  async recurrentForecast(models: StackModels, inputs: ForecastInputs): Promise<Float32Array> {
    this.checkUsable();
    const stacks = checkForecastModels(models, inputs);
    const stack = stacks[0]!;
    const { batch: B, steps: T, horizon: H } = inputs;
    const L = stack.layers.length;
    const I = stack.layers[0]!.spec.inputSize;
    const O = stack.head!.outputSize;
    const E = I - O;
    this.checkStackWeights(stack);
    const weights = this.packModels(stacks);
    const maxGrid = this.device.limits.maxComputeWorkgroupsPerDimension;
    const program = (b0: number, b1: number): GpuProgram => {
      const n = b1 - b0;
      const none = stack.layers.map(() => null);
      const own = this.modelSlice(weights, b0, b1, B);
      const history = this.stackPass(stack, own, n, T, { x: 'x', tag: '', init: none, hasLens: false });
      const step = this.stackPass(stack, own, n, 1, { x: 'xstep', tag: ' step', init: none, hasLens: false, continued: true });
      const carry = stack.layers.map((_, k): [string, string] => [`final${k}`, `init${k}`]);
      const buffers: Record<string, ProgramBuffer> = {
        ...step.buffers,
        ...history.buffers,
        x: { data: asFloat32(inputs.history.subarray(b0 * T * I, b1 * T * I)) },
        lens: { data: null },
        exog: { data: E > 0 ? asFloat32(inputs.futureExog!.subarray(b0 * H * E, b1 * H * E)) : null },
        xstep: { bytes: 4 * n * I },
        forecast: { bytes: 4 * n * H * O, read: true },
      };
      const feedback = (k: number, src: string, stride: number, offset: number): ProgramDispatch => ({
        pipeline: feedbackPipeline(I, O),
        params: feedbackParams(n, H, k, stride, offset),
        bind: [src, 'exog', 'xstep', 'forecast'],
        grid: feedbackGrid(n, maxGrid),
        copies: carry,
      });
      const dispatches = [...history.dispatches, feedback(0, history.out, T * O, (T - 1) * O)];
      for (let k = 1; k < H; k++) dispatches.push(...step.dispatches, feedback(k, step.out, O, 0));
      return { what: `a ${H}-step forecast of the ${L}-layer ${stack.layers[0]!.spec.cell.toUpperCase()} stack`, buffers, dispatches };
    };
    let forecast: Float32Array | null = null;
    await this.runChunked(B, this.unitOf(weights, B), this.stackWork(stack, T), program, (out, b0, b1) => {
      if (b1 - b0 === B) forecast = out.forecast!;
      else (forecast ??= resultArray(B * H * O, 'the forecast')).set(out.forecast!, b0 * H * O);
    });
    return checked('the forecast', forecast!);
  }

  /**
   * Every model's packed weights side by side: per layer (and for the head) one array of `count`
   * blocks, one after another (each upload is a buffer of its own, so no offset alignment is
   * needed; for one model the packed weights themselves).
   */
  private packModels(stacks: readonly RecurrentStack[]): PackedModels {
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

  /**
   * Throws before any packing or GPU work when a layer's or the head's weights (of one model) could
   * not be bound. Per-series models bind the weights of a chunk's models together: the chunk sizing
   * keeps those within the limit, down to one model a chunk.
   */
  private checkStackWeights(stack: RecurrentStack): void {
    for (const { spec } of stack.layers) this.checkWeightsFit('the weights buffer', 4 * packedFloats(spec));
    if (stack.head) this.checkWeightsFit('the head\'s weights buffer', 4 * stack.head.outputSize * (stack.head.inputSize + 1));
  }

  /** Sequences a batch chunk is a multiple of: 1 for one model, else one per-series model's sequences. */
  private unitOf(w: PackedModels, batch: number): number {
    return w.count === 1 ? 1 : batch / w.count;
  }

  /** The work of one step of one sequence of a stack, for the chunk sizing: its costliest layer. */
  private stackWork(stack: RecurrentStack, steps: number): ChunkWork {
    return { steps: Math.min(steps, MIN_SEGMENT_STEPS), macsPerStep: Math.max(...stack.layers.map(({ spec }) => this.macsPerStep(spec))) };
  }

  /** The weights of the models that run sequences [b0, b1) of a batch of `batch`. */
  private modelSlice(w: PackedModels, b0: number, b1: number, batch: number): PackedModels {
    if (w.count === 1) return w;
    const per = batch / w.count;
    const [m0, m1] = [b0 / per, b1 / per];
    const slice = (p: { data: Float32Array; stride: number }) => ({ data: p.data.subarray(m0 * p.stride, m1 * p.stride), stride: p.stride });
    return { count: m1 - m0, layers: w.layers.map(slice), head: w.head && slice(w.head) };
  }

  /**
   * The buffers and dispatches of one pass of a stack over n sequences of T steps: each layer's
   * kernel (`y{k}{tag}` its output, `init{k}` / `final{k}` its states, shared between passes so a
   * later pass can continue from an earlier one), then the head into `out{tag}` unless the last
   * layer's kernel runs it. `init[k]`: layer k's initial states to upload (null: none given). Inputs
   * `x` (the name of [n, T, I]) and `lens` are the caller's. `weights`: the models' (one, or
   * per-series models running n / count sequences each, in the same dispatches).
   */
  private stackPass(
    stack: RecurrentStack,
    weights: PackedModels,
    n: number,
    T: number,
    o: { x: string; tag: string; init: (Float32Array | null)[]; hasLens: boolean; continued?: boolean },
  ): { buffers: Record<string, ProgramBuffer>; dispatches: ProgramDispatch[]; out: string } {
    const width = (spec: RecurrentLayerSpec) => numDirections(spec) * spec.hiddenSize;
    const L = stack.layers.length;
    const buffers: Record<string, ProgramBuffer> = {};
    const dispatches: ProgramDispatch[] = [];
    let headFused = false;
    stack.layers.forEach(({ spec }, k) => {
      const last = k === L - 1;
      const given = o.continued || o.init[k] !== null;
      const names = {
        x: k === 0 ? o.x : `y${k - 1}${o.tag}`, weights: `w${k}`, lens: 'lens', init: `init${k}`, y: `y${k}${o.tag}`, final: `final${k}`,
        state: 'state', head: last && stack.head ? 'head' : 'no head',
      };
      const models = { count: weights.count, weightStride: weights.layers[k]!.stride };
      const layer = this.layerDispatches(spec, n, T, names, { hasH0: given, hasC0: given, hasLens: o.hasLens }, last ? stack.head?.outputSize : 0, models);
      headFused = layer.fusedHead;
      buffers[`w${k}`] = { data: weights.layers[k]!.data };
      buffers[`init${k}`] = o.init[k] ? { data: o.init[k] } : { bytes: 4 * layer.stateFloats };
      buffers[`y${k}${o.tag}`] = { bytes: 4 * n * T * (headFused ? stack.head!.outputSize : width(spec)) };
      if (layer.bindsHead) buffers[names.head] = { data: names.head === 'head' ? weights.head!.data : null };
      buffers[`final${k}`] = { bytes: 4 * layer.stateFloats };
      if (layer.scratchBytes) buffers.state = { bytes: Math.max(layer.scratchBytes, buffers.state?.bytes ?? 0) };
      dispatches.push(...layer.dispatches);
    });
    if (!stack.head || headFused) return { buffers, dispatches, out: `y${L - 1}${o.tag}` };
    buffers.head = { data: weights.head!.data };
    buffers[`out${o.tag}`] = { bytes: 4 * n * T * stack.head.outputSize };
    dispatches.push({
      pipeline: linearHeadPipeline(stack.head),
      params: headParams(n * T, (n / weights.count) * T, weights.head!.stride),
      bind: [`y${L - 1}${o.tag}`, 'head', `out${o.tag}`],
      grid: headGrid(n * T, stack.head, this.device.limits.maxComputeWorkgroupsPerDimension),
    });
    return { buffers, dispatches, out: `out${o.tag}` };
  }

  async recurrentLayerBackward(
    spec: RecurrentLayerSpec,
    weights: RecurrentLayerWeights,
    inputs: RecurrentLayerInputs,
    outGrads: RecurrentLayerOutputGrads,
  ): Promise<RecurrentLayerBackwardResult<Float32Array>> {
    this.checkUsable();
    checkLayerWeights(spec, weights);
    checkLayerInputs(spec, inputs);
    const stateFloats = numDirections(spec) * inputs.batch * spec.hiddenSize;
    const expected = { dY: inputs.steps * stateFloats, dY_h: stateFloats, dY_c: stateFloats };
    for (const [name, length] of Object.entries(expected) as [keyof RecurrentLayerOutputGrads, number][]) {
      const g = outGrads[name];
      if (g === null) continue;
      if (name === 'dY_c' && spec.cell !== 'lstm') throw new ShapeError('dY_c applies to LSTM only');
      if (g.length !== length) throw new ShapeError(`${name} has ${g.length} values but its tensor has ${length}`);
    }
    const { Y, Yh, Yc, layers } = await this.trainingPass({
      layers: [{ spec, weights, initialH: inputs.initialH, initialC: inputs.initialC, dYh: outGrads.dY_h, dYc: outGrads.dY_c }],
      head: null,
      inputs,
      dOut: outGrads.dY,
    });
    return checked(`the ${spec.cell.toUpperCase()} layer's backward pass`, { outputs: { Y, Y_h: Yh[0]!, Y_c: Yc?.[0] ?? null }, grads: layers[0]! });
  }

  async recurrentStackBackward(
    stack: RecurrentStack,
    inputs: RecurrentStackInputs,
    dY: FloatArray,
    stateGrads: RecurrentStackStateGrads = {},
  ): Promise<RecurrentStackBackwardResult<Float32Array>> {
    this.checkUsable();
    checkStack(stack, inputs);
    const L = stack.layers.length;
    const last = stack.layers[L - 1]!.spec;
    const outFeatures = stack.head ? stack.head.outputSize : numDirections(last) * last.hiddenSize;
    const want = inputs.batch * inputs.steps * outFeatures;
    if (dY.length !== want) {
      throw new ShapeError(`dY has ${dY.length} values but the output [${inputs.batch}, ${inputs.steps}, ${outFeatures}] has ${want}`);
    }
    for (const [name, list] of [['dY_h', stateGrads.dY_h], ['dY_c', stateGrads.dY_c]] as const) {
      if (list === undefined) continue;
      if (list.length !== L) throw new ShapeError(`${name} must be given per layer (${L}), got ${list.length}`);
      list.forEach((g, k) => {
        const { spec } = stack.layers[k]!;
        const n = inputs.batch * numDirections(spec) * spec.hiddenSize;
        if (g && name === 'dY_c' && spec.cell !== 'lstm') throw new ShapeError('dY_c applies to LSTM only');
        if (g && g.length !== n) throw new ShapeError(`${name}[${k}] has ${g.length} values but layer ${k}'s state has ${n}`);
      });
    }
    const { Y, Yh, Yc, layers, head } = await this.trainingPass({
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
    });
    return checked("the stack's backward pass", {
      outputs: { Y, Y_h: Yh, Y_c: Yc },
      grads: { layers, head },
      dX: layers[0]!.dX,
      dInitialH: layers.map((g) => g.dInitialH),
      dInitialC: layers.map((g) => g.dInitialC),
    });
  }

  /**
   * The kernel this backend runs an inference layer of `spec` on, for `batch` sequences of one model
   * (`'small'`, `'tile'`, `'sequential'` or `'lanes'`; src/gpu/kernels/recurrent-layer.ts says why).
   * For benchmarks and for users who want to know; it does no GPU work.
   */
  recurrentKernelFor(spec: RecurrentLayerSpec, batch: number): RecurrentLayerPlan['kernel'] {
    return this.layerPlan(spec, batch).kernel;
  }

  /** planRecurrentLayer on this device, with this backend's kernel choice and the adapter's traits. */
  private layerPlan(spec: RecurrentLayerSpec, batch: number, headOutputs = 0, models = 1): RecurrentLayerPlan {
    return planRecurrentLayer(spec, batch, this.device.limits, this.options.recurrentKernel, headOutputs, models, this.traits);
  }

  /**
   * What src/gpu/kernels/stack-grad.ts plans a training program from, on this device and with this backend's tuning.
   * @internal
   */
  gradProgramContext(): GradProgramContext {
    return {
      limits: this.device.limits,
      maxBindingBytes: this.bindingLimit(),
      kernel: this.options.recurrentKernel ?? 'auto',
      stepsPerDispatch: (spec, batch) => this.stepsPerDispatch(spec, batch),
    };
  }

  /** Whether the adapter runs shaders on the CPU (SwiftShader, lavapipe, WARP…: src/gpu/device.ts isSoftwareAdapter). */
  get software(): boolean {
    return this.gpu.summary.isSoftware;
  }

  /**
   * The batch limits of training `stack` on `steps`-step windows here (src/train/batching.ts
   * batchLimits): the cap for this kind of adapter, and no more windows than one binding of the
   * training program holds (what a window keeps: its saved states and gradients).
   */
  trainingBatchLimits(stack: RecurrentStack, steps: number): BatchLimits {
    const perWindow = gradFloatsPerSequence({
      layers: stack.layers.map(({ spec, weights }) => ({ spec, peepholes: weights.P !== null, hasH0: false, hasC0: false, hasDh: false, hasDc: false })),
      head: stack.head,
      steps,
      hasLens: false,
    });
    const binding = this.bindingLimit();
    return batchLimits({ maxStorageBufferBindingSize: binding, maxBufferSize: binding }, { software: this.software, bytesPerWindow: 4 * perWindow });
  }

  /** The WebGPU training engine (src/train/gpu-engine.ts): parameters and optimizer state stay on this device. */
  async createTrainEngine(setup: EngineSetup): Promise<TrainEngine> {
    this.checkUsable();
    // The engine creates its parameter, gradient and optimizer buffers (and uploads the weights) as
    // it is constructed: inside error scopes, so a failed allocation is a DeviceError here, not an
    // invalid buffer that every later step trips over.
    const device = this.device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let engine: GpuTrainEngine | null = null;
    try {
      engine = new GpuTrainEngine(this, setup);
    } finally {
      const validation = await device.popErrorScope();
      const oom = await device.popErrorScope();
      const error = oom ?? validation;
      if (error) {
        engine?.dispose();
        throw new DeviceError(`${oom ? 'out of GPU memory: ' : ''}the training buffers (parameters, gradients and optimizer state of ${setup.models} model(s)) could not be created: ${error.message}`);
      }
    }
    return engine;
  }

  /**
   * Runs a caller-built {@link GpuProgram} (for a training loop built on the dispatches of
   * src/gpu/kernels/stack-grad.ts, with its parameters in device-resident `external` buffers).
   * With `deferred`, it resolves as soon as the program is submitted (see {@link RunProgramOptions}).
   * @internal
   */
  async runProgram(program: GpuProgram, options: RunProgramOptions = {}): Promise<Record<string, Float32Array>> {
    this.checkUsable();
    return this.run(program, options.deferred ?? null);
  }

  /**
   * Forward with saving, then backward, of a stack of layers (all layout 1) or of one layer in either
   * layout, in batch chunks that fit the device's bindings: one program per chunk
   * (src/gpu/kernels/stack-grad.ts). Per-sequence results are scattered into place; the parameter
   * gradients of the chunks are summed in float64, in chunk order.
   */
  private async trainingPass(job: TrainingJob): Promise<TrainingResult> {
    const { batch: B, steps: T, X, sequenceLens } = job.inputs;
    const layout = job.layers[0]!.spec.layout;
    const shape = {
      layers: job.layers.map((l): GradLayer => ({
        spec: l.spec, peepholes: l.weights.P !== null, hasH0: !!l.initialH, hasC0: !!l.initialC, hasDh: !!l.dYh, hasDc: !!l.dYc,
      })),
      head: job.head,
      steps: T,
      hasLens: sequenceLens !== null,
    };
    this.checkStackWeights({ layers: job.layers, head: job.head });
    const packed = job.layers.map(({ spec, weights }) => packLayerWeights(spec, weights));
    const head = job.head && packHead(job.head);

    // Per-sequence tensors as (outer, inner) around the batch index: layout 0 keeps the batch in the
    // middle of [T, B, I], [T, D, B, H] and [D, B, H]; layout 1 puts it first.
    const perStep = (inner: number) => (layout === 0 ? { outer: T, inner } : { outer: 1, inner: T * inner });
    const perState = (D: number, H: number) => (layout === 0 ? { outer: D, inner: H } : { outer: 1, inner: D * H });
    const slice = (a: FloatArray, o: { outer: number; inner: number }, b0: number, b1: number) => batchSlice(a, o.outer, B, o.inner, b0, b1);
    const scatter = (dst: Float32Array, part: Float32Array, o: { outer: number; inner: number }, b0: number, b1: number) =>
      batchScatter(dst, part, o.outer, B, o.inner, b0, b1);
    const dims = job.layers.map(({ spec }) => ({ D: numDirections(spec), H: spec.hiddenSize, I: spec.inputSize, lstm: spec.cell === 'lstm' }));
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
    const build = (b0: number, b1: number): GpuProgram => {
      const n = b1 - b0;
      const program = stackGradProgram({ ...shape, batch: n }, this.gradProgramContext());
      const buffers: Record<string, ProgramBuffer> = {};
      for (const [name, { bytes, zeros }] of Object.entries(program.buffers)) {
        buffers[name] = zeros ? { data: new Float32Array(bytes / 4) } : { bytes };
      }
      const pair = (h: FloatArray | null, c: FloatArray | null, k: number) => {
        const { D, H, lstm } = dims[k]!;
        const both = new Float32Array((lstm ? 2 : 1) * n * D * H);
        if (h) both.set(slice(h, perState(D, H), b0, b1), 0);
        if (c) both.set(slice(c, perState(D, H), b0, b1), n * D * H);
        return both;
      };
      buffers.x = { data: slice(X, perStep(dims[0]!.I), b0, b1) };
      buffers.lens = { data: sequenceLens && Uint32Array.from(sequenceLens.subarray(b0, b1)) };
      buffers[ONES_BUFFER] = { data: ONES_DATA };
      const dOut = job.dOut ? slice(job.dOut, outShape, b0, b1) : new Float32Array(program.buffers[job.head ? 'dout' : `dy${L - 1}`]!.bytes / 4);
      buffers[job.head ? 'dout' : `dy${L - 1}`] = { data: dOut };
      if (head) buffers.head = { data: head };
      job.layers.forEach((l, k) => {
        buffers[`w${k}`] = { data: packed[k]! };
        if (l.initialH || l.initialC) buffers[`init${k}`] = { data: pair(l.initialH, l.initialC, k) };
        if (l.dYh || l.dYc) buffers[`dstate${k}`] = { data: pair(l.dYh, l.dYc, k) };
        for (const name of [`final${k}`, `dinit${k}`, `grads${k}`, k === 0 ? 'dx' : `dy${k - 1}`]) buffers[name]!.read = true;
      });
      buffers.out!.read = true;
      if (job.head) buffers.headgrads!.read = true;
      return { what: `the backward pass of the ${L}-layer ${job.layers[0]!.spec.cell.toUpperCase()} stack`, buffers, dispatches: program.dispatches };
    };
    // Chunks in batch order: the parameter gradients are summed in that order.
    await this.runChunked(B, 1, this.stackWork({ layers: job.layers, head: job.head }, T), build, (out, b0, b1) => {
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

    const layers = job.layers.map(({ spec, weights }, k) => unpackLayerGrads(spec, weights.P !== null, Float32Array.from(paramSums[k]!), {
      dX: dX[k]!, dInitialH: dH0[k]!, dInitialC: dC0[k]!,
    }));
    return { Y, Yh, Yc, layers, head: job.head && unpackHeadGrads(job.head, Float32Array.from(headSums!)) };
  }

  /** The largest buffer this device binds at once (or the test override). */
  private bindingLimit(): number {
    const { maxStorageBufferBindingSize, maxBufferSize } = this.device.limits;
    return Math.min(maxStorageBufferBindingSize, maxBufferSize, this.options.maxBindingBytes ?? Infinity);
  }

  /** The most bytes one chunk may read back: they are copied into one buffer, within maxBufferSize. */
  private readbackLimit(): number {
    return this.device.limits.maxBufferSize;
  }

  /** What a batch chunk may take on this device (src/gpu/chunks.ts). */
  private chunkLimits(): ChunkLimits {
    return {
      bindingBytes: this.bindingLimit(),
      readbackBytes: this.readbackLimit(),
      chunkBytes: CHUNK_BYTES,
      macsPerSubmission: MACS_PER_SUBMISSION,
      minSequences: MIN_CHUNK_SEQUENCES,
    };
  }

  /** Multiply-adds of one step of one sequence through a layer (both directions). */
  private macsPerStep(spec: RecurrentLayerSpec): number {
    return numDirections(spec) * GATES[spec.cell] * spec.hiddenSize * (spec.inputSize + spec.hiddenSize);
  }

  /**
   * Runs a batch of `batch` sequences as programs over chunks of it, in order: `program(b0, b1)`
   * builds the program of sequences b0 … b1−1, `take` stores its results. Chunks are whole `unit`s
   * (per-series models: one model's sequences) and sized by src/gpu/chunks.ts `planChunk` (every
   * binding, the combined readback, a memory target). A chunk the device has no memory for is tried
   * again at half its size, after the pool's free buffers are released, down to one unit: the
   * largest batch the adapter holds still runs.
   */
  private async runChunked(
    batch: number,
    unit: number,
    work: ChunkWork,
    program: (b0: number, b1: number) => GpuProgram,
    take: (out: Record<string, Float32Array>, b0: number, b1: number) => void,
  ): Promise<void> {
    // The last program measured is that of the first chunk: built once.
    const measured = { n: 0, program: null as GpuProgram | null };
    const measure = (n: number) => {
      measured.n = n;
      measured.program = program(0, n);
      return footprint(measured.program);
    };
    let n = planChunk(batch, unit, measure, this.chunkLimits(), work);
    for (let b0 = 0; b0 < batch; ) {
      const b1 = Math.min(batch, b0 + n);
      const chunk = b0 === 0 && measured.n === b1 && measured.program ? measured.program : program(b0, b1);
      measured.program = null;
      let out: Record<string, Float32Array>;
      try {
        out = await this.run(chunk);
      } catch (err) {
        if (!isOutOfMemoryError(err) || b1 - b0 <= unit) throw err;
        this.pool.trim();
        n = Math.max(unit, Math.floor((b1 - b0) / 2 / unit) * unit);
        continue;
      }
      take(out, b0, b1);
      b0 = b1;
    }
  }

  /**
   * The program of one batch chunk of a layer: T split into segments of at most
   * {@link stepsPerDispatch} steps, one submission each, the state carried from one to the next on
   * the device. Reads back `Y` and `Y_h|Y_c` (Y_h then, for LSTM, Y_c).
   */
  private layerProgram(spec: RecurrentLayerSpec, packed: Float32Array, inputs: RecurrentLayerInputs): GpuProgram {
    const { batch: B, steps: T, sequenceLens, initialH, initialC } = inputs;
    const D = numDirections(spec);
    const H = spec.hiddenSize;
    const lstm = spec.cell === 'lstm';
    const stateCount = D * B * H;
    // initial_h then initial_c in one binding (storage buffers per stage are scarce); with several
    // segments it also receives each segment's final state.
    let init: Float32Array | null = null;
    if (initialH || initialC) {
      init = new Float32Array(lstm ? 2 * stateCount : stateCount);
      if (initialH) init.set(initialH, 0);
      if (initialC) init.set(initialC, stateCount);
    }
    const names = { x: 'X', weights: 'W|R|B|P', lens: 'sequence_lens', init: 'initial_h|initial_c', y: 'Y', final: 'Y_h|Y_c', state: 'state', head: 'head' };
    const layer = this.layerDispatches(spec, B, T, names, {
      hasH0: initialH !== null,
      hasC0: initialC !== null,
      hasLens: sequenceLens !== null,
    });
    return {
      what: `the ${spec.cell.toUpperCase()} layer`,
      buffers: {
        X: { data: asFloat32(inputs.X) },
        'W|R|B|P': { data: packed },
        sequence_lens: { data: sequenceLens && Uint32Array.from(sequenceLens) },
        'initial_h|initial_c': { data: layer.segmented ? init ?? new Float32Array(layer.stateFloats) : init },
        Y: { bytes: 4 * T * D * B * H, read: true },
        'Y_h|Y_c': { bytes: 4 * layer.stateFloats, read: true },
        ...(layer.scratchBytes ? { state: { bytes: layer.scratchBytes } } : {}),
        ...(layer.bindsHead ? { head: { data: null } } : {}),
      },
      dispatches: layer.dispatches,
    };
  }

  /**
   * The dispatches of one layer over one batch chunk: T in segments of at most
   * {@link stepsPerDispatch} steps, one submission each, the final state copied into the initial
   * state between segments (so the init buffer must exist whenever `segmented`).
   */
  private layerDispatches(
    spec: RecurrentLayerSpec,
    B: number,
    T: number,
    names: { x: string; weights: string; lens: string; init: string; y: string; final: string; state: string; head: string },
    given: { hasH0: boolean; hasC0: boolean; hasLens: boolean },
    headOutputs = 0,
    models = { count: 1, weightStride: 0 },
  ): { dispatches: ProgramDispatch[]; segmented: boolean; stateFloats: number; scratchBytes: number; bindsHead: boolean; fusedHead: boolean } {
    const { segment, segments } = timeSegments(T, this.stepsPerDispatch(spec, B));
    const plan = this.layerPlan(spec, B, headOutputs, models.count);
    // The lanes kernel reads its packed copy of the weights (in the scratch buffer) in their place.
    const bind = [names.x, plan.pack ? names.state : names.weights, names.lens, names.init, names.y, names.final];
    if (plan.scratch.length && !plan.pack) bind.push(names.state);
    if (plan.bindsHead) bind.push(names.head);
    const dispatches = Array.from({ length: segments }, (_, k): ProgramDispatch => {
      const forward = k * segment;
      const reverse = (segments - 1 - k) * segment; // the reverse direction walks segments backwards
      const last = k === segments - 1;
      return {
        pipeline: plan.pipeline,
        params: recurrentParams({
          batch: B,
          steps: segment,
          totalSteps: T,
          hasH0: given.hasH0 || k > 0,
          hasC0: given.hasC0 || k > 0,
          hasLens: given.hasLens,
          offsets: spec.direction === 'reverse' ? [reverse, reverse] : [forward, reverse],
          modelBatch: B / models.count,
          weightStride: models.weightStride,
        }),
        bind,
        grid: plan.grid,
        ...(last ? {} : { copies: [[names.final, names.init]], submit: true }),
      };
    });
    if (plan.pack) {
      dispatches.unshift({ pipeline: plan.pack.pipeline, params: dispatches[0]!.params, bind: [names.weights, names.state], grid: plan.pack.grid });
    }
    const stateFloats = (spec.cell === 'lstm' ? 2 : 1) * numDirections(spec) * B * spec.hiddenSize;
    return {
      dispatches,
      segmented: segments > 1,
      stateFloats,
      scratchBytes: plan.scratch[0]?.[1] ?? 0,
      bindsHead: plan.bindsHead,
      fusedHead: plan.fusedHead,
    };
  }

  /**
   * Steps per dispatch: as many as keep one submission under {@link MACS_PER_SUBMISSION}
   * multiply-adds, so no single submission runs long enough for a watchdog to reset the device.
   */
  private stepsPerDispatch(spec: RecurrentLayerSpec, batch: number): number {
    if (this.options.maxStepsPerDispatch !== undefined) return this.options.maxStepsPerDispatch;
    const G = GATES[spec.cell];
    const perStep = batch * numDirections(spec) * G * spec.hiddenSize * (spec.inputSize + spec.hiddenSize);
    return Math.max(1, Math.floor(MACS_PER_SUBMISSION / perStep));
  }

  /**
   * Runs a {@link GpuProgram}: uploads, dispatches (one submission per `submit` mark and one at the
   * end), reads back the buffers marked `read` as float32 in the order they are listed. Absent
   * inputs are bound as 4-byte placeholders the kernels never read. WebGPU errors become
   * {@link DeviceError}s naming `what`; a buffer the device has no memory for is one naming the
   * buffer and its size (src/gpu/buffers.ts), before any upload. After a failure every buffer of
   * the program is destroyed rather than pooled (its state is unknown), so nothing leaks or is reused.
   */
  private async run(program: GpuProgram, deferred: Promise<DeviceError | null>[] | null = null): Promise<Record<string, Float32Array>> {
    const entries = Object.entries(program.buffers);
    if (deferred && (this.options.timing || entries.some(([, b]) => b.read))) {
      throw new DeviceError(`${program.what}: a deferred program cannot read buffers back or be timed`);
    }
    const bytesOf = programBufferBytes;
    const offsetOf = (name: string) => program.buffers[name]!.offset ?? 0;
    for (const [name, b] of entries) this.checkFits(`the ${name} buffer`, bytesOf(b));
    const read = entries.filter(([, b]) => b.read);
    const readbackBytes = read.reduce((n, [, b]) => n + bytesOf(b), 0);
    if (readbackBytes > this.readbackLimit()) {
      // The readback buffer is never bound: only the device's buffer size limit applies.
      throw new DeviceError(`${program.what} reads back ${readbackBytes} bytes, more than one buffer holds on this device (${this.readbackLimit()}); split the batch`);
    }

    const device = this.device;
    const pipelines = await Promise.all(program.dispatches.map((d) => getPipeline(device, d.pipeline)));
    this.checkUsable();

    const pool = this.pool;
    const owned = entries.filter(([, b]) => !b.external);
    const requests: BufferRequest[] = [
      ...owned.map(([name, b]) => ({ label: name, size: bytesOf(b), usage: STORAGE | COPY_DST | COPY_SRC })),
      ...program.dispatches.map((d) => ({ label: `${d.pipeline.name} params`, size: d.params.byteLength, usage: UNIFORM | COPY_DST })),
      { label: `${program.what} readback`, size: Math.max(readbackBytes, 4), usage: MAP_READ | COPY_DST },
    ];
    let acquired: GPUBuffer[];
    try {
      acquired = await pool.acquireAll(requests, program.what);
    } catch (err) {
      this.checkUsable();
      throw err;
    }
    const buffers = new Map<string, GPUBuffer>(entries.map(([name, b]) => [name, b.external!]));
    owned.forEach(([name], i) => buffers.set(name, acquired[i]!));
    const params = acquired.slice(owned.length, owned.length + program.dispatches.length);
    const readback = acquired.at(-1)!;
    let failed = true;
    try {
      const queue = device.queue;
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      for (const [name, b] of owned) {
        const buffer = buffers.get(name)!;
        if (b.data) queue.writeBuffer(buffer, 0, b.data);
        else if (b.read && this.options.poisonOutputs) queue.writeBuffer(buffer, 0, new Float32Array(bytesOf(b) / 4).fill(NaN));
      }
      let encoder = device.createCommandEncoder({ label: program.what });
      const timer = this.options.timing ? new PassTimer(device, program.dispatches.length) : null;
      program.dispatches.forEach((d, n) => {
        queue.writeBuffer(params[n]!, 0, d.params);
        const bindGroup = device.createBindGroup({
          label: d.pipeline.name,
          layout: pipelines[n]!.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: params[n]!, size: d.params.byteLength } },
            ...d.bind.map((name, i) => ({
              binding: i + 1,
              resource: { buffer: buffers.get(name)!, offset: offsetOf(name), size: bytesOf(program.buffers[name]!) },
            })),
          ],
        });
        const pass = encoder.beginComputePass({ label: d.pipeline.name, ...timer?.passWrites(n) });
        pass.setPipeline(pipelines[n]!);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(d.grid[0], d.grid[1]);
        pass.end();
        for (const [from, to, bytes] of d.copies ?? []) {
          encoder.copyBufferToBuffer(buffers.get(from)!, offsetOf(from), buffers.get(to)!, offsetOf(to), bytes ?? bytesOf(program.buffers[from]!));
        }
        if (d.submit) {
          timer?.submitting();
          queue.submit([encoder.finish()]);
          encoder = device.createCommandEncoder({ label: program.what });
        }
      });
      timer?.resolve(encoder);
      let offset = 0;
      for (const [name, b] of read) {
        encoder.copyBufferToBuffer(buffers.get(name)!, offsetOf(name), readback, offset, bytesOf(b));
        offset += bytesOf(b);
      }
      timer?.submitting();
      queue.submit([encoder.finish()]);
      // Both scopes popped before anything is awaited: error scopes are a stack per device, and
      // another call (a deferred training step beside a readback) may push its own in the meantime.
      const scopes = Promise.all([device.popErrorScope(), device.popErrorScope()]).then(([validation, oom]) => {
        if (validation) return new DeviceError(`WebGPU rejected ${program.what}: ${validation.message}`);
        // An allocation inside the queue (a staging copy of an upload) found no memory.
        if (oom) return markOutOfMemory(new DeviceError(`out of GPU memory while running ${program.what}: ${oom.message}`, { cause: oom }));
        return null;
      });
      if (deferred) {
        deferred.push(scopes.catch((err: unknown) => new DeviceError(`${program.what} failed on the GPU: ${(err as Error).message}`, { cause: err })));
        failed = false;
        return {};
      }
      if (timer) {
        try {
          const t = await timer.finish();
          this.lastTiming = { ms: (this.lastTiming?.ms ?? 0) + t.ms, method: t.method };
        } finally {
          timer.destroy();
        }
      }
      const scopeError = await scopes;
      if (scopeError) throw scopeError;

      const results: Record<string, Float32Array> = {};
      if (readbackBytes > 0) {
        await readback.mapAsync(1 /* GPUMapMode.READ */, 0, readbackBytes);
        const mapped = readback.getMappedRange(0, readbackBytes);
        offset = 0;
        for (const [name, b] of read) {
          results[name] = new Float32Array(mapped, offset, bytesOf(b) / 4).slice();
          offset += bytesOf(b);
        }
        readback.unmap();
      }
      failed = false;
      return results;
    } catch (err) {
      if (err instanceof DeviceError) throw err;
      this.checkUsable();
      throw new DeviceError(`${program.what} failed on the GPU: ${(err as Error).message}`, { cause: err });
    } finally {
      if (readback.mapState !== 'unmapped') readback.unmap(); // aborts a pending map
      for (const b of acquired) {
        if (failed) pool.discard(b);
        else pool.release(b);
      }
    }
  }

  /** Destroys the buffers this backend holds, and its device when it acquired it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.destroy();
    if (this.ownsDevice) this.gpu.destroy();
  }
}
