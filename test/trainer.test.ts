import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { ConfigError, ShapeError } from '../src/errors.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { readSafetensors } from '../src/io/safetensors.ts';
import { samples, seriesWindows, splitValidation, type Samples } from '../src/train/data.ts';
import { flattenParams } from '../src/train/params.ts';
import { Trainer, type TrainerOptions } from '../src/train/trainer.ts';
import { mulberry32 } from '../src/util/rng.ts';

// The trainer (src/train/trainer.ts) on the float64 CPU engine: the epoch loop, callbacks,
// validation and early stopping, truncated BPTT, per-series models, optimizer state round trips,
// and the exploding gradients of a plain RNN that clipping exists for. The WebGPU engine is
// checked against this one in test/trainer.gpu.test.ts.

/** Noisy sines of different phase and period: something an RNN can learn quickly. */
function sines(count: number, length: number, seed: number): number[][] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, (_, s) => {
    const phase = rand() * 6;
    const period = 6 + (s % 5);
    return Array.from({ length }, (_, t) => Math.sin((2 * Math.PI * t) / period + phase) + 0.05 * (rand() - 0.5));
  });
}

const small = (cell: 'rnn' | 'gru' | 'lstm', seed = 1) =>
  RecurrentNet.create(
    { cell, inputSize: 1, hiddenSize: 5, outputSize: 1, ...(cell === 'rnn' ? { nonlinearity: 'tanh' as const } : {}) },
    { seed },
  );

const adam = (o: Partial<TrainerOptions> = {}): TrainerOptions => ({
  backend: cpuBackend,
  loss: { kind: 'mse' },
  optimizer: { kind: 'adam', lr: 0.02 },
  batchSize: 16,
  seed: 3,
  ...o,
});

describe('Trainer on the float64 engine', () => {
  it('trains on samples drawn per epoch exactly as on the same samples one fit at a time', async () => {
    const parts = [1, 2, 3].map((seed) => seriesWindows(sines(3, 30, seed), 10));
    const drawn: number[] = [];
    const a = await Trainer.create(small('lstm'), adam());
    await a.fit(
      (epoch) => {
        drawn.push(epoch);
        return parts[epoch - 1]!;
      },
      { epochs: 3 },
    );
    expect(drawn).toEqual([1, 2, 3]);
    const b = await Trainer.create(small('lstm'), adam());
    for (const part of parts) await b.fit(part, { epochs: 1 });
    expect(flattenParams((await a.model()).layers())).toEqual(flattenParams((await b.model()).layers()));
    await expect(a.fit(() => parts[0]!, { epochs: 1, validationSplit: 0.2 })).rejects.toThrow(ConfigError);
    await expect(a.fit((e) => (e === 1 ? parts[0]! : seriesWindows(sines(3, 30, 1), 8)), { epochs: 2 })).rejects.toThrow(ShapeError);
  });

  it('lowers the loss of each cell, one callback per step and per epoch', async () => {
    const data = seriesWindows(sines(4, 40, 1), 12);
    for (const cell of ['rnn', 'gru', 'lstm'] as const) {
      const trainer = await Trainer.create(small(cell), adam());
      const steps: number[] = [];
      const epochs: number[] = [];
      const most = new Set<number | undefined>();
      const before = (await trainer.evaluate(data))[0]!;
      const history = await trainer.fit(data, {
        epochs: 6,
        onStep: (e) => void (steps.push(e.step), most.add(e.epochs)),
        onEpoch: (e) => void (epochs.push(e.epoch), most.add(e.epochs)),
      });
      // Every event says the run's most epochs (progress displays count to them).
      expect([...most]).toEqual([6]);
      const after = (await trainer.evaluate(data))[0]!;
      const perEpoch = Math.ceil(data.count / 16);
      expect(steps).toEqual(Array.from({ length: 6 * perEpoch }, (_, i) => i + 1));
      expect(epochs).toEqual([1, 2, 3, 4, 5, 6]);
      expect(history.steps).toHaveLength(6 * perEpoch);
      expect(after, `${cell}: ${before} → ${after}`).toBeLessThan(0.5 * before);
    }
  });

  it('is reproducible from its seed and changes with it', async () => {
    const data = seriesWindows(sines(2, 30, 2), 8);
    const run = async (seed: number) => {
      const trainer = await Trainer.create(small('gru'), adam({ seed }));
      await trainer.fit(data, { epochs: 2 });
      return flattenParams((await trainer.model()).layers());
    };
    expect(await run(5)).toEqual(await run(5));
    expect(await run(5)).not.toEqual(await run(6));
  });

  it('gives every series in per-series mode exactly the model it gets trained alone', async () => {
    const all = sines(3, 26, 4);
    const together = await Trainer.create(small('lstm'), adam({ series: 3, batchSize: 4, clip: { kind: 'norm', maxNorm: 0.5 } }));
    await together.fit(seriesWindows(all, 6, { perSeries: true }), { epochs: 2 });
    for (let s = 0; s < 3; s++) {
      const alone = await Trainer.create(small('lstm'), adam({ batchSize: 4, clip: { kind: 'norm', maxNorm: 0.5 } }));
      await alone.fit(seriesWindows([all[s]!], 6), { epochs: 2 });
      expect(flattenParams((await together.model(s)).layers())).toEqual(flattenParams((await alone.model()).layers()));
    }
  });

  it('stops early when the validation loss stops improving, and keeps the best weights', async () => {
    const data = seriesWindows(sines(2, 60, 5), 10);
    // A learning rate large enough that the validation loss stops improving within a few epochs.
    const trainer = await Trainer.create(small('rnn'), adam({ optimizer: { kind: 'sgd', lr: 0.9, momentum: 0.9 } }));
    const history = await trainer.fit(data, { epochs: 40, validationSplit: 0.25, earlyStopping: { patience: 2 } });
    const val = history.epochs.map((e) => e.validationLoss!);
    expect(history.stoppedEarly).toBe(true);
    expect(history.epochs.length).toBeLessThan(40);
    const best = Math.min(...val);
    expect(val[history.bestEpoch - 1]).toBe(best);
    expect(history.epochs.length).toBe(history.bestEpoch + 2);
    // The weights it ends with are the best epoch's: their validation loss is the best one.
    const { validation } = splitValidation(data, 0.25);
    expect((await trainer.evaluate(validation!))[0]).toBe(best);
  });

  it('trains with truncated BPTT: one step per window, loss only where the last h steps are', async () => {
    const data = seriesWindows(sines(2, 30, 6), 12);
    const batches = Math.ceil(data.count / 16);
    const windows = await Trainer.create(small('gru'), adam({ truncate: 5 }));
    const h1 = await windows.fit(data, { epochs: 1 });
    expect(h1.steps).toHaveLength(batches * 3); // 12 steps: windows of 5, 5, 2
    const lastOnly = await Trainer.create(small('gru'), adam({ truncate: 5, loss: { kind: 'mse', steps: { last: 4 } } }));
    const h2 = await lastOnly.fit(data, { epochs: 1 });
    expect(h2.steps).toHaveLength(batches * 2); // the first window holds none of the last 4 steps
    // A window as long as the sequence is plain BPTT.
    const full = await Trainer.create(small('gru'), adam({ truncate: 12 }));
    const plain = await Trainer.create(small('gru'), adam());
    await full.fit(data, { epochs: 1 });
    await plain.fit(data, { epochs: 1 });
    expect(flattenParams((await full.model()).layers())).toEqual(flattenParams((await plain.model()).layers()));
  });

  it('continues where it stopped: two fits of 1 epoch equal one of 2', async () => {
    const data = seriesWindows(sines(2, 24, 7), 6);
    const once = await Trainer.create(small('lstm'), adam());
    await once.fit(data, { epochs: 2 });
    const twice = await Trainer.create(small('lstm'), adam());
    await twice.fit(data, { epochs: 1 });
    await twice.fit(data, { epochs: 1 });
    expect(flattenParams((await twice.model()).layers())).toEqual(flattenParams((await once.model()).layers()));
  });

  it('saves the optimizer state with PyTorch names and resumes from it', async () => {
    // One batch per epoch, so the resumed run sees the same batches whatever its shuffle.
    const data = seriesWindows(sines(2, 24, 7), 6);
    const options = adam({ batchSize: data.count });
    const straight = await Trainer.create(small('lstm'), options);
    await straight.fit(data, { epochs: 3 });

    const first = await Trainer.create(small('lstm'), options);
    await first.fit(data, { epochs: 2 });
    const bytes = await first.optimizerStateSafetensors();
    const names = Object.keys(readSafetensors(bytes).tensors);
    expect(names).toContain('lstm.weight_ih_l0.exp_avg');
    expect(names).toContain('head.bias.exp_avg_sq');
    const state = first.loadOptimizerState(bytes);
    const saved = (await first.optimizerState())[0]!;
    expect(state.step).toBe(saved.step);
    for (const slot of ['exp_avg', 'exp_avg_sq']) {
      expect(Array.from(state.buffers.params![slot]!)).toEqual(Array.from(Float32Array.from(saved.buffers.params![slot]!)));
    }
    // Resumed from float32 copies of the weights and the state: equal to float32 rounding.
    const resumed = await Trainer.create(await first.model(), { ...options, optimizerState: [state] });
    await resumed.fit(data, { epochs: 1 });
    const want = flattenParams((await straight.model()).layers());
    const got = flattenParams((await resumed.model()).layers());
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-5);
    await expect(Trainer.create(small('lstm'), { ...options, optimizerState: [state, state] })).rejects.toThrow(ShapeError);
    // Per-series models step together: states saved at different steps cannot resume side by side.
    await expect(
      Trainer.create(small('lstm'), { ...options, series: 2, optimizerState: [state, { ...state, step: state.step + 1 }] }),
    ).rejects.toThrow(
      new ConfigError(
        `per-series optimizer states must share one step count (the models step together), got ${state.step}, ${state.step + 1}`,
      ),
    );
  });

  it('rejects bad options and data with typed errors before training', async () => {
    const model = small('rnn');
    await expect(Trainer.create(model, adam({ batchSize: 0 }))).rejects.toThrow(ConfigError);
    await expect(Trainer.create(model, adam({ optimizer: { kind: 'rmsprop' } as never }))).rejects.toThrow(/unknown optimizer "rmsprop"/);
    await expect(Trainer.create(model, adam({ backend: {} as never }))).rejects.toThrow(ConfigError);
    const trainer = await Trainer.create(model, adam());
    const data = seriesWindows(sines(1, 20, 8), 5);
    await expect(trainer.fit(data, { epochs: 0 })).rejects.toThrow(ConfigError);
    await expect(trainer.fit(data, { epochs: 1, earlyStopping: { patience: 2 } })).rejects.toThrow(/early stopping needs a validation set/);
    await expect(trainer.fit(seriesWindows(sines(2, 20, 8), 5, { perSeries: true }), { epochs: 1 })).rejects.toThrow(ShapeError);
    const twoInputs: Samples = samples({
      x: new Float32Array(2 * 3 * 2),
      y: new Float32Array(2 * 3),
      count: 2,
      steps: 3,
      inputSize: 2,
      outputSize: 1,
    });
    await expect(trainer.fit(twoInputs, { epochs: 1 })).rejects.toThrow(ShapeError);
  });
});

describe('exploding gradients: why clipping exists', () => {
  // An Elman network whose recurrent weights have a spectral radius well above 1 on long
  // sequences (R scaled ×5 from PyTorch's initialisation, T = 60): the gradient through T steps
  // grows like ρ^T. Plain SGD then takes enormous steps and the loss runs away (measured: 0.5 →
  // 1.5e12 in 10 epochs); clipping the global norm to 0.5 keeps every step bounded and the same
  // schedule trains (0.5 → 0.18).
  async function run(clip: TrainerOptions['clip']) {
    const model = RecurrentNet.create({ cell: 'rnn', nonlinearity: 'tanh', inputSize: 1, hiddenSize: 6, outputSize: 1 }, { seed: 11 });
    const stack = model.layers();
    stack.layers[0]!.weights.R.forEach((v, i, R) => (R[i] = v * 5));
    const exploding = model.withLayers(stack);
    const data = seriesWindows(sines(2, 70, 9), 60);
    const trainer = await Trainer.create(exploding, {
      backend: cpuBackend,
      loss: { kind: 'mse' },
      optimizer: { kind: 'sgd', lr: 0.5 },
      batchSize: 8,
      seed: 1,
      clip,
    });
    const history = await trainer.fit(data, { epochs: 10 });
    return { history, final: (await trainer.evaluate(data))[0]! };
  }

  it('diverges without clipping and trains with it', async () => {
    const plain = await run(null);
    const clipped = await run({ kind: 'norm', maxNorm: 0.5 });
    const first = clipped.history.steps[0]!;
    // Without clipping the loss ends orders of magnitude above where it started (or non-finite)…
    expect(Number.isFinite(plain.final) && plain.final < 1000 * first, `unclipped: first ${first}, final ${plain.final}`).toBe(false);
    // …with it, the same steps halve it.
    expect(clipped.final, `clipped: first ${first}, final ${clipped.final}`).toBeLessThan(0.5 * first);
  });
});
