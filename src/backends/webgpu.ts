import { DeviceError } from '../errors.ts';
import { BufferPool } from '../gpu/buffers.ts';
import { acquireGpu, type AcquireOptions, type GpuContext } from '../gpu/device.ts';
import { ELMAN_WORKGROUP_SIZE, elmanForwardPipeline, elmanParams, packElmanWeights } from '../gpu/kernels/elman-forward.ts';
import {
  packLayerWeights,
  planRecurrentLayer,
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
  params: Uint32Array;
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
    private readonly options: Pick<WebGPUBackendOptions, 'poisonOutputs' | 'recurrentKernel'>,
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
  static fromContext(gpu: GpuContext, options: Pick<WebGPUBackendOptions, 'poisonOutputs' | 'recurrentKernel'> = {}): WebGPUBackend {
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
    const { maxStorageBufferBindingSize, maxBufferSize } = this.device.limits;
    const limit = Math.min(maxStorageBufferBindingSize, maxBufferSize);
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
      params: elmanParams(B, T, lastOnly, args.h0 !== null),
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
    const { batch: B, steps: T, sequenceLens, initialH, initialC } = inputs;
    const D = numDirections(spec);
    const H = spec.hiddenSize;
    const lstm = spec.cell === 'lstm';
    const stateCount = D * B * H;
    // initial_h then initial_c in one binding (storage buffers per stage are scarce).
    let init: Float32Array | null = null;
    if (initialH || initialC) {
      init = new Float32Array(lstm ? 2 * stateCount : stateCount);
      if (initialH) init.set(initialH, 0);
      if (initialC) init.set(initialC, stateCount);
    }
    const plan = planRecurrentLayer(spec, B, this.device.limits, this.options.recurrentKernel);
    const [y, final] = await this.runKernel({
      what: `the ${spec.cell.toUpperCase()} layer`,
      pipeline: plan.pipeline,
      params: recurrentParams(B, T, initialH !== null, initialC !== null, sequenceLens !== null),
      inputs: [
        ['X', asFloat32(inputs.X)],
        ['W|R|B|P', packLayerWeights(spec, weights)],
        ['sequence_lens', sequenceLens && new Uint32Array(sequenceLens.buffer, sequenceLens.byteOffset, B)],
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
    const params = pool.acquire(`${label} params`, k.params.byteLength, UNIFORM | COPY_DST);
    const inputs = k.inputs.map(([name], i) => pool.acquire(`${label} ${name}`, inputBytes[i]!, STORAGE | COPY_DST));
    const outputs = k.outputs.map(([name], i) => pool.acquire(`${label} ${name}`, outputBytes[i]!, STORAGE | COPY_SRC | COPY_DST));
    const scratch = k.scratch.map(([name, bytes]) => pool.acquire(`${label} ${name}`, bytes, STORAGE));
    const readback = pool.acquire(`${label} readback`, readbackBytes, MAP_READ | COPY_DST);
    try {
      const queue = device.queue;
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      queue.writeBuffer(params, 0, k.params);
      k.inputs.forEach(([, data], i) => data && queue.writeBuffer(inputs[i]!, 0, data));
      if (this.options.poisonOutputs) {
        k.outputs.forEach(([, count], i) => queue.writeBuffer(outputs[i]!, 0, new Float32Array(count).fill(NaN)));
      }
      const bound: [GPUBuffer, number][] = [
        [params, k.params.byteLength],
        ...inputs.map((b, i): [GPUBuffer, number] => [b, inputBytes[i]!]),
        ...outputs.map((b, i): [GPUBuffer, number] => [b, outputBytes[i]!]),
        ...scratch.map((b, i): [GPUBuffer, number] => [b, k.scratch[i]![1]]),
      ];
      const bindGroup = device.createBindGroup({
        label,
        layout: pipeline.getBindGroupLayout(0),
        entries: bound.map(([buffer, size], binding) => ({ binding, resource: { buffer, size } })),
      });
      const encoder = device.createCommandEncoder({ label });
      const pass = encoder.beginComputePass({ label });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(k.grid[0], k.grid[1]);
      pass.end();
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
