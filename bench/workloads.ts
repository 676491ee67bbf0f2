import type { ElmanConfig } from '../src/model/config.ts';

/** One benchmark workload: a model and a batch shape. Shared by the Node CLI and (later) the page. */
export interface Workload {
  name: string;
  config: ElmanConfig;
  batch: number;
  steps: number;
}

export const WORKLOADS: Workload[] = [
  { name: 'elman-relu-h1', config: { inputSize: 1, hiddenSize: 1, outputSize: 1, nonlinearity: 'relu' }, batch: 1024, steps: 64 },
  { name: 'elman-relu-h32', config: { inputSize: 1, hiddenSize: 32, outputSize: 1, nonlinearity: 'relu' }, batch: 1024, steps: 64 },
  { name: 'elman-tanh-h32-b10k', config: { inputSize: 1, hiddenSize: 32, outputSize: 1, nonlinearity: 'tanh' }, batch: 10_000, steps: 64 },
];

/** Floating-point operations of one forward pass: 2 per multiply-add of every matrix-vector product. */
export function forwardFlops(w: Workload): number {
  const { inputSize: I, hiddenSize: H, outputSize: O } = w.config;
  const L = w.config.numLayers ?? 1;
  const perStep = 2 * H * (I + H) + 2 * (L - 1) * H * (2 * H) + 2 * O * H;
  return w.batch * w.steps * perStep;
}
