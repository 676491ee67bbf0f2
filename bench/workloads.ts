import type { CellType } from '../src/rnn/spec.ts';

/**
 * The benchmark's workloads, shared by `npm run bench` (Node) and the benchmark page (browser).
 * Every contender runs the same model: a PyTorch-style recurrent module (`RecurrentNet`, seeded
 * PyTorch default initialisation) with an nn.Linear head at every step, on the same seeded input.
 */
export interface Workload {
  /** Short stable id, e.g. `lstm-h32`. */
  name: string;
  cell: CellType;
  /** nn.RNN's nonlinearity (Elman cell); ignored for LSTM and GRU. */
  nonlinearity?: 'tanh' | 'relu';
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  numLayers: number;
  batch: number;
  steps: number;
}

type Model = Omit<Workload, 'name' | 'batch' | 'steps'>;

/** The models the speed issue names. */
export const MODELS: Record<string, Model> = {
  'elman-relu-h1': { cell: 'rnn', nonlinearity: 'relu', inputSize: 1, hiddenSize: 1, outputSize: 1, numLayers: 1 },
  'elman-relu-h32': { cell: 'rnn', nonlinearity: 'relu', inputSize: 1, hiddenSize: 32, outputSize: 1, numLayers: 1 },
  'lstm-h32': { cell: 'lstm', inputSize: 1, hiddenSize: 32, outputSize: 1, numLayers: 1 },
  'lstm-h128': { cell: 'lstm', inputSize: 1, hiddenSize: 128, outputSize: 1, numLayers: 1 },
  'gru-h24-i4': { cell: 'gru', inputSize: 4, hiddenSize: 24, outputSize: 1, numLayers: 1 },
};

function workload(model: string, batch: number, steps: number): Workload {
  return { name: model, ...MODELS[model]!, batch, steps };
}

/** Every model at B = 1024, T = 64: the table of the issue. */
export const STANDARD: Workload[] = Object.keys(MODELS).map((m) => workload(m, 1024, 64));

/** Batch sweep (T = 64) and step sweep (B = 1024) for one model; sizes a run can afford are picked by the caller. */
export const BATCH_SWEEP = [1, 16, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_000_000];
export const STEP_SWEEP = [1, 16, 64, 256, 1024, 4096];

export function batchSweep(model: string, batches = BATCH_SWEEP, steps = 64): Workload[] {
  return batches.map((b) => workload(model, b, steps));
}

export function stepSweep(model: string, steps = STEP_SWEEP, batch = 1024): Workload[] {
  return steps.map((t) => workload(model, batch, t));
}

const GATES: Record<CellType, number> = { rnn: 1, gru: 3, lstm: 4 };

/**
 * Floating-point operations of one forward pass, 2 per multiply-add of every matrix-vector
 * product (gates' input and recurrent products, then the head); elementwise work is not counted.
 */
export function forwardFlops(w: Workload): number {
  const { inputSize: I, hiddenSize: H, outputSize: O, numLayers: L } = w;
  const G = GATES[w.cell];
  const recurrent = 2 * G * H * (I + H) + (L - 1) * 2 * G * H * (H + H);
  return w.batch * w.steps * (recurrent + 2 * O * H);
}

/** Bytes a forward pass must at least move: the input read once, the output written once. */
export function forwardBytes(w: Workload): number {
  return 4 * w.batch * w.steps * (w.inputSize + w.outputSize);
}
