import type { AdapterSummary } from '../src/gpu/device.ts';
import type { FloatArray } from '../src/tensor.ts';
import { compare, FLOAT32_TOLERANCE, type Tolerance } from '../src/util/compare.ts';
import type { Timing } from './contender.ts';
import { ContenderLineup, WEBRNN, type CellRecord, type Status } from './harness.ts';
import type { EpochResult, PreparedTraining, TrainContender } from './train-contender.ts';
import {
  describeLoss,
  describeOptimizer,
  initialModel,
  samplesPerEpoch,
  seriesOf,
  trainData,
  trainFlops,
  trainWorkloadLabel,
  validationSamples,
  type StateDict,
  type TrainWorkload,
} from './train-workloads.ts';
import type { Samples } from '../src/train/data.ts';

/**
 * The training benchmark's harness (`npm run bench:train`, bench/train.ts). For each workload: the
 * model's initial weights (seeded PyTorch initialisation) and one epoch of seeded data; the float64
 * reference (bench/train-reference.ts) trains a validation run — the first `validationSteps` steps
 * on batches of at most `validationBatch` samples (per-series workloads: of the first
 * `validationSeries` series, at the workload's batch per series) — and every contender must match
 * its loss after each of those steps and its weights after the last (FLOAT32_TOLERANCE, or the
 * contender's own documented tolerance, which the record names) before it is timed. Then,
 * on the workload's own batch: an estimate keeps each epoch within the limit, the first epoch warms
 * up, and the median of several epochs is reported as ms per epoch, ms per sample, samples/s and
 * GFLOP/s (bench/train-workloads.ts's count), with the ratio to webrnn's epoch when webrnn ran.
 *
 * Epochs are timed by the harness's wall clock around `runEpoch()`, or by the contender's own clock
 * when it reports one (`EpochResult.ms`, e.g. PyTorch's in-process time), as `timing` says.
 */

/** How much time the harness may spend; milliseconds unless named. */
export interface TrainBudget {
  minRuns: number;
  maxRuns: number;
  /** Timed epochs continue (up to maxRuns) until they add up to this. */
  cellMs: number;
  /** A contender whose epoch is estimated or measured above this is not timed. */
  epochLimitMs: number;
  /** Samples per batch in the validation run (at most the workload's batch). */
  validationBatch: number;
  /** Steps in the validation run (at most the workload's steps per epoch). */
  validationSteps: number;
  /** Series (models) in the validation run of a per-series workload (at most the workload's). */
  validationSeries: number;
}

export const DEFAULT_TRAIN_BUDGET: TrainBudget = {
  minRuns: 3,
  maxRuns: 7,
  cellMs: 10_000,
  epochLimitMs: 30_000,
  validationBatch: 16,
  validationSteps: 3,
  validationSeries: 4,
};

/**
 * One workload × contender, with the workload's parameters. Times are of one epoch (stepsPerEpoch
 * optimizer steps); `validatedAgainst` is e.g. `cpu-reference (float64): 3 steps of 16 samples`.
 */
export interface TrainRecord extends Omit<TrainWorkload, 'name' | 'nonlinearity' | 'loss' | 'optimizer' | 'series'>, CellRecord {
  workload: string;
  /** Models trained side by side (1: one global model); `batch` is then per series. */
  series: number;
  nonlinearity: TrainWorkload['nonlinearity'] | null;
  samplesPerEpoch: number;
  /** `mse` or `mse(last h)`. */
  loss: string;
  /** `adam(lr=0.001, betas=(0.9, 0.999), eps=1e-8)`. */
  optimizer: string;
  /** trainFlops of the workload (one epoch). */
  flops: number;
  msPerSample: number | null;
  samplesPerSecond: number | null;
  /** The loss of the last timed step (per-series: the mean over the models): training went on through the timed epochs. */
  lastLoss: number | null;
  /** Largest |contender − reference| over the validation run's losses, and over its final weights. */
  maxLossError: number | null;
  maxWeightError: number | null;
  /** A cell not timed because its epoch would pass the limit: the epoch's estimated milliseconds (null: not estimated). */
  estimatedMs: number | null;
}

export interface TrainReport {
  date: string;
  command: string;
  environment: string;
  adapter: AdapterSummary | null;
  budget: TrainBudget;
  records: TrainRecord[];
}

export interface TrainHarnessOptions {
  workloads: TrainWorkload[];
  /** Run in this order per workload; the baseline is moved first. */
  contenders: TrainContender[];
  /** The float64 reference: trains the validation run every contender must match (may also be one of `contenders`). */
  reference: TrainContender;
  /** The contender ratios are taken against (default `webrnn-webgpu`). */
  baseline?: string;
  adapter?: AdapterSummary | null;
  budget?: Partial<TrainBudget>;
  /** Seeds of the weights and the data (data: seed + 1). */
  seed?: number;
  onRecord?: (r: TrainRecord) => void;
  log?: (line: string) => void;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** An epoch's result and its times: by the contender's clock when it gave one, and by the harness's. */
interface TimedEpoch {
  result: EpochResult;
  ms: number;
  wallMs: number;
  timing: Timing;
}

async function runEpoch(p: PreparedTraining, weights = false): Promise<TimedEpoch> {
  const t0 = performance.now();
  const result = await p.runEpoch({ weights });
  const wallMs = performance.now() - t0;
  return result.ms === undefined ? { result, ms: wallMs, wallMs, timing: 'wall' } : { result, ms: result.ms, wallMs, timing: 'in-process' };
}

/** Prepares, runs `epochs` epochs (the first with its weights) and disposes; resolves to every epoch. */
async function runEpochs(c: TrainContender, w: TrainWorkload, initial: StateDict, data: Samples, epochs: number): Promise<TimedEpoch[]> {
  const prepared = await c.prepare(w, initial, data);
  try {
    const out: TimedEpoch[] = [];
    for (let e = 0; e < epochs; e++) out.push(await runEpoch(prepared, e === 0));
    return out;
  } finally {
    await prepared.dispose();
  }
}

/** The outcome of comparing an epoch with the reference's. */
interface TrainValidation {
  ok: boolean;
  message: string | null;
  maxLossError: number;
  maxWeightError: number;
}

/**
 * Losses step by step, then every weight tensor by name, against the reference's, within `tolerance`;
 * the first mismatch is the message. Per-series (`series` > 1) the weights are `[series, ...shape]`.
 */
export function validateEpoch(
  got: EpochResult,
  expected: EpochResult,
  shapes: StateDict,
  tolerance: Tolerance = FLOAT32_TOLERANCE,
  series = 1,
): TrainValidation {
  const losses = compare(got.losses, expected.losses, tolerance, [expected.losses.length]);
  let maxWeightError = 0;
  let message = losses.ok ? null : `losses per step ${JSON.stringify(got.losses)} vs ${JSON.stringify(expected.losses)}: ${losses.message}`;
  for (const [name, want] of Object.entries(expected.weights)) {
    const have: FloatArray | undefined = got.weights[name];
    if (!have) {
      message ??= `no weight ${name} after the epoch`;
      maxWeightError = Infinity;
      continue;
    }
    const shape = shapes[name]?.shape;
    const r = compare(have, want, tolerance, shape && series > 1 ? [series, ...shape] : shape);
    maxWeightError = Math.max(maxWeightError, r.maxAbsError);
    if (!r.ok) message ??= `weight ${name} after the last step: ${r.message}`;
  }
  return { ok: message === null, message, maxLossError: losses.maxAbsError, maxWeightError };
}

/** The index of the first non-finite loss, or −1. */
const firstNonFinite = (losses: readonly number[]) => losses.findIndex((l) => !Number.isFinite(l));

/** Runs every workload on every contender; see the module comment. */
export async function runTrainHarness(opts: TrainHarnessOptions): Promise<TrainRecord[]> {
  const run = new TrainHarnessRun(opts);
  for (const w of opts.workloads) await run.workload(w);
  return run.records;
}

/** One workload's model, data and validation run. */
interface WorkloadRun {
  w: TrainWorkload;
  label: string;
  initial: StateDict;
  data: Samples;
  /** The validation run's workload (smaller batch, fewer steps) and data. */
  vw: TrainWorkload;
  vdata: Samples;
  expected: EpochResult;
  /** The reference's time for the validation run. */
  referenceMs: number;
  against: string;
  baselineMs: number | null;
}

class TrainHarnessRun {
  readonly records: TrainRecord[] = [];
  private readonly budget: TrainBudget;
  private readonly baselineName: string;
  private readonly log: (line: string) => void;
  private readonly lineup: ContenderLineup<TrainContender>;

  constructor(private readonly opts: TrainHarnessOptions) {
    this.budget = { ...DEFAULT_TRAIN_BUDGET, ...opts.budget };
    this.baselineName = opts.baseline ?? WEBRNN;
    this.log = opts.log ?? (() => {});
    this.lineup = new ContenderLineup(opts.contenders, this.baselineName);
  }

  private emit(w: TrainWorkload, c: TrainContender, status: Status, fields: Partial<TrainRecord> = {}): TrainRecord {
    const settings = c.settings ? { ...c.settings() } : null;
    const r: TrainRecord = { ...recordBase(w, this.opts.adapter ?? null), contender: c.name, settings, status, ...fields };
    this.records.push(r);
    this.opts.onRecord?.(r);
    return r;
  }

  async workload(w: TrainWorkload): Promise<void> {
    const label = trainWorkloadLabel(w);
    const seed = this.opts.seed ?? 1;
    const initial = initialModel(w, seed).stateDict();
    const data = trainData(w, seed + 1);
    // Per-series workloads keep their batch per series and validate on fewer series instead.
    const S = seriesOf(w);
    const vb = S > 1 ? w.batch : Math.min(w.batch, this.budget.validationBatch);
    const vs = Math.min(w.stepsPerEpoch, this.budget.validationSteps);
    const vS = Math.min(S, this.budget.validationSeries);
    const vw: TrainWorkload = { ...w, batch: vb, stepsPerEpoch: vs, ...(S > 1 ? { series: vS } : {}) };
    const vdata = validationSamples(data, w, vw);
    const ofSeries = S > 1 ? ` of each of ${vS} series (models)` : '';
    this.log(`${label}: the reference trains ${vs} step${vs > 1 ? 's' : ''} of ${vb} samples${ofSeries}…`);
    const [reference] = await runEpochs(this.opts.reference, vw, initial, vdata, 1);
    const against = `${this.opts.reference.name} (float64): ${vs} step${vs > 1 ? 's' : ''} of ${vb} sample${vb > 1 ? 's' : ''}${ofSeries}`;
    const wr: WorkloadRun = {
      w,
      label,
      initial,
      data,
      vw,
      vdata,
      expected: reference!.result,
      referenceMs: reference!.wallMs,
      against,
      baselineMs: null,
    };
    for (const c of this.lineup.ordered) await this.cell(wr, c);
  }

  private async cell(wr: WorkloadRun, c: TrainContender): Promise<void> {
    const { w, label } = wr;
    const available = await this.lineup.available(c);
    if (available !== true) {
      this.emit(w, c, `unavailable: ${available}`);
      return;
    }
    const isReference = c === this.opts.reference;
    let validation: TrainValidation;
    let stepMs: number;
    try {
      if (isReference) {
        validation = { ok: true, message: null, maxLossError: 0, maxWeightError: 0 };
        stepMs = wr.referenceMs / wr.vw.stepsPerEpoch;
      } else {
        this.log(`${label} ${c.name}: validating…`);
        // Two epochs: the first is validated, the second (warm) gives the time of a step.
        const [first, second] = await runEpochs(c, wr.vw, wr.initial, wr.vdata, 2);
        validation = validateEpoch(first!.result, wr.expected, wr.initial, c.tolerance, seriesOf(wr.vw));
        stepMs = second!.wallMs / wr.vw.stepsPerEpoch;
      }
    } catch (e) {
      this.fail(wr, c, `threw: ${(e as Error).message}`);
      return;
    }
    const within = c.tolerance && c.tolerance !== FLOAT32_TOLERANCE ? ` (within atol ${c.tolerance.atol}, rtol ${c.tolerance.rtol})` : '';
    const validated = {
      validatedAgainst: isReference ? `${c.name} (itself)` : wr.against + within,
      maxLossError: validation.maxLossError,
      maxWeightError: validation.maxWeightError,
    };
    if (!validation.ok) {
      this.fail(wr, c, validation.message!, validated);
      return;
    }
    const over = await this.overLimit(wr, c, stepMs, isReference || c.scalesLinearly === true);
    if (over) {
      this.log(`${label} ${c.name}: skipped, ${over.why}`);
      this.emit(w, c, `unavailable: ${over.why}`, { ...validated, estimatedMs: over.estimatedMs });
      return;
    }
    await this.time(wr, c, validated);
  }

  private fail(wr: WorkloadRun, c: TrainContender, message: string, fields: Partial<TrainRecord> = {}): void {
    this.log(`${wr.label} ${c.name}: FAILED ${message}`);
    this.emit(wr.w, c, 'failed', { message, ...fields });
  }

  /**
   * Why an epoch of the workload would pass the limit, or null. From a warm step of the validation
   * run (b ≤ B samples a step, all series together): B/b times it per step is an upper bound (no
   * library is slower per sample on a larger batch) and the step itself a lower bound (none is
   * faster on a larger one). Between the
   * two, one step on the full batch is measured (a second, warm one when the first is over). The
   * cost of the reference, and of a contender that {@link TrainContender.scalesLinearly}, is linear
   * in the samples: the upper bound is its estimate. `estimatedMs`: the epoch's estimated time, null
   * where only its lower bound is known.
   */
  private async overLimit(
    wr: WorkloadRun,
    c: TrainContender,
    stepMs: number,
    linear: boolean,
  ): Promise<{ why: string; estimatedMs: number | null } | null> {
    const { w } = wr;
    const limit = this.budget.epochLimitMs;
    const lower = stepMs * w.stepsPerEpoch;
    const upper = lower * (samplesPerEpoch(w) / w.stepsPerEpoch / (samplesPerEpoch(wr.vw) / wr.vw.stepsPerEpoch));
    const why = (ms: number, how: 'about' | 'at least') => ({
      why: `an epoch would take ${how} ${seconds(ms)} here (limit ${seconds(limit)})`,
      estimatedMs: how === 'about' ? ms : null,
    });
    if (linear) return upper > limit ? why(upper, 'about') : null;
    if (lower > limit) return why(lower, 'at least');
    if (upper <= limit) return null;
    this.log(`${wr.label} ${c.name}: probing one step of ${w.batch} samples…`);
    const one: TrainWorkload = { ...w, stepsPerEpoch: 1 };
    const prepared = await c.prepare(one, wr.initial, validationSamples(wr.data, w, one));
    try {
      // A cold step within the limit is enough; over it, a warm one decides.
      const cold = await runEpoch(prepared);
      if (cold.wallMs * w.stepsPerEpoch <= limit) return null;
      const estimate = (await runEpoch(prepared)).wallMs * w.stepsPerEpoch;
      return estimate > limit ? why(estimate, 'about') : null;
    } finally {
      await prepared.dispose();
    }
  }

  /** The first epoch warms up; then the median of timed epochs. Every loss must stay finite. */
  private async time(wr: WorkloadRun, c: TrainContender, validated: Partial<TrainRecord>): Promise<void> {
    const { w, label } = wr;
    const limit = this.budget.epochLimitMs;
    let prepared: PreparedTraining | null = null;
    try {
      this.log(`${label} ${c.name}: timing…`);
      prepared = await c.prepare(w, wr.initial, wr.data);
      const epochs: TimedEpoch[] = [await runEpoch(prepared)];
      if (epochs[0]!.wallMs > limit) {
        const why = `its first epoch took ${seconds(epochs[0]!.wallMs)} (limit ${seconds(limit)}); no more were made`;
        this.log(`${label} ${c.name}: ${why}`);
        this.emit(w, c, `unavailable: ${why}`, validated);
        return;
      }
      let spent = 0;
      const timed: TimedEpoch[] = [];
      while (timed.length < this.budget.minRuns || (timed.length < this.budget.maxRuns && spent < this.budget.cellMs)) {
        const e = await runEpoch(prepared);
        timed.push(e);
        epochs.push(e);
        spent += e.wallMs;
      }
      const bad = epochs.findIndex((e) => firstNonFinite(e.result.losses) >= 0);
      if (bad >= 0) {
        this.fail(
          wr,
          c,
          `the loss of epoch ${bad + 1}, step ${firstNonFinite(epochs[bad]!.result.losses) + 1} is ${epochs[bad]!.result.losses.find((l) => !Number.isFinite(l))}`,
          validated,
        );
        return;
      }
      this.record(wr, c, timed, validated);
    } catch (e) {
      this.fail(wr, c, `threw: ${(e as Error).message}`, validated);
    } finally {
      await prepared?.dispose();
    }
  }

  private record(wr: WorkloadRun, c: TrainContender, timed: TimedEpoch[], validated: Partial<TrainRecord>): void {
    const { w, label } = wr;
    const ms = median(timed.map((e) => e.ms));
    const wallMs = median(timed.map((e) => e.wallMs));
    if (c.name === this.baselineName) wr.baselineMs = ms;
    const n = samplesPerEpoch(w);
    const timing = timed.at(-1)!.timing;
    const S = seriesOf(w);
    const lastLosses = timed.at(-1)!.result.losses.slice(-S);
    this.emit(w, c, 'ok', {
      ...validated,
      medianMs: ms,
      runsMs: timed.map((e) => e.ms),
      timing,
      wallMedianMs: wallMs,
      msPerSample: ms / n,
      samplesPerSecond: (n / ms) * 1000,
      gflops: trainFlops(w) / (ms * 1e6),
      lastLoss: lastLosses.reduce((a, b) => a + b, 0) / S,
      ratioToWebrnn: wr.baselineMs === null ? null : ms / wr.baselineMs,
    });
    const clock = timing === 'in-process' ? ` (in-process; ${wallMs.toFixed(1)} ms wall)` : '';
    this.log(`${label} ${c.name}: ${ms.toFixed(1)} ms an epoch, median of ${timed.length}${clock}`);
  }
}

function recordBase(w: TrainWorkload, adapter: AdapterSummary | null): TrainRecord {
  const { name, nonlinearity, loss, optimizer, ...parameters } = w;
  return {
    workload: name,
    ...parameters,
    series: seriesOf(w),
    nonlinearity: w.cell === 'rnn' ? (nonlinearity ?? 'tanh') : null,
    samplesPerEpoch: samplesPerEpoch(w),
    loss: describeLoss(loss),
    optimizer: describeOptimizer(optimizer),
    flops: trainFlops(w),
    adapter,
    contender: '',
    settings: null,
    status: 'ok',
    message: null,
    medianMs: null,
    runsMs: [],
    timing: null,
    wallMedianMs: null,
    gpuMedianMs: null,
    gpuTiming: null,
    msPerSample: null,
    samplesPerSecond: null,
    gflops: null,
    lastLoss: null,
    validatedAgainst: null,
    maxLossError: null,
    maxWeightError: null,
    estimatedMs: null,
    ratioToWebrnn: null,
  };
}

/** Cells of the summary table: a header, then one row per record. */
export function trainTableRows(records: TrainRecord[]): string[][] {
  const header = ['workload', 'contender', 'ms/epoch', 'ms/sample', 'samples/s', 'GFLOP/s', 'loss err', 'weight err', '× webrnn', 'timing'];
  const digits = (v: number) => v.toFixed(v < 1 ? 3 : v < 10 ? 2 : v < 100 ? 1 : 0);
  const rows = records.map((r) => {
    const cells = [
      `${r.workload}${r.series > 1 ? ` S=${r.series.toLocaleString('en-US')}` : ''} ${r.batch}×${r.steps} ×${r.stepsPerEpoch} ${r.loss}`,
      r.contender,
    ];
    if (r.status !== 'ok') {
      const why = r.status === 'failed' ? `failed: ${r.message ?? ''}` : r.status;
      return [...cells, why.length > 110 ? `${why.slice(0, 109)}…` : why, '', '', '', '', '', '', ''];
    }
    return [
      ...cells,
      digits(r.medianMs!),
      digits(r.msPerSample!),
      Math.round(r.samplesPerSecond!).toLocaleString('en-US'),
      r.gflops! >= 1 ? r.gflops!.toFixed(1) : r.gflops!.toFixed(3),
      r.maxLossError!.toExponential(1),
      r.maxWeightError!.toExponential(1),
      r.ratioToWebrnn === null ? '' : r.ratioToWebrnn.toFixed(2),
      r.timing ?? '',
    ];
  });
  return [header, ...rows];
}
