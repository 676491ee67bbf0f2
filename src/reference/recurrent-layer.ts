import { applyActivation, type Activation } from '../rnn/activations.ts';
import {
  GATES,
  numDirections,
  type RecurrentLayerInputs,
  type RecurrentLayerOutputs,
  type RecurrentLayerSpec,
  type RecurrentLayerWeights,
} from '../rnn/spec.ts';

/**
 * The float64 CPU reference of one recurrent layer with ONNX RNN / GRU / LSTM semantics: the oracle
 * of the GPU kernel and of every loader. Plain loops that read like the operator spec's equations
 * (ONNX gate order; ⊙ is the elementwise product; every pre-activation is clipped to ±clip when set):
 *
 *   RNN   H_t = f(W x_t + R H_{t-1} + Wb + Rb)
 *   GRU   z = f(W_z x + R_z H + Wb_z + Rb_z)            r = f(W_r x + R_r H + Wb_r + Rb_r)
 *         n = g(W_h x + R_h (r ⊙ H) + Rb_h + Wb_h)                 linear_before_reset = 0
 *         n = g(W_h x + r ⊙ (R_h H + Rb_h) + Wb_h)                 linear_before_reset = 1
 *         H_t = (1 − z) ⊙ n + z ⊙ H_{t-1}
 *   LSTM  i = f(W_i x + R_i H + P_i ⊙ C_{t-1} + b_i)       f_ = f(W_f x + R_f H + P_f ⊙ C_{t-1} + b_f)
 *         (f_ = 1 − i when input_forget)                  c̃ = g(W_c x + R_c H + b_c)
 *         C_t = f_ ⊙ C_{t-1} + i ⊙ c̃                     o = f(W_o x + R_o H + P_o ⊙ C_t + b_o)
 *         H_t = o ⊙ h(C_t)
 *
 * The reverse direction reads a sequence of length len from step len−1 down to 0. Steps at or past
 * a sequence's length leave zeros in Y; Y_h / Y_c hold the state after the sequence's last step
 * (its initial state when len = 0).
 */
export function recurrentLayerReference(
  s: RecurrentLayerSpec,
  w: RecurrentLayerWeights,
  x: RecurrentLayerInputs,
): RecurrentLayerOutputs<Float64Array> {
  const { batch: B, steps: T } = x;
  const I = s.inputSize;
  const H = s.hiddenSize;
  const D = numDirections(s);
  const G = GATES[s.cell];
  const perDir = s.activations.length / D;
  const lstm = s.cell === 'lstm';

  const Y = new Float64Array(T * D * B * H);
  const Yh = new Float64Array(D * B * H);
  const Yc = lstm ? new Float64Array(D * B * H) : null;

  // Index helpers for the two layouts (see src/rnn/spec.ts).
  const xAt = (t: number, b: number, i: number) => (s.layout === 0 ? (t * B + b) * I + i : (b * T + t) * I + i);
  const yAt = (t: number, d: number, b: number, j: number) =>
    s.layout === 0 ? ((t * D + d) * B + b) * H + j : ((b * T + t) * D + d) * H + j;
  const stateAt = (d: number, b: number, j: number) => (s.layout === 0 ? (d * B + b) * H + j : (b * D + d) * H + j);
  const clip = (v: number) => (s.clip === null ? v : Math.min(s.clip, Math.max(-s.clip, v)));

  for (let d = 0; d < D; d++) {
    const reverse = s.direction === 'reverse' || d === 1;
    const [f, g, h] = s.activations.slice(d * perDir, (d + 1) * perDir) as [Activation, Activation?, Activation?];
    const W = (gate: number, j: number, i: number) => w.W[((d * G + gate) * H + j) * I + i]!;
    const R = (gate: number, j: number, m: number) => w.R[((d * G + gate) * H + j) * H + m]!;
    const Wb = (gate: number, j: number) => (w.B ? w.B[d * 2 * G * H + gate * H + j]! : 0);
    const Rb = (gate: number, j: number) => (w.B ? w.B[d * 2 * G * H + (G + gate) * H + j]! : 0);
    const P = (k: number, j: number) => (w.P ? w.P[d * 3 * H + k * H + j]! : 0); // k: 0 i, 1 o, 2 f

    for (let b = 0; b < B; b++) {
      const len = x.sequenceLens ? x.sequenceLens[b]! : T;
      let Hprev = new Float64Array(H);
      const C = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        if (x.initialH) Hprev[j] = x.initialH[stateAt(d, b, j)]!;
        if (x.initialC) C[j] = x.initialC[stateAt(d, b, j)]!;
      }

      for (let step = 0; step < len; step++) {
        const t = reverse ? len - 1 - step : step;
        // Wx(gate, j) + Rh(gate, j): the two matrix-vector products of one gate row.
        const Wx = (gate: number, j: number) => {
          let v = 0;
          for (let i = 0; i < I; i++) v += W(gate, j, i) * x.X[xAt(t, b, i)]!;
          return v;
        };
        const Rh = (gate: number, j: number, hv: ArrayLike<number>) => {
          let v = 0;
          for (let m = 0; m < H; m++) v += R(gate, j, m) * hv[m]!;
          return v;
        };
        const Hnext = new Float64Array(H);

        if (s.cell === 'rnn') {
          for (let j = 0; j < H; j++) {
            Hnext[j] = applyActivation(f, clip(Wx(0, j) + Rh(0, j, Hprev) + Wb(0, j) + Rb(0, j)));
          }
        } else if (s.cell === 'gru') {
          const z = new Float64Array(H);
          const r = new Float64Array(H);
          for (let j = 0; j < H; j++) {
            z[j] = applyActivation(f, clip(Wx(0, j) + Rh(0, j, Hprev) + Wb(0, j) + Rb(0, j)));
            r[j] = applyActivation(f, clip(Wx(1, j) + Rh(1, j, Hprev) + Wb(1, j) + Rb(1, j)));
          }
          const rH = Hprev.map((v, m) => r[m]! * v);
          for (let j = 0; j < H; j++) {
            const pre = s.linearBeforeReset
              ? Wx(2, j) + r[j]! * (Rh(2, j, Hprev) + Rb(2, j)) + Wb(2, j)
              : Wx(2, j) + Rh(2, j, rH) + Rb(2, j) + Wb(2, j);
            const n = applyActivation(g!, clip(pre));
            Hnext[j] = (1 - z[j]!) * n + z[j]! * Hprev[j]!;
          }
        } else {
          for (let j = 0; j < H; j++) {
            const gate = (k: number) => Wx(k, j) + Rh(k, j, Hprev) + Wb(k, j) + Rb(k, j);
            const i_ = applyActivation(f, clip(gate(0) + P(0, j) * C[j]!));
            const f_ = s.inputForget ? 1 - i_ : applyActivation(f, clip(gate(2) + P(2, j) * C[j]!));
            const c_ = applyActivation(g!, clip(gate(3)));
            C[j] = f_ * C[j]! + i_ * c_;
            const o_ = applyActivation(f, clip(gate(1) + P(1, j) * C[j]!));
            Hnext[j] = o_ * applyActivation(h!, C[j]!);
          }
        }

        for (let j = 0; j < H; j++) Y[yAt(t, d, b, j)] = Hnext[j]!;
        Hprev = Hnext;
      }

      for (let j = 0; j < H; j++) {
        Yh[stateAt(d, b, j)] = Hprev[j]!;
        if (Yc) Yc[stateAt(d, b, j)] = C[j]!;
      }
    }
  }
  return { Y, Y_h: Yh, Y_c: Yc };
}
