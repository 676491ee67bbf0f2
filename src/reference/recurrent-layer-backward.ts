import { ShapeError } from '../errors.ts';
import { activationDerivative, applyActivation, type Activation } from '../rnn/activations.ts';
import type { RecurrentLayerGrads, RecurrentLayerOutputGrads } from '../rnn/backward.ts';
import {
  GATES,
  checkLayerInputs,
  numDirections,
  type RecurrentLayerInputs,
  type RecurrentLayerSpec,
  type RecurrentLayerWeights,
} from '../rnn/spec.ts';
import type { FloatArray } from '../tensor.ts';

/**
 * The float64 reference of one recurrent layer's backward pass: backpropagation through time for the
 * ONNX RNN, GRU and LSTM of src/reference/recurrent-layer.ts, every option included. It replays the
 * forward pass of each sequence and direction, keeping every step's gate values (the "tape"), then
 * walks the steps backwards carrying dH = ∂loss/∂H_t (and dC = ∂loss/∂C_t for LSTM).
 *
 * Every gate's pre-activation is a sum a = W_g x_t + Wb_g + R_g u + Rb_g (+ peephole terms), u being
 * H_{t−1} (or r ⊙ H_{t−1} for GRU's h gate without linear_before_reset). With a = its gradient,
 *
 *   dW_g += da xᵀ      dWb_g += da      dX_t += W_gᵀ da      dR_g += da uᵀ      dRb_g += da      du += R_gᵀ da
 *
 * and through an activation φ applied to clip(a): da = dφ · φ′(clip(a)) · [|a| ≤ clip] (no gradient
 * where the clip clamped). The cells, step by step backwards (⊙ elementwise; h(·) the LSTM's output
 * activation):
 *
 *   RNN   H = f(a)                          da = dH ⊙ f′
 *   GRU   H = (1 − z) ⊙ n + z ⊙ H_{t−1}     dn = dH ⊙ (1 − z)   dz = dH ⊙ (H_{t−1} − n)   dH_{t−1} = dH ⊙ z + …
 *         lbr = 0: a_h = W_h x + R_h (r ⊙ H_{t−1}) + Rb_h + Wb_h
 *                  d(r ⊙ H_{t−1}) = R_hᵀ da_h,   dr = d(r⊙H) ⊙ H_{t−1},   dH_{t−1} += d(r⊙H) ⊙ r
 *         lbr = 1: a_h = W_h x + r ⊙ q + Wb_h,  q = R_h H_{t−1} + Rb_h
 *                  dq = da_h ⊙ r (into dR_h, dRb_h, dH_{t−1}),   dr = da_h ⊙ q
 *   LSTM  C = f ⊙ C_{t−1} + i ⊙ c̃,  H = o ⊙ h(C),  peepholes P_i, P_f on C_{t−1} and P_o on C
 *         do = dH ⊙ h(C)     dC += dH ⊙ o ⊙ h′(C) + da_o ⊙ P_o     dP_o += da_o ⊙ C
 *         di = dC ⊙ c̃        dc̃ = dC ⊙ i     df = dC ⊙ C_{t−1}     dC_{t−1} = dC ⊙ f + da_i ⊙ P_i + da_f ⊙ P_f
 *         input_forget (f = 1 − i): di −= df, and the f gate's parameters get no gradient
 *
 * Sequence lengths: steps at or past a sequence's length are never run, so their dY is ignored and
 * they get dX = 0; dY_h / dY_c enter at the sequence's own last step (straight into dInitialH /
 * dInitialC when its length is 0). The result has the shapes and layouts of the tensors it is the
 * gradient of (see src/rnn/backward.ts): dB is returned even without B (the gradient at B = 0), dP
 * only when P is given. Slow on purpose: it is the oracle of the GPU backward kernels.
 */
export function recurrentLayerBackwardReference(
  s: RecurrentLayerSpec,
  w: RecurrentLayerWeights,
  x: RecurrentLayerInputs,
  outGrads: RecurrentLayerOutputGrads,
): RecurrentLayerGrads<Float64Array> {
  checkLayerInputs(s, x);
  checkOutputGrads(s, x, outGrads);
  const { batch: B, steps: T } = x;
  const D = numDirections(s);
  const G = GATES[s.cell];
  const H = s.hiddenSize;
  const lstm = s.cell === 'lstm';
  const grads: RecurrentLayerGrads<Float64Array> = {
    dW: new Float64Array(D * G * H * s.inputSize),
    dR: new Float64Array(D * G * H * H),
    dB: new Float64Array(D * 2 * G * H),
    dP: lstm && w.P ? new Float64Array(D * 3 * H) : null,
    dX: new Float64Array(x.X.length),
    dInitialH: new Float64Array(D * B * H),
    dInitialC: lstm ? new Float64Array(D * B * H) : null,
  };
  const at = layoutIndex(s, B, T);
  for (let d = 0; d < D; d++) {
    const dir = directionOf(s, w, d);
    for (let b = 0; b < B; b++) {
      const len = x.sequenceLens ? x.sequenceLens[b]! : T;
      const reverse = s.direction === 'reverse' || d === 1;
      const tape = replayForward(s, dir, x, at, b, len, reverse);
      backThroughTime(s, dir, tape, outGrads, grads, at, b);
    }
  }
  return grads;
}

function checkOutputGrads(s: RecurrentLayerSpec, x: RecurrentLayerInputs, g: RecurrentLayerOutputGrads): void {
  const n = numDirections(s) * x.batch * s.hiddenSize;
  const want: Array<[string, FloatArray | null, number]> = [
    ['dY', g.dY, x.steps * n],
    ['dY_h', g.dY_h, n],
    ['dY_c', g.dY_c, n],
  ];
  for (const [name, v, length] of want) {
    if (v === null) continue;
    if (name === 'dY_c' && s.cell !== 'lstm') throw new ShapeError('dY_c applies to LSTM only');
    if (v.length !== length) throw new ShapeError(`${name} has ${v.length} values but its tensor has ${length}`);
  }
}

/** Flat indices of X, Y and the states in the spec's layout (see src/rnn/spec.ts). */
interface LayoutIndex {
  x(t: number, b: number, i: number): number;
  y(t: number, d: number, b: number, j: number): number;
  state(d: number, b: number, j: number): number;
}

function layoutIndex(s: RecurrentLayerSpec, B: number, T: number): LayoutIndex {
  const I = s.inputSize;
  const H = s.hiddenSize;
  const D = numDirections(s);
  return s.layout === 0
    ? { x: (t, b, i) => (t * B + b) * I + i, y: (t, d, b, j) => ((t * D + d) * B + b) * H + j, state: (d, b, j) => (d * B + b) * H + j }
    : { x: (t, b, i) => (b * T + t) * I + i, y: (t, d, b, j) => ((b * T + t) * D + d) * H + j, state: (d, b, j) => (b * D + d) * H + j };
}

/**
 * One direction d of the layer: where its parameters lie in W, R, B, P (the same positions hold
 * their gradients), its activations, and the clip. Gates in ONNX order; peephole k: 0 i, 1 o, 2 f.
 */
interface LayerDirection {
  readonly W: (gate: number, j: number, i: number) => number;
  readonly R: (gate: number, j: number, m: number) => number;
  readonly Wb: (gate: number, j: number) => number;
  readonly Rb: (gate: number, j: number) => number;
  readonly P: (k: number, j: number) => number;
  readonly wAt: (gate: number, j: number, i: number) => number;
  readonly rAt: (gate: number, j: number, m: number) => number;
  readonly wbAt: (gate: number, j: number) => number;
  readonly rbAt: (gate: number, j: number) => number;
  readonly pAt: (k: number, j: number) => number;
  readonly d: number;
  /** The activations f, g, h of this direction (g, h absent for RNN; h absent for GRU). */
  readonly f: Activation;
  readonly g: Activation | undefined;
  readonly h: Activation | undefined;
  /** clip(a) = min(clip, max(−clip, a)); identity without clip. */
  readonly clip: (a: number) => number;
  /** d clip(a) / da: 0 where the clamp was active. */
  readonly clipPass: (a: number) => number;
}

function directionOf(s: RecurrentLayerSpec, w: RecurrentLayerWeights, d: number): LayerDirection {
  const I = s.inputSize;
  const H = s.hiddenSize;
  const G = GATES[s.cell];
  const perDir = s.activations.length / numDirections(s);
  const [f, g, h] = s.activations.slice(d * perDir, (d + 1) * perDir) as [Activation, Activation?, Activation?];
  const wAt = (gate: number, j: number, i: number) => ((d * G + gate) * H + j) * I + i;
  const rAt = (gate: number, j: number, m: number) => ((d * G + gate) * H + j) * H + m;
  const wbAt = (gate: number, j: number) => d * 2 * G * H + gate * H + j;
  const rbAt = (gate: number, j: number) => d * 2 * G * H + (G + gate) * H + j;
  const pAt = (k: number, j: number) => d * 3 * H + k * H + j;
  const c = s.clip;
  return {
    W: (gate, j, i) => w.W[wAt(gate, j, i)]!,
    R: (gate, j, m) => w.R[rAt(gate, j, m)]!,
    Wb: (gate, j) => (w.B ? w.B[wbAt(gate, j)]! : 0),
    Rb: (gate, j) => (w.B ? w.B[rbAt(gate, j)]! : 0),
    P: (k, j) => (w.P ? w.P[pAt(k, j)]! : 0),
    wAt,
    rAt,
    wbAt,
    rbAt,
    pAt,
    d,
    f,
    g,
    h,
    clip: c === null ? (a) => a : (a) => Math.min(c, Math.max(-c, a)),
    clipPass: c === null ? () => 1 : (a) => (Math.abs(a) <= c ? 1 : 0),
  };
}

/** What one step of the forward pass leaves for the backward pass (one sequence, one direction). */
interface StepRecord {
  /** The time index the step read (len−1−step for the reverse direction). */
  readonly t: number;
  /** x_t [I]. */
  readonly x: Float64Array;
  /** H_{t−1} [H]. */
  readonly hPrev: Float64Array;
  /** LSTM: C_{t−1} [H]. */
  readonly cPrev: Float64Array | null;
  /** [G·H] every gate's pre-activation a before the clip, peephole terms included. */
  readonly pre: Float64Array;
  /** [G·H] every gate's value φ(clip(a)) (LSTM with input_forget: f = 1 − i). */
  readonly gate: Float64Array;
  /** GRU with linear_before_reset: q = R_h H_{t−1} + Rb_h [H]. */
  readonly q: Float64Array | null;
  /** LSTM: C_t [H]. */
  readonly c: Float64Array | null;
  /** H_t [H]. */
  readonly hNext: Float64Array;
}

/** The input side of gate k's pre-activation for unit j: W_k x + Wb_k. */
function inputSide(dir: LayerDirection, k: number, j: number, x: Float64Array): number {
  let v = dir.Wb(k, j);
  for (let i = 0; i < x.length; i++) v += dir.W(k, j, i) * x[i]!;
  return v;
}

/** The recurrent side of gate k's pre-activation for unit j: R_k u + Rb_k. */
function recurrentSide(dir: LayerDirection, k: number, j: number, u: ArrayLike<number>): number {
  let v = dir.Rb(k, j);
  for (let m = 0; m < u.length; m++) v += dir.R(k, j, m) * u[m]!;
  return v;
}

/** W_k x + Wb_k + R_k H_{t−1} + Rb_k: the affine part of gate k's pre-activation for unit j. */
function affine(dir: LayerDirection, k: number, j: number, rec: StepRecord): number {
  return inputSide(dir, k, j, rec.x) + recurrentSide(dir, k, j, rec.hPrev);
}

/** Replays one sequence's forward pass in one direction, recording every step. */
function replayForward(
  s: RecurrentLayerSpec,
  dir: LayerDirection,
  x: RecurrentLayerInputs,
  at: LayoutIndex,
  b: number,
  len: number,
  reverse: boolean,
): StepRecord[] {
  const H = s.hiddenSize;
  const G = GATES[s.cell];
  let hPrev: Float64Array = new Float64Array(H);
  let cPrev: Float64Array | null = s.cell === 'lstm' ? new Float64Array(H) : null;
  for (let j = 0; j < H; j++) {
    if (x.initialH) hPrev[j] = x.initialH[at.state(dir.d, b, j)]!;
    if (cPrev && x.initialC) cPrev[j] = x.initialC[at.state(dir.d, b, j)]!;
  }
  const tape: StepRecord[] = [];
  for (let step = 0; step < len; step++) {
    const t = reverse ? len - 1 - step : step;
    const xt = Float64Array.from({ length: s.inputSize }, (_, i) => x.X[at.x(t, b, i)]!);
    const rec: StepRecord = {
      t,
      x: xt,
      hPrev,
      cPrev,
      pre: new Float64Array(G * H),
      gate: new Float64Array(G * H),
      q: s.cell === 'gru' && s.linearBeforeReset ? new Float64Array(H) : null,
      c: cPrev ? new Float64Array(H) : null,
      hNext: new Float64Array(H),
    };
    if (s.cell === 'rnn') rnnForward(dir, rec);
    else if (s.cell === 'gru') gruForward(s, dir, rec);
    else lstmForward(s, dir, rec);
    tape.push(rec);
    hPrev = rec.hNext;
    cPrev = rec.c;
  }
  return tape;
}

/** Sets gate k's pre-activation a and value φ(clip(a)) for unit j. */
function setGate(rec: StepRecord, H: number, k: number, j: number, a: number, phi: Activation, dir: LayerDirection): number {
  rec.pre[k * H + j] = a;
  return (rec.gate[k * H + j] = applyActivation(phi, dir.clip(a)));
}

// RNN: H_t = f(W x + R H_{t−1} + Wb + Rb).
function rnnForward(dir: LayerDirection, rec: StepRecord): void {
  const H = rec.hPrev.length;
  for (let j = 0; j < H; j++) rec.hNext[j] = setGate(rec, H, 0, j, affine(dir, 0, j, rec), dir.f, dir);
}

// GRU, gates z (0), r (1), h (2): H_t = (1 − z) ⊙ n + z ⊙ H_{t−1}.
function gruForward(s: RecurrentLayerSpec, dir: LayerDirection, rec: StepRecord): void {
  const H = rec.hPrev.length;
  for (let j = 0; j < H; j++) {
    setGate(rec, H, 0, j, affine(dir, 0, j, rec), dir.f, dir);
    setGate(rec, H, 1, j, affine(dir, 1, j, rec), dir.f, dir);
  }
  const r = rec.gate.subarray(H, 2 * H);
  const rH = rec.hPrev.map((v, m) => r[m]! * v);
  for (let j = 0; j < H; j++) {
    let a: number;
    if (rec.q) {
      // linear_before_reset: a_h = W_h x + Wb_h + r ⊙ q, q = R_h H_{t−1} + Rb_h.
      rec.q[j] = recurrentSide(dir, 2, j, rec.hPrev);
      a = inputSide(dir, 2, j, rec.x) + r[j]! * rec.q[j]!;
    } else {
      a = inputSide(dir, 2, j, rec.x) + recurrentSide(dir, 2, j, rH);
    }
    const n = setGate(rec, H, 2, j, a, dir.g!, dir);
    const z = rec.gate[j]!;
    rec.hNext[j] = (1 - z) * n + z * rec.hPrev[j]!;
  }
}

// LSTM, gates i (0), o (1), f (2), c (3); peepholes P_i, P_f read C_{t−1}, P_o reads C_t.
function lstmForward(s: RecurrentLayerSpec, dir: LayerDirection, rec: StepRecord): void {
  const H = rec.hPrev.length;
  const cPrev = rec.cPrev!;
  const c = rec.c!;
  for (let j = 0; j < H; j++) {
    const i = setGate(rec, H, 0, j, affine(dir, 0, j, rec) + dir.P(0, j) * cPrev[j]!, dir.f, dir);
    let f: number;
    if (s.inputForget) {
      rec.pre[2 * H + j] = 0; // unused: f does not come from its own gate
      f = rec.gate[2 * H + j] = 1 - i;
    } else {
      f = setGate(rec, H, 2, j, affine(dir, 2, j, rec) + dir.P(2, j) * cPrev[j]!, dir.f, dir);
    }
    const cTilde = setGate(rec, H, 3, j, affine(dir, 3, j, rec), dir.g!, dir);
    c[j] = f * cPrev[j]! + i * cTilde;
    const o = setGate(rec, H, 1, j, affine(dir, 1, j, rec) + dir.P(1, j) * c[j]!, dir.f, dir);
    rec.hNext[j] = o * applyActivation(dir.h!, c[j]!);
  }
}

/**
 * Walks one sequence's tape backwards in one direction, accumulating the parameter gradients and
 * writing dX, dInitialH and dInitialC.
 */
function backThroughTime(
  s: RecurrentLayerSpec,
  dir: LayerDirection,
  tape: readonly StepRecord[],
  out: RecurrentLayerOutputGrads,
  grads: RecurrentLayerGrads<Float64Array>,
  at: LayoutIndex,
  b: number,
): void {
  const H = s.hiddenSize;
  const d = dir.d;
  // The loss reads the state after the last step through Y_h / Y_c (zero gradient when it does not).
  const finalState = (g: FloatArray | null) => Float64Array.from({ length: H }, (_, j) => (g ? g[at.state(d, b, j)]! : 0));
  let dH = finalState(out.dY_h);
  let dC: Float64Array | null = s.cell === 'lstm' ? finalState(out.dY_c) : null;
  for (let step = tape.length - 1; step >= 0; step--) {
    const rec = tape[step]!;
    // H_t is also Y at time t.
    if (out.dY) for (let j = 0; j < H; j++) dH[j]! += out.dY[at.y(rec.t, d, b, j)]!;
    const dPre = new Float64Array(rec.pre.length);
    const dHprev = new Float64Array(H);
    let dRecurrent: Float64Array = dPre;
    let recurrentInput: Float64Array = rec.hPrev;
    if (s.cell === 'rnn') {
      rnnBackward(dir, rec, dH, dPre);
    } else if (s.cell === 'gru') {
      ({ dRecurrent, recurrentInput } = gruBackward(dir, rec, dH, dPre, dHprev));
    } else {
      dC = lstmBackward(s, dir, rec, dH, dC!, dPre, grads.dP);
    }
    backThroughAffine(s, dir, rec, dPre, dRecurrent, recurrentInput, dHprev, grads, at, b);
    dH = dHprev;
  }
  for (let j = 0; j < H; j++) {
    grads.dInitialH[at.state(d, b, j)] = dH[j]!;
    if (dC) grads.dInitialC![at.state(d, b, j)] = dC[j]!;
  }
}

/** da = dφ · φ′(clip(a)) · d clip(a)/da: the gradient of a pre-activation from that of its gate value. */
function throughActivation(dir: LayerDirection, phi: Activation, a: number, dValue: number): number {
  return dValue * activationDerivative(phi, dir.clip(a)) * dir.clipPass(a);
}

// RNN: da = dH ⊙ f′.
function rnnBackward(dir: LayerDirection, rec: StepRecord, dH: Float64Array, dPre: Float64Array): void {
  for (let j = 0; j < dH.length; j++) dPre[j] = throughActivation(dir, dir.f, rec.pre[j]!, dH[j]!);
}

/**
 * GRU: fills dPre (the input side of every gate) and dHprev's direct part dH ⊙ z and, without
 * linear_before_reset, the part through r ⊙ H_{t−1}. Returns the recurrent side's gradients (which
 * differ from dPre in the h gate) and the h gate's recurrent input.
 */
function gruBackward(
  dir: LayerDirection,
  rec: StepRecord,
  dH: Float64Array,
  dPre: Float64Array,
  dHprev: Float64Array,
): { dRecurrent: Float64Array; recurrentInput: Float64Array } {
  const H = dH.length;
  const z = rec.gate.subarray(0, H);
  const r = rec.gate.subarray(H, 2 * H);
  const n = rec.gate.subarray(2 * H, 3 * H);
  const dr = new Float64Array(H);
  const dRecurrent = new Float64Array(3 * H);
  for (let j = 0; j < H; j++) {
    dHprev[j] = dH[j]! * z[j]!;
    const dz = dH[j]! * (rec.hPrev[j]! - n[j]!);
    const dn = dH[j]! * (1 - z[j]!);
    dPre[j] = throughActivation(dir, dir.f, rec.pre[j]!, dz);
    dPre[2 * H + j] = throughActivation(dir, dir.g!, rec.pre[2 * H + j]!, dn);
  }
  let recurrentInput = rec.hPrev;
  if (rec.q) {
    // a_h = … + r ⊙ q: dq = da_h ⊙ r feeds R_h, Rb_h and H_{t−1}; dr = da_h ⊙ q.
    for (let j = 0; j < H; j++) {
      dr[j] = dPre[2 * H + j]! * rec.q[j]!;
      dRecurrent[2 * H + j] = dPre[2 * H + j]! * r[j]!;
    }
  } else {
    // a_h = … + R_h (r ⊙ H_{t−1}): d(r ⊙ H_{t−1}) = R_hᵀ da_h.
    recurrentInput = rec.hPrev.map((v, m) => r[m]! * v);
    for (let m = 0; m < H; m++) {
      let dRH = 0;
      for (let j = 0; j < H; j++) dRH += dir.R(2, j, m) * dPre[2 * H + j]!;
      dr[m] = dRH * rec.hPrev[m]!;
      dHprev[m]! += dRH * r[m]!;
    }
    // That product's gradient to H_{t−1} is taken here, so backThroughAffine must not add it again.
    dRecurrent.set(dPre.subarray(2 * H), 2 * H);
  }
  for (let j = 0; j < H; j++) dPre[H + j] = throughActivation(dir, dir.f, rec.pre[H + j]!, dr[j]!);
  dRecurrent.set(dPre.subarray(0, 2 * H), 0);
  return { dRecurrent, recurrentInput };
}

/**
 * LSTM: fills dPre for gates i, o, f, c, accumulates the peephole gradients and returns dC_{t−1}.
 * dC comes in as ∂loss/∂C_t from later steps (or dY_c).
 */
function lstmBackward(
  s: RecurrentLayerSpec,
  dir: LayerDirection,
  rec: StepRecord,
  dH: Float64Array,
  dCnext: Float64Array,
  dPre: Float64Array,
  dP: Float64Array | null,
): Float64Array {
  const H = dH.length;
  const cPrev = rec.cPrev!;
  const c = rec.c!;
  const dCprev = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const [i, o, f, cTilde] = [0, 1, 2, 3].map((k) => rec.gate[k * H + j]!) as [number, number, number, number];
    const hc = applyActivation(dir.h!, c[j]!);
    // H = o ⊙ h(C): through o, and into C.
    const dao = throughActivation(dir, dir.f, rec.pre[H + j]!, dH[j]! * hc);
    const dC = dCnext[j]! + dH[j]! * o * activationDerivative(dir.h!, c[j]!) + dao * dir.P(1, j);
    // C = f ⊙ C_{t−1} + i ⊙ c̃.
    const df = dC * cPrev[j]!;
    let di = dC * cTilde;
    const dct = dC * i;
    dCprev[j] = dC * f;
    let daf = 0;
    if (s.inputForget)
      di -= df; // f = 1 − i
    else daf = throughActivation(dir, dir.f, rec.pre[2 * H + j]!, df);
    const dai = throughActivation(dir, dir.f, rec.pre[j]!, di);
    // Peepholes: a_i += P_i C_{t−1}, a_f += P_f C_{t−1}, a_o += P_o C_t.
    dCprev[j]! += dai * dir.P(0, j) + daf * dir.P(2, j);
    if (dP) {
      dP[dir.pAt(0, j)]! += dai * cPrev[j]!;
      dP[dir.pAt(1, j)]! += dao * c[j]!;
      dP[dir.pAt(2, j)]! += daf * cPrev[j]!;
    }
    dPre[j] = dai;
    dPre[H + j] = dao;
    dPre[2 * H + j] = daf;
    dPre[3 * H + j] = throughActivation(dir, dir.g!, rec.pre[3 * H + j]!, dct);
  }
  return dCprev;
}

/**
 * Back through every gate's affine part a_g = W_g x_t + Wb_g + R_g u_g + Rb_g, with dInput = ∂/∂a_g
 * on the input side and dRecurrent on the recurrent side (u_g = H_{t−1}, or `recurrentInput` for
 * GRU's h gate): the parameter gradients, dX_t += Σ_g W_gᵀ dInput_g, and dHprev += Σ_g R_gᵀ dRecurrent_g
 * (except GRU's h gate without linear_before_reset, whose path to H_{t−1} gruBackward took).
 */
function backThroughAffine(
  s: RecurrentLayerSpec,
  dir: LayerDirection,
  rec: StepRecord,
  dInput: Float64Array,
  dRecurrent: Float64Array,
  recurrentInput: Float64Array,
  dHprev: Float64Array,
  grads: RecurrentLayerGrads<Float64Array>,
  at: LayoutIndex,
  b: number,
): void {
  const H = s.hiddenSize;
  const I = s.inputSize;
  const G = GATES[s.cell];
  for (let gate = 0; gate < G; gate++) {
    const gruH = s.cell === 'gru' && gate === 2;
    const u = gruH ? recurrentInput : rec.hPrev;
    const toHprev = !(gruH && !s.linearBeforeReset);
    for (let j = 0; j < H; j++) {
      const da = dInput[gate * H + j]!;
      const dr = dRecurrent[gate * H + j]!;
      grads.dB[dir.wbAt(gate, j)]! += da;
      grads.dB[dir.rbAt(gate, j)]! += dr;
      for (let i = 0; i < I; i++) {
        grads.dW[dir.wAt(gate, j, i)]! += da * rec.x[i]!;
        grads.dX[at.x(rec.t, b, i)]! += dir.W(gate, j, i) * da;
      }
      for (let m = 0; m < H; m++) {
        grads.dR[dir.rAt(gate, j, m)]! += dr * u[m]!;
        if (toHprev) dHprev[m]! += dir.R(gate, j, m) * dr;
      }
    }
  }
}
