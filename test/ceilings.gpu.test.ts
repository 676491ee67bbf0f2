import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkMatmul,
  CopyKernel,
  cpuMatmul,
  gpuCopy,
  gpuMatmul,
  MATMUL_VARIANTS,
  measureCeilings,
  measureDispatchCost,
  variantName,
  type DispatchCost,
} from '../bench/ceilings.ts';
import { acquireGpu, type GpuContext } from '../src/gpu/device.ts';
import { createGpuTimer } from '../src/gpu/timer.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';

// The benchmark's ceiling kernels (bench/ceilings.ts, shaders/benchmark/bench_*.wgsl) and the GPU
// timer it shares with the library (src/gpu/timer.ts). Runs in Node (Dawn) and in Chromium.

let gpu: GpuFixture;
let timed: GpuContext;
const timedErrors: string[] = [];

beforeAll(async () => {
  gpu = await createGpuFixture();
  // A device of its own with GPU timestamps where the adapter has them.
  timed = await acquireGpu({ log: false, features: ['timestamp-query'] });
  timed.device.addEventListener('uncapturederror', (e) => timedErrors.push((e as GPUUncapturedErrorEvent).error.message));
});

afterAll(() => {
  gpu?.backend.dispose();
  timed?.destroy();
});

/** Counts the buffers created on `device` and not destroyed while `fn` runs. */
async function liveBuffersAfter(device: GPUDevice, fn: () => Promise<unknown>): Promise<number> {
  const live = new Set<GPUBuffer>();
  const create = device.createBuffer;
  device.createBuffer = (descriptor: GPUBufferDescriptor) => {
    const buffer = create.call(device, descriptor);
    const destroy = buffer.destroy;
    live.add(buffer);
    buffer.destroy = () => {
      live.delete(buffer);
      destroy.call(buffer);
    };
    return buffer;
  };
  try {
    await fn();
  } finally {
    device.createBuffer = create;
  }
  return live.size;
}

describe('matmul kernels against the float64 product', () => {
  // m × n × k: degenerate, odd (element-wise loads), aligned but cutting every tile (vec4 loads),
  // whole tiles, and a single column.
  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [7, 5, 3],
    [65, 33, 17],
    [68, 36, 20],
    [128, 128, 128],
    [100, 1, 64],
  ];
  for (const variant of MATMUL_VARIANTS) {
    for (const [m, n, k] of sizes) {
      it(`${variantName(variant)}: ${m}×${n}×${k}`, async () => {
        const rand = mulberry32(m * 10_007 + n * 101 + k);
        const a = uniformArray(rand, m * k, -1, 1);
        const b = uniformArray(rand, k * n, -1, 1);
        const got = await withErrorScope(gpu.backend.device, () => gpuMatmul(gpu.backend.device, a, b, [m, n, k], variant));
        expect(got.length).toBe(m * n);
        const check = checkMatmul(
          got,
          a,
          b,
          n,
          k,
          Array.from({ length: m }, (_, i) => i),
        );
        expect(check.ok, check.message).toBe(true);
        // The checker's reference is the plain float64 product.
        const ref = cpuMatmul(a, b, m, n, k);
        const worst = got.reduce((w, v, i) => Math.max(w, Math.abs(v - ref[i]!)), 0);
        expect(worst).toBe(check.maxAbsError);
        expect(worst).toBeLessThan(1e-5 * k);
      });
    }
  }

  it('reports the first wrong element', () => {
    const a = new Float32Array([1, 2, 3, 4]);
    const b = new Float32Array([1, 0, 0, 1]);
    const check = checkMatmul(new Float32Array([1, 2, 3, 5]), a, b, 2, 2, [0, 1]);
    expect(check.ok).toBe(false);
    expect(check.message).toContain('C[1, 1] = 5, expected 4');
  });
});

describe('copy kernel', () => {
  // Float counts below one vec4, whole vec4s, a partial last vec4, and several workgroups.
  for (const floats of [1, 3, 4, 1001, 5 * 1024 + 2]) {
    it(`copies ${floats} floats exactly`, async () => {
      const data = uniformArray(mulberry32(floats), floats, -1e6, 1e6);
      const got = await withErrorScope(gpu.backend.device, () => gpuCopy(gpu.backend.device, data));
      expect(got).toEqual(data);
    });
  }
});

describe('GPU timer', () => {
  it('uses timestamps exactly when the device has them', () => {
    for (const device of [gpu.backend.device, timed.device]) {
      const timer = createGpuTimer(device);
      expect(timer.method).toBe(device.features.has('timestamp-query') ? 'timestamp' : 'wall');
      timer.destroy();
    }
    expect(createGpuTimer(timed.device, { method: 'wall' }).method).toBe('wall');
  });

  for (const method of ['timestamp', 'wall'] as const) {
    it(`times two passes in one submission (${method} when available)`, async () => {
      const device = timed.device;
      const timer = createGpuTimer(device, { method, maxPasses: 2 });
      const kernel = await CopyKernel.create(device, 1 << 16);
      try {
        const timing = await withErrorScope(device, () =>
          timer.time((enc) => {
            kernel.encode(enc);
            kernel.encode(enc);
          }),
        );
        expect(Number.isFinite(timing.ms)).toBe(true);
        expect(timing.ms).toBeGreaterThan(0);
        // A timestamp span that is not positive falls back to the wall time.
        expect(timing.method === timer.method || timing.method === 'wall').toBe(true);
        if (timer.method === 'timestamp') {
          await expect(timer.time(() => {})).rejects.toThrow(/no compute pass/);
          await expect(timer.time((enc) => [1, 2, 3].forEach(() => kernel.encode(enc)))).rejects.toThrow(/more than 2/);
        }
      } finally {
        kernel.destroy();
        timer.destroy();
      }
    });
  }
});

describe('measureCeilings', () => {
  it('validates, times and cleans up (small sizes)', async () => {
    const device = timed.device;
    let result!: Awaited<ReturnType<typeof measureCeilings>>;
    const leaked = await liveBuffersAfter(device, async () => {
      result = await withErrorScope(device, () =>
        measureCeilings(device, { copyBytes: 1 << 20, matmulSizes: [64, [33, 20, 12]], runs: 3 }),
      );
    });
    expect(leaked).toBe(0);
    const { copy, matmul } = result;
    expect(copy.bytes).toBe(1 << 20);
    expect(copy.gbps).toBeGreaterThan(0);
    expect(Number.isFinite(copy.gbps)).toBe(true);
    expect(copy.gbps).toBeCloseTo((2 * copy.bytes) / (copy.ms * 1e6), 6);
    expect(matmul.map((r) => [r.m, r.n, r.k])).toEqual([
      [64, 64, 64],
      [33, 20, 12],
    ]);
    for (const r of matmul) {
      expect(r.gflops).toBeCloseTo((2 * r.m * r.n * r.k) / (r.ms * 1e6), 6);
      expect(r.maxAbsError).toBeLessThan(1e-4);
      expect(MATMUL_VARIANTS.map(variantName)).toContain(r.kernel);
      expect(['timestamp', 'wall']).toContain(r.method);
    }
    expect(result.copyGBs).toBe(copy.gbps);
    expect(result.matmulGflops).toBe(Math.max(...matmul.map((r) => r.gflops)));
  });

  it('measures the dispatch and submission overheads, and cleans up', async () => {
    let cost!: DispatchCost;
    const leaked = await liveBuffersAfter(timed.device, async () => {
      cost = await measureDispatchCost(timed.device, 3);
    });
    expect(leaked).toBe(0);
    // A dispatch costs something, but far less than a submission's round trip through the queue.
    expect(cost.perDispatchUs).toBeGreaterThan(0);
    expect(cost.submitRoundTripUs).toBeGreaterThan(cost.perDispatchUs);
    expect(['timestamp', 'wall']).toContain(cost.method);
  });

  it('raised no uncaptured WebGPU error', () => {
    expect(gpu.uncaptured).toEqual([]);
    expect(timedErrors).toEqual([]);
  });
});
