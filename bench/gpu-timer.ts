import { acquireGpu, type GpuContext } from '../src/gpu/device.ts';

/**
 * Timing of GPU work on one device. With the device's `timestamp-query` feature the compute passes
 * write GPU timestamps and the time is the span from the first pass's start to the last pass's end;
 * without it, the wall time from `queue.submit` to `queue.onSubmittedWorkDone()` (which adds the
 * submission's own overhead, a fraction of a millisecond). Either way the queue is drained first,
 * so earlier work is not counted.
 *
 *     const timer = createGpuTimer(device);
 *     const { ms, method } = await timer.time(({ beginComputePass }) => {
 *       const pass = beginComputePass({ label: 'copy' });
 *       … pass.setPipeline, setBindGroup, dispatchWorkgroups …
 *       pass.end();
 *     });
 *     timer.destroy();
 */

/** How a time was measured. */
export type TimingMethod = 'timestamp' | 'wall';

/** One measurement. */
export interface Timing {
  /** Milliseconds of GPU work (`timestamp`), or from submit to completion (`wall`). */
  ms: number;
  method: TimingMethod;
}

/** What {@link GpuTimer.time} hands the code that records the work. */
export interface TimedEncoder {
  /** The encoder the timer submits; copies and other commands may go here too. */
  readonly encoder: GPUCommandEncoder;
  /** `encoder.beginComputePass`, adding this pass's timestamp writes when the timer uses them. */
  beginComputePass(descriptor?: GPUComputePassDescriptor): GPUComputePassEncoder;
}

export interface GpuTimer {
  /** `'timestamp'` when the device has `timestamp-query`, else `'wall'`. */
  readonly method: TimingMethod;
  /**
   * Records the work with `record` on a fresh encoder, submits it alone and resolves to its time.
   * Calls must not overlap. A timestamp span that is not positive (an implementation that
   * quantises timestamps, work shorter than the quantum) falls back to the wall time, and says so.
   */
  time(record: (enc: TimedEncoder) => void): Promise<Timing>;
  /** Frees the query set and buffers. */
  destroy(): void;
}

/** Options of {@link createGpuTimer}. */
export interface GpuTimerOptions {
  /** Timed compute passes one `time()` call may begin (default 64). */
  maxPasses?: number;
  /** `'wall'` forces wall time on a device that has timestamps. */
  method?: TimingMethod;
}

const QUERY_RESOLVE = 0x200; // GPUBufferUsage.QUERY_RESOLVE, spelled out like src/backends/webgpu.ts
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;

/** A timer for `device`; see the module comment. */
export function createGpuTimer(device: GPUDevice, options: GpuTimerOptions = {}): GpuTimer {
  const useTimestamps = options.method !== 'wall' && device.features.has('timestamp-query');
  return useTimestamps ? timestampTimer(device, options.maxPasses ?? 64) : wallTimer(device);
}

/** Submits `encoder` after draining the queue, and resolves when the GPU has finished it. */
async function submitAndWait(device: GPUDevice, encoder: GPUCommandEncoder): Promise<number> {
  await device.queue.onSubmittedWorkDone();
  const commands = encoder.finish();
  const t0 = performance.now();
  device.queue.submit([commands]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

function wallTimer(device: GPUDevice): GpuTimer {
  return {
    method: 'wall',
    async time(record) {
      const encoder = device.createCommandEncoder({ label: 'timed work' });
      record({ encoder, beginComputePass: (d) => encoder.beginComputePass(d) });
      return { ms: await submitAndWait(device, encoder), method: 'wall' };
    },
    destroy() {},
  };
}

function timestampTimer(device: GPUDevice, maxPasses: number): GpuTimer {
  const count = 2 * maxPasses; // a begin and an end per pass
  const querySet = device.createQuerySet({ label: 'gpu timer', type: 'timestamp', count });
  const resolved = device.createBuffer({ label: 'gpu timer resolve', size: 8 * count, usage: QUERY_RESOLVE | COPY_SRC });
  const readback = device.createBuffer({ label: 'gpu timer readback', size: 8 * count, usage: MAP_READ | COPY_DST });
  let busy = false;
  return {
    method: 'timestamp',
    async time(record) {
      if (busy) throw new Error('GpuTimer.time: the previous measurement has not finished');
      busy = true;
      try {
        const encoder = device.createCommandEncoder({ label: 'timed work' });
        let passes = 0;
        record({
          encoder,
          beginComputePass(descriptor = {}) {
            if (passes === maxPasses) throw new Error(`GpuTimer.time: more than ${maxPasses} compute passes`);
            const timestampWrites = { querySet, beginningOfPassWriteIndex: 2 * passes, endOfPassWriteIndex: 2 * passes + 1 };
            passes++;
            return encoder.beginComputePass({ ...descriptor, timestampWrites });
          },
        });
        if (passes === 0) throw new Error('GpuTimer.time: the work began no compute pass to time');
        const bytes = 16 * passes;
        encoder.resolveQuerySet(querySet, 0, 2 * passes, resolved, 0);
        encoder.copyBufferToBuffer(resolved, 0, readback, 0, bytes);
        const wallMs = await submitAndWait(device, encoder);
        await readback.mapAsync(1 /* GPUMapMode.READ */, 0, bytes);
        const stamps = new BigUint64Array(readback.getMappedRange(0, bytes).slice(0));
        readback.unmap();
        const spanNs = Number(stamps[2 * passes - 1]! - stamps[0]!);
        return spanNs > 0 && spanNs < 1e12 ? { ms: spanNs / 1e6, method: 'timestamp' } : { ms: wallMs, method: 'wall' };
      } finally {
        busy = false;
      }
    },
    destroy() {
      querySet.destroy();
      resolved.destroy();
      readback.destroy();
    },
  };
}

/** A device acquired for timing, with the adapter it came from. */
export type TimedGpu = Pick<GpuContext, 'device' | 'summary' | 'destroy'>;

/** A device with `timestamp-query` where the adapter has it (acquireGpu requests it by default). */
export function acquireTimedGpu(): Promise<TimedGpu> {
  return acquireGpu({ log: false, features: ['timestamp-query'] });
}
