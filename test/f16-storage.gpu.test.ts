import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { ConfigError, ShapeError, WeightError } from '../src/errors.ts';
import { F16_OUTPUT_ROUNDING, roundedLayerWeights } from '../src/gpu/kernels/forward/f16-storage.ts';
import { GATES, numDirections, type RecurrentLayerSpec, type RecurrentLayerWeights } from '../src/rnn/spec.ts';
import type { ResolvedElmanConfig } from '../src/model/config.ts';
import type { ForwardArgs } from '../src/model/forward.ts';
import type { ElmanStateDict } from '../src/model/params.ts';
import type { ForecastInputs } from '../src/rnn/forecast.ts';
import type { RecurrentStack } from '../src/rnn/stack.ts';
import { FLOAT32_TOLERANCE, expectClose, type Tolerance } from '../src/util/compare.ts';
import { FLOAT16_UNIT_ROUNDOFF, roundedToHalf } from '../src/util/f16.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';
import { randomLayerCase, type RandomLayerCase } from './helpers/random.ts';

// f16 storage (the WebGPU backend's `storage: 'f16'`: x, weights and y as f16 two per word,
// shaders/forward/storage_f16.wgsl; arithmetic and states f32) against the float64 reference, on
// seeded random layers and stacks, in Node and Chromium:
//  (a) against the reference run on the f16-rounded weights and x, Y_h and Y_c at float32's
//      tolerance and Y at that plus the rounding of the stored output (the arithmetic is f32, so
//      nothing else may differ);
//  (b) against the reference on the original values, within `f16Bound`, a first-order bound of
//      what rounding the weights and inputs does over T steps (derived below), plus the output's
//      rounding.
// Then the bad inputs: each a typed error before any GPU work.

const u = FLOAT16_UNIT_ROUNDOFF;
const OUTPUT_ROUNDING = F16_OUTPUT_ROUNDING;

let gpu: GpuFixture;
let f16: WebGPUBackend;
let f16Split: WebGPUBackend;

beforeAll(async () => {
  gpu = await createGpuFixture();
  f16 = WebGPUBackend.fromContext(gpu.backend.gpu, { poisonOutputs: true, storage: 'f16' });
  // Batch chunks and time segments: the state carried between segments stays f32.
  f16Split = WebGPUBackend.fromContext(gpu.backend.gpu, {
    poisonOutputs: true,
    storage: 'f16',
    maxBindingBytes: 4096,
    maxStepsPerDispatch: 3,
  });
});

afterAll(() => {
  f16?.dispose();
  f16Split?.dispose();
  gpu?.backend.dispose();
});

function plus(a: Tolerance, b: Tolerance): Tolerance {
  return { atol: a.atol + b.atol, rtol: a.rtol + b.rtol };
}

/** The largest absolute row sum of `rows` rows of `a` ([rows, cols]): ‖·‖∞. */
function rowNorm(a: ArrayLike<number>, rows: number): number {
  const cols = a.length / rows;
  let most = 0;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.abs(a[r * cols + c]!);
    most = Math.max(most, sum);
  }
  return most;
}

function maxAbs(a: ArrayLike<number> | null): number {
  let most = 0;
  for (let i = 0; a && i < a.length; i++) most = Math.max(most, Math.abs(a[i]!));
  return most;
}

/**
 * A first-order bound (terms in u² beyond the first dropped) on how far the state of a layer with
 * ONNX's default activations (sigmoid gates, tanh elsewhere; clip only shrinks differences) moves
 * when its weights and inputs are rounded to f16, each by at most u = 2⁻¹¹ of itself, and its
 * input already differs by `xError` (a previous layer's bound): `h` for h (and Y before its own
 * rounding), `c` for LSTM's cell state. Initial states are f32, not rounded.
 *
 * A gate's pre-activation a = W x + R h + Wb + Rb (+ p ⊙ c) moves per step by at most
 *   δ ≤ α + ρ e,  α = (2u + u²)(‖W‖∞ (x̄ + xError) + ‖R‖∞ h̄ + b̄) + ‖W‖∞ xError,  ρ = (1 + u)‖R‖∞
 * with e the state's bound after the step before, x̄ = max|x|, h̄ = 1 ≥ max|h| (tanh and convex
 * combinations of it and h0 ∈ [−½, ½]), b̄ the largest |Wb| + |Rb|. Sigmoid moves by at most δ/4,
 * tanh by δ. Then per step, from e = 0:
 *   RNN   e ← δ
 *   GRU   h = n + z (h_prev − n): e ← δ_n + 2·δ/4 + e, the candidate's δ_n ≤ δ + (δ/4)(ρ h̄ + b̄)
 *         (r scales R h + Rb, or h inside R (r ⊙ h))
 *   LSTM  peepholes add u p̄ c̄ + (1 + u) p̄ e_c to the gates that have them (c̄ = ½ + T ≥ max|c|);
 *         c = f c + i g: e_c ← (δ_if/4)(c̄ + 1) + e_c + δ; h = o tanh(c): e ← δ_o/4 + e_c
 * Each recursion only grows, so the last step's value bounds every step's.
 */
function f16Bound(spec: RecurrentLayerSpec, w: RecurrentLayerWeights, xMax: number, xError: number, T: number): { h: number; c: number } {
  const D = numDirections(spec);
  const G = GATES[spec.cell];
  const H = spec.hiddenSize;
  const rows = D * G * H;
  const W = rowNorm(w.W, rows);
  const R = rowNorm(w.R, rows);
  let b = 0;
  for (let d = 0; d < D; d++) {
    for (let r = 0; r < G * H; r++)
      b = Math.max(b, w.B ? Math.abs(w.B[d * 2 * G * H + r]!) + Math.abs(w.B[d * 2 * G * H + G * H + r]!) : 0);
  }
  const p = maxAbs(w.P);
  const hMax = 1;
  const cMax = 0.5 + T;
  const alpha = (2 * u + u * u) * (W * (xMax + xError) + R * hMax + b) + W * xError;
  const rho = (1 + u) * R;
  let e = 0;
  let ec = 0;
  for (let t = 0; t < T; t++) {
    const delta = alpha + rho * e;
    if (spec.cell === 'rnn') e = delta;
    else if (spec.cell === 'gru') e = delta + (delta / 4) * (rho * hMax + b) + delta / 2 + e;
    else {
      const peep = (c: number) => u * p * cMax + (1 + u) * p * c;
      const deltaIF = delta + peep(ec);
      ec = (deltaIF / 4) * (cMax + 1) + ec + delta;
      e = (delta + peep(ec)) / 4 + ec;
    }
  }
  return { h: e, c: ec };
}

/** A random layer with even H (f16 storage's words hold two units of a row). */
function evenLayerCase(seed: number, defaults: boolean): RandomLayerCase {
  const c = randomLayerCase(seed, defaults ? { activations: [], clip: null } : {});
  if (c.spec.hiddenSize % 2 === 0) return c;
  return randomLayerCase(seed, { hiddenSize: c.spec.hiddenSize + 1, ...(defaults ? { activations: [], clip: null } : {}) });
}

async function checkLayer(c: RandomLayerCase, backend: WebGPUBackend, againstOriginal: boolean): Promise<void> {
  const got = await withErrorScope(backend.device, () => backend.recurrentLayer(c.spec, c.weights, c.inputs));
  // (a) The same computation on the values f16 storage holds.
  const rounded = await cpuBackend.recurrentLayer(c.spec, roundedLayerWeights(c.weights), { ...c.inputs, X: roundedToHalf(c.inputs.X) });
  expectClose(got.Y, rounded.Y, plus(FLOAT32_TOLERANCE, OUTPUT_ROUNDING), `${c.name}: Y against the f16-rounded reference`);
  expectClose(got.Y_h, rounded.Y_h, FLOAT32_TOLERANCE, `${c.name}: Y_h against the f16-rounded reference`);
  if (c.spec.cell === 'lstm') expectClose(got.Y_c!, rounded.Y_c!, FLOAT32_TOLERANCE, `${c.name}: Y_c against the f16-rounded reference`);
  if (!againstOriginal) return;
  // (b) The original values, within the derived bound.
  const want = await cpuBackend.recurrentLayer(c.spec, c.weights, c.inputs);
  const bound = f16Bound(c.spec, c.weights, maxAbs(c.inputs.X), 0, c.inputs.steps);
  const stateTol = plus(FLOAT32_TOLERANCE, { atol: bound.h, rtol: 0 });
  expectClose(got.Y, want.Y, plus(stateTol, OUTPUT_ROUNDING), `${c.name}: Y within the f16 bound ${bound.h.toExponential(2)}`);
  expectClose(got.Y_h, want.Y_h, stateTol, `${c.name}: Y_h within the f16 bound`);
  if (c.spec.cell === 'lstm') {
    expectClose(got.Y_c!, want.Y_c!, plus(FLOAT32_TOLERANCE, { atol: bound.c, rtol: 0 }), `${c.name}: Y_c within the f16 bound`);
  }
}

describe('f16 storage (WebGPU backend)', () => {
  // Every cell × direction once, the layouts in turn, default activations: both checks.
  let seed = 1700;
  for (const cell of ['rnn', 'gru', 'lstm'] as const) {
    for (const direction of ['forward', 'reverse', 'bidirectional'] as const) {
      {
        const layout = seed % 2 === 0 ? 0 : 1;
        const c = randomLayerCase(seed++, {
          cell,
          direction,
          layout,
          hiddenSize: 2 + 2 * (seed % 5),
          activations: [],
          clip: null,
          lengths: 'random',
          initialStates: true,
          batch: 5,
          steps: 7,
        });
        it(`matches the reference on f16-rounded values, and the original within the bound: ${c.name}`, () => checkLayer(c, f16, true));
      }
    }
  }

  // Seeded random configurations (any activation, clip, lbr, input_forget, peepholes): check (a),
  // and (b) where the activations are the defaults the bound is derived for; split runs too.
  for (let s = 1; s <= 3; s++) {
    const defaults = s % 3 === 0;
    const c = evenLayerCase(1800 + s, defaults);
    it(`random case ${s}: ${c.name}`, () => checkLayer(c, s % 2 ? f16 : f16Split, defaults));
  }

  it('stores Y as f16 and keeps the states f32', async () => {
    const c = randomLayerCase(1900, { cell: 'lstm', hiddenSize: 8, activations: [], clip: null, batch: 3, steps: 4 });
    const got = await f16.recurrentLayer(c.spec, c.weights, c.inputs);
    // Y is f16-representable everywhere; Y_h is not (it is the f32 state).
    expect(got.Y.every((v) => roundedToHalf([v])[0] === v)).toBe(true);
    expect(got.Y_h.some((v) => roundedToHalf([v])[0] !== v)).toBe(true);
  });

  it('runs a two-layer stack within the chained bound', async () => {
    {
      const s = 0;
      const first = evenLayerCase(1950 + s, true);
      const D0 = numDirections(first.spec);
      const one = randomLayerCase(1960 + s, { ...{ activations: [], clip: null }, layout: 1 });
      const l0 = randomLayerCase(1950 + s, {
        cell: one.spec.cell,
        layout: 1,
        hiddenSize: first.spec.hiddenSize,
        direction: first.spec.direction,
        activations: [],
        clip: null,
        linearBeforeReset: one.spec.linearBeforeReset,
        inputForget: one.spec.inputForget,
      });
      const l1 = randomLayerCase(1970 + s, {
        cell: l0.spec.cell,
        layout: 1,
        inputSize: D0 * l0.spec.hiddenSize,
        hiddenSize: 2 * (1 + (s % 3)),
        activations: [],
        clip: null,
        linearBeforeReset: l0.spec.linearBeforeReset,
        inputForget: l0.spec.inputForget,
        batch: l0.inputs.batch,
        steps: l0.inputs.steps,
      });
      const stack: RecurrentStack = { layers: [l0, l1].map((c) => ({ spec: c.spec, weights: c.weights })), head: null };
      const inputs = { ...l0.inputs, initialH: [null, null], initialC: [null, null] };
      const got = await withErrorScope(f16.device, () => f16.recurrentStack(stack, inputs));
      const want = await cpuBackend.recurrentStack(stack, inputs);
      const T = inputs.steps;
      const b0 = f16Bound(l0.spec, l0.weights, maxAbs(inputs.X), 0, T);
      // Layer 1's input is layer 0's stored Y: its bound plus the rounding (|y| ≤ 1).
      const b1 = f16Bound(l1.spec, l1.weights, 1, b0.h + OUTPUT_ROUNDING.rtol, T);
      const name = `stack ${l0.name} → ${l1.name}`;
      expectClose(got.Y_h[0]!, want.Y_h[0]!, plus(FLOAT32_TOLERANCE, { atol: b0.h, rtol: 0 }), `${name}: layer 0's Y_h`);
      expectClose(got.Y_h[1]!, want.Y_h[1]!, plus(FLOAT32_TOLERANCE, { atol: b1.h, rtol: 0 }), `${name}: layer 1's Y_h`);
      expectClose(got.Y, want.Y, plus(plus(FLOAT32_TOLERANCE, { atol: b1.h, rtol: 0 }), OUTPUT_ROUNDING), `${name}: Y`);
    }
  });

  it('refuses what it cannot run with a typed error before any GPU work', async () => {
    const c = randomLayerCase(2000, { hiddenSize: 3 });
    await expect(f16.recurrentLayer(c.spec, c.weights, c.inputs)).rejects.toThrow(ConfigError);
    const even = evenLayerCase(2001, false);
    const big = { ...even.weights, R: even.weights.R.map((v, i) => (i === 0 ? 70000 : v)) };
    await expect(f16.recurrentLayer(even.spec, big, even.inputs)).rejects.toThrow(WeightError);
    const X = Float32Array.from(even.inputs.X, (v, i) => (i === 1 ? -1e5 : v));
    await expect(f16.recurrentLayer(even.spec, even.weights, { ...even.inputs, X })).rejects.toThrow(ShapeError);
    const layer = { spec: { ...even.spec, layout: 1 as const }, weights: even.weights };
    const H = even.spec.hiddenSize * numDirections(even.spec);
    const head = { weight: new Float32Array(H), bias: null, outputSize: 1, inputSize: H };
    const stackInputs = { ...even.inputs, sequenceLens: null, initialH: [null], initialC: [null] };
    await expect(f16.recurrentStack({ layers: [layer], head }, stackInputs)).rejects.toThrow(ConfigError);
    await expect(f16.recurrentForecast({ layers: [layer], head }, {} as ForecastInputs)).rejects.toThrow(ConfigError);
    await expect(f16.elmanForward({} as ResolvedElmanConfig, {} as ElmanStateDict, {} as ForwardArgs)).rejects.toThrow(ConfigError);
    for (const recurrentKernel of ['small', 'sequential', 'lanes'] as const) {
      expect(() => WebGPUBackend.fromContext(gpu.backend.gpu, { storage: 'f16', recurrentKernel })).toThrow(ConfigError);
    }
    expect(() => WebGPUBackend.fromContext(gpu.backend.gpu, { storage: 'f8' as 'f16' })).toThrow(ConfigError);
  });
});
