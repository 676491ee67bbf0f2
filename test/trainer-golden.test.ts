import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import type { Tensor } from '../src/tensor.ts';
import { samples } from '../src/train/data.ts';
import type { LossOptions } from '../src/train/loss.ts';
import type { GradClipOptions, OptimizerOptions, ScheduleOptions } from '../src/train/optim.ts';
import { Trainer } from '../src/train/trainer.ts';
import { expectClose } from '../src/util/compare.ts';

// Whole training steps against PyTorch (test/golden/make_torch_training.py): forward, loss,
// backward, clipping, schedule and update composed, step after step, on the trainer's float64
// engine. The batch is the whole data set, so the shuffle does not change a step.

interface GoldenCase {
  name: string;
  cell: 'rnn' | 'lstm' | 'gru';
  nonlinearity: 'tanh' | 'relu' | null;
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  count: number;
  steps: number;
  loss: LossOptions;
  optimizer: OptimizerOptions;
  schedule: ScheduleOptions;
  clip: GradClipOptions | null;
  initial: Record<string, number[]>;
  x: number[];
  y: number[];
  trajectory: Array<{ loss: number; params: Record<string, number[]> }>;
}

const golden = JSON.parse(readFileSync(new URL('./data/torch-grads/training.json', import.meta.url), 'utf8')) as { cases: GoldenCase[] };

function modelOf(c: GoldenCase): RecurrentNet {
  const options = {
    cell: c.cell,
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    outputSize: c.outputSize,
    ...(c.nonlinearity ? { nonlinearity: c.nonlinearity } : {}),
  };
  const sd: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(RecurrentNet.create(options).stateDict()))
    sd[name] = { data: Float32Array.from(c.initial[name]!), shape: t.shape };
  return RecurrentNet.fromStateDict(sd, options);
}

describe('training steps against PyTorch', () => {
  for (const c of golden.cases) {
    it(c.name, async () => {
      const trainer = await Trainer.create(modelOf(c), {
        backend: cpuBackend,
        loss: c.loss,
        optimizer: c.optimizer,
        schedule: c.schedule,
        clip: c.clip,
        batchSize: c.count,
      });
      const data = samples({
        x: Float64Array.from(c.x),
        y: Float64Array.from(c.y),
        count: c.count,
        steps: c.steps,
        inputSize: c.inputSize,
        outputSize: c.outputSize,
      });
      let k = 0;
      await trainer.fit(data, {
        epochs: c.trajectory.length,
        onStep: async (e) => {
          const want = c.trajectory[k]!;
          expect(e.loss).toBeCloseTo(want.loss, 10);
          const got = (await trainer.model()).stateDict();
          // The engine holds float64 parameters; the model reads them back rounded to float32.
          for (const [name, values] of Object.entries(want.params)) {
            expectClose(got[name]!.data, Float32Array.from(values), { atol: 1e-7, rtol: 1e-6 }, `step ${k + 1}: ${name}`);
          }
          k++;
        },
      });
      expect(k).toBe(c.trajectory.length);
      trainer.dispose();
    });
  }
});
