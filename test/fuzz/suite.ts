import { WebGPUBackend } from '../../src/backends/webgpu.ts';
import { apiGpuProperty, apiProperty } from './api/property.ts';
import { csvProperty } from './csv/property.ts';
import type { FuzzProperty } from './harness.ts';
import { modelGpuProperty, modelProperty } from './model/property.ts';
import { inMemorySeeds, type ModelSeed } from './model/seeds.ts';

/**
 * The whole suite: every property of every kind, the GPU ones when a WebGPU backend is given. The
 * GPU properties run each input on one of three set-ups of the same device: one program per call,
 * batches and steps split into small chunks (3000-byte bindings, 2 steps a dispatch: every chunking
 * path on tiny shapes, as test/recurrent-stack.gpu.test.ts does), and the lanes kernel forced.
 */
export interface Suite {
  properties: FuzzProperty[];
  dispose(): void;
}

export async function fuzzSuite(o: { gpu?: WebGPUBackend | null; extraSeeds?: readonly ModelSeed[] } = {}): Promise<Suite> {
  const seeds = [...(await inMemorySeeds()), ...(o.extraSeeds ?? [])];
  const properties: FuzzProperty[] = [csvProperty, modelProperty(seeds), apiProperty()];
  const made: WebGPUBackend[] = [];
  if (o.gpu) {
    const split = WebGPUBackend.fromContext(o.gpu.gpu, { poisonOutputs: true, maxBindingBytes: 3000, maxStepsPerDispatch: 2 });
    const lanes = WebGPUBackend.fromContext(o.gpu.gpu, { poisonOutputs: true, recurrentKernel: 'lanes' });
    made.push(split, lanes);
    const gpus = [o.gpu, split, lanes];
    properties.push(modelGpuProperty(seeds, gpus), apiGpuProperty(gpus));
  }
  return { properties, dispose: () => made.forEach((b) => b.dispose()) };
}
