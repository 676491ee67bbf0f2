import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import { co2Monthly } from '../src/data/datasets.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { tensor } from '../src/tensor.ts';
import { seriesWindows, splitValidation } from '../src/train/data.ts';
import { Trainer } from '../src/train/trainer.ts';

// Training on a real series: monthly CO2 at Mauna Loa (vega-datasets, 1958–2020, 746 months). A
// small LSTM learns the month-to-month change (first differences, standardised on the training
// part) from windows of 24 months; on the held-out latest 20 % of windows its one-month-ahead
// forecasts of the level must beat the seasonal-naive forecast (the value 12 months earlier) and the
// naive one (last month's value), measured on the last 12 steps of each window. Seeded throughout.

/** The CO2 series as standardised first differences, and the scale to undo them. */
function co2Differences() {
  const levels = co2Monthly().values;
  const diffs = levels.slice(1).map((v, i) => v - levels[i]!);
  const cut = Math.floor(0.8 * diffs.length); // statistics of the training part only
  const mean = diffs.slice(0, cut).reduce((a, b) => a + b, 0) / cut;
  const std = Math.sqrt(diffs.slice(0, cut).reduce((a, b) => a + (b - mean) ** 2, 0) / cut);
  return { z: diffs.map((d) => (d - mean) / std), mean, std };
}

async function co2Experiment(backend: Backend) {
  const T = 24;
  const h = 12;
  const { z, mean, std } = co2Differences();
  const { train, validation } = splitValidation(seriesWindows([z], T), 0.2);
  const v = validation!;
  const model = RecurrentNet.create({ cell: 'lstm', inputSize: 1, hiddenSize: 8, outputSize: 1 }, { seed: 1 });
  const trainer = await Trainer.create(model, {
    backend,
    loss: { kind: 'mse' },
    optimizer: { kind: 'adam', lr: 0.01 },
    batchSize: 32,
    seed: 1,
  });
  const history = await trainer.fit(train, { epochs: 20, validation: v });
  const fitted = await trainer.model();
  trainer.dispose();
  const out = (await fitted.forward(tensor(v.x, [v.count, T, 1]), { backend: cpuBackend })).output.data;
  // Squared errors of the level one month ahead, in ppm², over the last h steps of every window.
  // y at step t is the change into month t+1: the model's level error is (ŷ − y)·std; naive's is
  // the change itself; seasonal naive's is the sum of the last 12 changes.
  const delta = (b: number, t: number) => v.y[b * T + t]! * std + mean;
  let model2 = 0;
  let naive = 0;
  let seasonal = 0;
  let n = 0;
  for (let b = 0; b < v.count; b++) {
    for (let t = T - h; t < T; t++) {
      let year = 0;
      for (let k = t - 11; k <= t; k++) year += delta(b, k);
      model2 += ((out[b * T + t]! - v.y[b * T + t]!) * std) ** 2;
      naive += delta(b, t) ** 2;
      seasonal += year ** 2;
      n++;
    }
  }
  return { history, mse: model2 / n, naive: naive / n, seasonalNaive: seasonal / n };
}

describe('training on a real series (CO2, vega-datasets)', () => {
  it('beats the seasonal-naive and naive forecasts on held-out months (float64 engine)', async () => {
    const r = await co2Experiment(cpuBackend);
    const val = r.history.epochs.map((e) => e.validationLoss!);
    expect(val.at(-1)!).toBeLessThan(0.5 * val[0]!);
    expect(r.mse, `LSTM ${r.mse.toFixed(3)} ppm², seasonal naive ${r.seasonalNaive.toFixed(3)}`).toBeLessThan(0.5 * r.seasonalNaive);
    expect(r.mse, `LSTM ${r.mse.toFixed(3)} ppm², naive ${r.naive.toFixed(3)}`).toBeLessThan(0.5 * r.naive);
  });
});
