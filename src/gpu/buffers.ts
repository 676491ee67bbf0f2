/**
 * A pool of GPU buffers per device. Forward passes acquire their working buffers here and release
 * them when done, so repeated calls of the same shape allocate nothing; `destroy()` frees them all.
 *
 * Buffers are bucketed by usage and by size rounded up to a power of two (at least 256 bytes), and
 * bound with explicit sizes, so a larger buffer from the bucket serves a smaller request. Free
 * buffers beyond `maxRetainedBytes` are destroyed on release rather than kept.
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly live = new Set<GPUBuffer>();
  private retainedBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxRetainedBytes = 256 * 1024 * 1024,
  ) {}

  /** Number of buffers this pool has created and not destroyed, in use or free. */
  get liveBuffers(): number {
    return this.live.size;
  }

  /** A buffer of at least `size` bytes with exactly `usage`. */
  acquire(label: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const bucketSize = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(size, 1))));
    const key = `${usage}:${bucketSize}`;
    const list = this.free.get(key);
    const reused = list?.pop();
    if (reused) {
      this.retainedBytes -= reused.size;
      reused.label = label;
      return reused;
    }
    const buffer = this.device.createBuffer({ label, size: bucketSize, usage });
    this.live.add(buffer);
    return buffer;
  }

  /** Returns a buffer to the pool (or destroys it when the pool holds enough already). */
  release(buffer: GPUBuffer): void {
    if (!this.live.has(buffer)) return;
    if (this.retainedBytes + buffer.size > this.maxRetainedBytes) {
      this.live.delete(buffer);
      buffer.destroy();
      return;
    }
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
    this.retainedBytes += buffer.size;
  }

  /** Destroys the free buffers, keeping those in use. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.live.delete(b);
        b.destroy();
      }
    }
    this.free.clear();
    this.retainedBytes = 0;
  }

  /** Destroys every buffer the pool created. */
  destroy(): void {
    for (const b of this.live) b.destroy();
    this.live.clear();
    this.free.clear();
    this.retainedBytes = 0;
  }
}
