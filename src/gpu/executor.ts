import { DeviceError } from '../errors.ts';
import { BufferPool, isOutOfMemoryError, markOutOfMemory, type BufferRequest } from './buffers.ts';
import { CHUNK_BYTES, footprint, MACS_PER_SUBMISSION, MIN_CHUNK_SEQUENCES, planChunk, type ChunkLimits, type ChunkWork } from './chunks.ts';
import { checkKernel, encodeUniforms } from './kernel.ts';
import { getPipeline } from './pipelines.ts';
import { programBufferBytes, type Program, type ProgramRunner, type RunOptions } from './program.ts';
import { GpuTimer, type GpuTiming } from './timer.ts';
import { BUFFER_USAGE, MAP_MODE_READ } from './usage.ts';
import { unpackHalves } from '../util/f16.ts';

/** Options of a {@link ProgramExecutor} (WebGPUBackend's tuning options of the same names). */
export interface ExecutorOptions {
  /** Fill every read-back buffer without data with NaN before the program (tests: unwritten elements show). */
  poisonOutputs?: boolean;
  /** Time every program's GPU work into {@link ProgramExecutor.lastTiming} (benchmarks; a wait per program). */
  timing?: boolean;
  /** Bind at most this many bytes at once (default: the device's limit); for tests of the chunking. */
  maxBindingBytes?: number;
}

/**
 * The one executor of GPU programs (src/gpu/program.ts) on a device: `run` checks every size against
 * the device's limits before any GPU work, takes buffers from its pool, builds or finds the
 * pipelines (checking each kernel's named bindings against its WGSL), uploads, writes each
 * dispatch's uniforms, binds by name, dispatches (one submission per `submit` mark and one at the
 * end) and reads back; `runChunked` runs a batch as programs over chunks of it, sized to the device.
 */
export class ProgramExecutor implements ProgramRunner {
  /** Buffers the programs allocated; public so tests can check that nothing leaks. */
  readonly pool: BufferPool;
  /**
   * With `timing`: the GPU time of the programs run since the caller last set this to null (a call
   * may run several, one per batch chunk: their times add up). Null until then.
   */
  lastTiming: GpuTiming | null = null;
  private lostReason: string | null = null;
  private disposed = false;

  constructor(
    readonly device: GPUDevice,
    private readonly options: ExecutorOptions = {},
  ) {
    this.pool = new BufferPool(device);
    device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
    });
  }

  /** Throws a DeviceError once the executor was disposed or its device lost. */
  checkUsable(): void {
    if (this.disposed) throw new DeviceError('this WebGPU backend was disposed');
    if (this.lostReason) throw new DeviceError(`the WebGPU device was lost (${this.lostReason})`);
  }

  /** The largest buffer this device binds at once (or the test override). */
  get bindingLimit(): number {
    const { maxStorageBufferBindingSize, maxBufferSize } = this.device.limits;
    return Math.min(maxStorageBufferBindingSize, maxBufferSize, this.options.maxBindingBytes ?? Infinity);
  }

  /** The most bytes one program may read back: they are copied into one buffer, within maxBufferSize. */
  get readbackLimit(): number {
    return this.device.limits.maxBufferSize;
  }

  /** What a batch chunk may take on this device (src/gpu/chunks.ts). */
  get chunkLimits(): ChunkLimits {
    return {
      bindingBytes: this.bindingLimit,
      readbackBytes: this.readbackLimit,
      chunkBytes: CHUNK_BYTES,
      macsPerSubmission: MACS_PER_SUBMISSION,
      minSequences: MIN_CHUNK_SEQUENCES,
    };
  }

  /** Throws before any GPU work when a buffer of `bytes` would exceed the device's binding limit. */
  checkFits(what: string, bytes: number, advice = 'split the batch'): void {
    const limit = this.bindingLimit;
    if (bytes > limit) throw new DeviceError(`${what} needs ${bytes} bytes, more than this device binds at once (${limit}); ${advice}`);
  }

  runProgram(program: Program, options: RunOptions = {}): Promise<Record<string, Float32Array>> {
    this.checkUsable();
    return this.run(program, options.deferred ?? null);
  }

  /**
   * Runs a batch of `batch` sequences as programs over chunks of it, in order: `build(b0, b1)` makes
   * the program of sequences b0 … b1−1, `take` stores its results. Chunks are whole `unit`s
   * (per-series models: one model's sequences) and sized by src/gpu/chunks.ts `planChunk` (every
   * binding, the combined readback, a memory target). A chunk the device has no memory for is tried
   * again at half its size, after the pool's free buffers are released, down to one unit: the
   * largest batch the adapter holds still runs.
   */
  async runChunked(
    batch: number,
    unit: number,
    work: ChunkWork,
    build: (b0: number, b1: number) => Program,
    take: (out: Record<string, Float32Array>, b0: number, b1: number) => void,
  ): Promise<void> {
    this.checkUsable();
    // The last program measured is that of the first chunk: built once.
    const measured = { n: 0, program: null as Program | null };
    const measure = (n: number) => {
      measured.n = n;
      measured.program = build(0, n);
      return footprint(measured.program);
    };
    let n = planChunk(batch, unit, measure, this.chunkLimits, work);
    for (let b0 = 0; b0 < batch; ) {
      const b1 = Math.min(batch, b0 + n);
      const chunk = b0 === 0 && measured.n === b1 && measured.program ? measured.program : build(b0, b1);
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
   * Runs a program: uploads, dispatches, reads back the buffers marked `read` as float32 in the order
   * they are listed. Absent inputs are bound as 4-byte placeholders the kernels never read. WebGPU
   * errors become {@link DeviceError}s naming `what`; a buffer the device has no memory for is one
   * naming the buffer and its size (src/gpu/buffers.ts), before any upload. After a failure every
   * buffer of the program is destroyed rather than pooled (its state is unknown), so nothing leaks
   * or is reused.
   */
  private async run(program: Program, deferred: Promise<DeviceError | null>[] | null = null): Promise<Record<string, Float32Array>> {
    const entries = Object.entries(program.buffers);
    if (deferred && (this.options.timing || entries.some(([, b]) => b.read))) {
      throw new DeviceError(`${program.what}: a deferred program cannot read buffers back or be timed`);
    }
    const bytesOf = programBufferBytes;
    const offsetOf = (name: string) => program.buffers[name]!.offset ?? 0;
    for (const [name, b] of entries) this.checkFits(`the ${name} buffer`, bytesOf(b));
    const read = entries.filter(([, b]) => b.read);
    const readbackBytes = read.reduce((n, [, b]) => n + bytesOf(b), 0);
    if (readbackBytes > this.readbackLimit) {
      // The readback buffer is never bound: only the device's buffer size limit applies.
      throw new DeviceError(
        `${program.what} reads back ${readbackBytes} bytes, more than one buffer holds on this device (${this.readbackLimit}); split the batch`,
      );
    }

    const device = this.device;
    const specs = program.dispatches.map((d) => ({ ...d.kernel, constants: d.constants }));
    const pipelines = await Promise.all(specs.map((spec) => getPipeline(device, spec)));
    // Every binding by its number and every uniform struct by field name, from the WGSL itself.
    const layouts = program.dispatches.map((d) => {
      const what = `${program.what}: kernel ${d.kernel.name}`;
      const found = checkKernel(d.kernel);
      for (const name of d.kernel.bindings) {
        const buffer = d.bind[name];
        if (buffer === undefined || !program.buffers[buffer])
          throw new Error(`${what} binds ${name} to ${buffer === undefined ? 'nothing' : `${buffer}, which the program does not have`}`);
      }
      const extra = Object.keys(d.bind).filter((name) => !found.storage.has(name));
      if (extra.length) throw new Error(`${what} has no binding ${extra.join(', ')}`);
      return { found, uniforms: encodeUniforms(found, d.uniforms, what) };
    });
    this.checkUsable();

    // Every dispatch's uniforms in one buffer, each at its own aligned slot, written once: a program
    // of many small dispatches (the step-wise layer's one per step) costs one write, not one each.
    const uniformSlot = alignUp(
      Math.max(16, ...layouts.map((l) => l.uniforms?.byteLength ?? 0)),
      device.limits.minUniformBufferOffsetAlignment,
    );
    const allUniforms = new Uint8Array(uniformSlot * program.dispatches.length);
    layouts.forEach((l, n) => l.uniforms && allUniforms.set(l.uniforms, n * uniformSlot));

    const pool = this.pool;
    const owned = entries.filter(([, b]) => !b.external);
    const requests: BufferRequest[] = [
      ...owned.map(([name, b]) => ({ label: name, size: bytesOf(b), usage: BUFFER_USAGE.storage })),
      { label: `${program.what} uniforms`, size: Math.max(16, allUniforms.byteLength), usage: BUFFER_USAGE.uniform },
      { label: `${program.what} readback`, size: Math.max(readbackBytes, 4), usage: BUFFER_USAGE.readback },
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
    const uniformBuffer = acquired[owned.length]!;
    const readback = acquired.at(-1)!;
    let failed = true;
    let timer: GpuTimer | null = null;
    try {
      const queue = device.queue;
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      if (this.options.timing) timer = new GpuTimer(device, { maxPasses: program.dispatches.length });
      for (const [name, b] of owned) {
        const buffer = buffers.get(name)!;
        if (b.data) queue.writeBuffer(buffer, 0, b.data);
        // All bits set: NaN as float32, and as each f16 half of an f16 buffer.
        else if (b.read && this.options.poisonOutputs) queue.writeBuffer(buffer, 0, new Uint32Array(bytesOf(b) / 4).fill(0xffffffff));
      }
      if (allUniforms.byteLength) queue.writeBuffer(uniformBuffer, 0, allUniforms);
      let encoder = device.createCommandEncoder({ label: program.what });
      timer?.begin();
      program.dispatches.forEach((d, n) => {
        const { found, uniforms } = layouts[n]!;
        const entries: GPUBindGroupEntry[] = [...found.storage].map(([name, binding]) => {
          const buffer = d.bind[name]!;
          return { binding, resource: { buffer: buffers.get(buffer)!, offset: offsetOf(buffer), size: bytesOf(program.buffers[buffer]!) } };
        });
        if (uniforms) {
          entries.push({
            binding: found.uniform!.binding,
            resource: { buffer: uniformBuffer, offset: n * uniformSlot, size: uniforms.byteLength },
          });
        }
        const bindGroup = device.createBindGroup({ label: d.kernel.name, layout: pipelines[n]!.getBindGroupLayout(0), entries });
        const pass = encoder.beginComputePass({ label: d.kernel.name, ...timer?.passWrites() });
        pass.setPipeline(pipelines[n]!);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(d.grid[0], d.grid[1]);
        pass.end();
        for (const [from, to, bytes] of d.copies ?? []) {
          encoder.copyBufferToBuffer(
            buffers.get(from)!,
            offsetOf(from),
            buffers.get(to)!,
            offsetOf(to),
            bytes ?? bytesOf(program.buffers[from]!),
          );
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
        deferred.push(
          scopes.catch((err: unknown) => new DeviceError(`${program.what} failed on the GPU: ${(err as Error).message}`, { cause: err })),
        );
        failed = false;
        return {};
      }
      if (timer) {
        const t = await timer.finish();
        this.lastTiming = { ms: (this.lastTiming?.ms ?? 0) + t.ms, method: t.method };
      }
      const scopeError = await scopes;
      if (scopeError) throw scopeError;

      const results: Record<string, Float32Array> = {};
      if (readbackBytes > 0) {
        await readback.mapAsync(MAP_MODE_READ, 0, readbackBytes);
        const mapped = readback.getMappedRange(0, readbackBytes);
        offset = 0;
        for (const [name, b] of read) {
          results[name] = b.f16
            ? unpackHalves(new Uint32Array(mapped, offset, bytesOf(b) / 4))
            : new Float32Array(mapped, offset, bytesOf(b) / 4).slice();
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
      timer?.destroy();
      if (readback.mapState !== 'unmapped') readback.unmap(); // aborts a pending map
      for (const b of acquired) {
        if (failed) pool.discard(b);
        else pool.release(b);
      }
    }
  }

  /** Destroys the buffers of the pool; later calls throw a DeviceError. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.destroy();
  }
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
