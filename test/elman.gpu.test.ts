import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { DeviceError } from '../src/errors.ts';
import { ElmanRNN } from '../src/model/elman.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { cachedPipelineCount } from '../src/gpu/pipelines.ts';
import type { ElmanConfig } from '../src/model/config.ts';
import { tensor } from '../src/tensor.ts';
import { FLOAT32_TOLERANCE, compare, expectClose } from '../src/util/compare.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';
import { randomCase } from './helpers/random.ts';
import { WORKED_EXAMPLE, workedExampleModel } from '../app/worked-example.ts';

// The WebGPU kernel against the float64 CPU reference. Runs in Node (Dawn) and in Chromium.

let gpu: GpuFixture;

beforeAll(async () => {
  gpu = await createGpuFixture();
});

afterAll(() => {
  gpu?.backend.dispose();
});

describe('WebGPU Elman forward', () => {
  it('runs on an adapter it can name', () => {
    const s = gpu.backend.gpu.summary;
    expect(s.vendor.length).toBeGreaterThan(0);
    expect(typeof s.isSoftware).toBe('boolean');
    // Each project really runs where it says: Chromium's navigator.gpu, or Dawn in Node.
    expect(s.runtime).toBe(typeof window === 'undefined' ? 'node' : 'browser');
  });

  it('reproduces the worked example computed by hand', async () => {
    const model = workedExampleModel();
    const res = await withErrorScope(gpu.backend.device, () =>
      model.forward(tensor(WORKED_EXAMPLE.x, [2, 2, 1]), { backend: gpu.backend }),
    );
    expect(res.output.data).toBeInstanceOf(Float32Array);
    expectClose(res.output.data, WORKED_EXAMPLE.y, { atol: 1e-6, rtol: 0 }, 'y');
    expectClose(res.hn.data, WORKED_EXAMPLE.hn, { atol: 1e-6, rtol: 0 }, 'hn');
  });

  // A sweep over every size the issue names: B ∈ {1, 3, 1000, 4097}, T ∈ {1, 7, 300},
  // H ∈ {1, 5, 32, 100}, with several I, O and L and both activations. Large sizes are not all
  // combined, so the float64 reference (plain loops) stays within seconds.
  const sweep: Array<[ElmanConfig, number, number, boolean]> = [
    // config, batch B, steps T, with h0
    [{ inputSize: 1, hiddenSize: 1, outputSize: 1, numLayers: 1, nonlinearity: 'relu' }, 1, 1, false],
    [{ inputSize: 2, hiddenSize: 5, outputSize: 3, numLayers: 2, nonlinearity: 'tanh' }, 3, 7, true],
    [{ inputSize: 4, hiddenSize: 32, outputSize: 2, numLayers: 1, nonlinearity: 'relu' }, 1000, 7, true],
    [{ inputSize: 3, hiddenSize: 5, outputSize: 1, numLayers: 3, nonlinearity: 'tanh' }, 4097, 7, false],
    [{ inputSize: 1, hiddenSize: 100, outputSize: 2, numLayers: 2, nonlinearity: 'tanh' }, 3, 300, true],
    [{ inputSize: 2, hiddenSize: 5, outputSize: 1, numLayers: 1, nonlinearity: 'relu' }, 1000, 300, false],
    [{ inputSize: 5, hiddenSize: 32, outputSize: 4, numLayers: 1, nonlinearity: 'relu' }, 1, 300, true],
    [{ inputSize: 7, hiddenSize: 100, outputSize: 3, numLayers: 2, nonlinearity: 'relu' }, 4097, 1, true],
    [{ inputSize: 1, hiddenSize: 32, outputSize: 1, numLayers: 1, nonlinearity: 'tanh' }, 1000, 300, false],
    [{ inputSize: 1, hiddenSize: 1, outputSize: 1, numLayers: 1, nonlinearity: 'relu' }, 4097, 300, true],
    [{ inputSize: 3, hiddenSize: 1, outputSize: 2, numLayers: 4, nonlinearity: 'tanh' }, 3, 1, false],
  ];

  sweep.forEach(([config, B, T, withH0], i) => {
    const name = `B=${B} T=${T} I=${config.inputSize} H=${config.hiddenSize} O=${config.outputSize} L=${config.numLayers} ${config.nonlinearity}${withH0 ? ' h0' : ''}`;
    it(`matches the float64 reference: ${name}`, async () => {
      const { model, x, h0 } = randomCase(config, B, T, 100 + i, withH0);
      const opts = h0 ? { h0 } : {};
      for (const outputs of ['all', 'last'] as const) {
        const want = await model.forward(x, { backend: cpuBackend, outputs, ...opts });
        const got = await withErrorScope(gpu.backend.device, () => model.forward(x, { backend: gpu.backend, outputs, ...opts }));
        expect(got.output.shape).toEqual(want.output.shape);
        expect(got.hn.shape).toEqual(want.hn.shape);
        expectClose(got.output.data, want.output.data, FLOAT32_TOLERANCE, `${name} outputs=${outputs} y`, want.output.shape);
        expectClose(got.hn.data, want.hn.data, FLOAT32_TOLERANCE, `${name} outputs=${outputs} hn`, want.hn.shape);
      }
    });
  });

  it('accepts float64 input and matches float32 input exactly', async () => {
    const { model, x } = randomCase({ inputSize: 2, hiddenSize: 8, outputSize: 1 }, 17, 9, 7);
    const x64 = tensor(Float64Array.from(x.data), x.shape);
    const a = await model.forward(x, { backend: gpu.backend });
    const b = await model.forward(x64, { backend: gpu.backend });
    expect(Array.from(b.output.data)).toEqual(Array.from(a.output.data));
  });

  it('poisons outputs, so the comparison would catch an element the kernel never wrote', async () => {
    const { model, x } = randomCase({ inputSize: 1, hiddenSize: 3, outputSize: 1 }, 5, 4, 3);
    const want = await model.forward(x, { backend: cpuBackend });
    const got = await model.forward(x, { backend: gpu.backend });
    const broken = got.output.data.slice();
    broken[7] = NaN; // what an unwritten, poisoned element reads back as
    const report = compare(broken, want.output.data, FLOAT32_TOLERANCE, want.output.shape);
    expect(report.ok).toBe(false);
    expect(report.message).toContain('first at [1, 3, 0]');
  });

  it('builds one pipeline per shape class and reuses its buffers: nothing leaks', async () => {
    const { model, x } = randomCase({ inputSize: 2, hiddenSize: 6, outputSize: 2, numLayers: 2 }, 50, 10, 11);
    const pool = gpu.backend.pool;
    await model.forward(x, { backend: gpu.backend });
    const pipelines = cachedPipelineCount(gpu.backend.device);
    const buffers = pool.liveBuffers;
    for (let i = 0; i < 5; i++) await model.forward(x, { backend: gpu.backend });
    expect(cachedPipelineCount(gpu.backend.device)).toBe(pipelines);
    expect(pool.liveBuffers).toBe(buffers);
    // A different batch size is a uniform, not a new pipeline.
    const { x: x2 } = randomCase({ inputSize: 2, hiddenSize: 6, outputSize: 2, numLayers: 2 }, 7, 3, 12);
    await model.forward(x2, { backend: gpu.backend });
    expect(cachedPipelineCount(gpu.backend.device)).toBe(pipelines);
    pool.trim();
    expect(pool.liveBuffers).toBe(0);
  });

  it('runs concurrent forward passes without mixing their buffers', async () => {
    const cases = [1, 2, 3].map((s) => randomCase({ inputSize: 3, hiddenSize: 4, outputSize: 2 }, 20 * s, 5, 40 + s));
    const results = await Promise.all(cases.map((c) => c.model.forward(c.x, { backend: gpu.backend })));
    for (const [i, c] of cases.entries()) {
      const want = await c.model.forward(c.x, { backend: cpuBackend });
      expectClose(results[i]!.output.data, want.output.data, FLOAT32_TOLERANCE, `case ${i}`);
    }
  });

  // A batch beyond one binding is split into chunks (test/big-batch.gpu.test.ts); one sequence
  // beyond it cannot be. The limit is lowered here (maxBindingBytes) rather than met with gigabytes.
  it('rejects a sequence too long for one binding with a DeviceError, before any GPU work', async () => {
    const narrow = WebGPUBackend.fromContext(gpu.backend.gpu, { maxBindingBytes: 4096 });
    try {
      const T = 2000; // x and y of one sequence: 8000 bytes each
      const model = new ElmanRNN({ inputSize: 1, hiddenSize: 4, outputSize: 1 });
      const err = await model.forward(tensor(new Float32Array(2 * T), [2, T, 1]), { backend: narrow }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeviceError);
      expect((err as Error).message).toMatch(
        /the Elman forward pass cannot run on one sequence: its x buffer needs 8000 bytes, more than this device binds at once \(4096\)/,
      );
      expect(narrow.pool.liveBuffers).toBe(0);
    } finally {
      narrow.dispose();
    }
  });

  it('reported no uncaptured WebGPU error', () => {
    expect(gpu.uncaptured).toEqual([]);
  });
});
