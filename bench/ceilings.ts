import copySource from '../shaders/benchmark/bench_copy.wgsl?raw';
import matmulSource from '../shaders/benchmark/bench_matmul.wgsl?raw';
import { workgroupGrid } from '../src/gpu/grid.ts';
import { getPipeline } from '../src/gpu/pipelines.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuTimer, type GpuTimer, type TimedEncoder, type GpuTiming as Timing, type TimingMethod } from '../src/gpu/timer.ts';
import { USAGE_FLAGS } from '../src/gpu/usage.ts';

/**
 * The adapter's own ceilings, measured on the device the benchmark runs on, so that webrnn's kernels
 * can be given as a share of them: a plain copy (GB/s, bytes read + bytes written per second) and a
 * tiled matrix multiply (GFLOP/s, 2·M·N·K per second). Each kernel is validated first (the copy
 * exactly, the product against a float64 CPU product), then warmed up; the figure is the median of
 * several runs, timed with GPU timestamps when the device has them (src/gpu/timer.ts).
 *
 *     node scripts/vite-run.mjs bench/kit.ts --sections info,ceilings   # this adapter's, alone
 *
 * (No `if main` block here: the GPU kit bundles this module into one file with others, where such a
 * check would fire for every module.)
 */

/**
 * One kernel of shaders/benchmark/bench_matmul.wgsl: `tiled` (entry point `main`, A and B tiles staged in
 * workgroup memory) or `direct` (`main_direct`, no workgroup memory); invocations per workgroup
 * along n (x) and m (y); the depth of one K step of the tiled kernel (a multiple of 4). Each
 * invocation computes a 4 × 4 block of C.
 */
export interface MatmulVariant {
  kernel: 'tiled' | 'direct';
  workgroupX: number;
  workgroupY: number;
  tileK: number;
}

/**
 * The kernels each size is tried with, the fastest being timed: blocks of C of 64 × 64 and 32 × 32
 * per workgroup with K in steps of 16 (for GPUs), and the direct kernel (for CPU implementations,
 * where it was the fastest on SwiftShader).
 */
export const MATMUL_VARIANTS: readonly MatmulVariant[] = [
  { kernel: 'tiled', workgroupX: 16, workgroupY: 16, tileK: 16 },
  { kernel: 'tiled', workgroupX: 8, workgroupY: 8, tileK: 16 },
  { kernel: 'direct', workgroupX: 8, workgroupY: 8, tileK: 16 },
];

/** `tiled 16×16 k16`, `direct 8×8`. */
export function variantName(v: MatmulVariant): string {
  return `${v.kernel} ${v.workgroupX}×${v.workgroupY}${v.kernel === 'tiled' ? ` k${v.tileK}` : ''}`;
}

/** A matrix product's sizes: C[m, n] = A[m, k] · B[k, n]. A number n means n × n × n. */
export type MatmulSize = number | [m: number, n: number, k: number];

export interface CeilingsOptions {
  /**
   * Bytes the timed copy moves each way (default: 16 MiB, doubled up to 256 MiB, or what the
   * device binds, for as long as one run is predicted to stay under {@link RUN_BUDGET_MS}).
   */
  copyBytes?: number;
  /**
   * Products to time (default: 256³, then 512³, 1024³, 2048³ and 4096³ for as long as one run is
   * predicted, from the previous size, to stay under {@link RUN_BUDGET_MS}).
   */
  matmulSizes?: MatmulSize[];
  /** Timed runs per kernel; the median is reported (default 5). */
  runs?: number;
  /** Receives one line per measurement (default: silent). */
  log?: (line: string) => void;
}

export interface CopyCeiling {
  /** (bytes read + bytes written) / time, in 10⁹ bytes per second. */
  gbps: number;
  /** Bytes copied (each is read once and written once). */
  bytes: number;
  /** Median milliseconds of one copy. */
  ms: number;
  method: TimingMethod;
}

export interface MatmulCeiling {
  /** 2·m·n·k / time, in 10⁹ floating-point operations per second. */
  gflops: number;
  m: number;
  n: number;
  k: number;
  /** Median milliseconds of one product. */
  ms: number;
  method: TimingMethod;
  /** The fastest of {@link MATMUL_VARIANTS} at this size, the one timed ({@link variantName}). */
  kernel: string;
  /** Largest |GPU − float64| over the rows spot-checked at this size. */
  maxAbsError: number;
}

export interface Ceilings {
  copy: CopyCeiling;
  matmul: MatmulCeiling[];
  /** `copy.gbps`, and the best `matmul[].gflops`: the two figures bench/harness.ts divides by. */
  copyGBs: number;
  matmulGflops: number;
}

/** A default size is measured while one run is predicted to take at most this long. */
export const RUN_BUDGET_MS = 1000;
const MATMUL_LADDER = [256, 512, 1024, 2048, 4096];
const COPY_BYTES = { first: 16 * 2 ** 20, last: 256 * 2 ** 20 };
const COPY_WORKGROUP = 256;

const { STORAGE, UNIFORM, COPY_DST, COPY_SRC, MAP_READ } = USAGE_FLAGS;

// ---------------------------------------------------------------------------------------------
// Reference and checks

/**
 * Rows `rows` of A·B in float64, with Σ_k |A[i,k]·B[k,j]| for each element: the scale of the
 * rounding error a float32 dot product may make.
 */
function referenceRows(a: Float32Array, b: Float32Array, n: number, k: number, rows: readonly number[]) {
  const value = new Float64Array(rows.length * n);
  const scale = new Float64Array(rows.length * n);
  rows.forEach((i, r) => {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      for (let j = 0; j < n; j++) {
        const t = aip * b[p * n + j]!;
        value[r * n + j]! += t;
        scale[r * n + j]! += Math.abs(t);
      }
    }
  });
  return { value, scale };
}

/** The float64 product A·B, row-major `[m, n]`. */
export function cpuMatmul(a: Float32Array, b: Float32Array, m: number, n: number, k: number): Float64Array {
  return referenceRows(
    a,
    b,
    n,
    k,
    Array.from({ length: m }, (_, i) => i),
  ).value;
}

/** Result of {@link checkMatmul}. */
export interface MatmulCheck {
  ok: boolean;
  maxAbsError: number;
  /** The first element out of tolerance, or `max abs error …`. */
  message: string;
}

/**
 * Checks rows `rows` of a GPU product (`got` holds those rows, `[rows.length, n]`) against float64:
 * |got − ref| ≤ 1e-5 · Σ_k |A[i,k]·B[k,j]|. float32 rounding over k terms stays far below that
 * (about √k · 6e-8 of the sum on random data); a wrong, missing or doubled term is of the order of
 * the sum itself. NaN never passes.
 */
export function checkMatmul(
  got: Float32Array,
  a: Float32Array,
  b: Float32Array,
  n: number,
  k: number,
  rows: readonly number[],
): MatmulCheck {
  const { value, scale } = referenceRows(a, b, n, k, rows);
  let maxAbsError = 0;
  for (let e = 0; e < value.length; e++) {
    const err = Math.abs(got[e]! - value[e]!);
    if (!(err <= 1e-5 * scale[e]!)) {
      const where = `C[${rows[Math.floor(e / n)]}, ${e % n}]`;
      return {
        ok: false,
        maxAbsError: Number.isNaN(err) ? NaN : Math.max(maxAbsError, err),
        message: `${where} = ${got[e]}, expected ${value[e]}`,
      };
    }
    maxAbsError = Math.max(maxAbsError, err);
  }
  return { ok: true, maxAbsError, message: `max abs error ${maxAbsError.toExponential(2)}` };
}

// ---------------------------------------------------------------------------------------------
// Device helpers

/** A buffer holding `floats` float32 values, padded to a whole vec4 as the shaders declare them. */
function floatBuffer(device: GPUDevice, label: string, floats: number, usage: GPUBufferUsageFlags): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(16, Math.ceil(floats / 4) * 16), usage });
}

/** `count` floats of `buffer` from float `at` (the buffer needs COPY_SRC). */
async function readFloats(device: GPUDevice, buffer: GPUBuffer, at: number, count: number): Promise<Float32Array> {
  const staging = device.createBuffer({ label: `${buffer.label} readback`, size: count * 4, usage: MAP_READ | COPY_DST });
  try {
    const encoder = device.createCommandEncoder({ label: staging.label });
    encoder.copyBufferToBuffer(buffer, at * 4, staging, 0, count * 4);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(1 /* GPUMapMode.READ */);
    return new Float32Array(staging.getMappedRange().slice(0));
  } finally {
    staging.destroy();
  }
}

/** Records and submits work the way {@link GpuTimer.time} does, without timing it. */
function submit(device: GPUDevice, record: (enc: TimedEncoder) => void): Promise<undefined> {
  const encoder = device.createCommandEncoder();
  record({ encoder, beginComputePass: (d) => encoder.beginComputePass(d) });
  device.queue.submit([encoder.finish()]);
  return device.queue.onSubmittedWorkDone();
}

/** Runs `fn` inside validation and out-of-memory error scopes; throws what WebGPU reported. */
async function scoped<T>(device: GPUDevice, what: string, fn: () => Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T | undefined;
  let failure: unknown = null;
  try {
    result = await fn();
  } catch (e) {
    failure = e;
  }
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  const error = validation ?? oom;
  if (error) throw new Error(`${what}: WebGPU reported: ${error.message}`);
  if (failure) throw failure;
  return result as T;
}

/** Encodes `times` dispatches of `pipeline` over `grid` workgroups in one compute pass of their own. */
function dispatch(
  enc: TimedEncoder,
  label: string,
  pipeline: GPUComputePipeline,
  bindGroup: GPUBindGroup,
  grid: readonly number[],
  times = 1,
) {
  const pass = enc.beginComputePass({ label });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  for (let i = 0; i < times; i++) pass.dispatchWorkgroups(grid[0]!, grid[1] ?? 1);
  pass.end();
}

// ---------------------------------------------------------------------------------------------
// Kernels

/** shaders/benchmark/bench_copy.wgsl over `floats` floats: source and destination, ready to dispatch. */
export class CopyKernel {
  private constructor(
    private readonly device: GPUDevice,
    readonly floats: number,
    private readonly src: GPUBuffer,
    private readonly dst: GPUBuffer,
    private readonly pipeline: GPUComputePipeline,
    private readonly bindGroup: GPUBindGroup,
    private readonly grid: [number, number],
  ) {}

  static async create(device: GPUDevice, floats: number): Promise<CopyKernel> {
    const pipeline = await getPipeline(device, { name: 'bench_copy', code: copySource, constants: { WORKGROUP_SIZE: COPY_WORKGROUP } });
    const src = floatBuffer(device, 'bench_copy src', floats, STORAGE | COPY_DST);
    const dst = floatBuffer(device, 'bench_copy dst', floats, STORAGE | COPY_SRC);
    const bindGroup = device.createBindGroup({
      label: 'bench_copy',
      layout: pipeline.getBindGroupLayout(0),
      entries: [src, dst].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const grid = workgroupGrid(src.size / 16, COPY_WORKGROUP, device.limits.maxComputeWorkgroupsPerDimension);
    return new CopyKernel(device, floats, src, dst, pipeline, bindGroup, grid);
  }

  /** Bytes one copy reads (and writes): the floats asked for. */
  get bytes(): number {
    return this.floats * 4;
  }

  /** Writes `data` into the source from float `at`. */
  write(data: Float32Array, at = 0): void {
    this.device.queue.writeBuffer(this.src, at * 4, data);
  }

  /** `count` floats of the destination from float `at`. */
  read(at = 0, count = this.floats - at): Promise<Float32Array> {
    return readFloats(this.device, this.dst, at, count);
  }

  /** Records one copy, in a compute pass of its own (for {@link GpuTimer.time}). */
  encode = (enc: TimedEncoder): void => dispatch(enc, 'bench_copy', this.pipeline, this.bindGroup, this.grid);

  /** Records `times` copies back to back in one compute pass: what a dispatch costs beyond its work. */
  encodeRepeated(enc: TimedEncoder, times: number): void {
    dispatch(enc, 'bench_copy ×' + times, this.pipeline, this.bindGroup, this.grid, times);
  }

  destroy(): void {
    this.src.destroy();
    this.dst.destroy();
  }
}

/** The matrices of C[m, n] = A[m, k] · B[k, n] on the device, and the kernels of shaders/benchmark/bench_matmul.wgsl over them. */
export class MatmulKernel {
  private constructor(
    private readonly device: GPUDevice,
    readonly m: number,
    readonly n: number,
    readonly k: number,
    private readonly buffers: { dims: GPUBuffer; ab: GPUBuffer; c: GPUBuffer },
    /** Where B starts in `ab`, in floats: A's size rounded up to a whole vec4. */
    private readonly bStart: number,
  ) {}

  static create(device: GPUDevice, [m, n, k]: [number, number, number]): MatmulKernel {
    const bStart = Math.ceil((m * k) / 4) * 4;
    const dims = device.createBuffer({ label: 'bench_matmul dims', size: 16, usage: UNIFORM | COPY_DST });
    device.queue.writeBuffer(dims, 0, new Uint32Array([m, n, k, bStart]));
    return new MatmulKernel(
      device,
      m,
      n,
      k,
      {
        dims,
        ab: floatBuffer(device, 'bench_matmul A|B', bStart + k * n, STORAGE | COPY_DST),
        c: floatBuffer(device, 'bench_matmul C', m * n, STORAGE | COPY_SRC),
      },
      bStart,
    );
  }

  /** Floating-point operations of one product. */
  get flops(): number {
    return 2 * this.m * this.n * this.k;
  }

  /** What records one product C = A·B with `variant`. */
  async program(variant: MatmulVariant): Promise<(enc: TimedEncoder) => void> {
    const { device, m, n, k, buffers } = this;
    const grid = [Math.ceil(n / (4 * variant.workgroupX)), Math.ceil(m / (4 * variant.workgroupY))];
    if (Math.max(...grid) > device.limits.maxComputeWorkgroupsPerDimension) {
      throw new Error(`matmul ${m}×${n}×${k}: ${grid.join('×')} workgroups exceed the device's grid`);
    }
    const pipeline = await getPipeline(device, {
      name: 'bench_matmul',
      code: matmulSource,
      entryPoint: variant.kernel === 'tiled' ? 'main' : 'main_direct',
      constants: {
        WG_X: variant.workgroupX,
        WG_Y: variant.workgroupY,
        TILE_K: variant.tileK,
        VEC4: n % 4 === 0 && k % 4 === 0 ? 1 : 0,
      },
    });
    const bindGroup = device.createBindGroup({
      label: 'bench_matmul',
      layout: pipeline.getBindGroupLayout(0),
      entries: [buffers.dims, buffers.ab, buffers.c].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return (enc) => dispatch(enc, `bench_matmul ${variantName(variant)}`, pipeline, bindGroup, grid);
  }

  write(a: Float32Array, b: Float32Array): void {
    this.device.queue.writeBuffer(this.buffers.ab, 0, a);
    this.device.queue.writeBuffer(this.buffers.ab, this.bStart * 4, b);
  }

  /** Rows `row0 … row0+count−1` of C, `[count, n]`. */
  readRows(row0 = 0, count = this.m - row0): Promise<Float32Array> {
    return readFloats(this.device, this.buffers.c, row0 * this.n, count * this.n);
  }

  destroy(): void {
    for (const buffer of Object.values(this.buffers)) buffer.destroy();
  }
}

/** `data` copied by the copy kernel (for tests). */
export async function gpuCopy(device: GPUDevice, data: Float32Array): Promise<Float32Array> {
  const kernel = await CopyKernel.create(device, data.length);
  try {
    kernel.write(data);
    await submit(device, kernel.encode);
    return await kernel.read();
  } finally {
    kernel.destroy();
  }
}

/** A·B by one matmul kernel, row-major `[m, n]` (for tests). */
export async function gpuMatmul(
  device: GPUDevice,
  a: Float32Array,
  b: Float32Array,
  size: [m: number, n: number, k: number],
  variant: MatmulVariant = MATMUL_VARIANTS[0]!,
): Promise<Float32Array> {
  const kernel = MatmulKernel.create(device, size);
  try {
    kernel.write(a, b);
    await submit(device, await kernel.program(variant));
    return await kernel.readRows();
  } finally {
    kernel.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Measurement

/** Median of `runs` timed runs after an untimed one. */
async function medianTime(device: GPUDevice, timer: GpuTimer, record: (enc: TimedEncoder) => void, runs: number): Promise<Timing> {
  await submit(device, record);
  const times: Timing[] = [];
  for (let i = 0; i < runs; i++) times.push(await timer.time(record));
  times.sort((x, y) => x.ms - y.ms);
  return times[Math.floor((runs - 1) / 2)]!;
}

/** One run after an untimed one (to size the work and rank kernels). */
async function timeOnce(device: GPUDevice, timer: GpuTimer, record: (enc: TimedEncoder) => void): Promise<number> {
  await submit(device, record);
  return (await timer.time(record)).ms;
}

/** The copy size: doubled from 16 MiB while the next run is predicted to fit the budget and the cap. */
async function pickCopyBytes(device: GPUDevice, timer: GpuTimer, cap: number): Promise<number> {
  let bytes = Math.min(COPY_BYTES.first, cap);
  while (bytes * 2 <= cap) {
    const kernel = await CopyKernel.create(device, bytes / 4);
    const ms = await timeOnce(device, timer, kernel.encode).finally(() => kernel.destroy());
    if (2 * ms > RUN_BUDGET_MS) break;
    bytes *= 2;
  }
  return bytes;
}

/** Float offsets of the windows a large copy is spot-checked on: start, two inside, end. */
function copyWindows(floats: number, width: number): number[] {
  const last = Math.max(0, floats - width);
  return [...new Set([0, Math.floor(last / 3), Math.floor((2 * last) / 3), last])];
}

/** Validates the copy exactly on an odd size, then on windows of the timed size, then times it. */
async function measureCopy(device: GPUDevice, timer: GpuTimer, bytes: number, runs: number): Promise<CopyCeiling> {
  const rand = mulberry32(0xc0b1);
  // Several workgroups and a partial vec4 at the end.
  const sample = uniformArray(rand, 65_539, -1, 1);
  if (!equalBits(await gpuCopy(device, sample), sample)) throw new Error('copy kernel: the copy differs from its source');

  const kernel = await CopyKernel.create(device, Math.floor(bytes / 16) * 4);
  try {
    const width = Math.min(kernel.floats, 16_384);
    const windows = copyWindows(kernel.floats, width).map((at) => ({ at, data: uniformArray(rand, width, -1, 1) }));
    for (const w of windows) kernel.write(w.data, w.at);
    await submit(device, kernel.encode);
    for (const w of windows) {
      if (!equalBits(await kernel.read(w.at, width), w.data)) throw new Error(`copy kernel: floats ${w.at}… of ${kernel.floats} differ`);
    }
    const { ms, method } = await medianTime(device, timer, kernel.encode, runs);
    return { gbps: (2 * kernel.bytes) / (ms * 1e6), bytes: kernel.bytes, ms, method };
  } finally {
    kernel.destroy();
  }
}

function equalBits(x: Float32Array, y: Float32Array): boolean {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Validates every variant on a size whose edges cut every tile, checking all of C. */
async function validateMatmul(device: GPUDevice): Promise<void> {
  const [m, n, k] = [196, 260, 132];
  const a = uniformArray(mulberry32(0x3a7), m * k, -1, 1);
  const b = uniformArray(mulberry32(0x3b7), k * n, -1, 1);
  const every = Array.from({ length: m }, (_, i) => i);
  for (const v of MATMUL_VARIANTS) {
    const check = checkMatmul(await gpuMatmul(device, a, b, [m, n, k], v), a, b, n, k, every);
    if (!check.ok) throw new Error(`matmul kernel ${variantName(v)} at ${m}×${n}×${k}: ${check.message}`);
  }
}

/** Picks the fastest variant at `size`, spot-checks rows of its C against float64, then times it. */
async function measureMatmul(
  device: GPUDevice,
  timer: GpuTimer,
  size: [number, number, number],
  runs: number,
  seed: number,
): Promise<MatmulCeiling> {
  const [m, n, k] = size;
  const rand = mulberry32(seed);
  const a = uniformArray(rand, m * k, -1, 1);
  const b = uniformArray(rand, k * n, -1, 1);
  const kernel = MatmulKernel.create(device, size);
  try {
    kernel.write(a, b);
    let best = { ms: Infinity, variant: MATMUL_VARIANTS[0]!, record: (_: TimedEncoder) => {} };
    for (const variant of MATMUL_VARIANTS) {
      const record = await kernel.program(variant);
      const ms = await timeOnce(device, timer, record);
      if (ms < best.ms) best = { ms, variant, record };
    }
    await submit(device, best.record);
    const rows = [...new Set([0, Math.floor(m * rand()), Math.floor(m * rand()), m - 1])];
    const got = new Float32Array(rows.length * n);
    for (const [r, i] of rows.entries()) got.set(await kernel.readRows(i, 1), r * n);
    const check = checkMatmul(got, a, b, n, k, rows);
    const name = variantName(best.variant);
    if (!check.ok) throw new Error(`matmul kernel ${name} at ${m}×${n}×${k}: ${check.message}`);
    const { ms, method } = await medianTime(device, timer, best.record, runs);
    return { gflops: kernel.flops / (ms * 1e6), m, n, k, ms, method, kernel: name, maxAbsError: check.maxAbsError };
  } finally {
    kernel.destroy();
  }
}

/** The given sizes, or the ladder for as long as the previous size predicts a run within budget. */
async function measureMatmuls(
  device: GPUDevice,
  timer: GpuTimer,
  sizes: MatmulSize[] | undefined,
  runs: number,
  log: (line: string) => void,
) {
  await validateMatmul(device);
  const results: MatmulCeiling[] = [];
  const cube = (s: MatmulSize): [number, number, number] => (typeof s === 'number' ? [s, s, s] : s);
  for (const [i, size] of (sizes ?? MATMUL_LADDER).map(cube).entries()) {
    const previous = results.at(-1);
    if (!sizes && previous && previous.ms * (size[0] / previous.m) ** 3 > RUN_BUDGET_MS) break;
    const r = await measureMatmul(device, timer, size, runs, 0x5eed + i);
    log(
      `matmul ${r.m}×${r.n}×${r.k}: ${r.gflops.toFixed(2)} GFLOP/s (${r.ms.toFixed(2)} ms, ${r.kernel}, ${r.method}, ` +
        `max abs error ${r.maxAbsError.toExponential(1)})`,
    );
    results.push(r);
  }
  return results;
}

/** What one dispatch and one submission cost on the adapter, beyond the work they carry. */
export interface DispatchCost {
  /** Microseconds each extra dispatch of a one-workgroup kernel adds inside one compute pass. */
  perDispatchUs: number;
  /** Microseconds from `queue.submit` of one such dispatch to `onSubmittedWorkDone` (a round trip). */
  submitRoundTripUs: number;
  /** How the in-pass time was measured. */
  method: TimingMethod;
}

/**
 * The per-dispatch and per-submission overheads, from a copy of one workgroup's worth of floats:
 * (time of {@link DISPATCHES} dispatches in one pass − time of one) / (DISPATCHES − 1), and the
 * median wall round trip of submitting one dispatch and waiting for it. Medians of `runs`.
 */
export async function measureDispatchCost(device: GPUDevice, runs = 5): Promise<DispatchCost> {
  const timer = createGpuTimer(device);
  const kernel = await CopyKernel.create(device, 4 * COPY_WORKGROUP);
  try {
    return await scoped(device, 'dispatch cost', async () => {
      kernel.write(new Float32Array(4 * COPY_WORKGROUP).fill(1));
      const timeOf = (times: number) => medianTime(device, timer, (enc) => kernel.encodeRepeated(enc, times), runs);
      const one = await timeOf(1);
      const many = await timeOf(DISPATCHES);
      const roundTrips: number[] = [];
      for (let r = 0; r < runs; r++) {
        await device.queue.onSubmittedWorkDone();
        const t0 = performance.now();
        await submit(device, kernel.encode);
        roundTrips.push(performance.now() - t0);
      }
      roundTrips.sort((x, y) => x - y);
      return {
        perDispatchUs: (1000 * Math.max(0, many.ms - one.ms)) / (DISPATCHES - 1),
        submitRoundTripUs: 1000 * roundTrips[Math.floor((runs - 1) / 2)]!,
        method: many.method === 'wall' || one.method === 'wall' ? 'wall' : 'timestamp',
      };
    });
  } finally {
    kernel.destroy();
    timer.destroy();
  }
}

/** Dispatches in the pass {@link measureDispatchCost} times against a pass of one. */
export const DISPATCHES = 1000;

/**
 * Measures the copy and matmul ceilings of `device`; see the module comment and
 * {@link CeilingsOptions} for the sizes. Every buffer it creates is destroyed before it returns.
 */
export async function measureCeilings(device: GPUDevice, options: CeilingsOptions = {}): Promise<Ceilings> {
  const runs = options.runs ?? 5;
  const log = options.log ?? (() => {});
  const { maxStorageBufferBindingSize, maxBufferSize } = device.limits;
  const cap = Math.min(maxStorageBufferBindingSize, maxBufferSize);
  const timer = createGpuTimer(device);
  try {
    const copy = await scoped(device, 'copy ceiling', async () => {
      const bytes =
        options.copyBytes !== undefined
          ? Math.min(options.copyBytes, cap)
          : await pickCopyBytes(device, timer, Math.min(COPY_BYTES.last, cap));
      return measureCopy(device, timer, bytes, runs);
    });
    log(`copy ${(copy.bytes / 2 ** 20).toFixed(1)} MiB: ${copy.gbps.toFixed(2)} GB/s (${copy.ms.toFixed(2)} ms, ${copy.method})`);
    const matmul = await scoped(device, 'matmul ceiling', () => measureMatmuls(device, timer, options.matmulSizes, runs, log));
    return { copy, matmul, copyGBs: copy.gbps, matmulGflops: Math.max(...matmul.map((r) => r.gflops)) };
  } finally {
    timer.destroy();
  }
}
