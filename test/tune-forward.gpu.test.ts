import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { ConfigError } from '../src/errors.ts';
import { forwardCandidates, planRecurrentLayer, type LayerPlanContext } from '../src/gpu/kernels/forward/plan.ts';
import type { Program } from '../src/gpu/program.ts';
import { ForwardTuner, TUNE_STEPS, type TuneDevice } from '../src/tune/forward.ts';
import { MemoryTuneStore } from '../src/tune/tuner.ts';
import type { RecurrentStack } from '../src/rnn/stack.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';
import { randomLayerCase } from './helpers/random.ts';

// The autotuner wired into the forward kernel's choice (src/tune/forward.ts, WebGPUBackend's `tune`
// options): a fake device's times through the backend's timing hook (the timing runs themselves
// still happen on the adapter), a fake clock, a store in memory; the chosen kernel's output against
// the float64 reference. Runs in Node (Dawn) and in Chromium.

let gpu: GpuFixture;

beforeAll(async () => {
  gpu = await createGpuFixture();
});

afterAll(() => gpu?.backend.dispose());

/** A device whose candidates take `cost[name]` ms (default 5); every timing also runs the real program. */
function fakeDevice(cost: Record<string, number>) {
  let clock = 0;
  const timed: string[] = [];
  return {
    timed,
    hooks: {
      now: () => clock,
      time: async (name: string, run: () => Promise<number>) => {
        const real = await run();
        expect(real).toBeGreaterThan(0);
        timed.push(name);
        const ms = cost[name] ?? 5;
        clock += ms;
        return ms;
      },
    },
  };
}

describe('the forward kernel chosen by the autotuner', () => {
  it("times every candidate ('full'), runs the fastest, matches the reference, and answers from memory and the cache afterwards", async () => {
    const c = randomLayerCase(1701, { cell: 'gru', hiddenSize: 8, batch: 16, steps: 6, layout: 0 });
    const store = new MemoryTuneStore();
    const dev = fakeDevice({ sequential: 1 });
    const backend = WebGPUBackend.fromContext(gpu.backend.gpu, {
      poisonOutputs: true,
      tune: 'full',
      tuneStore: store,
      tuneHooks: dev.hooks,
    });
    try {
      // The cost model's pick, before anything is resolved.
      expect(backend.recurrentKernelFor(c.spec, 16)).toBe('tile');
      const got = await withErrorScope(backend.device, () => backend.recurrentLayer(c.spec, c.weights, c.inputs));
      // Every candidate that fits this device (its traits: subgroups where granted), as the report lists them.
      const names = backend.tuneReport()[0]!.candidates.map((x) => x.name);
      expect(names).toContain('sequential');
      expect(names.length).toBeGreaterThan(2);
      // A warm-up and three timed runs each.
      expect([...new Set(dev.timed)].sort()).toEqual([...names].sort());
      expect(dev.timed).toHaveLength(4 * names.length);
      const [report] = backend.tuneReport();
      expect(report).toMatchObject({ choice: 'sequential', kernel: 'sequential', source: 'tuned', timedBatch: 16, timedSteps: TUNE_STEPS });
      expect(report!.timesMs.sequential).toBe(1);
      expect(report!.shape).toMatch(/^gru H=8 I=\d+ D=\d r?.*layout=0 head=0 models=1.* batch~16$/);
      expect(store.entries.get(report!.key)).toMatchObject({ choice: 'sequential', mode: 'full' });
      expect(backend.recurrentKernelFor(c.spec, 16)).toBe('sequential');

      const want = await cpuBackend.recurrentLayer(c.spec, c.weights, c.inputs);
      expectClose(got.Y, want.Y, FLOAT32_TOLERANCE, `${c.name}: Y`);
      expectClose(got.Y_h, want.Y_h, FLOAT32_TOLERANCE, `${c.name}: Y_h`);

      // Once resolved, a call of the shape class times nothing.
      await backend.recurrentLayer(c.spec, c.weights, c.inputs);
      expect(dev.timed).toHaveLength(4 * names.length);
    } finally {
      backend.dispose();
    }

    // Another backend with that store: the cache, even with tuning off; without it, the cost model.
    for (const [tune, tuneStore, source, kernel] of [
      ['off', store, 'cache', 'sequential'],
      ['quick', store, 'cache', 'sequential'],
      ['off', new MemoryTuneStore(), 'model', planRecurrentLayer(c.spec, 16, gpu.backend.device.limits).kernel],
    ] as const) {
      const again = fakeDevice({});
      const b = WebGPUBackend.fromContext(gpu.backend.gpu, { tune, tuneStore, tuneHooks: again.hooks });
      try {
        const r = await b.tuneLayer(c.spec, 16);
        expect(r).toMatchObject({ source, kernel });
        if (source === 'cache') expect(r.timesMs.sequential).toBe(1);
        expect(again.timed).toEqual([]);
        expect(b.recurrentKernelFor(c.spec, 16)).toBe(kernel);
      } finally {
        b.dispose();
      }
    }
  });

  it('tunes a stack layer with its head (the small kernel may run the head inside) and matches the reference', async () => {
    const c = randomLayerCase(1702, { cell: 'lstm', direction: 'forward', hiddenSize: 3, inputSize: 2, batch: 12, steps: 5, layout: 1 });
    const r = mulberry32(5);
    const O = 2;
    const stack: RecurrentStack = {
      layers: [{ spec: c.spec, weights: c.weights }],
      head: { weight: uniformArray(r, O * 3, -1, 1), bias: uniformArray(r, O, -1, 1), outputSize: O, inputSize: 3 },
    };
    const inputs = { X: c.inputs.X, batch: 12, steps: 5, sequenceLens: null, initialH: [null], initialC: [null] };
    // 'quick': the cost model's best variant of each kernel; the sequential kernel is the fastest here.
    const dev = fakeDevice({ sequential: 0.5 });
    const backend = WebGPUBackend.fromContext(gpu.backend.gpu, {
      poisonOutputs: true,
      tune: 'quick',
      tuneStore: new MemoryTuneStore(),
      tuneHooks: dev.hooks,
    });
    try {
      const got = await withErrorScope(backend.device, () => backend.recurrentStack(stack, inputs));
      const ranked = backend.tuneReport()[0]!.candidates.map((x) => x.name);
      expect(ranked[0]).toBe('small');
      const kernelOf = (name: string) => name.split('/')[0];
      const leaders = ranked.filter((n, i) => ranked.findIndex((m) => kernelOf(m) === kernelOf(n)) === i);
      expect(leaders).toEqual(expect.arrayContaining(['small', 'tile/128', 'sequential']));
      expect(dev.timed).toEqual(leaders.flatMap((n) => [n, n]));
      expect(backend.tuneReport()).toMatchObject([{ choice: 'sequential', source: 'tuned' }]);
      const want = await cpuBackend.recurrentStack(stack, inputs);
      expectClose(got.Y, want.Y, FLOAT32_TOLERANCE, 'Y (head)');
      expectClose(got.Y_h[0]!, want.Y_h[0]!, FLOAT32_TOLERANCE, 'Y_h');
    } finally {
      backend.dispose();
    }
  });

  it('times on the GPU timer by default and stops starting candidates when the budget is spent', async () => {
    const c = randomLayerCase(1703, { cell: 'rnn', hiddenSize: 6, batch: 8, steps: 3, layout: 1 });
    const backend = WebGPUBackend.fromContext(gpu.backend.gpu, { tune: 'full', tuneBudgetMs: 0, tuneStore: new MemoryTuneStore() });
    try {
      const r = await backend.tuneLayer(c.spec, 8);
      // A budget of 0 still times the first candidate: there is always a measured choice.
      expect(r.source).toBe('tuned');
      expect(Object.keys(r.timesMs)).toEqual([r.candidates[0]!.name]);
      expect(r.timesMs[r.choice]).toBeGreaterThan(0);
    } finally {
      backend.dispose();
    }
  });

  it('keys choices by the granted limits and the kernel sources: another limit or source is another key', () => {
    const c = randomLayerCase(1704, { cell: 'lstm', hiddenSize: 16, batch: 64, layout: 1 });
    const device: TuneDevice = {
      adapter: { vendor: 'v', architecture: 'a', device: 'd', description: 'x' },
      limits: { maxComputeWorkgroupStorageSize: 32768 },
      features: ['timestamp-query'],
    };
    const ctx: LayerPlanContext = { spec: c.spec, batch: 64, limits: gpu.backend.device.limits, headOutputs: 1, models: 1, traits: {} };
    const candidates = forwardCandidates(ctx);
    const store = new MemoryTuneStore();
    const key = new ForwardTuner(device, { store }).key(ctx, candidates);
    expect(new ForwardTuner(device, { store }).key(ctx, candidates)).toBe(key);
    // The same shape class in the same batch bucket: the same key.
    expect(new ForwardTuner(device, { store }).key({ ...ctx, batch: 50 }, candidates)).toBe(key);
    const limits = { ...device, limits: { maxComputeWorkgroupStorageSize: 49152 } };
    expect(new ForwardTuner(limits, { store }).key(ctx, candidates)).not.toBe(key);
    const changed = candidates.map((x) =>
      x.kernel.name === 'tile'
        ? { ...x, kernel: { ...x.kernel, kernels: x.kernel.kernels.map((k) => ({ ...k, code: `${k.code}\n// changed` })) } }
        : x,
    );
    expect(new ForwardTuner(device, { store }).key(ctx, changed)).not.toBe(key);
    expect(new ForwardTuner(device, { store }).key({ ...ctx, batch: 4096 }, candidates)).not.toBe(key);
  });

  it("forces one variant by its candidate name ('tile/32'), runs exactly its plan, matches the reference; refuses unknown names", async () => {
    const c = randomLayerCase(1707, { cell: 'lstm', hiddenSize: 8, batch: 40, steps: 5, layout: 1 });
    const ctx: LayerPlanContext = { spec: c.spec, batch: 40, limits: gpu.backend.device.limits, headOutputs: 0, models: 1, traits: {} };
    const variant = forwardCandidates(ctx).find((x) => x.name === 'tile/32')!;
    expect(variant.plan.pipeline.constants).not.toEqual(planRecurrentLayer(c.spec, 40, ctx.limits, 'tile').pipeline.constants);
    // A variant's name means the same at every batch, though at some batches it plans the same
    // pipeline as another (the candidate list then keeps one): a name the tuner stored, or a
    // benchmark forced, at one batch is found at the batch a call or its validation runs.
    for (const batch of [3, 40, 4096]) {
      expect(planRecurrentLayer(c.spec, batch, ctx.limits, 'wide/v1-registers-t128').kernel).toBe('wide');
    }
    const forced = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, recurrentKernel: 'tile/32' });
    try {
      expect(forced.recurrentKernelFor(c.spec, 40)).toBe('tile');
      // The executor's one place every program passes through (private: reached for this check only).
      const executor = forced.executor as unknown as { run: (program: Program) => Promise<unknown> };
      const run = vi.spyOn(executor, 'run');
      const got = await forced.recurrentLayer(c.spec, c.weights, c.inputs);
      const dispatched = run.mock.calls.flatMap(([program]) => program.dispatches.map((d) => d.constants));
      expect(dispatched).toContainEqual(variant.plan.pipeline.constants);
      const want = await cpuBackend.recurrentLayer(c.spec, c.weights, c.inputs);
      expectClose(got.Y, want.Y, FLOAT32_TOLERANCE, 'Y');
      // A variant that does not exist for this shape is a DeviceError naming those that do.
      const bad = WebGPUBackend.fromContext(gpu.backend.gpu, { recurrentKernel: 'tile/3' });
      await expect(bad.recurrentLayer(c.spec, c.weights, c.inputs)).rejects.toThrow(/has no variant tile\/3 .*tile\/128/);
      bad.dispose();
    } finally {
      forced.dispose();
    }
    expect(() => WebGPUBackend.fromContext(gpu.backend.gpu, { recurrentKernel: 'tiled' as 'tile' })).toThrow(
      /recurrentKernel must be 'auto', a kernel \(small, tile, sequential, lanes/,
    );
  });

  it('refuses bad tuning options with a ConfigError, and tuning a backend whose kernel is forced', async () => {
    expect(() => WebGPUBackend.fromContext(gpu.backend.gpu, { tune: 'fast' as 'off' })).toThrow(
      /tune must be one of off, quick, full, got "fast"/,
    );
    expect(() => WebGPUBackend.fromContext(gpu.backend.gpu, { tuneBudgetMs: -1 })).toThrow(ConfigError);
    await expect(WebGPUBackend.create({ tune: 'fast' as 'off', log: false })).rejects.toThrow(ConfigError);
    const forced = WebGPUBackend.fromContext(gpu.backend.gpu, { recurrentKernel: 'tile' });
    try {
      const c = randomLayerCase(1705, { hiddenSize: 5, layout: 1 });
      await expect(forced.tuneLayer(c.spec, 4)).rejects.toThrow(/forced/);
      expect(forced.tuneReport()).toEqual([]);
    } finally {
      forced.dispose();
    }
  });
});
