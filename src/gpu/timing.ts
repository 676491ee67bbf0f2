/**
 * How long one program's GPU work took, for benchmarks (`WebGPUBackend.create({ timing: true })`):
 * with the device's `timestamp-query` feature every compute pass writes a timestamp at its start and
 * end, and the time is the span from the first pass's start to the last pass's end (submissions in
 * between included); without it, the wall time from the first submission until the queue reports the
 * work done. Uploads before the first pass and the readback after the last are not counted.
 */
export type TimingMethod = 'timestamp' | 'wall';

export interface GpuTiming {
  ms: number;
  method: TimingMethod;
}

const QUERY_RESOLVE = 0x200;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;

/** Timing of one program of `passes` compute passes (see the module comment). */
export class PassTimer {
  private readonly querySet: GPUQuerySet | null;
  private readonly resolved: GPUBuffer | null;
  private readonly readback: GPUBuffer | null;
  private firstSubmit: number | null = null;

  constructor(
    private readonly device: GPUDevice,
    private readonly passes: number,
  ) {
    const stamps = device.features.has('timestamp-query') && passes > 0;
    const count = 2 * passes;
    this.querySet = stamps ? device.createQuerySet({ label: 'pass timer', type: 'timestamp', count }) : null;
    this.resolved = stamps ? device.createBuffer({ label: 'pass timer resolve', size: 8 * count, usage: QUERY_RESOLVE | COPY_SRC }) : null;
    this.readback = stamps ? device.createBuffer({ label: 'pass timer readback', size: 8 * count, usage: MAP_READ | COPY_DST }) : null;
  }

  /** The timestamp writes of pass n, to spread into its descriptor. */
  passWrites(n: number): { timestampWrites?: GPUComputePassTimestampWrites } {
    if (!this.querySet) return {};
    return { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * n, endOfPassWriteIndex: 2 * n + 1 } };
  }

  /** Call before every `queue.submit` of the program. */
  submitting(): void {
    this.firstSubmit ??= performance.now();
  }

  /** Records the resolve of every timestamp into `encoder` (the program's last one, before its submit). */
  resolve(encoder: GPUCommandEncoder): void {
    if (!this.querySet) return;
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.passes, this.resolved!, 0);
    encoder.copyBufferToBuffer(this.resolved!, 0, this.readback!, 0, 16 * this.passes);
  }

  /** After the program's last submit: waits for the GPU and gives the time. */
  async finish(): Promise<GpuTiming> {
    await this.device.queue.onSubmittedWorkDone();
    const wallMs = performance.now() - (this.firstSubmit ?? performance.now());
    if (!this.readback) return { ms: wallMs, method: 'wall' };
    await this.readback.mapAsync(1 /* GPUMapMode.READ */);
    const stamps = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    const spanNs = Number(stamps[2 * this.passes - 1]! - stamps[0]!);
    // An implementation may quantise timestamps or leave them unwritten: then the wall time stands.
    return spanNs > 0 && spanNs < 1e12 ? { ms: spanNs / 1e6, method: 'timestamp' } : { ms: wallMs, method: 'wall' };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolved?.destroy();
    this.readback?.destroy();
  }
}
