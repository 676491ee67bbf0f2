import type { ResolvedElmanConfig } from '../model/config.ts';
import type { ForwardArgs, ForwardResult } from '../model/forward.ts';
import type { ElmanStateDict } from '../model/params.ts';

/**
 * The float64 CPU reference of the Elman network: the oracle every GPU kernel is tested against.
 * Plain loops that read like the equations; no attempt at speed.
 *
 * For each sequence b, step t and layer k (layer 0 reads x_t, layer k > 0 reads layer k-1's h_t):
 *
 *     h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
 *     y_t = W_ho h_t + b_o                         (readout of the last layer)
 *
 * Layouts: x [B, T, I], h0 and hn [L, B, H], y [B, T, O] (or [B, O] for the last step only).
 */
export function elmanForwardReference(c: ResolvedElmanConfig, sd: ElmanStateDict, args: ForwardArgs): ForwardResult<Float64Array> {
  const { batch: B, steps: T, x, h0, lastOnly } = args;
  const { inputSize: I, hiddenSize: H, outputSize: O, numLayers: L } = c;
  const act = c.nonlinearity === 'relu' ? (v: number) => (v > 0 ? v : 0) : Math.tanh;
  const Who = sd.readout.weight;
  const bo = sd.readout.bias;

  const y = new Float64Array(lastOnly ? B * O : B * T * O);
  const hn = new Float64Array(L * B * H);

  for (let b = 0; b < B; b++) {
    // h[k][j]: hidden state of layer k, carried from step to step.
    const h: Float64Array[] = [];
    for (let k = 0; k < L; k++) {
      h.push(new Float64Array(H));
      if (h0) for (let j = 0; j < H; j++) h[k]![j] = h0[(k * B + b) * H + j]!;
    }

    for (let t = 0; t < T; t++) {
      // Layer 0 reads the input features at step t.
      let input = new Float64Array(I);
      for (let i = 0; i < I; i++) input[i] = x[(b * T + t) * I + i]!;

      for (let k = 0; k < L; k++) {
        const inSize = k === 0 ? I : H;
        const Wih = sd.rnn[`weight_ih_l${k}`]!;
        const Whh = sd.rnn[`weight_hh_l${k}`]!;
        const bih = sd.rnn[`bias_ih_l${k}`]!;
        const bhh = sd.rnn[`bias_hh_l${k}`]!;
        const hNext = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          let z = bih[j]! + bhh[j]!;
          for (let i = 0; i < inSize; i++) z += Wih[j * inSize + i]! * input[i]!;
          for (let m = 0; m < H; m++) z += Whh[j * H + m]! * h[k]![m]!;
          hNext[j] = act(z);
        }
        h[k] = hNext;
        input = hNext; // layer k+1 reads this layer's new state
      }

      if (!lastOnly || t === T - 1) {
        const top = h[L - 1]!;
        const base = lastOnly ? b * O : (b * T + t) * O;
        for (let o = 0; o < O; o++) {
          let v = bo[o]!;
          for (let j = 0; j < H; j++) v += Who[o * H + j]! * top[j]!;
          y[base + o] = v;
        }
      }
    }

    for (let k = 0; k < L; k++) for (let j = 0; j < H; j++) hn[(k * B + b) * H + j] = h[k]![j]!;
  }

  return {
    output: { data: y, shape: lastOnly ? [B, O] : [B, T, O] },
    hn: { data: hn, shape: [L, B, H] },
  };
}
