import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PYTHON, PYTHON_ENV } from '../bench/peers/pytorch.ts';
import { pytorchTrainPeer } from '../bench/peers/train-pytorch.ts';
import { tfjsTrainPeer } from '../bench/peers/train-tfjs.ts';
import type { TrainContender } from '../bench/train-contender.ts';
import { runTrainHarness, trainTableRows, validateEpoch, type TrainBudget } from '../bench/train-harness.ts';
import { referenceTraining, trainReferenceContender } from '../bench/train-reference.ts';
import { ADAM, initialModel, trainData, trainWorkload, type TrainWorkload } from '../bench/train-workloads.ts';
import { lossSpec } from '../src/train/loss.ts';

// The training benchmark's peers (bench/peers/train-*.ts) must train webrnn's models exactly as the
// float64 reference does (bench/train-reference.ts: the stack's backward reference, the loss and
// Adam), step by step, before they are timed: the loss of every step and the weights after each
// epoch, on tiny workloads of every cell. The npm peers (TF.js) must be available; PyTorch runs where
// /usr/bin/python3 imports torch (elsewhere its tests are skipped, and the reason is printed).

const PYTHON = process.env[PYTHON_ENV] || DEFAULT_PYTHON;
const torch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const TORCH_MISSING = torch.error ? `${PYTHON} cannot run (${torch.error.message})` : torch.status === 0 ? null : `${PYTHON} cannot import torch`;
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
  { ...trainWorkload('elman-relu-h32', tiny), name: 'elman-tanh-2x5', nonlinearity: 'tanh', inputSize: 2, hiddenSize: 5, outputSize: 2, numLayers: 2 },
  { ...trainWorkload('lstm-h32', tiny), name: 'lstm-2x3', inputSize: 2, hiddenSize: 3, outputSize: 2, numLayers: 2 },
  { ...trainWorkload('gru-h24-i4', tiny), name: 'gru-2x3', inputSize: 2, hiddenSize: 3, outputSize: 2, numLayers: 2, loss: lossSpec({ kind: 'mse', steps: { last: 1 } }) },
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
      expect(r, r.message ?? '').toMatchObject({ status: 'ok', timing: 'wall', samplesPerEpoch: 16, runsMs: [expect.any(Number), expect.any(Number)], ratioToWebrnn: null });
      expect(r.msPerSample! * 16).toBeCloseTo(r.medianMs!);
      expect(r.lastLoss).toBeGreaterThan(0);
    }
    expect(tfjs!.validatedAgainst).toBe('cpu-reference (float64): 2 steps of 3 samples');
    expect(wrong).toMatchObject({ status: 'failed', message: expect.stringMatching(/^losses per step \[.*\] vs \[.*\]: 1 of 2 elements differ; first at \[1\]/) });
    expect(trainTableRows(records)).toHaveLength(4);
  });

  it('does not time a contender whose epoch would pass the limit', async () => {
    const w = trainWorkload('elman-relu-h1', { batch: 8, steps: 6, stepsPerEpoch: 2 });
    const [r] = await runTrainHarness({ workloads: [w], contenders: [reference], reference, budget: { ...FAST, epochLimitMs: 0 } });
    expect(r!.status).toMatch(/^unavailable: an epoch would take about .* \(limit 0\.0 s\)$/);
  });
});
