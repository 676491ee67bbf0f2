import { GATES, numDirections, type RecurrentLayerSpec } from '../../../rnn/spec.ts';
import { ones, type Contraction } from './grad-contract.ts';
import { extraSlots, gradRowWidth, savedSlots } from './plan.ts';

/** Buffer names one layer's gradient reductions read and write. */
export interface LayerGradBuffers {
  /** dg of the backward kernel: rows of {@link gradRowWidth}. */
  dg: string;
  /** The forward's `y` binding in training mode: Y then the saved values. */
  fwd: string;
  /** The layer's input X. */
  x: string;
  /** The packed W | R | B | P (src/gpu/kernels/forward/recurrent-common.ts packLayerWeights). */
  weights: string;
  /** Receives dW | dR | dB | dP, packed like the weights. */
  grads: string;
  /** Receives dX, X's shape. */
  dx: string;
}

/**
 * The contractions of one layer's gradients over `batch` sequences of `steps` rows (layout 1 rows
 * (b, t); layout 0 rows (t, b) hold the same sums): with dg = the gate gradients dA (and extras) per
 * row, x the input, h_prev and q = r ⊙ h_prev the saved recurrent inputs,
 *   dW[d]  = Σ_rows dA[d] ⊗ x             dR[d] = Σ_rows dA_R[d] ⊗ h_prev   (GRU lbr = 0: h gate ⊗ q)
 *   dWb[d] = Σ_rows dA[d]                 dRb[d] = Σ_rows dA_R[d]           dP[d] = Σ_rows extras[d]
 *   dX     = dA · W   (contracted over every direction's gate units)
 * where dA_R is dA except GRU's h gate with lbr = 1 (dA_h ⊙ r, kept as an extra). The first five are
 * row sums (`params`, for {@link rowReduction}); dX a contraction over the gate units. Per-series
 * models (`models.count` of batch / count sequences each, model m's W at m·`weightStride`): the row
 * sums are taken per model by rowReduction's `models`, and dX contracts each model's rows with its W.
 */
export function layerGradContractions(
  s: RecurrentLayerSpec,
  peepholes: boolean,
  batch: number,
  steps: number,
  names: LayerGradBuffers,
  models: { count: number; weightStride: number } = { count: 1, weightStride: 0 },
): { params: Omit<Contraction, 'rowsPerChunk'>[]; dx: Contraction } {
  const D = numDirections(s);
  const H = s.hiddenSize;
  const I = s.inputSize;
  const G = GATES[s.cell];
  const GH = G * H;
  const S = savedSlots(s);
  const X = extraSlots(s, peepholes);
  const width = gradRowWidth(s, peepholes);
  const rows = batch * steps;
  const rOffset = D * GH * I;
  const bOffset = rOffset + D * GH * H;
  const pOffset = bOffset + D * 2 * GH;
  const extras = D * GH; // first extra column
  const savedBase = rows * D * H; // the saved values follow Y in the forward's binding
  const hPrevSlot = G;
  const saved = (slot: number) => ({ buffer: names.fwd, offset: savedBase + slot * H, z: S * H, row: D * S * H, col: 1 });
  const dA = (gate: number) => ({ buffer: names.dg, offset: gate * H, z: GH, row: width, col: 1 });
  const extra = (e: number) => ({ buffer: names.dg, offset: extras + e * H, z: X * H, row: width, col: 1 });

  // Gate ranges [g0, g1) and what their recurrent side sees: A (dA or an extra) and the input slot.
  const recurrent: Array<{ g0: number; g1: number; a: Contraction['a']; slot: number }> = [];
  if (s.cell === 'gru') {
    recurrent.push({ g0: 0, g1: 2, a: dA(0), slot: hPrevSlot });
    recurrent.push(s.linearBeforeReset ? { g0: 2, g1: 3, a: extra(0), slot: hPrevSlot } : { g0: 2, g1: 3, a: dA(2), slot: 4 });
  } else {
    recurrent.push({ g0: 0, g1: G, a: dA(0), slot: hPrevSlot });
  }

  const params: Omit<Contraction, 'rowsPerChunk'>[] = [
    // dW [D·G·H, I]: both directions in one product, x being shared.
    {
      a: { buffer: names.dg, row: width, col: 1 },
      b: { buffer: names.x, row: I, col: 1 },
      out: { buffer: names.grads, p: I, q: 1 },
      p: D * GH,
      q: I,
      rows,
    },
    // dWb [d, 0 … GH)
    { a: dA(0), b: ones, out: { buffer: names.grads, offset: bOffset, z: 2 * GH, p: 1, q: 1 }, p: GH, q: 1, rows, zs: D },
  ];
  for (const { g0, g1, a, slot } of recurrent) {
    const p = (g1 - g0) * H;
    params.push(
      { a, b: saved(slot), out: { buffer: names.grads, offset: rOffset + g0 * H * H, z: GH * H, p: H, q: 1 }, p, q: H, rows, zs: D },
      { a, b: ones, out: { buffer: names.grads, offset: bOffset + GH + g0 * H, z: 2 * GH, p: 1, q: 1 }, p, q: 1, rows, zs: D },
    );
  }
  if (s.cell === 'lstm' && peepholes) {
    params.push({ a: extra(0), b: ones, out: { buffer: names.grads, offset: pOffset, z: 3 * H, p: 1, q: 1 }, p: 3 * H, q: 1, rows, zs: D });
  }
  // dX[row, i] = Σ_{d,k,j} dA[row, d, k, j]·W[d, k, j, i]: the gate units are the summed index, and
  // per-series models are chunks of it (model m's rows against model m's W).
  const modelRows = rows / models.count;
  const dx: Contraction = {
    a: { buffer: names.dg, chunk: modelRows * width, row: 1, col: width },
    b: { buffer: names.weights, chunk: models.weightStride, row: I, col: 1 },
    out: { buffer: names.dx, chunk: modelRows * I, p: I, q: 1 },
    p: modelRows,
    q: I,
    rows: models.count * D * GH,
    rowsPerChunk: D * GH,
  };
  return { params, dx };
}
