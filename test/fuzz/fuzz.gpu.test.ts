import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebGPUBackend } from '../../src/backends/webgpu.ts';
import { createGpuFixture, type GpuFixture } from '../helpers/gpu.ts';
import { apiGpuProperty } from './api/property.ts';
import { runProperty, type FuzzProperty } from './harness.ts';
import { guardAllocations } from './memory-guard.ts';
import { modelGpuProperty } from './model/property.ts';
import { inMemorySeeds } from './model/seeds.ts';
import { DEFAULT_SEED, shortRuns } from './settings.ts';

// The fuzzing suite's short seeded run on WebGPU, in Node and in Chromium: every generated call and
// every mutated model file runs on the float64 reference and on WebGPU (one program, split into
// small chunks, or the lanes kernel), and the two must refuse the same inputs and otherwise agree
// within the GPU tests' tolerance. Shapes stay small (B ≤ 9, T ≤ 6, H ≤ 6) so this fits in
// seconds on a software adapter; `npm run fuzz -- --kind api` runs the long version.

let gpu: GpuFixture;
let split: WebGPUBackend;
let lanes: WebGPUBackend;
let unguard: () => void;

beforeAll(async () => {
  // A size that slipped through validation fails as an allocation refused, not by taking the machine down.
  unguard = guardAllocations(1 << 30);
  gpu = await createGpuFixture();
  split = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, maxBindingBytes: 3000, maxStepsPerDispatch: 2 });
  lanes = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, recurrentKernel: 'lanes' });
});

afterAll(() => {
  split?.dispose();
  lanes?.dispose();
  gpu?.backend.dispose();
  unguard?.();
});

/** Runs a property; then no WebGPU error went uncaptured and every buffer came back to its pool (trim frees them all). */
async function expectNoFailure(p: FuzzProperty, runs: number): Promise<void> {
  const report = await runProperty(p, { runs: shortRuns(runs), seed: DEFAULT_SEED });
  if (report.failures.length) throw new Error(report.failures.join('\n\n'));
  expect(gpu.uncaptured).toEqual([]);
  for (const backend of [gpu.backend, split, lanes]) {
    backend.pool.trim();
    expect(backend.pool.liveBuffers).toBe(0);
  }
}

describe('fuzzing on WebGPU against the float64 reference (short seeded run)', () => {
  it('API calls: the same refusals, and results within tolerance', { timeout: 120_000 }, async () => {
    await expectNoFailure(apiGpuProperty([gpu.backend, split, lanes]), 30);
  });

  it('mutated model files: the same refusals, and outputs within tolerance', { timeout: 120_000 }, async () => {
    await expectNoFailure(modelGpuProperty(await inMemorySeeds(), [gpu.backend, split, lanes]), 25);
  });
});
