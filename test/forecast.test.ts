import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../src/errors.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { forecastReference } from '../src/reference/forecast.ts';
import { checkForecast } from '../src/rnn/forecast.ts';
import type { Tensor } from '../src/tensor.ts';
import { expectClose } from '../src/util/compare.ts';

// Recursive multi-step forecasting (src/rnn/forecast.ts): the float64 reference against PyTorch
// (test/golden/make_torch_forecast.py), and its checks.

interface GoldenCase {
  name: string;
  cell: 'rnn' | 'lstm' | 'gru';
  nonlinearity: 'relu' | 'tanh' | null;
  numLayers: number;
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  batch: number;
  steps: number;
  horizon: number;
  stateDict: Record<string, number[]>;
  history: number[];
  futureExog: number[] | null;
  forecast: number[];
}
const golden = JSON.parse(readFileSync(new URL('./data/torch-grads/forecast.json', import.meta.url), 'utf8')) as { cases: GoldenCase[] };

function goldenModel(c: GoldenCase): RecurrentNet {
  const options = {
    cell: c.cell,
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    outputSize: c.outputSize,
    numLayers: c.numLayers,
    ...(c.nonlinearity ? { nonlinearity: c.nonlinearity } : {}),
  };
  const sd: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(RecurrentNet.create(options).stateDict()))
    sd[name] = { data: Float32Array.from(c.stateDict[name]!), shape: t.shape };
  return RecurrentNet.fromStateDict(sd, options);
}

describe('recursive forecasting', () => {
  for (const c of golden.cases) {
    it(`matches PyTorch: ${c.name}`, () => {
      const stack = goldenModel(c).layers();
      const inputs = {
        history: Float64Array.from(c.history),
        batch: c.batch,
        steps: c.steps,
        horizon: c.horizon,
        futureExog: c.futureExog && Float64Array.from(c.futureExog),
      };
      checkForecast(stack, inputs);
      expectClose(forecastReference(stack, inputs), c.forecast, { atol: 1e-12, rtol: 1e-10 }, 'forecast', [
        c.batch,
        c.horizon,
        c.outputSize,
      ]);
    });
  }

  it('rejects what it cannot forecast with typed errors', () => {
    const model = (o: object) => RecurrentNet.create({ cell: 'gru', inputSize: 3, hiddenSize: 4, outputSize: 1, ...o }).layers();
    const x = { history: new Float32Array(2 * 5 * 3), batch: 2, steps: 5, horizon: 4, futureExog: new Float32Array(2 * 4 * 2) };
    expect(() => checkForecast(model({}), x)).not.toThrow();
    expect(() => checkForecast(model({}), { ...x, futureExog: null })).toThrow(
      /2 exogenous feature\(s\): futureExog \[2, 4, 2\] is needed/,
    );
    expect(() => checkForecast(model({}), { ...x, futureExog: new Float32Array(3) })).toThrow(ShapeError);
    expect(() => checkForecast(model({}), { ...x, horizon: 0 })).toThrow(/horizon must be a positive integer/);
    expect(() => checkForecast(model({ bidirectional: true }), x)).toThrow(/needs forward layers/);
    expect(() => checkForecast(model({ outputSize: 4 }), x)).toThrow(/4 outputs but the input has only 3 features/);
    expect(() => checkForecast(RecurrentNet.create({ cell: 'gru', inputSize: 3, hiddenSize: 4 }).layers(), x)).toThrow(/needs a head/);
    expect(() => checkForecast(model({}), { ...x, history: new Float32Array(7) })).toThrow(/X has 7 values/);
  });
});
