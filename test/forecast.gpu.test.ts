import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { ShapeError } from '../src/errors.ts';
import { Forecaster } from '../src/forecast/forecaster.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import type { TorchRecurrentOptions } from '../src/model/torch-modules.ts';
import { forecastReference } from '../src/reference/forecast.ts';
import { forecastInputRows } from '../src/rnn/forecast.ts';
import type { CellType } from '../src/rnn/spec.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';

// Recursive forecasting on the GPU (WebGPUBackend.recurrentForecast: the history pass, then per step
// the feedback kernel and a one-step pass, in one program) against the float64 reference, on every
// kernel the layers pick (small H with the fused head, tiled), with covariates, several layers and
// outputs, and split into batch chunks. Runs in Node and in Chromium.

let gpu: GpuFixture;
let split: WebGPUBackend;
beforeAll(async () => {
  gpu = await createGpuFixture();
  split = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, maxBindingBytes: 8192, maxStepsPerDispatch: 3 });
});
afterAll(() => {
  split?.dispose();
  gpu?.backend.dispose();
});

const CASES: Array<[string, TorchRecurrentOptions & { cell: CellType; inputSize: number; hiddenSize: number }, number, number, number]> = [
  [
    'Elman ReLU H=1 (small kernel, fused head)',
    { cell: 'rnn', nonlinearity: 'relu', inputSize: 1, hiddenSize: 1, outputSize: 1 },
    37,
    9,
    6,
  ],
  ['GRU H=3, 2 covariates', { cell: 'gru', inputSize: 3, hiddenSize: 3, outputSize: 1 }, 20, 8, 5],
  ['LSTM H=12, 2 layers (tiled)', { cell: 'lstm', inputSize: 1, hiddenSize: 12, outputSize: 1, numLayers: 2 }, 33, 10, 7],
  ['LSTM H=6, 2 outputs + 1 covariate', { cell: 'lstm', inputSize: 3, hiddenSize: 6, outputSize: 2 }, 9, 6, 4],
  ['GRU H=8, horizon 1', { cell: 'gru', inputSize: 1, hiddenSize: 8, outputSize: 1 }, 5, 4, 1],
];

describe('recursive forecasting on the GPU', () => {
  CASES.forEach(([label, options, B, T, H], i) => {
    for (const [where, backend] of [
      ['one program', () => gpu.backend],
      ['split into chunks and segments', () => split],
    ] as const) {
      it(`${label}: B=${B} T=${T} horizon ${H}, ${where}`, async () => {
        const stack = RecurrentNet.create(options, { seed: 10 + i }).layers();
        const rand = mulberry32(20 + i);
        const E = options.inputSize - (options.outputSize ?? 1);
        const inputs = {
          history: uniformArray(rand, B * T * options.inputSize, -1, 1),
          batch: B,
          steps: T,
          horizon: H,
          futureExog: E ? uniformArray(rand, B * H * E, -1, 1) : null,
        };
        const got = await withErrorScope(gpu.backend.device, () => backend().recurrentForecast(stack, inputs));
        expectClose(got, forecastReference(stack, inputs), FLOAT32_TOLERANCE, 'forecast', [B, H, options.outputSize ?? 1]);
      });
    }
  });

  // Per-series models: each series its own weights, every model in the same dispatches. The
  // reference runs each model alone on its rows.
  const PER_SERIES: Array<
    [string, TorchRecurrentOptions & { cell: CellType; inputSize: number; hiddenSize: number }, number, number, number, number]
  > = [
    ['Elman tanh H=2 (small kernel)', { cell: 'rnn', inputSize: 1, hiddenSize: 2, outputSize: 1 }, 7, 3, 8, 5],
    ['GRU H=5, 1 covariate (tiled)', { cell: 'gru', inputSize: 2, hiddenSize: 5, outputSize: 1 }, 5, 6, 7, 4],
    ['LSTM H=9, 2 layers (tiled)', { cell: 'lstm', inputSize: 1, hiddenSize: 9, outputSize: 1, numLayers: 2 }, 4, 2, 6, 3],
  ];
  PER_SERIES.forEach(([label, options, S, per, T, H], i) => {
    for (const [where, backend] of [
      ['one program', () => gpu.backend],
      ['split into chunks and segments', () => split],
    ] as const) {
      it(`per-series models, ${label}: ${S} models × ${per} series, T=${T}, horizon ${H}, ${where}`, async () => {
        const stacks = Array.from({ length: S }, (_, m) => RecurrentNet.create(options, { seed: 40 + 10 * i + m }).layers());
        const rand = mulberry32(50 + i);
        const B = S * per;
        const E = options.inputSize - (options.outputSize ?? 1);
        const inputs = {
          history: uniformArray(rand, B * T * options.inputSize, -1, 1),
          batch: B,
          steps: T,
          horizon: H,
          futureExog: E ? uniformArray(rand, B * H * E, -1, 1) : null,
        };
        const got = await withErrorScope(gpu.backend.device, () => backend().recurrentForecast(stacks, inputs));
        const O = options.outputSize ?? 1;
        const want = new Float64Array(B * H * O);
        stacks.forEach((stack, m) => {
          const rows = forecastInputRows(inputs, m * per, (m + 1) * per);
          want.set(forecastReference(stack, rows), m * per * H * O);
        });
        expectClose(got, want, FLOAT32_TOLERANCE, 'forecast', [B, H, O]);
      });
    }
  });

  for (const strategy of ['recursive', 'direct'] as const) {
    it(`Forecaster with a model per series (${strategy}): trains and forecasts all 12 series in one program each, as the float64 backend forecasts with the same models`, async () => {
      const rand = mulberry32(60);
      const series = Array.from({ length: 12 }, (_, k) => {
        const y = Float64Array.from({ length: 40 }, (_, t) => 10 + k + 3 * Math.sin((2 * Math.PI * t) / 12 + k) + 0.2 * rand());
        return { id: `s${k}`, ds: Array.from({ length: 40 }, (_, t) => String(t)), y, exog: {} };
      });
      const options = {
        horizon: 5,
        season: 12,
        inputSize: 12,
        cell: 'gru' as const,
        hiddenSize: 6,
        perSeries: true,
        strategy,
        seed: 3,
        ensemble: 1,
        combine: [],
        training: { batchSize: 8 },
      };
      const f = Forecaster.create({ backend: gpu.backend, ...options });
      const programs = vi.spyOn(gpu.backend, 'runProgram');
      try {
        await f.fit(series, { epochs: 2 });
        // The last 5 points are held out: 35 − 12 − (1 or 5) + 1 = 23 (recursive) or 19 (direct)
        // windows per series, 3 batches of at most 8 per epoch.
        const windows = 35 - 12 - (strategy === 'direct' ? 5 : 1) + 1;
        expect(programs.mock.calls.filter(([p]) => p.what === 'a training step')).toHaveLength(2 * Math.ceil(windows / 8));
      } finally {
        programs.mockRestore();
      }
      const run = vi.spyOn(gpu.backend.executor as unknown as { run: (p: { what: string }) => Promise<unknown> }, 'run');
      let got;
      try {
        got = await withErrorScope(gpu.backend.device, () => f.predict(series));
        expect(run).toHaveBeenCalledTimes(1);
      } finally {
        run.mockRestore();
      }
      const cpu = Forecaster.fromSafetensors(f.toSafetensors(), cpuBackend);
      const want = await cpu.predict(series);
      got.forEach((g, k) => {
        expect(g.id).toBe(`s${k}`);
        expectClose(g.values, want[k]!.values, { atol: 1e-4, rtol: 1e-4 }, `series ${g.id}`);
      });
    });
  }

  it('rejects per-series models of different architectures or a batch they do not split, before any GPU work', async () => {
    const a = RecurrentNet.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, outputSize: 1 }, { seed: 1 }).layers();
    const b = RecurrentNet.create({ cell: 'gru', inputSize: 1, hiddenSize: 3, outputSize: 1 }, { seed: 2 }).layers();
    const live = gpu.backend.pool.liveBuffers;
    const x = { history: new Float32Array(4 * 2), batch: 4, steps: 2, horizon: 3, futureExog: null };
    await expect(gpu.backend.recurrentForecast([a, b], x)).rejects.toThrow(/share one architecture/);
    await expect(gpu.backend.recurrentForecast([a, a, a], x)).rejects.toThrow(ShapeError);
    await expect(gpu.backend.recurrentForecast([], x)).rejects.toThrow(ShapeError);
    expect(gpu.backend.pool.liveBuffers).toBe(live);
  });

  it('rejects what it cannot forecast before any GPU work', async () => {
    const stack = RecurrentNet.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, outputSize: 1, bidirectional: true }).layers();
    const live = gpu.backend.pool.liveBuffers;
    await expect(
      gpu.backend.recurrentForecast(stack, { history: new Float32Array(4), batch: 2, steps: 2, horizon: 3, futureExog: null }),
    ).rejects.toThrow(ShapeError);
    expect(gpu.backend.pool.liveBuffers).toBe(live);
    expect(gpu.uncaptured).toEqual([]);
  });
});
