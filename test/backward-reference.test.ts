import { describe, expect, it } from 'vitest';
import { ShapeError } from '../src/errors.ts';
import { recurrentLayerReference } from '../src/reference/recurrent-layer.ts';
import { recurrentLayerBackwardReference } from '../src/reference/recurrent-layer-backward.ts';
import { recurrentStackBackwardReference } from '../src/reference/recurrent-stack-backward.ts';
import { recurrentStackReference } from '../src/reference/recurrent-stack.ts';
import { ACTIVATION_NAMES, activation, activationDerivative, applyActivation } from '../src/rnn/activations.ts';
import type { RecurrentLayerOutputGrads } from '../src/rnn/backward.ts';
import type { RecurrentStack, RecurrentStackInputs } from '../src/rnn/stack.ts';
import { GATES, type RecurrentLayerInputs, type RecurrentLayerSpec, type RecurrentLayerWeights } from '../src/rnn/spec.ts';
import { expectClose } from '../src/util/compare.ts';
import { mulberry32, type Random } from '../src/util/rng.ts';
import { randomLayerCase, type LayerCaseOptions } from './helpers/random.ts';

// The float64 backward references against central finite differences of the float64 forward
// references: for a scalar loss L = Σ c·outputs with random coefficients c (which are then dL/d
// outputs), every analytic gradient must equal (L(p + ε) − L(p − ε)) / 2ε coordinate by coordinate.

/** Central differences step: small enough for an O(ε²) truncation error of ~1e-12. */
const EPS = 1e-6;
/**
 * Finite differences in float64 carry a rounding error of about 1e-16·|L|/ε ≈ 1e-10·|L| (|L| is at
 * most a few tens here: ~1e-9) on top of the O(ε²) truncation; the analytic gradients are exact to rounding.
 */
const FD_TOLERANCE = { atol: 1e-8, rtol: 1e-7 };

/** Central differences of `loss` with respect to every entry of `values` (changed in place, then restored). */
function numericGradient(values: Float64Array, loss: () => number): Float64Array {
  const grad = new Float64Array(values.length);
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    values[k] = v + EPS;
    const up = loss();
    values[k] = v - EPS;
    const down = loss();
    values[k] = v;
    grad[k] = (up - down) / (2 * EPS);
  }
  return grad;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function randomArray(r: Random, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => 2 * r() - 1);
}

/** The layer's parameters as float64 (finite differences must step by ε exactly), zeros where absent. */
interface Float64LayerParams {
  W: Float64Array;
  R: Float64Array;
  B: Float64Array;
  P: Float64Array;
}

/**
 * The references read weights as numbers whatever their array type, so float64 parameters can be
 * passed where the spec's type says Float32Array (the GPU's storage type).
 */
function asWeights(p: Float64LayerParams, hasB: boolean, hasP: boolean): RecurrentLayerWeights {
  return {
    W: p.W as unknown as Float32Array,
    R: p.R as unknown as Float32Array,
    B: hasB ? (p.B as unknown as Float32Array) : null,
    P: hasP ? (p.P as unknown as Float32Array) : null,
  };
}

interface LayerCheck {
  name: string;
  spec: RecurrentLayerSpec;
  weights: RecurrentLayerWeights;
  inputs: RecurrentLayerInputs;
}

/**
 * Checks every gradient of one layer call against finite differences, with random dL/dY, dL/dY_h
 * and dL/dY_c (each left out, as null, when `reads` says the loss does not read it).
 */
function checkLayerAgainstFiniteDifferences(c: LayerCheck, seed: number, reads = { Y: true, Y_h: true, Y_c: true }): void {
  const { spec, weights, inputs } = c;
  const r = mulberry32(seed);
  const D = spec.direction === 'bidirectional' ? 2 : 1;
  const stateSize = D * inputs.batch * spec.hiddenSize;
  const lstm = spec.cell === 'lstm';
  const outGrads: RecurrentLayerOutputGrads = {
    dY: reads.Y ? randomArray(r, inputs.steps * stateSize) : null,
    dY_h: reads.Y_h ? randomArray(r, stateSize) : null,
    dY_c: lstm && reads.Y_c ? randomArray(r, stateSize) : null,
  };
  const params: Float64LayerParams = {
    W: Float64Array.from(weights.W),
    R: Float64Array.from(weights.R),
    B: weights.B ? Float64Array.from(weights.B) : new Float64Array(D * 2 * GATES[spec.cell] * spec.hiddenSize),
    P: weights.P ? Float64Array.from(weights.P) : new Float64Array(D * 3 * spec.hiddenSize),
  };
  const X = Float64Array.from(inputs.X);
  const h0 = inputs.initialH ? Float64Array.from(inputs.initialH) : new Float64Array(stateSize);
  const c0 = inputs.initialC ? Float64Array.from(inputs.initialC) : new Float64Array(stateSize);

  const analytic = recurrentLayerBackwardReference(
    spec,
    asWeights(params, weights.B !== null, weights.P !== null),
    { ...inputs, X, initialH: inputs.initialH && h0, initialC: inputs.initialC && c0 },
    outGrads,
  );

  // The loss the gradients belong to; absent tensors (B, P, initial states) are zeros, present.
  const loss = () => {
    const out = recurrentLayerReference(spec, asWeights(params, true, lstm), {
      ...inputs,
      X,
      initialH: h0,
      initialC: lstm ? c0 : null,
    });
    let l = 0;
    if (outGrads.dY) l += dot(out.Y, outGrads.dY);
    if (outGrads.dY_h) l += dot(out.Y_h, outGrads.dY_h);
    if (outGrads.dY_c) l += dot(out.Y_c!, outGrads.dY_c);
    return l;
  };

  const check = (label: string, got: Float64Array | null, values: Float64Array) =>
    expectClose(got!, numericGradient(values, loss), FD_TOLERANCE, `${c.name}: ${label}`);
  check('dW', analytic.dW, params.W);
  check('dR', analytic.dR, params.R);
  check('dB', analytic.dB, params.B);
  check('dX', analytic.dX, X);
  check('dInitialH', analytic.dInitialH, h0);
  if (lstm) {
    check('dInitialC', analytic.dInitialC, c0);
    if (weights.P) check('dP', analytic.dP, params.P);
    else expect(analytic.dP).toBeNull();
  } else {
    expect(analytic.dInitialC).toBeNull();
    expect(analytic.dP).toBeNull();
  }
}

/** A small random layer (finite differences cost two forward passes per coordinate). */
function smallCase(seed: number, o: LayerCaseOptions): LayerCheck {
  const r = mulberry32(seed ^ 0x5bd1e995);
  return randomLayerCase(seed, {
    inputSize: 1 + Math.floor(r() * 3),
    hiddenSize: 2 + Math.floor(r() * 3),
    batch: 2 + Math.floor(r() * 2),
    steps: 2 + Math.floor(r() * 4),
    ...o,
  });
}

const act = activation;

// Every cell, every activation, clip, both linear_before_reset values, input_forget, peepholes, every
// direction, both layouts, lengths (0 and T included when B ≥ 2), with and without initial states
// and biases. Activations are chosen so that their kinks are crossed by the data.
const COVERAGE: Array<[string, LayerCaseOptions]> = [
  [
    'rnn tanh forward, layout 0',
    { cell: 'rnn', direction: 'forward', layout: 0, activations: ['Tanh'], clip: null, lengths: 'none', initialStates: false, bias: true },
  ],
  [
    'rnn relu reverse, layout 1, lengths, h0',
    {
      cell: 'rnn',
      direction: 'reverse',
      layout: 1,
      activations: ['Relu'],
      clip: null,
      batch: 3,
      steps: 4,
      lengths: 'random',
      initialStates: true,
    },
  ],
  [
    'rnn bidirectional LeakyRelu/Elu with clip, lengths',
    {
      cell: 'rnn',
      direction: 'bidirectional',
      layout: 0,
      activations: [act('LeakyRelu', 0.2), act('Elu', 0.7)],
      clip: 0.6,
      batch: 3,
      steps: 4,
      lengths: 'random',
      initialStates: true,
      bias: true,
    },
  ],
  [
    'rnn ThresholdedRelu(0.1), no bias',
    {
      cell: 'rnn',
      direction: 'forward',
      layout: 1,
      activations: [act('ThresholdedRelu', 0.1)],
      clip: null,
      lengths: 'none',
      initialStates: true,
      bias: false,
    },
  ],
  [
    'rnn bidirectional Affine/Softsign',
    {
      cell: 'rnn',
      direction: 'bidirectional',
      layout: 1,
      activations: [act('Affine', 0.8, 0.1), 'Softsign'],
      clip: null,
      lengths: 'none',
      initialStates: false,
    },
  ],
  [
    'gru forward, lbr 0, h0, layout 0',
    {
      cell: 'gru',
      direction: 'forward',
      layout: 0,
      activations: [],
      clip: null,
      linearBeforeReset: false,
      lengths: 'none',
      initialStates: true,
    },
  ],
  [
    'gru forward, lbr 1, lengths',
    {
      cell: 'gru',
      direction: 'forward',
      layout: 1,
      activations: [],
      clip: null,
      linearBeforeReset: true,
      batch: 3,
      steps: 5,
      lengths: 'random',
      initialStates: false,
    },
  ],
  [
    'gru bidirectional lbr 1 HardSigmoid/ScaledTanh, Sigmoid/Softplus',
    {
      cell: 'gru',
      direction: 'bidirectional',
      layout: 1,
      activations: [act('HardSigmoid', 0.5, 0.5), act('ScaledTanh', 1.3, 0.8), 'Sigmoid', 'Softplus'],
      clip: null,
      linearBeforeReset: true,
      batch: 3,
      steps: 4,
      lengths: 'random',
      initialStates: true,
    },
  ],
  [
    'gru reverse lbr 0 with clip, no bias',
    {
      cell: 'gru',
      direction: 'reverse',
      layout: 0,
      activations: [],
      clip: 0.4,
      linearBeforeReset: false,
      lengths: 'random',
      batch: 2,
      steps: 3,
      initialStates: true,
      bias: false,
    },
  ],
  [
    'lstm forward peepholes, h0 c0',
    {
      cell: 'lstm',
      direction: 'forward',
      layout: 1,
      activations: [],
      clip: null,
      inputForget: false,
      peepholes: true,
      lengths: 'none',
      initialStates: true,
    },
  ],
  [
    'lstm bidirectional input_forget, peepholes, clip, lengths',
    {
      cell: 'lstm',
      direction: 'bidirectional',
      layout: 0,
      activations: [],
      clip: 0.5,
      inputForget: true,
      peepholes: true,
      batch: 3,
      steps: 4,
      lengths: 'random',
      initialStates: true,
    },
  ],
  [
    'lstm reverse, no bias, HardSigmoid/Softsign/ScaledTanh',
    {
      cell: 'lstm',
      direction: 'reverse',
      layout: 1,
      activations: [act('HardSigmoid', 0.4, 0.5), 'Softsign', act('ScaledTanh', 0.9, 1.2)],
      clip: null,
      inputForget: false,
      peepholes: false,
      lengths: 'random',
      batch: 2,
      steps: 4,
      initialStates: false,
      bias: false,
    },
  ],
  [
    'lstm forward Sigmoid/Elu/Softplus, peepholes, lengths',
    {
      cell: 'lstm',
      direction: 'forward',
      layout: 0,
      activations: [act('Sigmoid'), act('Elu', 1.1), 'Softplus'],
      clip: null,
      peepholes: true,
      lengths: 'random',
      batch: 3,
      steps: 3,
      initialStates: false,
    },
  ],
];

describe('layer backward reference: central finite differences', () => {
  COVERAGE.forEach(([title, options], k) => {
    it(title, () => {
      const c = smallCase(100 + k, options);
      checkLayerAgainstFiniteDifferences({ ...c, name: `${title} (${c.name})` }, 900 + k);
    });
  });

  // Seeded random configurations: anything randomLayerCase draws (cell, direction, activations,
  // clip, lbr, input_forget, peepholes, layout, lengths, states, bias).
  for (let seed = 1; seed <= 12; seed++) {
    it(`random configuration ${seed}`, () => {
      const c = smallCase(seed * 7919, {});
      checkLayerAgainstFiniteDifferences(c, seed);
    });
  }

  it('a loss that reads only Y, or only Y_h / Y_c', () => {
    for (const cell of ['rnn', 'gru', 'lstm'] as const) {
      const c = smallCase(31, { cell, direction: 'bidirectional', batch: 3, steps: 4, lengths: 'random', initialStates: true });
      checkLayerAgainstFiniteDifferences(c, 1, { Y: true, Y_h: false, Y_c: false });
      checkLayerAgainstFiniteDifferences(c, 2, { Y: false, Y_h: true, Y_c: true });
      checkLayerAgainstFiniteDifferences(c, 3, { Y: false, Y_h: false, Y_c: true });
    }
  });

  it('steps past a sequence length get no gradient; length 0 passes dY_h straight to dInitialH', () => {
    const c = randomLayerCase(5, {
      cell: 'gru',
      direction: 'bidirectional',
      layout: 1,
      inputSize: 2,
      hiddenSize: 3,
      batch: 3,
      steps: 4,
      lengths: 'none',
      initialStates: true,
    });
    const lens = Int32Array.from([0, 2, 4]);
    const stateSize = 2 * 3 * 3;
    const r = mulberry32(8);
    const outGrads = { dY: randomArray(r, 4 * stateSize), dY_h: randomArray(r, stateSize), dY_c: null };
    const g = recurrentLayerBackwardReference(c.spec, c.weights, { ...c.inputs, sequenceLens: lens }, outGrads);
    // X is [B, T, I]: sequence 0 reads nothing, sequence 1 only steps 0 and 1.
    expect(Array.from(g.dX.subarray(0, 4 * 2))).toEqual(new Array(8).fill(0));
    expect(Array.from(g.dX.subarray(8 + 2 * 2, 8 + 4 * 2))).toEqual(new Array(4).fill(0));
    expect(g.dX.subarray(8, 8 + 2 * 2).some((v) => v !== 0)).toBe(true);
    // Initial states are [B, D, H]: sequence 0's is its final state.
    expect(Array.from(g.dInitialH.subarray(0, 6))).toEqual(Array.from(outGrads.dY_h.subarray(0, 6)));
  });
});

describe('layer backward reference: errors', () => {
  it('rejects output gradients of the wrong size with a ShapeError', () => {
    const c = randomLayerCase(3, { cell: 'lstm', direction: 'forward', batch: 2, steps: 3, hiddenSize: 2 });
    const n = 2 * 2;
    const ok = { dY: new Float64Array(3 * n), dY_h: new Float64Array(n), dY_c: new Float64Array(n) };
    expect(() => recurrentLayerBackwardReference(c.spec, c.weights, c.inputs, { ...ok, dY: new Float64Array(5) })).toThrow(ShapeError);
    expect(() => recurrentLayerBackwardReference(c.spec, c.weights, c.inputs, { ...ok, dY_h: new Float64Array(n + 1) })).toThrow(
      /dY_h has 5 values but its tensor has 4/,
    );
    const rnn = randomLayerCase(3, { cell: 'rnn', direction: 'forward', batch: 2, steps: 3, hiddenSize: 2 });
    expect(() => recurrentLayerBackwardReference(rnn.spec, rnn.weights, rnn.inputs, ok)).toThrow(/dY_c applies to LSTM only/);
  });
});

describe('activation derivatives', () => {
  // Points away from every kink (Relu and friends at 0, ThresholdedRelu at alpha, HardSigmoid's corners).
  const POINTS = [-3.1, -1.3, -0.45, -0.07, 0.06, 0.3, 0.85, 1.7, 2.9, 31.5];
  const cases = ACTIVATION_NAMES.map((name) =>
    name === 'Affine'
      ? activation(name, 0.7, -0.2)
      : name === 'ScaledTanh'
        ? activation(name, 1.4, 0.6)
        : name === 'LeakyRelu'
          ? activation(name, 0.15)
          : name === 'ThresholdedRelu'
            ? activation(name, 0.5)
            : name === 'Elu'
              ? activation(name, 0.8)
              : activation(name),
  );
  for (const f of cases) {
    it(`${f.name}(alpha ${f.alpha}, beta ${f.beta}) against central differences`, () => {
      const got = POINTS.map((x) => activationDerivative(f, x));
      const want = POINTS.map((x) => (applyActivation(f, x + EPS) - applyActivation(f, x - EPS)) / (2 * EPS));
      expectClose(got, want, { atol: 1e-8, rtol: 1e-7 }, f.name);
    });
  }

  it('takes PyTorch’s values at the kinks', () => {
    expect(activationDerivative(activation('Relu'), 0)).toBe(0);
    expect(activationDerivative(activation('LeakyRelu', 0.1), 0)).toBe(0.1);
    expect(activationDerivative(activation('Elu', 0.5), 0)).toBe(0.5);
    expect(activationDerivative(activation('ThresholdedRelu', 1), 1)).toBe(0);
    // HardSigmoid(alpha 0.2, beta 0.5) has its corners at x = ±2.5.
    expect(activationDerivative(activation('HardSigmoid'), 2.5)).toBe(0);
    expect(activationDerivative(activation('HardSigmoid'), -2.5)).toBe(0);
    expect(activationDerivative(activation('HardSigmoid'), 2.4)).toBe(0.2);
  });
});

/** A stack layer's parameters as float64, and whether B and P are present. */
interface Float64StackLayer {
  spec: RecurrentLayerSpec;
  params: Float64LayerParams;
  hasB: boolean;
  hasP: boolean;
}

interface StackCaseOptions {
  layers: Array<
    Pick<
      LayerCaseOptions,
      'cell' | 'direction' | 'hiddenSize' | 'activations' | 'clip' | 'linearBeforeReset' | 'inputForget' | 'bias' | 'peepholes'
    >
  >;
  inputSize: number;
  batch: number;
  steps: number;
  lengths: number[] | null;
  initialStates: boolean[];
  head: { outputSize: number; bias: boolean } | null;
}

/** A random float64 stack: each layer drawn by randomLayerCase (batch-major), chained by size. */
function randomStack(seed: number, o: StackCaseOptions) {
  let inputSize = o.inputSize;
  const layers: Float64StackLayer[] = o.layers.map((lo, k) => {
    const c = randomLayerCase(seed + k, { ...lo, inputSize, layout: 1, batch: 1, steps: 1, lengths: 'none' });
    inputSize = (c.spec.direction === 'bidirectional' ? 2 : 1) * c.spec.hiddenSize;
    const { W, R, B, P } = c.weights;
    const G = GATES[c.spec.cell];
    const D = inputSize / c.spec.hiddenSize;
    const params: Float64LayerParams = {
      W: Float64Array.from(W),
      R: Float64Array.from(R),
      B: B ? Float64Array.from(B) : new Float64Array(D * 2 * G * c.spec.hiddenSize),
      P: P ? Float64Array.from(P) : new Float64Array(D * 3 * c.spec.hiddenSize),
    };
    return { spec: c.spec, params, hasB: B !== null, hasP: P !== null };
  });
  const r = mulberry32(seed ^ 0x27d4eb2d);
  const headWeight = o.head ? randomArray(r, o.head.outputSize * inputSize) : new Float64Array(0);
  // Absent tensors are zeros, so that finite differences can take them as present.
  const headBias = o.head?.bias ? randomArray(r, o.head.outputSize) : new Float64Array(o.head?.outputSize ?? 0);
  const X = randomArray(r, o.batch * o.steps * o.inputSize);
  const states = layers.map(({ spec }) => (spec.direction === 'bidirectional' ? 2 : 1) * o.batch * spec.hiddenSize);
  const initial = (n: number, k: number) => (o.initialStates[k] ? randomArray(r, n).map((v) => v / 2) : new Float64Array(n));
  const h0 = states.map(initial);
  const c0 = states.map(initial);
  return { layers, headWeight, headBias, X, h0, c0, inputSize };
}

describe('stack backward reference: central finite differences', () => {
  const CASES: Array<[string, StackCaseOptions]> = [
    [
      'gru ×2, bidirectional then forward, lengths 0…T, h0, head',
      {
        layers: [
          { cell: 'gru', direction: 'bidirectional', hiddenSize: 2, linearBeforeReset: true, clip: null, activations: [] },
          { cell: 'gru', direction: 'forward', hiddenSize: 3, linearBeforeReset: false, clip: null, activations: [] },
        ],
        inputSize: 2,
        batch: 3,
        steps: 4,
        lengths: [0, 2, 4],
        initialStates: [true, true],
        head: { outputSize: 2, bias: true },
      },
    ],
    [
      'lstm ×2, peepholes and input_forget, c0 on layer 1 only, head without bias',
      {
        layers: [
          { cell: 'lstm', direction: 'bidirectional', hiddenSize: 2, peepholes: true, inputForget: false, clip: null, activations: [] },
          { cell: 'lstm', direction: 'reverse', hiddenSize: 2, peepholes: false, inputForget: true, clip: 0.8, activations: [] },
        ],
        inputSize: 3,
        batch: 2,
        steps: 3,
        lengths: [3, 1],
        initialStates: [false, true],
        head: { outputSize: 1, bias: false },
      },
    ],
    [
      'rnn ×3, relu/tanh, no head, no bias in the middle',
      {
        layers: [
          { cell: 'rnn', direction: 'forward', hiddenSize: 3, activations: ['Relu'], clip: null },
          { cell: 'rnn', direction: 'bidirectional', hiddenSize: 2, activations: ['Tanh'], clip: null, bias: false },
          { cell: 'rnn', direction: 'forward', hiddenSize: 2, activations: ['Tanh'], clip: null },
        ],
        inputSize: 2,
        batch: 2,
        steps: 4,
        lengths: null,
        initialStates: [true, false, true],
        head: null,
      },
    ],
  ];

  CASES.forEach(([title, o], k) => {
    it(title, () => {
      const s = randomStack(40 + k, o);
      const r = mulberry32(70 + k);
      const L = s.layers.length;
      const lstm = (k: number) => s.layers[k]!.spec.cell === 'lstm';
      const stackOf = (full: boolean): RecurrentStack => ({
        layers: s.layers.map((l) => ({
          spec: l.spec,
          weights: asWeights(l.params, full || l.hasB, (full && l.spec.cell === 'lstm') || l.hasP),
        })),
        head: o.head && {
          weight: s.headWeight as unknown as Float32Array,
          bias: o.head.bias || full ? (s.headBias as unknown as Float32Array) : null,
          outputSize: o.head.outputSize,
          inputSize: s.inputSize,
        },
      });
      const inputsOf = (full: boolean): RecurrentStackInputs => ({
        X: s.X,
        batch: o.batch,
        steps: o.steps,
        sequenceLens: o.lengths && Int32Array.from(o.lengths),
        initialH: s.h0.map((h, k) => (full || o.initialStates[k] ? h : null)),
        initialC: s.c0.map((c, k) => (lstm(k) && (full || o.initialStates[k]) ? c : null)),
      });
      const outWidth = o.head ? o.head.outputSize : s.inputSize;
      const cY = randomArray(r, o.batch * o.steps * outWidth);
      const cYh = s.h0.map((h) => randomArray(r, h.length));
      const cYc = s.c0.map((c, k) => (lstm(k) ? randomArray(r, c.length) : null));

      const got = recurrentStackBackwardReference(stackOf(false), inputsOf(false), cY, { dY_h: cYh, dY_c: cYc });
      // The loss Σ cY·Y + Σ_k cYh_k·Y_h[k] + cYc_k·Y_c[k], absent tensors taken as zeros.
      const loss = () => {
        const out = recurrentStackReference(stackOf(true), inputsOf(true));
        let l = dot(out.Y, cY);
        out.Y_h.forEach((h, k) => (l += dot(h, cYh[k]!)));
        out.Y_c?.forEach((c, k) => (l += dot(c, cYc[k] ?? [])));
        return l;
      };
      const check = (label: string, g: ArrayLike<number>, values: Float64Array) =>
        expectClose(g, numericGradient(values, loss), FD_TOLERANCE, `${title}: ${label}`);

      expect(got.grads.layers).toHaveLength(L);
      s.layers.forEach((l, k) => {
        const g = got.grads.layers[k]!;
        check(`layer ${k} dW`, g.dW, l.params.W);
        check(`layer ${k} dR`, g.dR, l.params.R);
        check(`layer ${k} dB`, g.dB, l.params.B);
        if (l.hasP) check(`layer ${k} dP`, g.dP!, l.params.P);
        else expect(g.dP).toBeNull();
        check(`layer ${k} dInitialH`, got.dInitialH[k]!, s.h0[k]!);
        if (lstm(k)) check(`layer ${k} dInitialC`, got.dInitialC[k]!, s.c0[k]!);
        else expect(got.dInitialC[k]).toBeNull();
      });
      check('dX', got.dX, s.X);
      expect(got.dX).toBe(got.grads.layers[0]!.dX);
      if (o.head) {
        check('head dWeight', got.grads.head!.dWeight, s.headWeight);
        if (o.head.bias) check('head dBias', got.grads.head!.dBias!, s.headBias);
        else expect(got.grads.head!.dBias).toBeNull();
      } else {
        expect(got.grads.head).toBeNull();
      }
    });
  });

  it('rejects a dY or state gradients of the wrong size with a ShapeError', () => {
    const s = randomStack(3, CASES[0]![1]);
    const stack: RecurrentStack = {
      layers: s.layers.map((l) => ({ spec: l.spec, weights: asWeights(l.params, true, false) })),
      head: { weight: Float32Array.from(s.headWeight), bias: null, outputSize: 2, inputSize: s.inputSize },
    };
    const inputs: RecurrentStackInputs = { X: s.X, batch: 3, steps: 4, sequenceLens: null, initialH: [null, null], initialC: [null, null] };
    expect(() => recurrentStackBackwardReference(stack, inputs, new Float64Array(3 * 4 * 3))).toThrow(
      /dY has 36 values but the stack's output has 24/,
    );
    expect(() => recurrentStackBackwardReference(stack, inputs, new Float64Array(24), { dY_h: [null] })).toThrow(ShapeError);
    expect(() => recurrentStackBackwardReference(stack, { ...inputs, initialH: [null] }, new Float64Array(24))).toThrow(ShapeError);
  });
});
