import { DeviceError } from '../errors.ts';

/** Requests up to this many bytes are rounded up to a power of two (at least 256 bytes). */
export const SMALL_BUFFER_BYTES = 1 << 20;

/** Size classes per doubling above {@link SMALL_BUFFER_BYTES}: at most 1/8 (12.5 %) is wasted. */
const CLASSES_PER_DOUBLING = 8;

/**
 * The size the pool allocates for a request of `size` bytes on a device whose largest buffer is
 * `maxBytes` (its `maxBufferSize`):
 *
 * - up to {@link SMALL_BUFFER_BYTES}, the next power of two, at least 256: small buffers are cheap,
 *   and coarse buckets let one serve many shapes;
 * - above, the next of eight size classes per doubling (2^k·(1 + i/8)), so a large buffer wastes at
 *   most 12.5 % (power-of-two buckets waste up to half of it: a 544 MB request became 1 GiB);
 * - where that passes half of `maxBytes`, the size itself (rounded up to 4 bytes): near the limit
 *   any rounding can pass what the device can allocate even while it is within `maxBufferSize`
 *   (SwiftShader in Node, maxBufferSize 2^30: 2^30 − 4 bytes is refused as out of memory, 2^30 − 128
 *   is allocated).
 *
 * A request above `maxBytes` is returned as it is (rounded to 4 bytes), for the device to refuse
 * (callers check their sizes against the limits before that).
 */
export function bucketBytes(size: number, maxBytes: number): number {
  const need = Math.max(size, 1);
  const exact = Math.ceil(need / 4) * 4;
  let bucket: number;
  if (need <= SMALL_BUFFER_BYTES) {
    bucket = Math.max(256, 2 ** Math.ceil(Math.log2(need)));
  } else {
    // need in (2^k, 2^(k+1)]: classes 2^k + i·2^k/8
    const step = 2 ** Math.floor(Math.log2(need - 1)) / CLASSES_PER_DOUBLING;
    bucket = Math.ceil(need / step) * step;
  }
  // Near the limit, rounding up could pass what the device can allocate: exact sizes there.
  return bucket > maxBytes / 2 ? exact : bucket;
}

/** One buffer a caller needs from {@link BufferPool.acquireAll}. */
export interface BufferRequest {
  label: string;
  size: number;
  usage: GPUBufferUsageFlags;
}

/**
 * A pool of GPU buffers per device. Forward passes acquire their working buffers here and release
 * them when done, so repeated calls of the same shape allocate nothing; `destroy()` frees them all.
 *
 * Buffers are bucketed by usage and by size class ({@link bucketBytes}), and bound with explicit
 * sizes, so a larger buffer from the bucket serves a smaller request. Free buffers beyond
 * `maxRetainedBytes` are destroyed on release rather than kept. New buffers are created inside
 * out-of-memory and validation error scopes ({@link acquireAll}), so a failed allocation is a
 * {@link DeviceError} naming the buffer and its size, never an invalid buffer handed out.
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

  /** Bytes held by free buffers, kept for reuse. */
  get freeBytes(): number {
    return this.retainedBytes;
  }

  /** The bytes a request of `size` takes from the device ({@link bucketBytes} on this device). */
  bucketSize(size: number): number {
    return bucketBytes(size, this.device.limits.maxBufferSize);
  }

  /**
   * Buffers of at least `size` bytes with exactly `usage`, one per request, in order: free ones
   * reused, the others created inside error scopes. When any creation fails (out of memory, or a
   * size the device refuses), every buffer of this call goes (created ones destroyed, reused ones
   * back to the pool) and a {@link DeviceError} names the first failure: what it is, how many bytes,
   * for `what`.
   */
  async acquireAll(requests: readonly BufferRequest[], what: string): Promise<GPUBuffer[]> {
    const out: GPUBuffer[] = [];
    const created: { buffer: GPUBuffer; request: BufferRequest; check: Promise<GPUError | null> }[] = [];
    for (const request of requests) {
      const reused = this.takeFree(request);
      if (reused) {
        out.push(reused);
        continue;
      }
      // One scope pair per buffer, popped at once (scopes nest), so the error names its buffer.
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      const buffer = this.device.createBuffer({ label: request.label, size: this.bucketSize(request.size), usage: request.usage });
      const validation = this.device.popErrorScope();
      const oom = this.device.popErrorScope();
      this.live.add(buffer);
      out.push(buffer);
      created.push({ buffer, request, check: Promise.all([oom, validation]).then(([o, v]) => o ?? v) });
    }
    const errors = await Promise.all(created.map((c) => c.check.catch((e: unknown) => e as Error)));
    const failed = errors.findIndex((e) => e !== null);
    if (failed < 0) return out;
    for (const b of out) {
      if (created.some((c) => c.buffer === b)) this.discard(b);
      else this.release(b);
    }
    const { request } = created[failed]!;
    const error = errors[failed]!;
    const total = requests.reduce((n, r) => n + this.bucketSize(r.size), 0);
    const kind = isOutOfMemory(error) ? 'out of GPU memory' : 'the device refused a buffer';
    const err = new DeviceError(
      `${kind}: the ${request.label} buffer of ${request.size.toLocaleString('en-US')} bytes ` +
        `(${this.bucketSize(request.size).toLocaleString('en-US')} with the pool's rounding) for ${what} could not be created ` +
        `(the call needs ${total.toLocaleString('en-US')} bytes of buffers in all): ${error.message}`,
      { cause: error },
    );
    if (isOutOfMemory(error)) OUT_OF_MEMORY.add(err);
    throw err;
  }

  /** A free buffer for the request, or null. */
  private takeFree(request: BufferRequest): GPUBuffer | null {
    const list = this.free.get(`${request.usage}:${this.bucketSize(request.size)}`);
    const reused = list?.pop();
    if (!reused) return null;
    this.retainedBytes -= reused.size;
    reused.label = request.label;
    return reused;
  }

  /** Returns a buffer to the pool (or destroys it when the pool holds enough already). */
  release(buffer: GPUBuffer): void {
    if (!this.live.has(buffer)) return;
    if (this.retainedBytes + buffer.size > this.maxRetainedBytes) {
      this.discard(buffer);
      return;
    }
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
    this.retainedBytes += buffer.size;
  }

  /** Destroys a buffer of this pool instead of keeping it (its contents or validity are in doubt). */
  discard(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) return;
    buffer.destroy();
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

/** DeviceErrors thrown for an allocation the device had no memory for (see {@link isOutOfMemoryError}). */
const OUT_OF_MEMORY = new WeakSet<Error>();

function isOutOfMemory(error: GPUError | Error): boolean {
  const OOM = (globalThis as { GPUOutOfMemoryError?: abstract new (...args: never[]) => GPUError }).GPUOutOfMemoryError;
  return (OOM !== undefined && error instanceof OOM) || error.constructor?.name === 'GPUOutOfMemoryError';
}

/**
 * Whether `err` is the {@link DeviceError} of an allocation that ran out of device memory (as
 * opposed to a limit or a lost device): a smaller batch chunk may still fit.
 */
export function isOutOfMemoryError(err: unknown): boolean {
  return err instanceof Error && OUT_OF_MEMORY.has(err);
}

/** Marks a DeviceError as an out-of-memory failure (for errors raised outside the pool, e.g. a queue write). */
export function markOutOfMemory(err: DeviceError): DeviceError {
  OUT_OF_MEMORY.add(err);
  return err;
}
