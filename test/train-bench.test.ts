import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PYTHON, PYTHON_ENV, TF32_TOLERANCE, TORCH_CUDA_FP32, TORCH_CUDA_TF32 } from '../bench/peers/pytorch.ts';
import { pytorchTrainPeer, type TorchPerSeriesMode } from '../bench/peers/train-pytorch.ts';
import { tfjsTrainPeer } from '../bench/peers/train-tfjs.ts';
import type { EpochResult, TrainContender } from '../bench/train-contender.ts';
import { runTrainHarness, trainTableRows, validateEpoch, type TrainBudget } from '../bench/train-harness.ts';
import { referenceTraining, trainReferenceContender } from '../bench/train-reference.ts';
import { ADAM, cellWorkload, initialModel, trainData, trainWorkload, type TrainWorkload } from '../bench/train-workloads.ts';
import { lossSpec } from '../src/train/loss.ts';

// The training benchmark's peers (bench/peers/train-*.ts) must train webrnn's models exactly as the
// float64 reference does (bench/train-reference.ts: the stack's backward reference, the loss and
// Adam), step by step, before they are timed: the loss of every step and the weights after each
// epoch, on tiny workloads of every cell. The npm peers (TF.js) must be available; PyTorch runs where
// /usr/bin/python3 imports torch (elsewhere its tests are skipped, and the reason is printed).

const PYTHON = process.env[PYTHON_ENV] || DEFAULT_PYTHON;
const torch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const TORCH_MISSING = torch.error
  ? `${PYTHON} cannot run (${torch.error.message})`
  : torch.status === 0
    ? null
    : `${PYTHON} cannot import torch`;
if (TORCH_MISSING) console.warn(`train-bench.test.ts: the PyTorch runs are skipped: ${TORCH_MISSING}`);

const tiny = { batch: 4, steps: 6, stepsPerEpoch: 3 };

/**
 * Every cell with one layer (the benchmark's models at tiny sizes; MSE over all steps or the last
 * few), then two layers with 2 inputs and 2 outputs.
 */
const ONE_LAYER: TrainWorkload[] = [
  trainWorkload('elman-relu-h1', tiny),
  trainWorkload('gru-h24-i4', { ...tiny, loss: { last: 2 } }),
  { ...trainWorkload('lstm-h32', tiny), name: 'lstm-h3', hiddenSize: 3, loss: lossSpec({ kind: 'mse', steps: { last: 3 } }) },
];
const TWO_LAYERS: TrainWorkload[] = [
  {
    ...trainWorkload('elman-relu-h32', tiny),
    name: 'elman-tanh-2x5',
    nonlinearity: 'tanh',
    inputSize: 2,
    hiddenSize: 5,
    outputSize: 2,
    numLayers: 2,
  },
  { ...trainWorkload('lstm-h32', tiny), name: 'lstm-2x3', inputSize: 2, hiddenSize: 3, outputSize: 2, numLayers: 2 },
  {
    ...trainWorkload('gru-h24-i4', tiny),
    name: 'gru-2x3',
    inputSize: 2,
    hiddenSize: 3,
    outputSize: 2,
    numLayers: 2,
    loss: lossSpec({ kind: 'mse', steps: { last: 1 } }),
  },
];
const WORKLOADS = [...ONE_LAYER, ...TWO_LAYERS];

/** The reference's first two epochs of each workload (the second continues the first). */
const CASES = await Promise.all(
  WORKLOADS.map(async (w) => {
    const initial = initialModel(w, 3).stateDict();
    const data = trainData(w, 4);
    const ref = referenceTraining(w, initial, data);
    return { w, initial, data, epochs: [await ref.runEpoch(), await ref.runEpoch()] };
  }),
);

/**
 * Each peer and what it runs: every workload for two epochs (the second continues the first: the
 * optimizer's state carries over), except tfjs-webgpu, whose many small dispatches take seconds an
 * epoch on a software adapter: one epoch of the one-layer Elman (the two-bias cell of
 * train-tfjs-model.ts) and GRU (tfjs-model.ts's cell, loss over the last steps). The same cells and
 * layer stacking run on every TF.js backend; tfjs-wasm and tfjs-cpu run the LSTM and two-layer ones.
 */
const PEERS: Array<{ peer: TrainContender; required: boolean; workloads: number; epochs: number }> = [
  { peer: pytorchTrainPeer(), required: TORCH_MISSING === null, workloads: WORKLOADS.length, epochs: 2 },
  { peer: tfjsTrainPeer('wasm'), required: true, workloads: WORKLOADS.length, epochs: 2 },
  { peer: tfjsTrainPeer('cpu'), required: true, workloads: WORKLOADS.length, epochs: 2 },
  { peer: tfjsTrainPeer('webgpu'), required: true, workloads: 2, epochs: 1 },
];

afterAll(async () => {
  for (const { peer } of PEERS) await peer.dispose();
});

describe('the float64 training reference', () => {
  it('lowers the loss of a fixed batch and keeps every parameter finite', async () => {
    const w = { ...trainWorkload('lstm-h32', { batch: 8, steps: 6, stepsPerEpoch: 1 }), hiddenSize: 4 };
    const ref = referenceTraining(w, initialModel(w).stateDict(), trainData(w));
    const losses: number[] = [];
    for (let e = 0; e < 40; e++) losses.push(...(await ref.runEpoch()).losses);
    expect(losses.at(-1)!).toBeLessThan(0.9 * losses[0]!);
    expect(Object.values((await ref.runEpoch()).weights).every((t) => t.every(Number.isFinite))).toBe(true);
  });
});

describe.each(PEERS.map((p) => [p.peer.name, p] as const))('training peer %s', (name, { peer, required, workloads, epochs }) => {
  const maybe = required ? it : it.skip;

  maybe('is available', async () => {
    expect(await peer.available()).toBe(true);
  });

  maybe(`matches the float64 reference step by step (${workloads} workloads, ${epochs} epoch${epochs > 1 ? 's' : ''} each)`, async () => {
    for (const c of CASES.slice(0, workloads)) {
      const prepared = await peer.prepare(c.w, c.initial, c.data);
      try {
        for (const [e, expected] of c.epochs.slice(0, epochs).entries()) {
          const got = await prepared.runEpoch();
          const v = validateEpoch(got, expected, c.initial);
          expect(v.ok, `${name}, ${c.w.name}, epoch ${e + 1}: ${v.message}`).toBe(true);
        }
      } finally {
        await prepared.dispose();
      }
    }
  });
});

describe('the training harness', () => {
  const FAST: Partial<TrainBudget> = { minRuns: 2, maxRuns: 2, cellMs: 0, validationBatch: 3, validationSteps: 2 };
  const reference = trainReferenceContender();
  /** Trains with twice the learning rate: the first loss matches, the weights do not. */
  const hasty: TrainContender = {
    name: 'hasty',
    available: async () => true,
    prepare: async (w, initial, data) => referenceTraining({ ...w, optimizer: { ...ADAM, lr: 2 * ADAM.lr } }, initial, data),
    dispose() {},
  };

  it('validates, times and tabulates the peers; a contender that trains differently fails validation', async () => {
    const w = trainWorkload('elman-relu-h1', { batch: 8, steps: 6, stepsPerEpoch: 2 });
    const records = await runTrainHarness({ workloads: [w], contenders: [reference, PEERS[2]!.peer, hasty], reference, budget: FAST });
    const [ref, tfjs, wrong] = records;
    for (const r of [ref!, tfjs!]) {
      expect(r, r.message ?? '').toMatchObject({
        status: 'ok',
        timing: 'wall',
        samplesPerEpoch: 16,
        runsMs: [expect.any(Number), expect.any(Number)],
        ratioToWebrnn: null,
      });
      expect(r.msPerSample! * 16).toBeCloseTo(r.medianMs!);
      expect(r.lastLoss).toBeGreaterThan(0);
    }
    expect(tfjs!.validatedAgainst).toBe('cpu-reference (float64): 2 steps of 3 samples');
    expect(wrong).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/^losses per step \[.*\] vs \[.*\]: 1 of 2 elements differ; first at \[1\]/),
    });
    expect(trainTableRows(records)).toHaveLength(4);
  });

  it('does not time a contender whose epoch would pass the limit', async () => {
    const w = trainWorkload('elman-relu-h1', { batch: 8, steps: 6, stepsPerEpoch: 2 });
    const [r] = await runTrainHarness({ workloads: [w], contenders: [reference], reference, budget: { ...FAST, epochLimitMs: 0 } });
    expect(r!.status).toMatch(/^unavailable: an epoch would take about .* \(limit 0\.0 s\)$/);
  });
});

describe("validation with a contender's own tolerance", () => {
  const w = trainWorkload('elman-relu-h1', { batch: 4, steps: 6, stepsPerEpoch: 2 });
  const initial = initialModel(w).stateDict();
  /** The reference's epoch with every loss and weight moved by 5e-4 relative: a TF32-sized error. */
  const tf32ish = (e: EpochResult): EpochResult => ({
    losses: e.losses.map((l) => l * (1 + 5e-4)),
    weights: Object.fromEntries(Object.entries(e.weights).map(([k, v]) => [k, v.map((x) => x * (1 + 5e-4))])),
  });

  it("fails a TF32-sized error at float32's tolerance and passes it at TF32_TOLERANCE", async () => {
    const expected = await referenceTraining(w, initial, trainData(w)).runEpoch();
    expect(validateEpoch(tf32ish(expected), expected, initial).ok).toBe(false);
    expect(validateEpoch(tf32ish(expected), expected, initial, TF32_TOLERANCE).ok).toBe(true);
  });

  it('is what pytorch-cuda-tf32 (and only it) is validated with, and the record says so', async () => {
    expect(pytorchTrainPeer(TORCH_CUDA_TF32).tolerance).toBe(TF32_TOLERANCE);
    expect(pytorchTrainPeer(TORCH_CUDA_TF32, { perSeries: 'batched' }).tolerance).toBe(TF32_TOLERANCE);
    expect(pytorchTrainPeer(TORCH_CUDA_FP32).tolerance).toBeUndefined();
    const reference = trainReferenceContender();
    const coarse: TrainContender = {
      name: 'coarse',
      tolerance: TF32_TOLERANCE,
      available: async () => true,
      prepare: async (w2, init, data) => {
        const p = referenceTraining(w2, init, data);
        return { runEpoch: async (o) => tf32ish(await p.runEpoch(o)), dispose: () => p.dispose() };
      },
      dispose() {},
    };
    const [r] = await runTrainHarness({ workloads: [w], contenders: [coarse], reference, budget: { minRuns: 1, maxRuns: 1, cellMs: 0 } });
    expect(r, r!.message ?? '').toMatchObject({
      status: 'ok',
      validatedAgainst: 'cpu-reference (float64): 2 steps of 4 samples (within atol 0.002, rtol 0.01)',
    });
  });
});

describe('the harness reads weights only where it validates them', () => {
  it('asks for them in the validation epoch, not in the epochs it times', async () => {
    const w = trainWorkload('elman-relu-h1', { batch: 4, steps: 6, stepsPerEpoch: 2 });
    const asked: boolean[] = [];
    const counting: TrainContender = {
      name: 'counting',
      available: async () => true,
      prepare: async (w2, init, data) => {
        const p = referenceTraining(w2, init, data);
        return {
          runEpoch: (o) => (asked.push(o?.weights !== false), p.runEpoch(o)),
          dispose: () => p.dispose(),
        };
      },
      dispose() {},
    };
    const [r] = await runTrainHarness({
      workloads: [w],
      contenders: [counting],
      reference: trainReferenceContender(),
      budget: { minRuns: 2, maxRuns: 2, cellMs: 0 },
    });
    expect(r!.status).toBe('ok');
    // Validation: the checked epoch, then a warm one; timing: a warm-up and two timed epochs.
    expect(asked).toEqual([true, false, false, false, false]);
  });
});

// Per-series workloads: S independent models side by side. The float64 reference trains them one
// after another; PyTorch's three ways (one stacked model, torch.func's vmap, one module at a time)
// must match it model by model, for every cell and a loss over the last steps.
const PER_SERIES: TrainWorkload[] = [
  cellWorkload('lstm', 5, { batch: 3, steps: 6, stepsPerEpoch: 2, series: 5 }),
  { ...cellWorkload('gru', 4, { batch: 3, steps: 6, stepsPerEpoch: 2, series: 4 }), loss: lossSpec({ kind: 'mse', steps: { last: 2 } }) },
  { ...cellWorkload('rnn', 3, { batch: 2, steps: 5, stepsPerEpoch: 3, series: 3 }), inputSize: 2, outputSize: 2 },
];

describe.each((['batched', 'vmap', 'loop'] as TorchPerSeriesMode[]).map((m) => [m]))('per-series training with PyTorch (%s)', (mode) => {
  const peer = pytorchTrainPeer(undefined, { perSeries: mode });
  afterAll(() => peer.dispose());
  (TORCH_MISSING ? it.skip : it)('trains S models that each match the float64 reference, two epochs in a row', async () => {
    expect(peer.name).toBe(`pytorch-cpu-${mode}`);
    for (const w of PER_SERIES) {
      const initial = initialModel(w, 3).stateDict();
      const data = trainData(w, 4);
      const ref = referenceTraining(w, initial, data);
      const prepared = await peer.prepare(w, initial, data);
      try {
        for (let e = 0; e < 2; e++) {
          const expected = await ref.runEpoch();
          const got = await prepared.runEpoch();
          expect(got.losses).toHaveLength(w.stepsPerEpoch * w.series!);
          const v = validateEpoch(got, expected, initial, undefined, w.series);
          expect(v.ok, `${mode}, ${w.name} S=${w.series}, epoch ${e + 1}: ${v.message}`).toBe(true);
        }
        // Models differ (their series do): a mix-up of models would not match the reference above.
        const name = Object.keys(initial)[0]!;
        const size = initial[name]!.data.length;
        const weights = (await prepared.runEpoch()).weights[name]!;
        expect(weights.subarray(0, size)).not.toEqual(weights.subarray(size, 2 * size));
      } finally {
        await prepared.dispose();
      }
    }
  });
});

// The same on CUDA (the kit's per-series contenders), where this machine's python3 has it: fp32 within
// float32's tolerance, TF32 within TF32_TOLERANCE. Skipped elsewhere, with the reason in the name.
const CUDA =
  TORCH_MISSING ??
  (spawnSync(PYTHON, ['-c', 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 3)']).status === 0
    ? null
    : `torch.cuda.is_available() is False for ${PYTHON}`);
describe.each(
  [
    ...(['batched', 'vmap', 'loop'] as TorchPerSeriesMode[]).map((m) => pytorchTrainPeer(TORCH_CUDA_FP32, { perSeries: m })),
    pytorchTrainPeer(TORCH_CUDA_TF32, { perSeries: 'batched' }),
  ].map((p) => [p.name, p] as const),
)('per-series training with %s', (name, peer) => {
  afterAll(() => peer.dispose());
  it.skipIf(CUDA !== null)(`matches the float64 reference model by model${CUDA ? ` (skipped: ${CUDA})` : ''}`, async () => {
    for (const w of PER_SERIES) {
      const initial = initialModel(w, 3).stateDict();
      const data = trainData(w, 4);
      const prepared = await peer.prepare(w, initial, data);
      try {
        const v = validateEpoch(
          await prepared.runEpoch(),
          await referenceTraining(w, initial, data).runEpoch(),
          initial,
          peer.tolerance,
          w.series,
        );
        expect(v.ok, `${name}, ${w.name} S=${w.series}: ${v.message}`).toBe(true);
      } finally {
        await prepared.dispose();
      }
    }
  });
});

it('a global-model contender refuses a per-series workload', async () => {
  const w = PER_SERIES[0]!;
  await expect(tfjsTrainPeer('cpu').prepare(w, initialModel(w).stateDict(), trainData(w))).rejects.toThrow(
    /trains one global model, not 5 per-series models/,
  );
});

describe('a contender whose cost grows with the samples (one model at a time)', () => {
  it('is estimated from its validation run, scaled, instead of probed on the full workload', async () => {
    const w = cellWorkload('lstm', 3, { batch: 2, steps: 4, stepsPerEpoch: 2, series: 400 });
    const prepared: number[] = [];
    const slow: TrainContender = {
      name: 'slow-1by1',
      scalesLinearly: true,
      available: async () => true,
      prepare: async (w2, init, data) => {
        prepared.push(w2.series ?? 1);
        const p = referenceTraining(w2, init, data);
        // 2 ms a model and step: the validation run (3 models) is quick, the workload's 400 are not.
        return {
          runEpoch: async (o) => (await new Promise((r) => setTimeout(r, 2 * (w2.series ?? 1) * w2.stepsPerEpoch)), p.runEpoch(o)),
          dispose: () => p.dispose(),
        };
      },
      dispose() {},
    };
    const [r] = await runTrainHarness({
      workloads: [w],
      contenders: [slow],
      reference: trainReferenceContender(),
      budget: { minRuns: 1, maxRuns: 1, cellMs: 0, epochLimitMs: 500, validationSeries: 3 },
    });
    expect(r!.status).toMatch(/^unavailable: an epoch would take about \d/);
    expect(r!.validatedAgainst).toMatch(/of each of 3 series/);
    // 400 models × 2 steps × 2 ms = 1.6 s at least, scaled from the 3 models' warm epoch.
    expect(r!.estimatedMs).toBeGreaterThan(1_500);
    expect(prepared).toEqual([3]);
  });
});
