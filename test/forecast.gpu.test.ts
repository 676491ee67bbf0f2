import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { ShapeError } from '../src/errors.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import type { TorchRecurrentOptions } from '../src/model/torch-modules.ts';
import { forecastReference } from '../src/reference/forecast.ts';
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
  ['Elman ReLU H=1 (small kernel, fused head)', { cell: 'rnn', nonlinearity: 'relu', inputSize: 1, hiddenSize: 1, outputSize: 1 }, 37, 9, 6],
  ['GRU H=3, 2 covariates', { cell: 'gru', inputSize: 3, hiddenSize: 3, outputSize: 1 }, 20, 8, 5],
  ['LSTM H=12, 2 layers (tiled)', { cell: 'lstm', inputSize: 1, hiddenSize: 12, outputSize: 1, numLayers: 2 }, 33, 10, 7],
  ['LSTM H=6, 2 outputs + 1 covariate', { cell: 'lstm', inputSize: 3, hiddenSize: 6, outputSize: 2 }, 9, 6, 4],
  ['GRU H=8, horizon 1', { cell: 'gru', inputSize: 1, hiddenSize: 8, outputSize: 1 }, 5, 4, 1],
];

describe('recursive forecasting on the GPU', () => {
  CASES.forEach(([label, options, B, T, H], i) => {
    for (const [where, backend] of [['one program', () => gpu.backend], ['split into chunks and segments', () => split]] as const) {
      it(`${label}: B=${B} T=${T} horizon ${H}, ${where}`, async () => {
        const stack = RecurrentNet.create(options, { seed: 10 + i }).layers();
        const rand = mulberry32(20 + i);
        const E = options.inputSize - (options.outputSize ?? 1);
        const inputs = { history: uniformArray(rand, B * T * options.inputSize, -1, 1), batch: B, steps: T, horizon: H, futureExog: E ? uniformArray(rand, B * H * E, -1, 1) : null };
        const got = await withErrorScope(gpu.backend.device, () => backend().recurrentForecast(stack, inputs));
        expectClose(got, forecastReference(stack, inputs), FLOAT32_TOLERANCE, 'forecast', [B, H, options.outputSize ?? 1]);
      });
    }
  });

  it('rejects what it cannot forecast before any GPU work', async () => {
    const stack = RecurrentNet.create({ cell: 'gru', inputSize: 1, hiddenSize: 2, outputSize: 1, bidirectional: true }).layers();
    const live = gpu.backend.pool.liveBuffers;
    await expect(gpu.backend.recurrentForecast(stack, { history: new Float32Array(4), batch: 2, steps: 2, horizon: 3, futureExog: null })).rejects.toThrow(ShapeError);
    expect(gpu.backend.pool.liveBuffers).toBe(live);
    expect(gpu.uncaptured).toEqual([]);
  });
});
