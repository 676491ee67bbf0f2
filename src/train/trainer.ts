import type { Backend } from '../backends/backend.ts';
import { ConfigError, ModelError, NumericError, ShapeError } from '../errors.ts';
import { floatTensors, readSafetensors, writeSafetensors } from '../io/safetensors.ts';
import type { RecurrentNet } from '../model/recurrent.ts';
import { torchToLayers } from '../model/torch-lowering.ts';
import { checkTorchStateDict } from '../model/torch-modules.ts';
import type { FloatArray, Tensor } from '../tensor.ts';
import { firstOutside } from '../util/finite.ts';
import type { Random } from '../util/rng.ts';
import { epochBatches, gatherSamples, splitValidation, trainingRandom, type Samples } from './data.ts';
import type { StackStates, TrainEngine } from './engine.ts';
import { lossSpec, type LossOptions, type LossSpec } from './loss.ts';
import {
  checkOptimizerState,
  optimizationSpec,
  optimizerSlots,
  type GradClipOptions,
  type OptimizationSpec,
  type OptimizerOptions,
  type OptimizerState,
  type ScheduleOptions,
} from './optim.ts';
import { flattenParams, paramCount, unflattenParams } from './params.ts';

/** How to train: loss, optimizer, schedule, clipping, batches, seed, and the two optional modes. */
export interface TrainOptions {
  loss: LossOptions;
  optimizer: OptimizerOptions;
  schedule?: ScheduleOptions;
  clip?: GradClipOptions | null;
  /** Samples per step (per series in per-series mode). */
  batchSize: number;
  /** Seeds the shuffles (default 0). */
  seed?: number;
  /**
   * Truncated backpropagation through time: split every sample into windows of this many steps, one
   * optimizer step per window, the state carried forward between windows but not the gradient.
   */
  truncate?: number | null;
  /**
   * Steps between two readbacks of the loss on engines that can queue steps (WebGPU; default:
   * about 2048 windows' worth, from 4 to 32 steps, at most the engine's maxQueuedSteps): the steps run without
   * waiting for the device, and `onStep` fires for each, in order, with the same values, when their
   * losses arrive. 1: read every step's loss before the next step (the CPU engine always does).
   */
  readbackEvery?: number;
}

/**
 * Steps between loss readbacks by default: about {@link READBACK_WINDOWS} windows' worth, from 4 to
 * 32 steps. Small batches (64: 32 steps) are where a wait per step costs most; at large ones a step
 * dwarfs the readback, and progress (onStep) should not lag by more than a few steps.
 */
export function defaultReadbackEvery(batchSize: number): number {
  return Math.max(4, Math.min(32, Math.ceil(READBACK_WINDOWS / batchSize)));
}

/** Windows trained between two loss readbacks by default (see {@link defaultReadbackEvery}). */
export const READBACK_WINDOWS = 2048;

/** The checked form of {@link TrainOptions}. */
export interface TrainSpec {
  loss: LossSpec;
  optimization: OptimizationSpec;
  batchSize: number;
  seed: number;
  truncate: number | null;
  readbackEvery: number;
}

export function trainSpec(o: TrainOptions): TrainSpec {
  if (o === null || typeof o !== 'object') throw new ConfigError('training options must be an object { loss, optimizer, batchSize, … }');
  const positive = (name: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new ConfigError(`${name} must be a positive integer, got ${String(v)}`);
    return v;
  };
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ConfigError(`seed must be an integer, got ${String(seed)}`);
  return {
    loss: lossSpec(o.loss),
    optimization: optimizationSpec({ optimizer: o.optimizer, schedule: o.schedule, clip: o.clip }),
    batchSize: positive('batchSize', o.batchSize),
    seed,
    truncate: o.truncate === undefined || o.truncate === null ? null : positive('truncate', o.truncate),
    readbackEvery: o.readbackEvery === undefined ? defaultReadbackEvery(o.batchSize) : positive('readbackEvery', o.readbackEvery),
  };
}

/**
 * Refuses a loss that float32 cannot hold: the network diverged (or the targets are too large), and
 * training on would only carry Infinity or NaN into the weights ({@link NumericError} naming where).
 */
function checkLosses(where: string, losses: ArrayLike<number>): void {
  const m = firstOutside(losses);
  if (m >= 0)
    throw new NumericError(
      `${where}: the loss${losses.length > 1 ? ` of model ${m}` : ''} is ${losses[m]}, beyond float32's range: the network diverged (lower the learning rate, clip gradients, or scale the targets)`,
    );
}

/** Reported after every optimizer step (progress bars, live loss charts). */
export interface StepEvent {
  epoch: number;
  /** The most epochs of this run (early stopping may end it sooner). */
  epochs?: number;
  /** Optimizer steps taken so far, this one included. */
  step: number;
  /** The mean over models of each model's loss on this step's batch, before the update. */
  loss: number;
  /** Per model (per-series mode), the same. */
  losses: Float64Array;
  lr: number;
}

/** Reported after every epoch. */
export interface EpochEvent {
  epoch: number;
  /** The most epochs of this run (early stopping may end it sooner). */
  epochs?: number;
  /** Mean of the epoch's step losses. */
  loss: number;
  /** Mean over models of the validation loss, when there is a validation set. */
  validationLoss: number | null;
  validationLosses: Float64Array | null;
}

export interface FitOptions {
  epochs: number;
  /** Hold out the latest ⌈fraction·n⌉ samples of each series for validation. */
  validationSplit?: number;
  /** Or a validation set of its own (same series grouping as the training samples). */
  validation?: Samples;
  /**
   * Stop when the validation loss has not improved by more than `minDelta` for `patience` epochs,
   * and (by default) put back the parameters of the best epoch.
   */
  earlyStopping?: { patience: number; minDelta?: number; restoreBest?: boolean };
  onStep?: (e: StepEvent) => void | Promise<void>;
  onEpoch?: (e: EpochEvent) => void | Promise<void>;
  /**
   * Stops after the current step. With deferred loss readback (see
   * {@link TrainOptions.readbackEvery}) an abort stops the queueing of steps; the steps queued
   * before it (at most two readbacks' worth when the abort comes from `onStep`) still complete
   * and are reported.
   */
  signal?: AbortSignal;
}

/**
 * Training samples drawn afresh for each epoch (1, 2, …), all of one shape: a large dataset's epoch
 * then reads a new sample of it each time, not the same one.
 */
export type EpochSamples = (epoch: number) => Samples;

export interface FitHistory {
  /** Every step's loss (mean over models). */
  steps: number[];
  epochs: EpochEvent[];
  /** The epoch whose parameters the engine holds at the end (the best one with early stopping). */
  bestEpoch: number;
  stoppedEarly: boolean;
}

function mean(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

/** Window w of `truncate` steps of every sample of `batch` (the last window may be shorter). */
function window(batch: Samples, first: number, last: number): Samples {
  const { count: N, steps: T, inputSize: I, outputSize: O } = batch;
  const n = last - first;
  const x = new Float32Array(N * n * I);
  const y = new Float32Array(N * n * O);
  const mask = batch.mask ? new Float32Array(N * n) : null;
  for (let b = 0; b < N; b++) {
    x.set(batch.x.subarray((b * T + first) * I, (b * T + last) * I), b * n * I);
    y.set(batch.y.subarray((b * T + first) * O, (b * T + last) * O), b * n * O);
    mask?.set(batch.mask!.subarray(b * T + first, b * T + last), b * n);
  }
  return { ...batch, x, y, mask, steps: n };
}

/**
 * The samples with a loss over `{ last: h }` steps folded into their mask (steps t < T − h masked
 * out), so that engines only ever see losses over all steps: the same loss, and one that still
 * means the same inside a truncated-BPTT window.
 */
function foldLossSteps(d: Samples, spec: LossSpec): Samples {
  if (spec.steps === 'all') return d;
  const from = d.steps - spec.steps.last;
  const mask = new Float32Array(d.count * d.steps);
  for (let b = 0; b < d.count; b++) {
    for (let t = from; t < d.steps; t++) mask[b * d.steps + t] = d.mask ? d.mask[b * d.steps + t]! : 1;
  }
  return { ...d, mask };
}

/** Whether window [first, last) of `d` has a step the loss reads (a mask entry of 1). */
function readsLoss(d: Samples, first: number, last: number): boolean {
  if (!d.mask) return true;
  for (let b = 0; b < d.count; b++) for (let t = first; t < last; t++) if (d.mask[b * d.steps + t] === 1) return true;
  return false;
}

/** The engine's loss: the same kind, over all steps (see {@link foldLossSteps}). */
export function engineLoss(spec: LossSpec): LossSpec {
  return { kind: spec.kind, steps: 'all' };
}

/**
 * The epoch loop over an engine: seeded mini-batches, one optimizer step each (or one per window
 * with truncated BPTT), a callback per step and per epoch, validation and early stopping.
 */
export async function fitEngine(
  engine: TrainEngine,
  spec: TrainSpec,
  data: Samples | EpochSamples,
  options: FitOptions,
  rand: Random = trainingRandom(spec.seed),
): Promise<FitHistory> {
  const epochs = options.epochs;
  if (!Number.isInteger(epochs) || epochs < 1) throw new ConfigError(`epochs must be a positive integer, got ${String(epochs)}`);
  const first = typeof data === 'function' ? data(1) : data;
  if (first.series !== engine.models)
    throw new ShapeError(`the samples hold ${first.series} series but the trainer has ${engine.models} model(s)`);
  let train = first;
  let validation = options.validation ?? null;
  if (options.validationSplit !== undefined) {
    if (validation) throw new ConfigError('give validation or validationSplit, not both');
    if (typeof data === 'function')
      throw new ConfigError('samples drawn per epoch need a validation set of their own, not validationSplit');
    ({ train, validation } = splitValidation(data, options.validationSplit));
  }
  if (validation && validation.series !== first.series)
    throw new ShapeError(`the validation samples hold ${validation.series} series, the training samples ${first.series}`);
  const stopping = options.earlyStopping;
  if (stopping) {
    if (!validation) throw new ConfigError('early stopping needs a validation set (validation or validationSplit)');
    if (!Number.isInteger(stopping.patience) || stopping.patience < 1)
      throw new ConfigError(`patience must be a positive integer, got ${String(stopping.patience)}`);
  }
  if (spec.loss.steps !== 'all' && spec.loss.steps.last > train.steps) {
    throw new ShapeError(`the loss reads the last ${spec.loss.steps.last} steps but the samples have ${train.steps}`);
  }

  const history: FitHistory = { steps: [], epochs: [], bestEpoch: 0, stoppedEarly: false };
  let best = Infinity;
  let bestEpoch = 0;
  let bestParams: FloatArray[] | null = null;
  let step = 0;
  const deferred = queueing(engine, spec, train.steps);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    if (epoch > 1 && typeof data === 'function') {
      train = data(epoch);
      if (
        train.series !== first.series ||
        train.steps !== first.steps ||
        train.inputSize !== first.inputSize ||
        train.outputSize !== first.outputSize
      )
        throw new ShapeError(`epoch ${epoch}'s samples have another shape than epoch 1's`);
    }
    let sum = 0;
    let count = 0;
    const report = async (loss: Float64Array, at: number, lr: number) => {
      checkLosses(`training step ${at} (epoch ${epoch})`, loss);
      const m = mean(loss);
      sum += m;
      count++;
      history.steps.push(m);
      await options.onStep?.({ epoch, epochs: options.epochs, step: at, loss: m, losses: loss, lr });
    };
    if (deferred) {
      step = await queuedEpoch(deferred, train, spec, rand, step, report, options.signal);
    } else
      for (const indices of epochBatches(train, spec.batchSize, rand)) {
        const batch = foldLossSteps(gatherSamples(train, indices, train.series), spec.loss);
        const T = batch.steps;
        const k = spec.truncate ?? T;
        let states: StackStates | null = null;
        for (let first = 0; first < T; first += k) {
          const last = Math.min(T, first + k);
          const part = window(batch, first, last);
          if (!readsLoss(batch, first, last)) {
            states = await engine.advance(part, states);
            continue;
          }
          const result = await engine.step(part, states);
          states = result.states;
          step++;
          await report(result.loss, step, result.lr);
          if (options.signal?.aborted) break;
        }
        if (options.signal?.aborted) break;
      }
    const validationLosses = validation ? await engine.evaluate(foldLossSteps(validation, spec.loss)) : null;
    if (validationLosses) checkLosses(`the validation after epoch ${epoch}`, validationLosses);
    const event: EpochEvent = {
      epoch,
      epochs: options.epochs,
      loss: count ? sum / count : NaN,
      validationLoss: validationLosses ? mean(validationLosses) : null,
      validationLosses,
    };
    history.epochs.push(event);
    await options.onEpoch?.(event);
    if (stopping && event.validationLoss !== null) {
      if (event.validationLoss < best - (stopping.minDelta ?? 0)) {
        best = event.validationLoss;
        bestEpoch = epoch;
        if (stopping.restoreBest !== false) bestParams = await engine.params();
      } else if (epoch - bestEpoch >= stopping.patience) {
        history.stoppedEarly = true;
        break;
      }
    }
    if (options.signal?.aborted) break;
  }
  if (bestParams) await engine.setParams(bestParams);
  // The last update is not followed by a loss that would show it diverged: check the parameters.
  (await engine.params()).forEach((p, m) => {
    const bad = firstOutside(p);
    if (bad >= 0)
      throw new NumericError(
        `training diverged: after step ${step} parameter ${bad} of model ${m} is ${p[bad]} (lower the learning rate, clip gradients, or scale the targets)`,
      );
  });
  history.bestEpoch = bestParams ? bestEpoch : history.epochs.length;
  return history;
}

/** An engine that queues steps, with how many to queue between readbacks. */
interface Queueing {
  engine: TrainEngine & Required<Pick<TrainEngine, 'queueStep' | 'takeLosses'>>;
  every: number;
}

/**
 * Whether `fitEngine` queues steps on `engine` (deferred loss readback): the engine can, the
 * options allow it, and every step starts from zero states (no truncated BPTT windows).
 */
function queueing(engine: TrainEngine, spec: TrainSpec, steps: number): Queueing | null {
  if (!engine.queueStep || !engine.takeLosses || spec.readbackEvery === 1) return null;
  if (spec.truncate !== null && spec.truncate < steps) return null;
  return { engine: engine as Queueing['engine'], every: Math.min(spec.readbackEvery, engine.maxQueuedSteps ?? 1) };
}

/**
 * One epoch of queued steps: `every` steps are queued, their losses' readback started, the next
 * `every` steps queued while it is under way, then those losses reported (`report`: the check for
 * divergence, the history, onStep) in order; the last block at the end of the epoch. Returns the
 * step count. A non-finite loss throws its NumericError when its block is read, `every` to
 * 2·`every` steps later than per-step readback would.
 */
async function queuedEpoch(
  q: Queueing,
  train: Samples,
  spec: TrainSpec,
  rand: Random,
  step: number,
  report: (loss: Float64Array, step: number, lr: number) => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<number> {
  const { engine, every } = q;
  let block: { step: number; lr: number }[] = [];
  let pending: Promise<void> | null = null;
  // Reports the queued block once its losses are read. Called only once the previous block's
  // reports are done, so reports stay in step order and one readback at most is under way.
  const flush = () => {
    const taken = block;
    block = [];
    const losses = engine.takeLosses();
    const done = (async () => {
      const values = await losses;
      for (const [k, { step: at, lr }] of taken.entries()) await report(values[k]!, at, lr);
    })();
    done.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
    pending = done;
  };
  let failed = true;
  try {
    for (const indices of epochBatches(train, spec.batchSize, rand)) {
      const batch = foldLossSteps(gatherSamples(train, indices, train.series), spec.loss);
      // A batch whose mask hides every step is no optimizer step (as in the per-step loop).
      if (!readsLoss(batch, 0, batch.steps)) continue;
      const lr = await engine.queueStep(batch);
      block.push({ step: ++step, lr });
      if (block.length === every) {
        // At most one readback under way: the previous block is reported before this one is read.
        if (pending) await pending;
        flush();
      }
      if (signal?.aborted) break;
    }
    if (block.length) {
      if (pending) await pending;
      flush();
    }
    if (pending) await pending;
    failed = false;
  } finally {
    // After a failure, the steps still queued are read and dropped, so a later fit starts clean.
    if (failed) {
      await (pending as Promise<void> | null)?.catch(() => {});
      await engine.takeLosses().catch(() => {});
    }
  }
  return step;
}

/** What {@link Trainer.create} takes besides the model. */
export interface TrainerOptions extends TrainOptions {
  /** `cpuBackend` (float64, the oracle) or a `WebGPUBackend`. */
  backend: Backend;
  /**
   * Per-series mode: this many independent models, each with its own parameters and optimizer
   * state, every one starting from the model's weights; samples come in as many groups
   * ({@link Samples.series}). Default 1: one global model.
   */
  series?: number;
  /** Resume: per model, an optimizer state from {@link Trainer.optimizerState}. */
  optimizerState?: readonly OptimizerState[];
  /**
   * Per model, the network it starts from instead of the trainer's model (same architecture): an
   * ensemble of differently initialised networks trained side by side. `series` of them.
   */
  initial?: readonly RecurrentNet[];
}

/**
 * Fits a {@link RecurrentNet} (one global model, or one per series) on a backend:
 *
 * ```ts
 * const trainer = await Trainer.create(model, { backend: gpu, loss: { kind: 'mse' }, optimizer: { kind: 'adam', lr: 1e-2 }, batchSize: 64 });
 * const history = await trainer.fit(seriesWindows(series, 24), { epochs: 20, validationSplit: 0.2, onStep: (e) => bar.update(e.loss) });
 * const fitted = await trainer.model();      // a RecurrentNet with the trained weights
 * ```
 */
export class Trainer {
  /** The shuffles' random stream, kept across calls of fit so that a second call continues the first. */
  private readonly rand: Random;

  private constructor(
    private readonly base: RecurrentNet,
    private readonly engine: TrainEngine,
    readonly spec: TrainSpec,
  ) {
    this.rand = trainingRandom(spec.seed);
  }

  static async create(model: RecurrentNet, options: TrainerOptions): Promise<Trainer> {
    const spec = trainSpec(options);
    const series = options.series ?? 1;
    if (!Number.isInteger(series) || series < 1) throw new ConfigError(`series must be a positive integer, got ${String(series)}`);
    const backend = options.backend;
    if (!backend || typeof backend.name !== 'string') throw new ConfigError('training needs { backend }: cpuBackend or a WebGPUBackend');
    if (options.initial && options.initial.length !== series)
      throw new ShapeError(`a starting network per model is needed (${series}), got ${options.initial.length}`);
    const initial = options.initial?.map((net, m) => {
      const flat = flattenParams(net.layers());
      if (flat.length !== paramCount(model.layers()))
        throw new ShapeError(`starting network ${m} has ${flat.length} parameters, the model ${paramCount(model.layers())}`);
      return flat;
    });
    const setup = {
      stack: model.layers(),
      models: series,
      loss: engineLoss(spec.loss),
      optimization: spec.optimization,
      optimizerState: options.optimizerState,
      ...(initial ? { initial } : {}),
    };
    if (options.optimizerState && options.optimizerState.length !== series) {
      throw new ShapeError(`an optimizer state per model is needed (${series}), got ${options.optimizerState.length}`);
    }
    const n = paramCount(setup.stack);
    options.optimizerState?.forEach((state) => checkOptimizerState(spec.optimization.optimizer, state, { params: n }));
    // Per-series models step together: one step count (the schedule's and Adam's) for all of them.
    const steps = new Set(options.optimizerState?.map((state) => state.step));
    if (steps.size > 1)
      throw new ConfigError(
        `per-series optimizer states must share one step count (the models step together), got ${[...steps].join(', ')}`,
      );
    if (!backend.createTrainEngine) throw new ConfigError(`the ${backend.name} backend cannot train`);
    return new Trainer(model, await backend.createTrainEngine(setup), spec);
  }

  /** Models trained side by side: 1, or the number of series. */
  get models(): number {
    return this.engine.models;
  }

  /** Trains on `data`, or on `data(epoch)` in each epoch (see {@link FitOptions}); can be called again to continue. */
  fit(data: Samples | EpochSamples, options: FitOptions): Promise<FitHistory> {
    return fitEngine(this.engine, this.spec, data, options, this.rand);
  }

  /** Each model's loss on `data`, without training. */
  evaluate(data: Samples): Promise<Float64Array> {
    if (data.series !== this.engine.models)
      throw new ShapeError(`the samples hold ${data.series} series but the trainer has ${this.engine.models} model(s)`);
    return this.engine.evaluate(foldLossSteps(data, this.spec.loss));
  }

  /** Model s (default 0) with its trained weights, as a {@link RecurrentNet} (save with toSafetensors). */
  async model(s = 0): Promise<RecurrentNet> {
    if (!Number.isInteger(s) || s < 0 || s >= this.engine.models)
      throw new ConfigError(`model ${s} does not exist (0 … ${this.engine.models - 1})`);
    const params = await this.engine.params();
    return this.base.withLayers(unflattenParams(this.base.layers(), params[s]!));
  }

  /** Every model with its trained weights. */
  async allModels(): Promise<RecurrentNet[]> {
    const params = await this.engine.params();
    return params.map((p) => this.base.withLayers(unflattenParams(this.base.layers(), p)));
  }

  /** Each model's optimizer state (flat buffers under `params`), to resume with {@link TrainerOptions.optimizerState}. */
  optimizerState(): Promise<OptimizerState[]> {
    return this.engine.optimizerState();
  }

  /**
   * Model s's optimizer state as safetensors: each buffer under its parameter's PyTorch name
   * (`lstm.weight_ih_l0.exp_avg`, gate blocks in PyTorch's order, float32) and the step count in the
   * metadata; {@link Trainer.loadOptimizerState} reads it back.
   */
  async optimizerStateSafetensors(s = 0): Promise<Uint8Array> {
    const state = (await this.engine.optimizerState())[s]!;
    const tensors: Record<string, Tensor> = {};
    for (const [slot, flat] of Object.entries(state.buffers.params ?? {})) {
      const named = this.base.withLayers(unflattenParams(this.base.layers(), flat)).stateDict();
      for (const [name, t] of Object.entries(named)) tensors[`${name}.${slot}`] = t;
    }
    return writeSafetensors(tensors, { step: String(state.step), optimizer: this.spec.optimization.optimizer.kind });
  }

  /** The inverse of {@link optimizerStateSafetensors} for this trainer's model and optimizer. */
  loadOptimizerState(bytes: Uint8Array | ArrayBuffer): OptimizerState {
    const file = readSafetensors(bytes);
    const step = Number(file.metadata?.step);
    if (!Number.isInteger(step) || step < 0) throw new ModelError('the optimizer state file has no step count in its metadata');
    const tensors = floatTensors(file);
    const buffers: Record<string, Float32Array> = {};
    for (const slot of optimizerSlots(this.spec.optimization.optimizer)) {
      const sd: Record<string, Tensor> = {};
      for (const name of Object.keys(this.base.stateDict())) {
        const t = tensors[`${name}.${slot}`];
        if (!t) throw new ModelError(`the optimizer state file has no ${name}.${slot}`);
        sd[name] = t;
      }
      buffers[slot] = Float32Array.from(flattenParams(torchToLayers(this.base.config, checkTorchStateDict(this.base.config, sd))));
    }
    return { step, buffers: { params: buffers } };
  }

  dispose(): void {
    this.engine.dispose();
  }
}
