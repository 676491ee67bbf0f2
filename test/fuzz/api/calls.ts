import fc from 'fast-check';
import { ACTIVATION_NAMES } from '../../../src/rnn/activations.ts';
import { BAD_OPTIONS, BAD_SIZES, dataSpec, perturbations, type DataSpec, type Perturbation } from './pool.ts';

/**
 * The API calls the fuzzer makes, as plain data: one record per entry point (ElmanRNN,
 * RecurrentNet, the backends' recurrentLayer / recurrentStack / recurrentForecast, Trainer,
 * Forecaster), each a valid small base plus perturbations (src: test/fuzz/api/pool.ts). Building and
 * running a call is test/fuzz/api/run.ts.
 */

/** Horizons: the size pool without the large valid ones (2¹⁶ and 2²⁴ + 1 steps run for seconds to minutes: a false hang). */
export const HORIZON_POOL: readonly unknown[] = BAD_SIZES.filter((v) => v !== 2 ** 24 + 1 && v !== 65537 && v !== 65536);

const cellArb = fc.constantFrom('rnn' as const, 'gru' as const, 'lstm' as const);
const small = (max: number) => fc.integer({ min: 1, max });

export interface ElmanCall {
  op: 'elman';
  I: number;
  H: number;
  O: number;
  L: number;
  act: 'tanh' | 'relu';
  B: number;
  T: number;
  lastOnly: boolean;
  h0: DataSpec | null;
  x: DataSpec;
  seed: number;
  bad: Perturbation[];
}

export const ELMAN_FIELDS = [
  'inputSize',
  'hiddenSize',
  'outputSize',
  'numLayers',
  'nonlinearity',
  'seed',
  'B',
  'T',
  'I',
  'rank',
  'h0.shape',
  'outputs',
  'config',
  'options',
];

export const elmanCall: fc.Arbitrary<ElmanCall> = fc.record({
  op: fc.constant('elman' as const),
  I: small(3),
  H: small(6),
  O: small(3),
  L: small(3),
  act: fc.constantFrom('tanh' as const, 'relu' as const),
  B: small(5),
  T: small(6),
  lastOnly: fc.boolean(),
  h0: fc.option(dataSpec(), { freq: 2 }),
  x: dataSpec({ specials: 2 }),
  seed: fc.nat(1000),
  bad: perturbations(ELMAN_FIELDS, BAD_SIZES),
});

export interface NetCall {
  op: 'net';
  cell: 'rnn' | 'gru' | 'lstm';
  I: number;
  H: number;
  L: number;
  O: number | null;
  bidirectional: boolean;
  bias: boolean;
  headBias: boolean;
  batchFirst: boolean;
  act: 'tanh' | 'relu';
  B: number;
  T: number;
  x: DataSpec;
  h0: DataSpec | null;
  c0: DataSpec | null;
  /** Per-sequence lengths: a seed for lengths in 0…T, or null for none. */
  lengths: number | null;
  seed: number;
  bad: Perturbation[];
}

export const NET_FIELDS = [
  'cell',
  'inputSize',
  'hiddenSize',
  'numLayers',
  'outputSize',
  'bidirectional',
  'bias',
  'headBias',
  'batchFirst',
  'nonlinearity',
  'projSize',
  'B',
  'T',
  'I',
  'h0.shape',
  'c0',
  'lengths',
  'lengths[0]',
  'seed',
];

export const netCall: fc.Arbitrary<NetCall> = fc.record({
  op: fc.constant('net' as const),
  cell: cellArb,
  I: small(3),
  H: small(5),
  L: small(2),
  O: fc.option(small(3), { freq: 3 }),
  bidirectional: fc.boolean(),
  bias: fc.boolean(),
  headBias: fc.boolean(),
  batchFirst: fc.boolean(),
  act: fc.constantFrom('tanh' as const, 'relu' as const),
  B: small(4),
  T: small(5),
  x: dataSpec({ specials: 2 }),
  h0: fc.option(dataSpec(), { freq: 3 }),
  c0: fc.option(dataSpec(), { freq: 3 }),
  lengths: fc.option(fc.nat(), { freq: 3 }),
  seed: fc.nat(1000),
  bad: perturbations(NET_FIELDS, BAD_OPTIONS),
});

/** An activation as the generator names it: ONNX name and alpha/beta chosen to keep a few steps bounded. */
export const ACTIVATIONS = ACTIVATION_NAMES;

export interface LayerCall {
  op: 'layer';
  cell: 'rnn' | 'gru' | 'lstm';
  I: number;
  H: number;
  direction: 'forward' | 'reverse' | 'bidirectional';
  layout: 0 | 1;
  clip: number | null;
  linearBeforeReset: boolean;
  inputForget: boolean;
  /** Indices into ACTIVATIONS, one per activation slot, or empty for the defaults. */
  activations: number[];
  B: number;
  T: number;
  W: DataSpec;
  R: DataSpec;
  Bias: DataSpec | null;
  P: DataSpec | null;
  X: DataSpec;
  lengths: number | null;
  h0: DataSpec | null;
  c0: DataSpec | null;
  bad: Perturbation[];
}

export const LAYER_FIELDS = [
  'cell',
  'inputSize',
  'hiddenSize',
  'direction',
  'layout',
  'clip',
  'linearBeforeReset',
  'inputForget',
  'activations',
  'batch',
  'steps',
  'lengths[0]',
  'initialC',
  'P',
];

export const layerCall: fc.Arbitrary<LayerCall> = fc.record({
  op: fc.constant('layer' as const),
  cell: cellArb,
  I: small(4),
  H: small(6),
  direction: fc.constantFrom('forward' as const, 'reverse' as const, 'bidirectional' as const),
  layout: fc.constantFrom(0 as const, 1 as const),
  clip: fc.option(fc.double({ min: 0.5, max: 3, noNaN: true }), { freq: 3 }),
  linearBeforeReset: fc.boolean(),
  inputForget: fc.boolean(),
  activations: fc.oneof(fc.constant<number[]>([]), fc.array(fc.nat(ACTIVATIONS.length - 1), { minLength: 6, maxLength: 6 })),
  B: small(6),
  T: small(6),
  // Weights mostly clean, so that most calls reach the kernel; one bad weight is enough to refuse a call.
  W: dataSpec({ specials: 0.2, types: 'weights' }),
  R: dataSpec({ specials: 0.2, types: 'weights' }),
  Bias: fc.option(dataSpec({ specials: 0.2, types: 'weights' }), { freq: 4 }),
  P: fc.option(dataSpec({ specials: 0.2, types: 'weights' }), { freq: 2 }),
  X: dataSpec({ specials: 2 }),
  lengths: fc.option(fc.nat(), { freq: 2 }),
  h0: fc.option(dataSpec(), { freq: 2 }),
  c0: fc.option(dataSpec(), { freq: 2 }),
  bad: perturbations(LAYER_FIELDS, BAD_OPTIONS),
});

export interface StackCall {
  op: 'stack';
  cell: 'rnn' | 'gru' | 'lstm';
  I: number;
  H: number;
  L: number;
  O: number | null;
  bidirectional: boolean;
  /** Per-series models: how many (1: one stack, not an array). */
  models: number;
  perModel: number;
  T: number;
  X: DataSpec;
  lengths: number | null;
  states: DataSpec | null;
  seed: number;
  bad: Perturbation[];
}

export const STACK_FIELDS = ['batch', 'steps', 'models', 'architecture', 'initialH.length', 'lengths[0]', 'X.length'];

export const stackCall: fc.Arbitrary<StackCall> = fc.record({
  op: fc.constant('stack' as const),
  cell: cellArb,
  I: small(3),
  H: small(5),
  L: small(2),
  O: fc.option(small(3), { freq: 3 }),
  bidirectional: fc.boolean(),
  models: fc.oneof({ weight: 2, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: small(3) }),
  perModel: small(3),
  T: small(5),
  X: dataSpec({ specials: 2, lengths: false }),
  lengths: fc.option(fc.nat(), { freq: 3 }),
  states: fc.option(dataSpec({ lengths: false }), { freq: 3 }),
  seed: fc.nat(1000),
  bad: perturbations(STACK_FIELDS, BAD_SIZES),
});

export interface ForecastCall {
  op: 'forecast';
  cell: 'rnn' | 'gru' | 'lstm';
  act: 'tanh' | 'relu';
  I: number;
  H: number;
  L: number;
  O: number;
  models: number;
  perModel: number;
  T: number;
  horizon: number;
  history: DataSpec;
  exog: DataSpec;
  seed: number;
  bad: Perturbation[];
}

export const FORECAST_FIELDS = [
  'horizon',
  'batch',
  'steps',
  'outputSize',
  'bidirectional',
  'head',
  'futureExog',
  'history.length',
  'models',
];

export const forecastCall: fc.Arbitrary<ForecastCall> = fc.record({
  op: fc.constant('forecast' as const),
  cell: cellArb,
  act: fc.constantFrom('tanh' as const, 'relu' as const),
  I: small(3),
  H: small(5),
  L: small(2),
  O: small(2),
  models: fc.oneof({ weight: 2, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: small(3) }),
  perModel: small(3),
  T: small(5),
  horizon: small(6),
  history: dataSpec({ specials: 2, lengths: false }),
  exog: dataSpec({ lengths: false }),
  seed: fc.nat(1000),
  bad: perturbations(FORECAST_FIELDS, HORIZON_POOL),
});

export interface TrainerCall {
  op: 'trainer';
  cell: 'rnn' | 'gru' | 'lstm';
  I: number;
  H: number;
  L: number;
  O: number;
  series: number;
  count: number;
  T: number;
  x: DataSpec;
  y: DataSpec;
  mask: boolean;
  loss: 'mse' | 'mae';
  last: number | null;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  schedule: 'constant' | 'step' | 'cosine' | null;
  clip: 'norm' | 'value' | null;
  batchSize: number;
  truncate: number | null;
  epochs: number;
  validationSplit: number | null;
  seed: number;
  bad: Perturbation[];
}

export const TRAINER_FIELDS = [
  'loss',
  'loss.kind',
  'loss.steps',
  'optimizer',
  'optimizer.kind',
  'optimizer.lr',
  'optimizer.momentum',
  'optimizer.betas',
  'optimizer.eps',
  'optimizer.weightDecay',
  'schedule.stepSize',
  'schedule.tMax',
  'schedule.gamma',
  'clip.maxNorm',
  'clip.clipValue',
  'batchSize',
  'seed',
  'truncate',
  'series',
  'epochs',
  'validationSplit',
  'earlyStopping.patience',
  'count',
  'steps',
  'inputSize',
];

/**
 * Trainer option values: the option pool without huge integers (an epoch count of 2³³ is valid and
 * would never end; every double above 2⁵³ is an integer), plus values for learning rates and betas.
 */
export const TRAINER_POOL: readonly unknown[] = [
  ...BAD_OPTIONS.filter((v) => !(typeof v === 'number' && Number.isInteger(v) && v > 3)),
  -1e300,
  1e-320,
  1e-30,
  [0.9],
  [0.9, 1],
  [0.5, 0.5],
  { last: 0 },
  { last: 99 },
];

export const trainerCall: fc.Arbitrary<TrainerCall> = fc.record({
  op: fc.constant('trainer' as const),
  cell: cellArb,
  I: small(2),
  H: small(4),
  L: small(2),
  O: small(2),
  series: fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: small(3) }),
  count: small(4),
  T: small(5),
  x: dataSpec({ specials: 1, lengths: false }),
  y: dataSpec({ specials: 1, lengths: false }),
  mask: fc.boolean(),
  loss: fc.constantFrom('mse' as const, 'mae' as const),
  last: fc.option(small(3), { freq: 3 }),
  optimizer: fc.constantFrom('sgd' as const, 'adam' as const, 'adamw' as const),
  lr: fc.constantFrom(1e-3, 1e-2, 0.1, 1),
  schedule: fc.option(fc.constantFrom('constant' as const, 'step' as const, 'cosine' as const), { freq: 2 }),
  clip: fc.option(fc.constantFrom('norm' as const, 'value' as const), { freq: 2 }),
  batchSize: small(8),
  truncate: fc.option(small(3), { freq: 3 }),
  epochs: fc.constantFrom(1, 2),
  validationSplit: fc.option(fc.constantFrom(0.25, 0.5), { freq: 3 }),
  seed: fc.nat(1000),
  bad: perturbations(TRAINER_FIELDS, TRAINER_POOL),
});

export interface ForecasterCall {
  op: 'forecaster';
  cell: 'rnn' | 'gru' | 'lstm';
  act: 'tanh' | 'relu';
  hiddenSize: number;
  numLayers: number;
  horizon: number;
  season: number;
  inputSize: number | null;
  scaling: 'standard' | 'minmax' | 'robust' | 'none';
  strategy: 'recursive' | 'direct';
  perSeries: boolean;
  exog: boolean;
  count: number;
  length: number;
  /** Each series' level: ordinary, or at the edges of float64 and float32. */
  level: number;
  /** Relative spread of the values around the level. */
  spread: number;
  y: DataSpec;
  backtest: boolean;
  seed: number;
  bad: Perturbation[];
}

export const FORECASTER_FIELDS = [
  'horizon',
  'season',
  'inputSize',
  'cell',
  'hiddenSize',
  'numLayers',
  'nonlinearity',
  'scaling',
  'strategy',
  'perSeries',
  'exog',
  'seed',
  'training.batchSize',
  'training.optimizer.lr',
  'folds',
  'series.id',
  'series.ds',
  'series.exog',
];

/** Levels of a series: ordinary, tiny, huge, past float32, at the edge of float64. */
export const LEVELS = [10, 1, 0, -5, 1e6, 1e-300, 1e-320, 1e30, 3e38, 3.5e38, 1e200, 1e308, -1e308, 1.7976931348623157e308];

/** Forecaster options: the trainer's pool plus a huge horizon that must fail fast (2³³). */
export const FORECASTER_POOL: readonly unknown[] = [...TRAINER_POOL, 2 ** 33];

export const forecasterCall: fc.Arbitrary<ForecasterCall> = fc.record({
  op: fc.constant('forecaster' as const),
  cell: cellArb,
  act: fc.constantFrom('tanh' as const, 'relu' as const),
  hiddenSize: small(4),
  numLayers: small(2),
  horizon: small(4),
  season: small(4),
  inputSize: fc.option(fc.integer({ min: 2, max: 6 }), { freq: 2 }),
  scaling: fc.constantFrom('standard' as const, 'minmax' as const, 'robust' as const, 'none' as const),
  strategy: fc.constantFrom('recursive' as const, 'direct' as const),
  perSeries: fc.boolean(),
  exog: fc.boolean(),
  count: small(3),
  length: fc.integer({ min: 10, max: 20 }),
  level: fc.oneof({ weight: 3, arbitrary: fc.constant(10) }, { weight: 2, arbitrary: fc.constantFrom(...LEVELS) }),
  spread: fc.constantFrom(0.1, 1, 1e-3, 0, 1e-12),
  y: dataSpec({ specials: 1, types: false, lengths: false }),
  backtest: fc.boolean(),
  seed: fc.nat(1000),
  bad: perturbations(FORECASTER_FIELDS, FORECASTER_POOL),
});

export type ApiCall = ElmanCall | NetCall | LayerCall | StackCall | ForecastCall | TrainerCall | ForecasterCall;
