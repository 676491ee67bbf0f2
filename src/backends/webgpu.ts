import { DeviceError } from '../errors.ts';
import { BufferPool } from '../gpu/buffers.ts';
import { acquireGpu, type AcquireOptions, type GpuContext } from '../gpu/device.ts';
import {
  ELMAN_PARAMS_BYTES,
  elmanForwardPipeline,
  elmanGrid,
  elmanParams,
  packElmanWeights,
} from '../gpu/kernels/elman-forward.ts';
import { getPipeline } from '../gpu/pipelines.ts';
import type { ResolvedElmanConfig } from '../model/config.ts';
import type { ForwardArgs, ForwardResult } from '../model/forward.ts';
import type { ElmanStateDict } from '../model/params.ts';
import type { FloatArray } from '../tensor.ts';
import type { Backend } from './backend.ts';

/** Options of {@link WebGPUBackend.create}. */
export interface WebGPUBackendOptions extends AcquireOptions {
  /**
   * Fill every output buffer with NaN before each dispatch, so an element the kernel fails to write
   * reads back as NaN instead of a stale value. For tests; costs one extra upload per output.
   */
  poisonOutputs?: boolean;
}

const { STORAGE, COPY_DST, COPY_SRC, MAP_READ, UNIFORM } = {
  STORAGE: 0x80,
  COPY_DST: 0x08,
  COPY_SRC: 0x04,
  MAP_READ: 0x01,
  UNIFORM: 0x40,
} as const; // GPUBufferUsage values, spelled out so this module loads before Dawn's globals exist

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
    private readonly poisonOutputs: boolean,
  ) {
    this.pool = new BufferPool(gpu.device);
    gpu.device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /** Acquires a device (hardware first, software fallback) and wraps it. */
  static async create(options: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
    return new WebGPUBackend(await acquireGpu(options), true, options.poisonOutputs ?? false);
  }

  /** Wraps a device the caller acquired; `dispose()` leaves that device alive. */
  static fromContext(gpu: GpuContext, options: Pick<WebGPUBackendOptions, 'poisonOutputs'> = {}): WebGPUBackend {
    return new WebGPUBackend(gpu, false, options.poisonOutputs ?? false);
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
    const weights = packElmanWeights(c, sd);
    const yCount = lastOnly ? B * O : B * T * O;
    const hnCount = L * B * H;
    const sizes = {
      x: args.x.length * 4,
      weights: weights.length * 4,
      h0: args.h0 ? args.h0.length * 4 : 4,
      y: yCount * 4,
      hn: hnCount * 4,
      state: L * 2 * H * B * 4,
    };
    for (const [name, bytes] of Object.entries(sizes)) this.checkFits(`the ${name} buffer`, bytes);
    this.checkFits('the readback buffer', sizes.y + sizes.hn);

    const device = this.device;
    const pipeline = await getPipeline(device, elmanForwardPipeline(c));
    this.checkUsable();

    const pool = this.pool;
    const buf = {
      params: pool.acquire('elman params', ELMAN_PARAMS_BYTES, UNIFORM | COPY_DST),
      x: pool.acquire('elman x [B,T,I]', sizes.x, STORAGE | COPY_DST),
      weights: pool.acquire('elman weights', sizes.weights, STORAGE | COPY_DST),
      h0: pool.acquire('elman h0 [L,B,H]', sizes.h0, STORAGE | COPY_DST),
      y: pool.acquire('elman y', sizes.y, STORAGE | COPY_SRC | COPY_DST),
      hn: pool.acquire('elman hn [L,B,H]', sizes.hn, STORAGE | COPY_SRC | COPY_DST),
      state: pool.acquire('elman state [L,2,H,B]', sizes.state, STORAGE),
      readback: pool.acquire('elman readback', sizes.y + sizes.hn, MAP_READ | COPY_DST),
    };
    try {
      const queue = device.queue;
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      queue.writeBuffer(buf.params, 0, elmanParams(B, T, lastOnly, args.h0 !== null));
      queue.writeBuffer(buf.x, 0, asFloat32(args.x));
      queue.writeBuffer(buf.weights, 0, weights);
      if (args.h0) queue.writeBuffer(buf.h0, 0, asFloat32(args.h0));
      if (this.poisonOutputs) {
        queue.writeBuffer(buf.y, 0, new Float32Array(yCount).fill(NaN));
        queue.writeBuffer(buf.hn, 0, new Float32Array(hnCount).fill(NaN));
      }
      const bindGroup = device.createBindGroup({
        label: 'elman_forward',
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: buf.params, size: ELMAN_PARAMS_BYTES } },
          { binding: 1, resource: { buffer: buf.x, size: sizes.x } },
          { binding: 2, resource: { buffer: buf.weights, size: sizes.weights } },
          { binding: 3, resource: { buffer: buf.h0, size: sizes.h0 } },
          { binding: 4, resource: { buffer: buf.y, size: sizes.y } },
          { binding: 5, resource: { buffer: buf.hn, size: sizes.hn } },
          { binding: 6, resource: { buffer: buf.state, size: sizes.state } },
        ],
      });
      const encoder = device.createCommandEncoder({ label: 'elman_forward' });
      const pass = encoder.beginComputePass({ label: 'elman_forward' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      const [gx, gy] = elmanGrid(B, device.limits.maxComputeWorkgroupsPerDimension);
      pass.dispatchWorkgroups(gx, gy);
      pass.end();
      encoder.copyBufferToBuffer(buf.y, 0, buf.readback, 0, sizes.y);
      encoder.copyBufferToBuffer(buf.hn, 0, buf.readback, sizes.y, sizes.hn);
      queue.submit([encoder.finish()]);
      const validation = await device.popErrorScope();
      const oom = await device.popErrorScope();
      const error = validation ?? oom;
      if (error) throw new DeviceError(`WebGPU rejected the Elman forward pass: ${error.message}`);

      await buf.readback.mapAsync(1 /* GPUMapMode.READ */, 0, sizes.y + sizes.hn);
      const mapped = buf.readback.getMappedRange(0, sizes.y + sizes.hn);
      const y = new Float32Array(mapped, 0, yCount).slice();
      const hn = new Float32Array(mapped, sizes.y, hnCount).slice();
      buf.readback.unmap();
      return {
        output: { data: y, shape: lastOnly ? [B, O] : [B, T, O] },
        hn: { data: hn, shape: [L, B, H] },
      };
    } catch (err) {
      if (err instanceof DeviceError) throw err;
      this.checkUsable();
      throw new DeviceError(`the Elman forward pass failed on the GPU: ${(err as Error).message}`, { cause: err });
    } finally {
      if (buf.readback.mapState !== 'unmapped') buf.readback.unmap(); // aborts a pending map
      for (const b of Object.values(buf)) pool.release(b);
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
