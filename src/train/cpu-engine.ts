import { recurrentStackBackwardReference } from '../reference/recurrent-stack-backward.ts';
import { recurrentStackReference } from '../reference/recurrent-stack.ts';
import { optimizerStepReference } from '../reference/optim.ts';
import type { RecurrentStack, RecurrentStackInputs } from '../rnn/stack.ts';
import type { FloatArray } from '../tensor.ts';
import { gatherSamples, type Samples } from './data.ts';
import type { EngineSetup, StackStates, StepResult, TrainEngine } from './engine.ts';
import { lossReference } from './loss.ts';
import { createOptimizerState, learningRateAt, type OptimizerState } from './optim.ts';
import { flattenGrads, flattenParams, paramCount, unflattenParams } from './params.ts';

/**
 * The float64 training engine: every model's parameters, gradients and optimizer state in float64,
 * each step the references' forward pass, loss, backward pass and optimizer update
 * (src/reference/*, src/train/loss.ts), one model after another. Slow by design: it is the oracle
 * the WebGPU engine is tested against, and what `cpuBackend` trains with.
 */
export class CpuTrainEngine implements TrainEngine {
  readonly models: number;
  private readonly setup: EngineSetup;
  private weights: Float64Array[];
  private states: OptimizerState<Float64Array>[];

  constructor(setup: EngineSetup) {
    this.setup = setup;
    this.models = setup.models;
    const start = flattenParams(setup.stack);
    this.weights = Array.from({ length: setup.models }, (_, s) => Float64Array.from(setup.initial?.[s] ?? start));
    const n = paramCount(setup.stack);
    this.states = Array.from({ length: setup.models }, (_, s) => {
      const saved = setup.optimizerState?.[s];
      if (!saved) return createOptimizerState(setup.optimization.optimizer, { params: n }, Float64Array);
      const buffers = Object.fromEntries(Object.entries(saved.buffers.params ?? {}).map(([k, v]) => [k, Float64Array.from(v)]));
      return { step: saved.step, buffers: { params: buffers } };
    });
  }

  /** Model s's stack, in float64. */
  private stack(s: number): RecurrentStack {
    return unflattenParams(this.setup.stack, this.weights[s]!, Float64Array);
  }

  /** Group s of a batch with `models` groups. */
  private group(batch: Samples, s: number): Samples {
    const per = batch.count / this.models;
    return gatherSamples(
      batch,
      Array.from({ length: per }, (_, k) => s * per + k),
      1,
    );
  }

  private inputs(part: Samples, states: StackStates | null, s: number): RecurrentStackInputs {
    const L = this.setup.stack.layers.length;
    const rows = (a: FloatArray | null) => {
      if (!a) return null;
      const width = a.length / (part.count * this.models);
      return a.subarray(s * part.count * width, (s + 1) * part.count * width);
    };
    return {
      X: part.x,
      batch: part.count,
      steps: part.steps,
      sequenceLens: null,
      initialH: Array.from({ length: L }, (_, k) => rows(states?.h[k] ?? null)),
      initialC: Array.from({ length: L }, (_, k) => rows(states?.c[k] ?? null)),
    };
  }

  /** Runs `fn` on each model's group and concatenates the per-layer final states in group order. */
  private async perModel(
    batch: Samples,
    states: StackStates | null,
    fn: (s: number, part: Samples, inputs: RecurrentStackInputs) => { Y_h: Float64Array[]; Y_c: Float64Array[] | null },
  ): Promise<StackStates> {
    const L = this.setup.stack.layers.length;
    const h: Float64Array[][] = Array.from({ length: L }, () => []);
    const c: Float64Array[][] = Array.from({ length: L }, () => []);
    for (let s = 0; s < this.models; s++) {
      const part = this.group(batch, s);
      const out = fn(s, part, this.inputs(part, states, s));
      out.Y_h.forEach((v, k) => h[k]!.push(v));
      out.Y_c?.forEach((v, k) => c[k]!.push(v));
    }
    const join = (parts: Float64Array[]) => {
      const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) all.set(p, (at += p.length) - p.length);
      return all;
    };
    return { h: h.map(join), c: c.map((parts) => (parts.length ? join(parts) : null)) };
  }

  async step(batch: Samples, states: StackStates | null): Promise<StepResult> {
    const loss = new Float64Array(this.models);
    const o = this.setup.optimization;
    const lr = learningRateAt(o.schedule, o.optimizer.lr, this.states[0]!.step);
    const final = await this.perModel(batch, states, (s, part, inputs) => {
      const stack = this.stack(s);
      const out = recurrentStackReference(stack, inputs);
      const l = lossReference(this.setup.loss, {
        Y: out.Y,
        target: part.y,
        mask: part.mask,
        batch: part.count,
        steps: part.steps,
        outputSize: part.outputSize,
      });
      loss[s] = l.loss;
      const back = recurrentStackBackwardReference(stack, inputs, l.dY);
      optimizerStepReference(o, { params: this.weights[s]! }, { params: flattenGrads(stack, back.grads) }, this.states[s]!);
      return out;
    });
    return { loss, lr, states: final };
  }

  async advance(batch: Samples, states: StackStates | null): Promise<StackStates> {
    return this.perModel(batch, states, (s, _part, inputs) => recurrentStackReference(this.stack(s), inputs));
  }

  async evaluate(samples: Samples): Promise<Float64Array> {
    const loss = new Float64Array(this.models);
    await this.perModel(samples, null, (s, part, inputs) => {
      const out = recurrentStackReference(this.stack(s), inputs);
      loss[s] = lossReference(this.setup.loss, {
        Y: out.Y,
        target: part.y,
        mask: part.mask,
        batch: part.count,
        steps: part.steps,
        outputSize: part.outputSize,
      }).loss;
      return out;
    });
    return loss;
  }

  async params(): Promise<Float64Array[]> {
    return this.weights.map((w) => w.slice());
  }

  async setParams(params: readonly FloatArray[]): Promise<void> {
    this.weights = params.map((p) => Float64Array.from(p));
  }

  async optimizerState(): Promise<OptimizerState[]> {
    return structuredClone(this.states);
  }

  dispose(): void {}
}
