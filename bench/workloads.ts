import type { ElmanConfig } from '../src/model/config.ts';
import type { CellType } from '../src/rnn/spec.ts';

/**
 * One benchmark workload: a model and a batch shape. Shared by the Node CLI and (later) the page.
 * `elman` runs `ElmanRNN` (its own kernel); `torch` runs `RecurrentNet` (nn.RNN/LSTM/GRU + nn.Linear,
 * one recurrent-layer dispatch per layer).
 */
export type Workload =
  | { name: string; kind: 'elman'; config: ElmanConfig; batch: number; steps: number }
  | { name: string; kind: 'torch'; cell: CellType; inputSize: number; hiddenSize: number; outputSize: number; batch: number; steps: number };

export const WORKLOADS: Workload[] = [
  { name: 'elman-relu-h1', kind: 'elman', config: { inputSize: 1, hiddenSize: 1, outputSize: 1, nonlinearity: 'relu' }, batch: 1024, steps: 64 },
  { name: 'elman-relu-h32', kind: 'elman', config: { inputSize: 1, hiddenSize: 32, outputSize: 1, nonlinearity: 'relu' }, batch: 1024, steps: 64 },
  { name: 'elman-tanh-h32-b10k', kind: 'elman', config: { inputSize: 1, hiddenSize: 32, outputSize: 1, nonlinearity: 'tanh' }, batch: 10_000, steps: 64 },
  { name: 'lstm-h32', kind: 'torch', cell: 'lstm', inputSize: 1, hiddenSize: 32, outputSize: 1, batch: 1024, steps: 64 },
  { name: 'gru-h24-i4', kind: 'torch', cell: 'gru', inputSize: 4, hiddenSize: 24, outputSize: 1, batch: 1024, steps: 64 },
];

const GATES: Record<CellType, number> = { rnn: 1, gru: 3, lstm: 4 };

/** Floating-point operations of one forward pass: 2 per multiply-add of every matrix-vector product. */
export function forwardFlops(w: Workload): number {
  if (w.kind === 'torch') {
    const { inputSize: I, hiddenSize: H, outputSize: O } = w;
    return w.batch * w.steps * (2 * GATES[w.cell] * H * (I + H) + 2 * O * H);
  }
  const { inputSize: I, hiddenSize: H, outputSize: O } = w.config;
  const L = w.config.numLayers ?? 1;
  const perStep = 2 * H * (I + H) + 2 * (L - 1) * H * (2 * H) + 2 * O * H;
  return w.batch * w.steps * perStep;
}

/** Features per step of the workload's input. */
export function inputSizeOf(w: Workload): number {
  return w.kind === 'torch' ? w.inputSize : w.config.inputSize;
}
