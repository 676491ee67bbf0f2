import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../src/errors.ts';
import { swapLeadingAxes } from '../src/model/recurrent-forward.ts';
import { ONNX_GATE_OF_TORCH, torchToLayers } from '../src/model/torch-lowering.ts';
import {
  checkTorchStateDict,
  resolveTorchModule,
  torchDirections,
  torchHeadNames,
  torchLayerNames,
  torchParamSpecs,
  type TorchRecurrentConfig,
  type TorchRecurrentOptions,
} from '../src/model/torch-modules.ts';
import { clipGradNormReference, clipGradValueReference, optimizerStepReference } from '../src/reference/optim.ts';
import { recurrentStackBackwardReference } from '../src/reference/recurrent-stack-backward.ts';
import { recurrentStackReference } from '../src/reference/recurrent-stack.ts';
import { GATES, type CellType } from '../src/rnn/spec.ts';
import type { RecurrentStackGrads } from '../src/rnn/backward.ts';
import type { RecurrentStackInputs } from '../src/rnn/stack.ts';
import { tensor, type Tensor } from '../src/tensor.ts';
import { lossReference, lossSpec, type LossInputs, type LossOptions } from '../src/train/loss.ts';
import {
  createOptimizerState,
  learningRateAt,
  optimizationSpec,
  optimizerSpec,
  scheduleSpec,
  type OptimizationOptions,
  type OptimizerState,
} from '../src/train/optim.ts';
import { expectClose } from '../src/util/compare.ts';
import { mulberry32 } from '../src/util/rng.ts';
import gradGolden from './data/torch-grads/grads.json';
import optimGolden from './data/torch-grads/optim.json';

// The float64 training references (losses, stack gradients, optimizers, schedules, clipping) against
// hand calculations, finite differences and PyTorch (test/golden/make_torch_grads.py).

/** Both sides compute in float64 from the same float32-rounded values: agreement to rounding. */
const TIGHT = { atol: 1e-12, rtol: 1e-10 };

describe('losses: by hand', () => {
  const row = (Y: number[], target: number[], mask: number[] | null = null): LossInputs => ({
    Y: Float64Array.from(Y),
    target: Float64Array.from(target),
    mask: mask && Float64Array.from(mask),
    batch: 1,
    steps: Y.length,
    outputSize: 1,
  });

  it('MSE over all steps: mean of squares, dL/dy = 2(y − target)/N', () => {
    const r = lossReference(lossSpec({ kind: 'mse' }), row([1, 2, 3, 4], [0, 0, 1, 0]));
    expect(r.loss).toBe((1 + 4 + 4 + 16) / 4);
    expect(Array.from(r.dY)).toEqual([0.5, 1, 1, 2]);
    expect(r.count).toBe(4);
  });

  it('MAE over the last 2 steps with a mask: only unmasked selected steps count; sign(0) = 0', () => {
    const spec = lossSpec({ kind: 'mae', steps: { last: 3 } });
    const r = lossReference(spec, row([5, -2, 3, 4], [0, 0, 3, 1], [1, 1, 1, 0]));
    // Steps 1…3 are selected; step 3 is masked: (|−2| + |0|) / 2; step 2's error is exactly 0.
    expect(r.loss).toBe(1);
    expect(Array.from(r.dY)).toEqual([0, -0.5, 0, 0]);
    expect(r.count).toBe(2);
  });

  it('averages over batch, steps and outputs', () => {
    // B = 2, T = 2, O = 2, last step only, sequence 1 masked there: N = 2.
    const r = lossReference(lossSpec({ kind: 'mse', steps: { last: 1 } }), {
      Y: Float64Array.from([9, 9, 1, 2, 9, 9, 7, 7]),
      target: Float64Array.from([0, 0, 0, 0, 0, 0, 0, 0]),
      mask: Uint8Array.from([1, 1, 1, 0]),
      batch: 2,
      steps: 2,
      outputSize: 2,
    });
    expect(r.loss).toBe((1 + 4) / 2);
    expect(Array.from(r.dY)).toEqual([0, 0, 1, 2, 0, 0, 0, 0]);
  });

  it('gives 0 and no gradient when every selected step is masked', () => {
    const r = lossReference(lossSpec({ kind: 'mae', steps: { last: 1 } }), row([1, 2], [0, 0], [1, 0]));
    expect(r).toEqual({ loss: 0, dY: new Float64Array(2), count: 0 });
  });
});

describe('losses: central finite differences', () => {
  const cases: Array<[string, LossOptions, boolean]> = [
    ['mse, all steps', { kind: 'mse', steps: 'all' }, false],
    ['mse, last 3, masked', { kind: 'mse', steps: { last: 3 } }, true],
    ['mae, all steps, masked', { kind: 'mae' }, true],
    ['mae, last 2', { kind: 'mae', steps: { last: 2 } }, false],
  ];
  cases.forEach(([title, options, masked], k) => {
    it(title, () => {
      const r = mulberry32(50 + k);
      const [B, T, O] = [3, 5, 2];
      const Y = Float64Array.from({ length: B * T * O }, () => 2 * r() - 1);
      const target = Float64Array.from({ length: B * T * O }, () => 2 * r() - 1);
      const mask = masked ? Float64Array.from({ length: B * T }, (_, i) => (i % T < [5, 3, 4][Math.floor(i / T)]! ? 1 : 0)) : null;
      const spec = lossSpec(options);
      const inputs = { Y, target, mask, batch: B, steps: T, outputSize: O };
      const { dY } = lossReference(spec, inputs);
      const eps = 1e-6;
      const numeric = Y.map((v, i) => {
        Y[i] = v + eps;
        const up = lossReference(spec, inputs).loss;
        Y[i] = v - eps;
        const down = lossReference(spec, inputs).loss;
        Y[i] = v;
        return (up - down) / (2 * eps);
      });
      expectClose(dY, numeric, { atol: 1e-8, rtol: 1e-7 }, title);
    });
  });
});

describe('losses: errors', () => {
  it('rejects bad definitions with ConfigError and bad tensors with ShapeError', () => {
    expect(() => lossSpec({ kind: 'huber' as 'mse' })).toThrow(ConfigError);
    expect(() => lossSpec({ kind: 'mse', steps: { last: 0 } })).toThrow(/positive integer/);
    expect(() => lossSpec({ kind: 'mse', steps: 'some' as 'all' })).toThrow(ConfigError);
    const ok = { Y: new Float64Array(6), target: new Float64Array(6), mask: null, batch: 2, steps: 3, outputSize: 1 };
    const spec = lossSpec({ kind: 'mse', steps: { last: 4 } });
    expect(() => lossReference(spec, ok)).toThrow(/reads the last 4 steps but the output has 3/);
    const mse = lossSpec({ kind: 'mse' });
    expect(() => lossReference(mse, { ...ok, target: new Float64Array(5) })).toThrow(ShapeError);
    expect(() => lossReference(mse, { ...ok, mask: Float64Array.from([1, 0, 1, 1, 0.5, 1]) })).toThrow(/only 0 and 1, got 0.5 at \[1, 1\]/);
    expect(() => lossReference(mse, { ...ok, mask: new Uint8Array(5) })).toThrow(ShapeError);
    expect(() => lossReference(mse, { ...ok, outputSize: 0 })).toThrow(ShapeError);
  });
});

type GradCase = (typeof gradGolden.cases)[number];

/** The golden's module: configuration, state dict and lowered stack. */
function moduleOf(c: GradCase) {
  const { config } = resolveTorchModule({}, c.options as TorchRecurrentOptions);
  const params = c.params as Record<string, number[]>;
  const sd: Record<string, Tensor> = {};
  for (const { name, shape } of torchParamSpecs(config)) sd[name] = tensor(Float32Array.from(params[name]!), shape);
  return { config, stack: torchToLayers(config, checkTorchStateDict(config, sd)) };
}

/** PyTorch's h0 / c0 `[L·D, B, H]` as one `[B, D, H]` state per layer. */
function perLayerStates(c: TorchRecurrentConfig, state: number[] | null, batch: number): (Float64Array | null)[] {
  const D = torchDirections(c);
  const H = c.hiddenSize;
  const n = D * batch * H;
  return Array.from({ length: c.numLayers }, (_, k) =>
    state ? swapLeadingAxes(Float64Array.from(state.slice(k * n, (k + 1) * n)), D, batch, H) : null,
  );
}

/** Per-layer `[B, D, H]` gradients back as PyTorch's `[L·D, B, H]`. */
function torchStates(c: TorchRecurrentConfig, perLayer: readonly (Float64Array | null)[], batch: number): Float64Array {
  const D = torchDirections(c);
  const n = D * batch * c.hiddenSize;
  const out = new Float64Array(c.numLayers * n);
  perLayer.forEach((g, k) => out.set(swapLeadingAxes(g!, batch, D, c.hiddenSize), k * n));
  return out;
}

/**
 * The stack's gradients under PyTorch's names, gate blocks back in PyTorch's order, in float64 (the
 * logic of layersToTorch, which writes float32).
 */
function torchGrads(c: TorchRecurrentConfig, grads: RecurrentStackGrads<Float64Array>): Record<string, Float64Array> {
  const D = torchDirections(c);
  const H = c.hiddenSize;
  const GH = GATES[c.cell] * H;
  const out: Record<string, Float64Array> = {};
  // Torch block p of one direction's gates = ONNX block ONNX_GATE_OF_TORCH[p].
  const blocks = (cell: CellType, src: Float64Array, at: number, cols: number) => {
    const dst = new Float64Array(GH * cols);
    ONNX_GATE_OF_TORCH[cell].forEach((g, p) => dst.set(src.subarray(at + g * H * cols, at + (g + 1) * H * cols), p * H * cols));
    return dst;
  };
  grads.layers.forEach((g, k) => {
    const I = g.dW.length / (D * GH);
    for (let d = 0; d < D; d++) {
      const names = torchLayerNames(c.prefix, k, d);
      out[names.ih] = blocks(c.cell, g.dW, d * GH * I, I);
      out[names.hh] = blocks(c.cell, g.dR, d * GH * H, H);
      out[names.bih] = blocks(c.cell, g.dB, d * 2 * GH, 1);
      out[names.bhh] = blocks(c.cell, g.dB, d * 2 * GH + GH, 1);
    }
  });
  const head = torchHeadNames(c.headPrefix!);
  out[head.weight] = grads.head!.dWeight;
  out[head.bias] = grads.head!.dBias!;
  return out;
}

describe('stack gradients against PyTorch', () => {
  it('has goldens from the committed script covering every cell, both losses and every input', () => {
    expect(gradGolden.source).toMatch(/^torch /);
    const cs = gradGolden.cases;
    for (const cell of ['rnn', 'lstm', 'gru']) expect(cs.some((c) => c.options.cell === cell)).toBe(true);
    expect(cs.some((c) => c.options.nonlinearity === 'tanh') && cs.some((c) => c.options.nonlinearity === 'relu')).toBe(true);
    expect(cs.some((c) => c.options.numLayers === 2 && c.options.bidirectional && c.options.batchFirst)).toBe(true);
    expect(cs.some((c) => c.lengths) && cs.some((c) => c.dh0) && cs.some((c) => c.dc0)).toBe(true);
    expect(cs.some((c) => c.loss.kind === 'mse' && c.loss.steps === 'all')).toBe(true);
    expect(cs.some((c) => c.loss.kind === 'mae' && c.loss.steps !== 'all' && c.mask)).toBe(true);
  });

  for (const c of gradGolden.cases) {
    it(`${c.name}: output, loss and the gradients of every parameter, x, h0 and c0`, () => {
      const { config, stack } = moduleOf(c);
      const B = c.batch;
      const T = c.steps;
      const inputs: RecurrentStackInputs = {
        X: Float64Array.from(c.x),
        batch: B,
        steps: T,
        sequenceLens: c.lengths && Int32Array.from(c.lengths),
        initialH: perLayerStates(config, c.h0, B),
        initialC: config.cell === 'lstm' ? perLayerStates(config, c.c0, B) : perLayerStates(config, null, B),
      };
      const out = recurrentStackReference(stack, inputs);
      const O = config.outputSize!;
      expectClose(out.Y, c.output, TIGHT, `${c.name} output`, [B, T, O]);

      const spec = lossSpec(c.loss as LossOptions);
      const loss = lossReference(spec, {
        Y: out.Y,
        target: Float64Array.from(c.target),
        mask: c.mask && Float64Array.from(c.mask),
        batch: B,
        steps: T,
        outputSize: O,
      });
      expectClose([loss.loss], [c.value], TIGHT, `${c.name} loss`);

      const back = recurrentStackBackwardReference(stack, inputs, loss.dY);
      const got = torchGrads(config, back.grads);
      const want = c.grads as Record<string, number[]>;
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const [name, g] of Object.entries(want)) expectClose(got[name]!, g, TIGHT, `${c.name} d ${name}`);
      expectClose(back.dX, c.dx, TIGHT, `${c.name} dx`, [B, T, config.inputSize]);
      const stateShape = [config.numLayers * torchDirections(config), B, config.hiddenSize];
      if (c.dh0) expectClose(torchStates(config, back.dInitialH, B), c.dh0, TIGHT, `${c.name} dh0`, stateShape);
      if (c.dc0) expectClose(torchStates(config, back.dInitialC, B), c.dc0, TIGHT, `${c.name} dc0`, stateShape);
    });
  }
});

type OptimCase = (typeof optimGolden.cases)[number];

/** The golden's PyTorch optimizer, scheduler and clipping as webrnn options. */
function optimizationOf(c: OptimCase): OptimizationOptions {
  const o = c.optimizer as Record<string, unknown> & { class: string; lr: number };
  const optimizer =
    o.class === 'SGD'
      ? {
          kind: 'sgd' as const,
          lr: o.lr,
          momentum: o.momentum as number | undefined,
          dampening: o.dampening as number | undefined,
          nesterov: o.nesterov as boolean | undefined,
          weightDecay: o.weight_decay as number | undefined,
        }
      : {
          kind: o.class === 'Adam' ? ('adam' as const) : ('adamw' as const),
          lr: o.lr,
          betas: o.betas as [number, number] | undefined,
          eps: o.eps as number | undefined,
          weightDecay: o.weight_decay as number | undefined,
        };
  const s = c.schedule as (Record<string, number> & { class: string }) | null;
  const schedule =
    s === null
      ? { kind: 'constant' as const }
      : s.class === 'StepLR'
        ? { kind: 'step' as const, stepSize: s.step_size!, gamma: s.gamma }
        : { kind: 'cosine' as const, tMax: s.T_max!, etaMin: s.eta_min };
  const clip =
    c.clip &&
    (c.clip.kind === 'norm' ? { kind: 'norm' as const, maxNorm: c.clip.bound } : { kind: 'value' as const, clipValue: c.clip.bound });
  return { optimizer, schedule, clip };
}

const float64Params = (p: Record<string, number[]>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Float64Array.from(v)]));
const sizesOf = (p: Record<string, Float64Array>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.length]));

describe('optimizers, schedules and clipping against PyTorch', () => {
  it('has goldens for SGD, Adam and AdamW with both schedules and both clippings', () => {
    expect(optimGolden.source).toMatch(/^torch /);
    const cs = optimGolden.cases;
    for (const k of ['SGD', 'Adam', 'AdamW']) expect(cs.some((c) => c.optimizer.class === k)).toBe(true);
    for (const k of ['StepLR', 'CosineAnnealingLR']) expect(cs.some((c) => c.schedule?.class === k)).toBe(true);
    for (const k of ['norm', 'value']) expect(cs.some((c) => c.clip?.kind === k)).toBe(true);
    expect(cs.some((c) => c.optimizer.nesterov) && cs.some((c) => c.optimizer.dampening)).toBe(true);
    // Some steps are clipped and some are not.
    const norms = cs.flatMap((c) => (c.clip?.kind === 'norm' ? c.steps.map((s) => s.gradNorm! / c.clip!.bound) : []));
    expect(norms.some((r) => r > 1) && norms.some((r) => r < 1)).toBe(true);
  });

  for (const c of optimGolden.cases) {
    it(`${c.name}: learning rate, gradient norm and parameters after each of ${c.steps.length} steps`, () => {
      const spec = optimizationSpec(optimizationOf(c));
      const params = float64Params(c.initial);
      const state = createOptimizerState(spec.optimizer, sizesOf(params), Float64Array);
      c.steps.forEach((s, n) => {
        const report = optimizerStepReference(spec, params, float64Params(s.grads), state);
        expectClose([report.lr], [s.lr], { atol: 1e-15, rtol: 1e-13 }, `${c.name} step ${n} lr`);
        if (s.gradNorm === null) expect(report.gradNorm).toBeNull();
        else expectClose([report.gradNorm!], [s.gradNorm], { atol: 0, rtol: 1e-13 }, `${c.name} step ${n} total norm`);
        for (const [name, p] of Object.entries(s.params)) expectClose(params[name]!, p, TIGHT, `${c.name} step ${n} ${name}`);
      });
      expect(state.step).toBe(c.steps.length);
    });
  }

  it('keeps its state as plain data: a structured clone mid-training continues identically', () => {
    const c = optimGolden.cases.find((x) => x.optimizer.class === 'Adam')!;
    const spec = optimizationSpec(optimizationOf(c));
    const params = float64Params(c.initial);
    const state = createOptimizerState(spec.optimizer, sizesOf(params), Float64Array);
    c.steps.slice(0, 2).forEach((s) => optimizerStepReference(spec, params, float64Params(s.grads), state));
    const saved = structuredClone({ params, state });
    expect(Object.keys(saved.state.buffers.weight!)).toEqual(['exp_avg', 'exp_avg_sq']);
    for (const s of c.steps.slice(2)) {
      optimizerStepReference(spec, params, float64Params(s.grads), state);
      optimizerStepReference(spec, saved.params, float64Params(s.grads), saved.state);
    }
    expect(saved).toEqual({ params, state });
    expectClose(saved.params.bias!, c.steps.at(-1)!.params.bias, TIGHT, 'resumed bias');
  });
});

describe('optimizers: by hand', () => {
  it('SGD momentum starts its buffer at the first gradient (no dampening), then dampens', () => {
    const spec = optimizationSpec({ optimizer: { kind: 'sgd', lr: 0.5, momentum: 0.9, dampening: 0.5 } });
    const params = { p: Float64Array.from([1]) };
    const state = createOptimizerState(spec.optimizer, { p: 1 }, Float64Array);
    optimizerStepReference(spec, params, { p: Float64Array.from([2]) }, state);
    expect(state.buffers.p!.momentum_buffer![0]).toBe(2); // buf = g
    expect(params.p[0]).toBe(0); // 1 − 0.5·2
    optimizerStepReference(spec, params, { p: Float64Array.from([4]) }, state);
    expect(state.buffers.p!.momentum_buffer![0]).toBe(0.9 * 2 + 0.5 * 4);
    expect(params.p[0]).toBe(-0.5 * 3.8);
  });

  it('AdamW decays the weights by lr·wd·p apart from the gradient; Adam’s first step is lr·sign(g)', () => {
    const adamw = optimizationSpec({ optimizer: { kind: 'adamw', lr: 0.1, weightDecay: 0.5 } });
    const q = { p: Float64Array.from([2, -4]) };
    optimizerStepReference(adamw, q, { p: Float64Array.from([0, 0]) }, createOptimizerState(adamw.optimizer, { p: 2 }, Float64Array));
    expect(Array.from(q.p)).toEqual([2 * (1 - 0.05), -4 * (1 - 0.05)]);
    const adam = optimizationSpec({ optimizer: { kind: 'adam', lr: 0.1 } });
    const r = { p: Float64Array.from([1, 1]) };
    optimizerStepReference(adam, r, { p: Float64Array.from([3, -0.2]) }, createOptimizerState(adam.optimizer, { p: 2 }, Float64Array));
    // m̂ = g, v̂ = g²: the step is lr·g/(|g| + eps).
    expectClose(r.p, [1 - (0.1 * 3) / (3 + 1e-8), 1 + (0.1 * 0.2) / (0.2 + 1e-8)], { atol: 1e-15, rtol: 0 }, 'adam first step');
  });

  it('schedules in closed form', () => {
    expect([0, 1, 2, 3, 4].map((n) => learningRateAt(scheduleSpec({ kind: 'step', stepSize: 2, gamma: 0.5 }), 0.8, n))).toEqual([
      0.8, 0.8, 0.4, 0.4, 0.2,
    ]);
    const cosine = scheduleSpec({ kind: 'cosine', tMax: 4, etaMin: 0.1 });
    expectClose(
      [0, 2, 4].map((n) => learningRateAt(cosine, 1.1, n)),
      [1.1, 0.6, 0.1],
      { atol: 1e-15, rtol: 0 },
      'cosine',
    );
    expect(learningRateAt(scheduleSpec(), 0.3, 99)).toBe(0.3);
    expect(scheduleSpec({ kind: 'step', stepSize: 3 })).toEqual({ kind: 'step', stepSize: 3, gamma: 0.1 });
  });

  it('clips by global norm (returning the norm before clipping) and by value', () => {
    const g = { a: Float64Array.from([3, 0]), b: Float64Array.from([4]) };
    expect(clipGradNormReference(g, 1)).toBe(5);
    expectClose([...g.a, ...g.b], [3 / (5 + 1e-6), 0, 4 / (5 + 1e-6)], { atol: 1e-16, rtol: 0 }, 'clipped');
    const small = { a: Float64Array.from([0.3, 0.4]) };
    expect(clipGradNormReference(small, 1)).toBeCloseTo(0.5, 15);
    expect(Array.from(small.a)).toEqual([0.3, 0.4]);
    const v = { a: Float64Array.from([-2, 0.1, 0.7]) };
    clipGradValueReference(v, 0.5);
    expect(Array.from(v.a)).toEqual([-0.5, 0.1, 0.5]);
  });
});

describe('optimizers: errors', () => {
  it('rejects bad options with ConfigError, as PyTorch does', () => {
    expect(() => optimizerSpec({ kind: 'sgd', lr: 0.1, nesterov: true })).toThrow(
      /Nesterov momentum requires a momentum > 0 and zero dampening/,
    );
    expect(() => optimizerSpec({ kind: 'sgd', lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(ConfigError);
    expect(() => optimizerSpec({ kind: 'sgd' } as never)).toThrow(/SGD needs a learning rate/);
    expect(() => optimizerSpec({ kind: 'adam', lr: -1 })).toThrow(/lr must be a finite number ≥ 0/);
    expect(() => optimizerSpec({ kind: 'adamw', betas: [0.9, 1] })).toThrow(/betas\[1\] must be in \[0, 1\)/);
    expect(() => optimizerSpec({ kind: 'rmsprop' } as never)).toThrow(/unknown optimizer "rmsprop"/);
    expect(optimizerSpec({ kind: 'adamw' })).toEqual({ kind: 'adamw', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 });
    expect(() => scheduleSpec({ kind: 'step', stepSize: 0 })).toThrow(/stepSize must be a positive integer/);
    expect(() => scheduleSpec({ kind: 'cosine', tMax: 2.5 })).toThrow(ConfigError);
    expect(() => optimizationSpec({ optimizer: { kind: 'adam' }, clip: { kind: 'norm', maxNorm: Number.NaN } })).toThrow(/maxNorm/);
  });

  it('rejects gradients and state that do not match the parameters with ShapeError', () => {
    const spec = optimizationSpec({ optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.5 } });
    const params = { w: new Float64Array(3) };
    const fresh = () => createOptimizerState(spec.optimizer, { w: 3 }, Float64Array);
    expect(() => optimizerStepReference(spec, params, { w: new Float64Array(2) }, fresh())).toThrow(/gradient of w has 2 values/);
    expect(() => optimizerStepReference(spec, params, {}, fresh())).toThrow(/no gradient for parameter w/);
    expect(() => optimizerStepReference(spec, params, { w: new Float64Array(3), v: new Float64Array(1) }, fresh())).toThrow(ShapeError);
    const adamState: OptimizerState<Float64Array> = createOptimizerState(optimizerSpec({ kind: 'adam' }), { w: 3 }, Float64Array);
    expect(() => optimizerStepReference(spec, params, { w: new Float64Array(3) }, adamState)).toThrow(/sgd expects \[momentum_buffer\]/);
    expect(() =>
      optimizerStepReference(spec, params, { w: new Float64Array(3) }, createOptimizerState(spec.optimizer, { w: 4 }, Float64Array)),
    ).toThrow(ShapeError);
  });
});
