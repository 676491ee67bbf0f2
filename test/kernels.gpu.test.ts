import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkKernel, defineKernel, type Kernel } from '../src/gpu/kernel.ts';
import { recurrentBackwardSequential } from '../src/gpu/kernels/backward/recurrent-backward-sequential.ts';
import { recurrentBackwardTile } from '../src/gpu/kernels/backward/recurrent-backward-tile.ts';
import { contractionDispatch } from '../src/gpu/kernels/backward/grad-contract.ts';
import { forecastFeedback } from '../src/gpu/kernels/forecast/forecast-feedback.ts';
import { elmanForward } from '../src/gpu/kernels/forward/elman-forward.ts';
import { recurrentLanes, recurrentLanesPack } from '../src/gpu/kernels/forward/recurrent-lanes.ts';
import { recurrentSequential } from '../src/gpu/kernels/forward/recurrent-sequential.ts';
import { recurrentSmall } from '../src/gpu/kernels/forward/recurrent-small.ts';
import { recurrentTile, recurrentTileF16 } from '../src/gpu/kernels/forward/recurrent-tile.ts';
import { linearHead } from '../src/gpu/kernels/head/linear-head.ts';
import { loss } from '../src/gpu/kernels/training/loss.ts';
import { optimizer } from '../src/gpu/kernels/training/optimizer.ts';
import { segmentSum, segmentSumPasses } from '../src/gpu/kernels/training/segment-sum.ts';
import { cachedPipelineCount, getPipeline } from '../src/gpu/pipelines.ts';
import type { Dispatch, Program } from '../src/gpu/program.ts';
import { createGpuFixture, type GpuFixture } from './helpers/gpu.ts';

// The program model's checks (src/gpu/kernel.ts, src/gpu/executor.ts): every kernel descriptor names
// the bindings its WGSL declares, and a descriptor or a dispatch that disagrees with the WGSL is an
// error when the pipeline is built or the program runs, never a wrong result. Runs in Node and in
// Chromium (the WGSL is read by webgpu-utils, which needs WebGPU's globals).

let gpu: GpuFixture;
beforeAll(async () => {
  gpu = await createGpuFixture();
});
afterAll(() => gpu?.backend.dispose());

const KERNELS: Kernel[] = [
  recurrentSmall,
  recurrentTile,
  recurrentTileF16,
  recurrentSequential,
  recurrentLanes,
  recurrentLanesPack,
  elmanForward,
  recurrentBackwardTile,
  recurrentBackwardSequential,
  linearHead,
  forecastFeedback,
  loss,
  optimizer,
  segmentSum,
  contractionDispatch(
    { a: { buffer: 'a', row: 1, col: 1 }, b: { buffer: 'b', row: 1, col: 1 }, out: { buffer: 'o', p: 1, q: 1 }, p: 1, q: 1, rows: 1 },
    1,
  ).kernel,
  contractionDispatch(
    { a: { buffer: 'a', row: 8, col: 1 }, b: { buffer: 'b', row: 8, col: 1 }, out: { buffer: 'o', p: 8, q: 1 }, p: 8, q: 8, rows: 64 },
    1,
  ).kernel,
];

describe('kernel descriptors against their WGSL', () => {
  it('covers both entry points of grad_contract', () => {
    expect(
      KERNELS.filter((k) => k.name === 'grad_contract')
        .map((k) => k.entryPoint)
        .sort(),
    ).toEqual(['main', 'main_direct']);
  });

  for (const k of KERNELS) {
    it(`${k.name} (${k.entryPoint}) names every storage binding its entry point uses, in binding order`, () => {
      const found = checkKernel(k);
      expect([...found.storage.keys()].sort()).toEqual([...k.bindings].sort());
      expect(found.uniform?.name).toBe('params');
    });
  }

  it('refuses a descriptor whose bindings disagree with the WGSL when its pipeline is built', () => {
    const renamed = defineKernel('linear_head', linearHead.code, ['y', 'weight', 'out']);
    expect(() => getPipeline(gpu.backend.device, { ...renamed, constants: {} })).toThrow(
      /kernel linear_head \(main\) names its bindings \[y, weight, out\] but the WGSL's entry point uses \[y, weights, out\]/,
    );
    const reordered = defineKernel('linear_head', linearHead.code, ['weights', 'y', 'out']);
    expect(() => checkKernel(reordered)).toThrow(/in binding order/);
    expect(() => checkKernel(defineKernel('linear_head', linearHead.code, ['y', 'weights', 'out'], 'nope'))).toThrow(/no entry point nope/);
  });

  it('caches pipelines by source and constants, not by name', async () => {
    const device = gpu.backend.device;
    const a = defineKernel('same name', segmentSum.code, segmentSum.bindings);
    const b = defineKernel('same name', `${segmentSum.code}\n// another source`, segmentSum.bindings);
    const constants = { WORKGROUP_SIZE: 256, ITEMS: 8, SQUARE: 0 };
    const before = cachedPipelineCount(device);
    const [pa, pb, pa2] = await Promise.all([
      getPipeline(device, { ...a, constants }),
      getPipeline(device, { ...b, constants }),
      getPipeline(device, { ...a, constants }),
    ]);
    expect(pa).not.toBe(pb);
    expect(pa2).toBe(pa);
    expect(cachedPipelineCount(device) - before).toBe(2);
  });
});

describe('dispatches against their kernel', () => {
  const sum = (): Dispatch => segmentSumPasses('src', 'dst', { segments: 1, length: 4 }, false, 65535).dispatches[0]!;
  const program = (d: Dispatch): Program => ({
    what: 'a checked sum',
    buffers: { src: { data: Float32Array.of(1, 2, 3, 4) }, dst: { bytes: 4, read: true } },
    dispatches: [d],
  });

  it('binds by name and writes the uniform struct by field name', async () => {
    const out = await gpu.backend.runProgram(program(sum()));
    expect(Array.from(out.dst!)).toEqual([10]);
  });

  it('refuses a binding the kernel lacks, a missing one, a buffer the program lacks, and a bad uniform field, leaking nothing', async () => {
    const live = gpu.backend.pool.liveBuffers;
    const d = sum();
    await expect(gpu.backend.runProgram(program({ ...d, bind: { ...d.bind, extra: 'src' } }))).rejects.toThrow(
      /kernel segment_sum has no binding extra/,
    );
    await expect(gpu.backend.runProgram(program({ ...d, bind: { src: 'src' } }))).rejects.toThrow(
      /kernel segment_sum binds dst to nothing/,
    );
    await expect(gpu.backend.runProgram(program({ ...d, bind: { src: 'src', dst: 'elsewhere' } }))).rejects.toThrow(
      /binds dst to elsewhere, which the program does not have/,
    );
    await expect(gpu.backend.runProgram(program({ ...d, uniforms: { ...d.uniforms, seg_length: 4 } }))).rejects.toThrow(
      /the uniform params has fields .*; no field seg_length/,
    );
    const { chunks: _, ...missing } = d.uniforms;
    await expect(gpu.backend.runProgram(program({ ...d, uniforms: missing }))).rejects.toThrow(/chunks not given/);
    expect(gpu.backend.pool.liveBuffers).toBe(live);
  });

  it('reported no uncaptured WebGPU error', () => {
    expect(gpu.uncaptured).toEqual([]);
  });
});
