import { DeviceError } from '../errors.ts';
import { BufferPool } from '../gpu/buffers.ts';
import { acquireGpu, type AcquireOptions, type GpuContext } from '../gpu/device.ts';
import { ELMAN_WORKGROUP_SIZE, elmanForwardPipeline, elmanParams, packElmanWeights } from '../gpu/kernels/elman-forward.ts';
import {
  packLayerWeights,
  planRecurrentLayer,
  RECURRENT_STATE_SLOTS,
  recurrentParams,
  type RecurrentKernelChoice,
} from '../gpu/kernels/recurrent-layer.ts';
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
import type { FloatArray } from '../tensor.ts';
import type { Backend } from './backend.ts';

/** Options of {@link WebGPUBackend.create}. */
export interface WebGPUBackendOptions extends AcquireOptions {
  /**
   * Fill every output buffer with NaN before each dispatch, so an element the kernel fails to write
   * reads back as NaN instead of a stale value. For tests; costs one extra upload per output.
   */
  poisonOutputs?: boolean;
  /**
   * Which recurrent-layer kernel to run: picked by shape (`'auto'`, default; see
   * src/gpu/kernels/recurrent-layer.ts), or forced to `'tile'` or `'sequential'` (tests, benchmarks).
   */
  recurrentKernel?: RecurrentKernelChoice;
  /**
   * Split batches so that no binding exceeds this many bytes (default: the device's binding limit).
   * For tests of the chunking, which otherwise needs gigabytes.
   */
  maxBindingBytes?: number;
  /** Steps per dispatch of a recurrent layer (default: from {@link MACS_PER_SUBMISSION}). For tests. */
  maxStepsPerDispatch?: number;
}

/** The options that shape how a backend runs (everything but device acquisition). */
export type BackendTuning = Omit<WebGPUBackendOptions, keyof AcquireOptions>;

/**
 * Multiply-adds one submission may hold before a recurrent layer is split into time segments. About
 * a second of work for the tiled kernel on a software adapter and a few milliseconds on a discrete
 * GPU: far from the seconds after which browsers and drivers reset a device that does not answer.
 */
export const MACS_PER_SUBMISSION = 2 ** 31;

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

/** What {@link WebGPUBackend.runKernel} needs for one dispatch; names label buffers and errors. */
interface KernelRun {
  what: string;
  pipeline: PipelineSpec;
  /** One params uniform per dispatch; each dispatch is its own submission. */
  params: Uint32Array[];
  /** Between dispatches, copy output `[0]` into input `[1]` (state carried across time segments). */
  carry?: [output: number, input: number];
  inputs: [name: string, data: Float32Array | Uint32Array | null][];
  outputs: [name: string, floats: number][];
  scratch: [name: string, bytes: number][];
  grid: [number, number];
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
  /** Buffers this backend allocated; public so tests can check that nothing leaks. */
  readonly pool: BufferPool;
  private lostReason: string | null = null;
  private disposed = false;

  private constructor(
    readonly gpu: GpuContext,
    private readonly ownsDevice: boolean,
    private readonly options: BackendTuning,
  ) {
    this.pool = new BufferPool(gpu.device);
    gpu.device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /** Acquires a device (hardware first, software fallback) and wraps it. */
  static async create(options: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
    return new WebGPUBackend(await acquireGpu(options), true, options);
  }

  /** Wraps a device the caller acquired; `dispose()` leaves that device alive. */
  static fromContext(gpu: GpuContext, options: BackendTuning = {}): WebGPUBackend {
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
  private checkFits(what: string, bytes: number): void {
    const limit = this.bindingLimit();
    if (bytes > limit) {
      throw new DeviceError(
        `${what} needs ${bytes} bytes, more than this device binds at once (${limit}); split the batch`,
      );
    }
  }

  async elmanForward(c: ResolvedElmanConfig, sd: ElmanStateDict, args: ForwardArgs): Promise<ForwardResult<Float32Array>> {
    this.checkUsable();
    const { batch: B, steps: T, lastOnly } = args;
    const { hiddenSize: H, outputSize: O, numLayers: L } = c;
    const [y, hn] = await this.runKernel({
      what: 'the Elman forward pass',
      pipeline: elmanForwardPipeline(c),
      params: [elmanParams(B, T, lastOnly, args.h0 !== null)],
      inputs: [
        ['x [B,T,I]', asFloat32(args.x)],
        ['weights', packElmanWeights(c, sd)],
        ['h0 [L,B,H]', args.h0 && asFloat32(args.h0)],
      ],
      outputs: [
        ['y', lastOnly ? B * O : B * T * O],
        ['hn [L,B,H]', L * B * H],
      ],
      scratch: [['state [L,2,H,B]', L * 2 * H * B * 4]],
      grid: workgroupGrid(B, ELMAN_WORKGROUP_SIZE, this.device.limits.maxComputeWorkgroupsPerDimension),
    });
    return {
      output: { data: y!, shape: lastOnly ? [B, O] : [B, T, O] },
      hn: { data: hn!, shape: [L, B, H] },
    };
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
    const stateSlots = spec.cell === 'lstm' ? 2 : 1;
    const packed = packLayerWeights(spec, weights);

    // Batch chunks small enough for every binding: each sequence needs T·I inputs, T·D·H outputs,
    // D·H·slots state values and the sequential kernel's scratch.
    const perSequenceBytes = 4 * Math.max(T * I, T * D * H + stateSlots * D * H, RECURRENT_STATE_SLOTS * D * H);
    const chunk = Math.floor(this.bindingLimit() / perSequenceBytes);
    if (chunk < 1) {
      throw new DeviceError(
        `one sequence of ${T} steps needs ${perSequenceBytes} bytes, more than this device binds at once (${this.bindingLimit()})`,
      );
    }
    this.checkFits('the weights buffer', packed.byteLength);
    if (chunk >= B) return this.recurrentChunk(spec, packed, inputs);

    // Layout 0 puts the batch in the middle ([T, B, I], [T, D, B, H], [D, B, H]); layout 1 first.
    const outer = (n: number) => (spec.layout === 0 ? n : 1);
    const Y = new Float32Array(T * D * B * H);
    const Yh = new Float32Array(D * B * H);
    const Yc = stateSlots === 2 ? new Float32Array(D * B * H) : null;
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const b1 = Math.min(B, b0 + chunk);
      const part = await this.recurrentChunk(spec, packed, {
        X: batchSlice(inputs.X, outer(T), B, spec.layout === 0 ? I : T * I, b0, b1),
        batch: b1 - b0,
        steps: T,
        sequenceLens: inputs.sequenceLens && inputs.sequenceLens.subarray(b0, b1),
        initialH: inputs.initialH && batchSlice(inputs.initialH, outer(D), B, spec.layout === 0 ? H : D * H, b0, b1),
        initialC: inputs.initialC && batchSlice(inputs.initialC, outer(D), B, spec.layout === 0 ? H : D * H, b0, b1),
      });
      batchScatter(Y, part.Y, outer(T * D), B, spec.layout === 0 ? H : T * D * H, b0, b1);
      batchScatter(Yh, part.Y_h, outer(D), B, spec.layout === 0 ? H : D * H, b0, b1);
      if (Yc) batchScatter(Yc, part.Y_c!, outer(D), B, spec.layout === 0 ? H : D * H, b0, b1);
    }
    return { Y, Y_h: Yh, Y_c: Yc };
  }

  /** The largest buffer this device binds at once (or the test override). */
  private bindingLimit(): number {
    const { maxStorageBufferBindingSize, maxBufferSize } = this.device.limits;
    return Math.min(maxStorageBufferBindingSize, maxBufferSize, this.options.maxBindingBytes ?? Infinity);
  }

  /**
   * One batch chunk of a layer: T split into segments of at most {@link stepsPerDispatch} steps,
   * one submission each, the state carried from one to the next on the device.
   */
  private async recurrentChunk(
    spec: RecurrentLayerSpec,
    packed: Float32Array,
    inputs: RecurrentLayerInputs,
  ): Promise<RecurrentLayerOutputs<Float32Array>> {
    const { batch: B, steps: T, sequenceLens, initialH, initialC } = inputs;
    const D = numDirections(spec);
    const H = spec.hiddenSize;
    const lstm = spec.cell === 'lstm';
    const stateCount = D * B * H;
    const segment = Math.min(T, this.stepsPerDispatch(spec, B));
    const segments = Math.ceil(T / segment);
    // initial_h then initial_c in one binding (storage buffers per stage are scarce); with several
    // segments it also receives each segment's final state.
    let init: Float32Array | null = null;
    if (initialH || initialC || segments > 1) {
      init = new Float32Array(lstm ? 2 * stateCount : stateCount);
      if (initialH) init.set(initialH, 0);
      if (initialC) init.set(initialC, stateCount);
    }
    const params = Array.from({ length: segments }, (_, k) => {
      const forward = k * segment;
      const reverse = (segments - 1 - k) * segment; // the reverse direction walks segments backwards
      const first = k === 0;
      return recurrentParams({
        batch: B,
        steps: segment,
        totalSteps: T,
        hasH0: initialH !== null || !first,
        hasC0: initialC !== null || !first,
        hasLens: sequenceLens !== null,
        offsets: spec.direction === 'reverse' ? [reverse, reverse] : [forward, reverse],
      });
    });
    const plan = planRecurrentLayer(spec, B, this.device.limits, this.options.recurrentKernel);
    const [y, final] = await this.runKernel({
      what: `the ${spec.cell.toUpperCase()} layer`,
      pipeline: plan.pipeline,
      params,
      carry: [1, 3],
      inputs: [
        ['X', asFloat32(inputs.X)],
        ['W|R|B|P', packed],
        ['sequence_lens', sequenceLens && Uint32Array.from(sequenceLens)],
        ['initial_h|initial_c', init],
      ],
      outputs: [
        ['Y', T * D * B * H],
        ['Y_h|Y_c', lstm ? 2 * stateCount : stateCount],
      ],
      scratch: plan.scratch,
      grid: plan.grid,
    });
    return {
      Y: y!,
      Y_h: final!.subarray(0, stateCount),
      Y_c: lstm ? final!.subarray(stateCount) : null,
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
   * One dispatch of a kernel whose bindings are, in order: 0 the params uniform, then the read-only
   * inputs (an absent one is bound as a 4-byte placeholder the kernel never reads), then the outputs
   * (read back and returned in order, as float32), then scratch buffers. Buffers come from the pool
   * and go back to it whatever happens; every limit is checked before any GPU work, and WebGPU
   * errors become {@link DeviceError}s naming `what`.
   */
  private async runKernel(k: KernelRun): Promise<Float32Array[]> {
    const outputBytes = k.outputs.map(([, count]) => count * 4);
    const readbackBytes = outputBytes.reduce((a, b) => a + b, 0);
    const inputBytes = k.inputs.map(([, data]) => (data ? data.byteLength : 4));
    k.inputs.forEach(([name], i) => this.checkFits(`the ${name} buffer`, inputBytes[i]!));
    k.outputs.forEach(([name], i) => this.checkFits(`the ${name} buffer`, outputBytes[i]!));
    for (const [name, bytes] of k.scratch) this.checkFits(`the ${name} buffer`, bytes);
    this.checkFits('the readback buffer', readbackBytes);

    const device = this.device;
    const pipeline = await getPipeline(device, k.pipeline);
    this.checkUsable();

    const pool = this.pool;
    const label = k.pipeline.name;
    const paramBytes = k.params[0]!.byteLength;
    const params = pool.acquire(`${label} params`, paramBytes, UNIFORM | COPY_DST);
    const inputs = k.inputs.map(([name], i) => pool.acquire(`${label} ${name}`, inputBytes[i]!, STORAGE | COPY_DST));
    const outputs = k.outputs.map(([name], i) => pool.acquire(`${label} ${name}`, outputBytes[i]!, STORAGE | COPY_SRC | COPY_DST));
    const scratch = k.scratch.map(([name, bytes]) => pool.acquire(`${label} ${name}`, bytes, STORAGE));
    const readback = pool.acquire(`${label} readback`, readbackBytes, MAP_READ | COPY_DST);
    try {
      const queue = device.queue;
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      k.inputs.forEach(([, data], i) => data && queue.writeBuffer(inputs[i]!, 0, data));
      if (this.options.poisonOutputs) {
        k.outputs.forEach(([, count], i) => queue.writeBuffer(outputs[i]!, 0, new Float32Array(count).fill(NaN)));
      }
      const bound: [GPUBuffer, number][] = [
        [params, paramBytes],
        ...inputs.map((b, i): [GPUBuffer, number] => [b, inputBytes[i]!]),
        ...outputs.map((b, i): [GPUBuffer, number] => [b, outputBytes[i]!]),
        ...scratch.map((b, i): [GPUBuffer, number] => [b, k.scratch[i]![1]]),
      ];
      const bindGroup = device.createBindGroup({
        label,
        layout: pipeline.getBindGroupLayout(0),
        entries: bound.map(([buffer, size], binding) => ({ binding, resource: { buffer, size } })),
      });
      // One submission per dispatch: writeBuffer is ordered with submissions, so each sees its params.
      let encoder!: GPUCommandEncoder;
      k.params.forEach((p, n) => {
        queue.writeBuffer(params, 0, p);
        encoder = device.createCommandEncoder({ label });
        const pass = encoder.beginComputePass({ label });
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(k.grid[0], k.grid[1]);
        pass.end();
        if (n + 1 < k.params.length) {
          const [from, to] = k.carry!;
          encoder.copyBufferToBuffer(outputs[from]!, 0, inputs[to]!, 0, outputBytes[from]!);
          queue.submit([encoder.finish()]);
        }
      });
      let offset = 0;
      outputs.forEach((b, i) => {
        encoder.copyBufferToBuffer(b, 0, readback, offset, outputBytes[i]!);
        offset += outputBytes[i]!;
      });
      queue.submit([encoder.finish()]);
      const validation = await device.popErrorScope();
      const oom = await device.popErrorScope();
      const error = validation ?? oom;
      if (error) throw new DeviceError(`WebGPU rejected ${k.what}: ${error.message}`);

      await readback.mapAsync(1 /* GPUMapMode.READ */, 0, readbackBytes);
      const mapped = readback.getMappedRange(0, readbackBytes);
      offset = 0;
      const results = k.outputs.map(([, count]) => {
        const out = new Float32Array(mapped, offset, count).slice();
        offset += count * 4;
        return out;
      });
      readback.unmap();
      return results;
    } catch (err) {
      if (err instanceof DeviceError) throw err;
      this.checkUsable();
      throw new DeviceError(`${k.what} failed on the GPU: ${(err as Error).message}`, { cause: err });
    } finally {
      if (readback.mapState !== 'unmapped') readback.unmap(); // aborts a pending map
      for (const b of [params, ...inputs, ...outputs, ...scratch, readback]) pool.release(b);
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
