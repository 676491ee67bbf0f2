import { BUFFER_USAGE, MAP_MODE_READ } from './usage.ts';

/**
 * The GPU timer of the library (`WebGPUBackend`'s `timing` option) and of the benchmark
 * (bench/ceilings.ts). With the device's `timestamp-query` feature every timed compute pass writes a
 * timestamp at its start and end, and a measurement's time is the span from its first pass's start
 * to its last pass's end (submissions in between included); without it, the wall time from the
 * first submission until the queue reports the work done (which adds the submission's own overhead,
 * a fraction of a millisecond). Uploads before the first pass and readbacks after the last are not
 * counted. A timestamp span that is not positive (an implementation that quantises timestamps, or
 * leaves them unwritten) falls back to the wall time, and says so.
 *
 *     const timer = createGpuTimer(device);
 *     const { ms, method } = await timer.time(({ beginComputePass }) => {
 *       const pass = beginComputePass({ label: 'copy' });
 *       … pass.setPipeline, setBindGroup, dispatchWorkgroups …
 *       pass.end();
 *     });
 *     timer.destroy();
 *
 * A measurement spread over several encoders and submissions (a program) calls the steps itself:
 * {@link GpuTimer.begin}, {@link GpuTimer.passWrites} per pass, {@link GpuTimer.submitting} before
 * each submit, {@link GpuTimer.resolve} into the last encoder, {@link GpuTimer.finish} after it.
 */

/** How a time was measured. */
export type TimingMethod = 'timestamp' | 'wall';

/** One measurement. */
export interface GpuTiming {
  /** Milliseconds of GPU work (`timestamp`), or from the first submit to completion (`wall`). */
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

/** Options of {@link createGpuTimer}. */
export interface GpuTimerOptions {
  /** Timed compute passes one measurement may hold (default 64). */
  maxPasses?: number;
  /** `'wall'` forces wall time on a device that has timestamps. */
  method?: TimingMethod;
}

/** A timer of GPU work on one device; see the module comment. */
export class GpuTimer {
  /** `'timestamp'` when the device has `timestamp-query` (and it was not refused), else `'wall'`. */
  readonly method: TimingMethod;
  private readonly maxPasses: number;
  private readonly querySet: GPUQuerySet | null = null;
  private readonly resolved: GPUBuffer | null = null;
  private readonly readback: GPUBuffer | null = null;
  private passes = 0;
  private firstSubmit: number | null = null;
  private busy = false;

  constructor(
    private readonly device: GPUDevice,
    options: GpuTimerOptions = {},
  ) {
    this.maxPasses = options.maxPasses ?? 64;
    this.method = options.method !== 'wall' && device.features.has('timestamp-query') && this.maxPasses > 0 ? 'timestamp' : 'wall';
    if (this.method === 'timestamp') {
      const count = 2 * this.maxPasses; // a begin and an end per pass
      this.querySet = device.createQuerySet({ label: 'gpu timer', type: 'timestamp', count });
      this.resolved = device.createBuffer({ label: 'gpu timer resolve', size: 8 * count, usage: BUFFER_USAGE.queryResolve });
      this.readback = device.createBuffer({ label: 'gpu timer readback', size: 8 * count, usage: BUFFER_USAGE.readback });
    }
  }

  /** Starts a measurement. Measurements must not overlap. */
  begin(): void {
    if (this.busy) throw new Error('GpuTimer: the previous measurement has not finished');
    this.busy = true;
    this.passes = 0;
    this.firstSubmit = null;
  }

  /** The timestamp writes of the measurement's next compute pass, to spread into its descriptor. */
  passWrites(): { timestampWrites?: GPUComputePassTimestampWrites } {
    if (!this.querySet) return {};
    if (this.passes === this.maxPasses) throw new Error(`GpuTimer: more than ${this.maxPasses} compute passes`);
    const n = this.passes++;
    return { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * n, endOfPassWriteIndex: 2 * n + 1 } };
  }

  /** Call before every `queue.submit` of the measurement. */
  submitting(): void {
    this.firstSubmit ??= performance.now();
  }

  /** Records the resolve of the measurement's timestamps into `encoder` (its last one, before its submit). */
  resolve(encoder: GPUCommandEncoder): void {
    if (!this.querySet || this.passes === 0) return;
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.passes, this.resolved!, 0);
    encoder.copyBufferToBuffer(this.resolved!, 0, this.readback!, 0, 16 * this.passes);
  }

  /** After the measurement's last submit: waits for the GPU and gives the time. */
  async finish(): Promise<GpuTiming> {
    try {
      await this.device.queue.onSubmittedWorkDone();
      const wallMs = performance.now() - (this.firstSubmit ?? performance.now());
      if (!this.readback || this.passes === 0) return { ms: wallMs, method: 'wall' };
      const bytes = 16 * this.passes;
      await this.readback.mapAsync(MAP_MODE_READ, 0, bytes);
      const stamps = new BigUint64Array(this.readback.getMappedRange(0, bytes).slice(0));
      this.readback.unmap();
      const spanNs = Number(stamps[2 * this.passes - 1]! - stamps[0]!);
      return spanNs > 0 && spanNs < 1e12 ? { ms: spanNs / 1e6, method: 'timestamp' } : { ms: wallMs, method: 'wall' };
    } finally {
      this.busy = false;
    }
  }

  /**
   * Records the work with `record` on a fresh encoder, submits it alone once earlier work is done
   * (so that is not counted) and resolves to its time.
   */
  async time(record: (enc: TimedEncoder) => void): Promise<GpuTiming> {
    this.begin();
    try {
      const encoder = this.device.createCommandEncoder({ label: 'timed work' });
      let began = 0;
      record({
        encoder,
        beginComputePass: (descriptor = {}) => {
          began++;
          return encoder.beginComputePass({ ...descriptor, ...this.passWrites() });
        },
      });
      // Timestamps come from compute passes: without one there is nothing to time them by.
      if (began === 0 && this.method === 'timestamp') throw new Error('GpuTimer.time: the work began no compute pass to time');
      this.resolve(encoder);
      const commands = encoder.finish();
      await this.device.queue.onSubmittedWorkDone();
      this.submitting();
      this.device.queue.submit([commands]);
    } catch (err) {
      this.busy = false;
      throw err;
    }
    return this.finish();
  }

  /** Frees the query set and buffers. */
  destroy(): void {
    this.querySet?.destroy();
    this.resolved?.destroy();
    this.readback?.destroy();
  }
}

/** A timer for `device`; see the module comment. */
export function createGpuTimer(device: GPUDevice, options: GpuTimerOptions = {}): GpuTimer {
  return new GpuTimer(device, options);
}
