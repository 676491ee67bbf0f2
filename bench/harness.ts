import type { AdapterSummary } from '../src/gpu/device.ts';
import type { Ceilings } from './ceilings.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import type { FloatArray } from '../src/tensor.ts';
import { compare, FLOAT32_TOLERANCE, type Tolerance } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import type { Contender, PreparedRun, Timing } from './contender.ts';
import { forwardBytes, forwardFlops, type Workload } from './workloads.ts';

/**
 * The benchmark harness, shared by `npm run bench` (Node) and the benchmark page (a browser worker).
 * For each workload: build the model from a fixed seed and a seeded input, compute the float64 CPU
 * reference output, then for each contender `prepare`, run once and validate (a contender that fails
 * is reported, not timed), warm up, and time the median of several full runs.
 *
 * The reference is budgeted: it first runs on a few sequences to measure its speed; when the whole
 * batch would take longer than {@link Budget.referenceMs}, the reference covers only those first
 * sequences (every contender is checked on them) and the rest of each contender's output is checked
 * against webrnn's (the baseline), which the record says in `validatedAgainst`.
 *
 * Times are the harness's wall clock around each run, except for contenders that report their own
 * (`PreparedRun.timedRun`, e.g. a subprocess peer's in-process time): those cells are timed by the
 * contender's clock and say so in `timing`; the harness's clock still decides the budget.
 */

/** `'unavailable: …'` names why a contender did not run (not installed, too slow or too big here). */
export type Status = 'ok' | 'failed' | `unavailable: ${string}`;

/**
 * What a record of either benchmark (forward here, training in bench/train-harness.ts) holds about
 * one contender on one workload: who ran, how it went, and its times in milliseconds of one timed
 * unit (a forward pass, a training epoch).
 */
export interface CellRecord {
  adapter: AdapterSummary | null;
  contender: string;
  /** How a peer ran (library version, backend, threads), from its `settings()`; null for others. */
  settings: Record<string, string | number | boolean> | null;
  status: Status;
  /** Why validation or a run failed. */
  message: string | null;
  medianMs: number | null;
  /** Every timed run, in order (warm-up and validation runs excluded). */
  runsMs: number[];
  /**
   * Whose clock `medianMs` and `runsMs` read: `wall`, the harness's around the whole run; `in-process`,
   * the contender's own (e.g. PyTorch's, in its Python process, without the pipe to it).
   */
  timing: Timing | null;
  /** The harness's wall clock over the same runs (equal to medianMs for `wall` timing). */
  wallMedianMs: number | null;
  /**
   * The contender's GPU time over the same runs (webrnn: its kernels only, no upload or readback;
   * pytorch-cuda-*: the forward alone, its input already on the GPU), by `gpuTiming`: the GPU's own
   * timestamps (WebGPU timestamp queries, CUDA events), or `wall` from submit to completion without them.
   */
  gpuMedianMs: number | null;
  gpuTiming: 'timestamp' | 'wall' | null;
  gflops: number | null;
  /** What the results were compared with before timing. */
  validatedAgainst: string | null;
  /** This contender's median time ÷ webrnn's on the same workload (above 1: webrnn is faster); null without webrnn. */
  ratioToWebrnn: number | null;
}

/**
 * One workload × contender, with the workload's parameters. Times are milliseconds of one full
 * forward pass (upload to readback); `timing: 'in-process'` cells (PreparedRun.timedRun) exclude
 * what only the harness pays. `validatedAgainst` is e.g. `cpu-reference` or `cpu-reference on 8 of
 * 65,536 sequences; webrnn-webgpu on all`.
 */
export interface BenchRecord extends Omit<Workload, 'name' | 'nonlinearity'>, CellRecord {
  /** The workload's model name (bench/workloads.ts). */
  workload: string;
  nonlinearity: Workload['nonlinearity'] | null;
  /** forwardFlops and forwardBytes of the workload. */
  flops: number;
  bytes: number;
  sequencesPerSecond: number | null;
  /** Input read once plus output written once, per second. */
  gbps: number | null;
  /** Largest |contender − expected| over the validated outputs. */
  maxAbsError: number | null;
  /**
   * webrnn only, when ceilings were measured: GFLOP/s ÷ the matmul ceiling, and (for H ≤ 4, where
   * the pass is about moving data) bytes moved per second ÷ the copy ceiling.
   */
  ceilingShare: { matmul: number; copy: number | null } | null;
}

/** A whole run: the records and what they were measured on. */
export interface BenchReport {
  date: string;
  /** The command line or page action that produced it. */
  command: string;
  /** Runtime, OS, CPU count or user agent. */
  environment: string;
  adapter: AdapterSummary | null;
  ceilings: Ceilings | null;
  /** The budget of each harness call, in order. */
  budget: Budget[];
  records: BenchRecord[];
}

/** How much time the harness may spend; every field is a limit, in milliseconds unless named. */
export interface Budget {
  minRuns: number;
  maxRuns: number;
  /** Timed runs continue (up to maxRuns) until they add up to this. */
  cellMs: number;
  /** Warm-up runs after validation until they add up to this (the validation run is the first). */
  warmupMs: number;
  /** A contender whose one run is estimated above this is reported unavailable, not run. */
  runLimitMs: number;
  /** The reference covers the whole batch only when that is estimated to take at most this. */
  referenceMs: number;
  /** Workloads estimated to need more host memory than this are skipped (bytes). */
  hostBytes: number;
}

export const DEFAULT_BUDGET: Budget = {
  minRuns: 3,
  maxRuns: 10,
  cellMs: 5_000,
  warmupMs: 1_000,
  runLimitMs: 20_000,
  referenceMs: 60_000,
  hostBytes: 2 ** 32,
};

/** Sequences the reference always runs first, to measure its speed and to spot-check every contender. */
export const REFERENCE_PREFIX = 8;

export interface HarnessOptions {
  workloads: Workload[];
  /** Run in this order per workload; the baseline is moved first. */
  contenders: Contender[];
  /** The float64 CPU reference: computes the expected outputs (and may also be one of `contenders`). */
  reference: Contender;
  /** The contender every ratio is taken against (default `webrnn-webgpu`). */
  baseline?: string;
  adapter: AdapterSummary | null;
  /** The adapter's own ceilings (bench/ceilings.ts): what a plain copy and a tuned matmul reach. */
  ceilings?: Pick<Ceilings, 'copyGBs' | 'matmulGflops'> | null;
  budget?: Partial<Budget>;
  /** Seeds of the weights and the input. */
  seed?: number;
  /** Records of earlier runs on this adapter: their times seed the estimates that keep runs in budget. */
  earlier?: readonly BenchRecord[];
  /** Called with each record as soon as it is complete. */
  onRecord?: (r: BenchRecord) => void;
  /** Progress lines. */
  log?: (line: string) => void;
}

export const WEBRNN = 'webrnn-webgpu';

/** `lstm-h32 B=1024 T=64`: how workloads are named in tables, logs and `--only`. */
export function workloadLabel(w: Pick<Workload, 'name' | 'batch' | 'steps'>): string {
  return `${w.name} B=${w.batch} T=${w.steps}`;
}

/** The model of a workload, PyTorch default initialisation from `seed`. */
export function buildModel(w: Workload, seed = 1): RecurrentNet {
  const { cell, inputSize, hiddenSize, outputSize, numLayers } = w;
  return RecurrentNet.create(
    { cell, inputSize, hiddenSize, outputSize, numLayers, ...(cell === 'rnn' ? { nonlinearity: w.nonlinearity } : {}) },
    { seed },
  );
}

/** The workload's input `[B, T, I]`, uniform in [−1, 1). */
export function buildInput(w: Workload, seed = 2): Float32Array {
  return uniformArray(mulberry32(seed), w.batch * w.steps * w.inputSize, -1, 1);
}

/**
 * Host memory one forward pass holds at its peak, roughly: the input, each layer's float32 output
 * read back (twice while copied) and its float64 reference twin, and the head's output.
 */
export function hostBytes(w: Workload): number {
  return w.batch * w.steps * (4 * w.inputSize + 16 * w.hiddenSize * w.numLayers + 16 * w.outputSize);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
/** Lets a page repaint and a worker take messages between runs. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** One run: its output, its time by the clock the cell uses, and the harness's wall clock. */
interface Run {
  output: FloatArray;
  ms: number;
  wallMs: number;
  timing: Timing;
  /** The contender's GPU time of the run, when it reports one (PreparedRun.gpuTime). */
  gpu: { ms: number; method: 'timestamp' | 'wall' } | null;
}

/** Runs once, with the contender's own timing when it reports one. */
async function runOnce(prepared: PreparedRun): Promise<Run> {
  const t0 = performance.now();
  if (prepared.timedRun) {
    const { output, ms } = await prepared.timedRun();
    return { output, ms, wallMs: performance.now() - t0, timing: 'in-process', gpu: prepared.gpuTime?.() ?? null };
  }
  const output = await prepared.run();
  const wallMs = performance.now() - t0;
  return { output, ms: wallMs, wallMs, timing: 'wall', gpu: prepared.gpuTime?.() ?? null };
}

/** What a workload's outputs are checked against. */
interface Expected {
  /** The reference output: of the whole batch, or of its first `sequences` sequences. */
  reference: FloatArray;
  sequences: number;
  /** webrnn's full output once validated, when the reference covers only a prefix. */
  baseline: FloatArray | null;
}

/** The outcome of validation: the error, what it was measured against, or why it failed. */
interface Validation {
  ok: boolean;
  maxAbsError: number;
  against: string;
  message: string | null;
}

function validate(
  out: FloatArray,
  w: Workload,
  expected: Expected,
  referenceName: string,
  isBaseline: boolean,
  baselineName: string,
  tolerance: Tolerance = FLOAT32_TOLERANCE,
): Validation {
  const perSequence = w.steps * w.outputSize;
  if (out.length !== w.batch * perSequence) {
    return {
      ok: false,
      maxAbsError: Infinity,
      against: referenceName,
      message: `output has ${out.length} values, expected ${w.batch * perSequence}`,
    };
  }
  const full = expected.sequences === w.batch;
  const shape = [expected.sequences, w.steps, w.outputSize];
  const ref = compare(full ? out : out.subarray(0, expected.sequences * perSequence), expected.reference, tolerance, shape);
  const within = tolerance === FLOAT32_TOLERANCE ? '' : ` (within atol ${tolerance.atol}, rtol ${tolerance.rtol})`;
  const against =
    (full ? referenceName : `${referenceName} on ${expected.sequences} of ${w.batch.toLocaleString('en-US')} sequences`) + within;
  if (!ref.ok || full)
    return { ok: ref.ok, maxAbsError: ref.maxAbsError, against, message: ref.ok ? null : `vs ${against}: ${ref.message}` };
  if (isBaseline)
    return { ok: true, maxAbsError: ref.maxAbsError, against: `${against} (reference too slow for the whole batch)`, message: null };
  if (!expected.baseline)
    return { ok: true, maxAbsError: ref.maxAbsError, against: `${against} only (no valid ${baselineName} output)`, message: null };
  const base = compare(out, expected.baseline, tolerance, [w.batch, w.steps, w.outputSize]);
  const both = `${against}; ${baselineName} on all`;
  return {
    ok: base.ok,
    maxAbsError: Math.max(ref.maxAbsError, base.maxAbsError),
    against: both,
    message: base.ok ? null : `vs ${baselineName}: ${base.message}`,
  };
}

/** Runs every workload on every contender; see the module comment. */
export async function runHarness(opts: HarnessOptions): Promise<BenchRecord[]> {
  const run = new HarnessRun(opts);
  for (const w of opts.workloads) await run.workload(w);
  return run.records;
}

/** Batch sizes a peer is probed on before its first full run of a model (see `estimate`), below B. */
export function probeSizes(batch: number): number[] {
  return [8, 64, Math.floor(batch / 4)].filter((n, i, all) => n < batch && (i === 0 || n > all[i - 1]!));
}

/** Probing gives up once its estimate is this many run limits over. */
const HOPELESS = 8;

/** A measured run: its FLOPs and milliseconds. */
type Point = [flops: number, ms: number];

/**
 * Milliseconds a run of `flops` should take, from runs of the same contender and model: below the
 * largest measured run, in proportion to the nearest one above; beyond it, along the line through
 * the two largest (a cost per call plus a cost per FLOP, which is how GPU libraries behave: a flat
 * start, then linear), or in proportion when there is one.
 */
export function extrapolate(points: readonly Point[], flops: number): number {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  const above = sorted.find(([f]) => f >= flops);
  if (above) return (above[1] * flops) / above[0];
  const [f2, t2] = sorted.at(-1)!;
  const below = sorted.at(-2);
  const slope = below && f2 > below[0] ? Math.max(0, t2 - below[1]) / (f2 - below[0]) : t2 / f2;
  return t2 + slope * (flops - f2);
}

/** One workload's model, input and expected outputs, and the baseline's time once measured. */
interface WorkloadRun {
  w: Workload;
  label: string;
  model: RecurrentNet;
  x: Float32Array;
  reference: ReferenceRun;
  expected: Expected;
  baselineMs: number | null;
}

/**
 * A harness's contenders in run order, the baseline first (its results are the ratios' base, and in
 * the forward benchmark its output validates the others beyond the reference), each one's
 * `available()` asked once and remembered (a rejection counts as its message).
 */
export class ContenderLineup<C extends { readonly name: string; available(): Promise<true | string> }> {
  readonly ordered: readonly C[];
  private readonly answers = new Map<C, true | string>();

  constructor(
    contenders: readonly C[],
    readonly baselineName: string,
  ) {
    const isBaseline = (c: C) => Number(c.name === baselineName);
    this.ordered = [...contenders].sort((a, b) => isBaseline(b) - isBaseline(a));
  }

  async available(c: C): Promise<true | string> {
    if (!this.answers.has(c)) this.answers.set(c, await c.available().catch((e: Error) => e.message));
    return this.answers.get(c)!;
  }
}

/** The state of one {@link runHarness} call. */
class HarnessRun {
  readonly records: BenchRecord[] = [];
  private readonly budget: Budget;
  private readonly baselineName: string;
  private readonly log: (line: string) => void;
  private readonly lineup: ContenderLineup<Contender>;
  /** Times measured for each contender and model (full runs and probes): estimate the next run. */
  private readonly seen = new Map<string, Point[]>();

  constructor(private readonly opts: HarnessOptions) {
    this.budget = { ...DEFAULT_BUDGET, ...opts.budget };
    this.baselineName = opts.baseline ?? WEBRNN;
    this.log = opts.log ?? (() => {});
    this.lineup = new ContenderLineup(opts.contenders, this.baselineName);
    for (const r of opts.earlier ?? []) {
      if (r.status === 'ok') this.note({ name: r.contender }, { name: r.workload }, [r.flops, r.medianMs!]);
    }
  }

  private emit(wr: Pick<WorkloadRun, 'w'>, c: Contender, status: Status, fields: Partial<BenchRecord> = {}): BenchRecord {
    const r: BenchRecord = { ...recordBase(wr.w, this.opts.adapter), contender: c.name, settings: settingsOf(c), status, ...fields };
    this.records.push(r);
    this.opts.onRecord?.(r);
    return r;
  }

  async workload(w: Workload): Promise<void> {
    const label = workloadLabel(w);
    if (hostBytes(w) > this.budget.hostBytes) {
      const why = `needs about ${(hostBytes(w) / 2 ** 30).toFixed(1)} GiB of host memory (limit ${(this.budget.hostBytes / 2 ** 30).toFixed(1)} GiB)`;
      this.log(`${label}: skipped, ${why}`);
      for (const c of this.lineup.ordered) this.emit({ w }, c, `unavailable: ${why}`);
      return;
    }
    const model = buildModel(w, this.opts.seed);
    const x = buildInput(w, this.opts.seed === undefined ? undefined : this.opts.seed + 1);
    const known = this.seen.get(`${this.opts.reference.name}:${w.name}`) ?? [];
    const reference = await computeReference(this.opts.reference, w, model, x, this.budget, known, this.log);
    for (const point of reference.points) this.note(this.opts.reference, w, point);
    const expected: Expected = { reference: reference.output, sequences: reference.sequences, baseline: null };
    const wr: WorkloadRun = { w, label, model, x, reference, expected, baselineMs: null };
    for (const c of this.lineup.ordered) await this.cell(wr, c);
  }

  private async cell(wr: WorkloadRun, c: Contender): Promise<void> {
    const { w, label } = wr;
    const available = await this.lineup.available(c);
    if (available !== true) {
      this.emit(wr, c, `unavailable: ${available}`);
      return;
    }
    const estimate = await this.estimate(wr, c);
    if (typeof estimate !== 'number' && estimate !== null) {
      this.log(`${label} ${c.name}: FAILED ${estimate.message}`);
      this.emit(wr, c, 'failed', { message: estimate.message, maxAbsError: estimate.maxAbsError, validatedAgainst: estimate.against });
      return;
    }
    if (estimate !== null && estimate > this.budget.runLimitMs) {
      const why = `a run would take about ${seconds(estimate)} here (limit ${seconds(this.budget.runLimitMs)})`;
      this.log(`${label} ${c.name}: skipped, ${why}`);
      this.emit(wr, c, `unavailable: ${why}`);
      return;
    }
    // The reference's own full run already produced (and warmed) the expected output.
    const reuse = c === this.opts.reference && wr.reference.sequences === w.batch ? wr.reference : null;
    const isBaseline = c.name === this.baselineName;
    this.log(`${label} ${c.name}: ${reuse ? 'is the reference' : 'validating'}…`);
    // A peer's estimate can be far off (libraries that compile per shape): its validating run is the
    // last guard. The baseline's first run of a shape compiles pipelines, and is measured anyway.
    const limitMs = isBaseline ? Infinity : this.budget.runLimitMs;
    const cell = await measure(
      c,
      w,
      wr.model,
      wr.x,
      this.budget,
      reuse,
      (out) => {
        const v = validate(out, w, wr.expected, this.opts.reference.name, isBaseline, this.baselineName, c.tolerance);
        if (v.ok && isBaseline) wr.expected.baseline = out;
        return v;
      },
      limitMs,
    );
    if (cell.status === 'over') {
      this.note(c, w, [forwardFlops(w), cell.firstMs!]);
      const why = `its validated run took ${seconds(cell.firstMs!)} (limit ${seconds(limitMs)}); no more were made`;
      this.log(`${label} ${c.name}: ${why}`);
      this.emit(wr, c, `unavailable: ${why}`, { maxAbsError: cell.validation!.maxAbsError, validatedAgainst: cell.validation!.against });
      return;
    }
    if (cell.status !== 'ok') {
      this.log(`${label} ${c.name}: FAILED ${cell.message}`);
      this.emit(wr, c, 'failed', {
        message: cell.message,
        maxAbsError: cell.validation?.maxAbsError ?? null,
        validatedAgainst: cell.validation?.against ?? null,
      });
      return;
    }
    const ms = median(cell.runsMs);
    const wallMs = median(cell.wallMs);
    const flops = forwardFlops(w);
    // Estimates keep the run within budget: they go by what a run costs the harness.
    this.note(c, w, [flops, wallMs]);
    if (isBaseline) wr.baselineMs = ms;
    const gflops = flops / (ms * 1e6);
    const gbps = forwardBytes(w) / (ms * 1e6);
    const ceilings = this.opts.ceilings;
    this.emit(wr, c, 'ok', {
      medianMs: ms,
      runsMs: cell.runsMs,
      timing: cell.timing,
      wallMedianMs: wallMs,
      gpuMedianMs: cell.gpuMs.length ? median(cell.gpuMs) : null,
      gpuTiming: cell.gpuMethod,
      sequencesPerSecond: (w.batch / ms) * 1000,
      gflops,
      gbps,
      maxAbsError: cell.validation!.maxAbsError,
      validatedAgainst: cell.validation!.against,
      ratioToWebrnn: wr.baselineMs === null ? null : ms / wr.baselineMs,
      ceilingShare:
        isBaseline && ceilings
          ? { matmul: gflops / ceilings.matmulGflops, copy: w.hiddenSize <= 4 ? gbps / ceilings.copyGBs : null }
          : null,
    });
    const gpu = cell.gpuMs.length
      ? ` (GPU ${median(cell.gpuMs).toFixed(2)} ms by ${cell.gpuMethod === 'timestamp' ? 'timestamps' : 'submit-to-done'})`
      : '';
    const clock = cell.timing === 'in-process' ? ` (in-process; ${wallMs.toFixed(2)} ms wall)${gpu}` : gpu;
    this.log(`${label} ${c.name}: ${ms.toFixed(2)} ms median of ${cell.runsMs.length}${clock}`);
  }

  private note(c: Pick<Contender, 'name'>, w: Pick<Workload, 'name'>, point: Point): void {
    const key = `${c.name}:${w.name}`;
    this.seen.set(key, [...(this.seen.get(key) ?? []), point]);
  }

  /**
   * Milliseconds one full run of `c` should take, from its times on the same model (see
   * {@link extrapolate}). A peer that has not run the model at least twice or on as many FLOPs is
   * first probed on the first 8, 64 and B/4 sequences, each validated (a failed probe is returned);
   * probing stops as soon as a probe alone passes the run limit or the estimate passes it
   * {@link HOPELESS} times over. Null when nothing tells: the baseline's first run of a model, or a
   * batch no larger than a probe.
   */
  private async estimate(wr: WorkloadRun, c: Contender): Promise<number | Validation | null> {
    const { w } = wr;
    const flops = forwardFlops(w);
    const key = `${c.name}:${w.name}`;
    const known = this.seen.get(key) ?? [];
    const isBaseline = c.name === this.baselineName;
    // One smaller run says nothing of a per-call cost: a peer is probed then.
    if (known.length >= 2 || known.some(([f]) => f >= flops) || (isBaseline && known.length)) return extrapolate(known, flops);
    const sizes = probeSizes(w.batch);
    if (isBaseline || sizes.length === 0) return known.length ? extrapolate(known, flops) : null;
    this.log(`${wr.label} ${c.name}: probing on ${sizes.join(', ')} sequences…`);
    let estimate = 0;
    for (const n of sizes) {
      const ms = await this.probe(wr, c, n);
      if (typeof ms !== 'number') return ms;
      this.note(c, w, [forwardFlops({ ...w, batch: n }), ms]);
      estimate = extrapolate(this.seen.get(key)!, flops);
      if (ms > this.budget.runLimitMs || estimate > HOPELESS * this.budget.runLimitMs) break;
    }
    return estimate;
  }

  /** Time of `c` on the first `n` sequences, whose output is checked against the reference. */
  private async probe(wr: WorkloadRun, c: Contender, n: number): Promise<number | Validation> {
    const { w, expected } = wr;
    try {
      const [out, ms] = await runPrefix(c, w, wr.model, wr.x, n, 2);
      const k = Math.min(n, expected.sequences);
      const size = k * w.steps * w.outputSize;
      const first: Expected = { reference: expected.reference.subarray(0, size), sequences: k, baseline: null };
      const v = validate(out.subarray(0, size), { ...w, batch: k }, first, this.opts.reference.name, false, this.baselineName, c.tolerance);
      return v.ok ? ms : { ...v, against: `${this.opts.reference.name} on ${k} of ${w.batch.toLocaleString('en-US')} sequences (a probe)` };
    } catch (e) {
      return { ok: false, maxAbsError: Infinity, against: this.opts.reference.name, message: `threw: ${(e as Error).message}` };
    }
  }
}

/** A peer's `settings()` (bench/peers/peer.ts), copied so later runs cannot change the record. */
function settingsOf(c: Contender): BenchRecord['settings'] {
  const settings = (c as { settings?: () => BenchRecord['settings'] }).settings;
  return typeof settings === 'function' ? { ...settings.call(c) } : null;
}

function recordBase(w: Workload, adapter: AdapterSummary | null): BenchRecord {
  const { name, nonlinearity, ...parameters } = w;
  return {
    workload: name,
    ...parameters,
    nonlinearity: w.cell === 'rnn' ? (nonlinearity ?? 'tanh') : null,
    flops: forwardFlops(w),
    bytes: forwardBytes(w),
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
    sequencesPerSecond: null,
    gflops: null,
    gbps: null,
    maxAbsError: null,
    validatedAgainst: null,
    ratioToWebrnn: null,
    ceilingShare: null,
  };
}

interface ReferenceRun {
  output: FloatArray;
  /** How many leading sequences `output` covers. */
  sequences: number;
  /** Time of the whole-batch run, when there was one. */
  ms: number | null;
  /** The reference's measured times (first sequences, and the whole batch when it ran). */
  points: Point[];
}

/**
 * Runs `c` on the first `n` sequences of the workload (all of them when n = B), `times` times when
 * the first run is quick (under a second); resolves to the last output and its wall time (what
 * budgets go by).
 */
async function runPrefix(
  c: Contender,
  w: Workload,
  model: RecurrentNet,
  x: Float32Array,
  n: number,
  times = 1,
): Promise<[FloatArray, number]> {
  const part: Workload = { ...w, batch: n };
  const prepared = await c.prepare(part, model, x.subarray(0, n * w.steps * w.inputSize));
  try {
    let result = await runOnce(prepared);
    for (let i = 1; i < times && result.wallMs < 1_000; i++) result = await runOnce(prepared);
    return [result.output, result.wallMs];
  } finally {
    await prepared.dispose();
  }
}

/**
 * The expected output: the reference on the first few sequences (twice when quick: the second run,
 * warm, measures its speed), then on the whole batch when that fits {@link Budget.referenceMs}.
 */
async function computeReference(
  reference: Contender,
  w: Workload,
  model: RecurrentNet,
  x: Float32Array,
  budget: Budget,
  known: readonly Point[],
  log: (line: string) => void,
): Promise<ReferenceRun> {
  const label = workloadLabel(w);
  const n = Math.min(w.batch, REFERENCE_PREFIX);
  const [prefix, prefixMs] = await runPrefix(reference, w, model, x, n, 2);
  const points: Point[] = [[forwardFlops({ ...w, batch: n }), prefixMs]];
  if (n === w.batch) return { output: prefix, sequences: n, ms: prefixMs, points };
  const estimate = extrapolate([...known, ...points], forwardFlops(w));
  if (estimate > budget.referenceMs) {
    log(`${label}: the reference would take about ${seconds(estimate)}; it covers the first ${n} sequences, webrnn's output the rest`);
    return { output: prefix, sequences: n, ms: null, points };
  }
  log(`${label}: reference (about ${seconds(estimate)})…`);
  const [output, ms] = await runPrefix(reference, w, model, x, w.batch);
  return { output, sequences: w.batch, ms, points: [...points, [forwardFlops(w), ms]] };
}

interface Cell {
  /** `over`: the validating run alone took longer than the limit, so no more were made. */
  status: 'ok' | 'failed' | 'over';
  message: string | null;
  validation: Validation | null;
  /** Timed runs by the cell's clock (`timing`), and by the harness's. */
  runsMs: number[];
  wallMs: number[];
  timing: Timing;
  /** The GPU times of the timed runs, when the contender reports them. */
  gpuMs: number[];
  gpuMethod: 'timestamp' | 'wall' | null;
  /** The validating run's time (a first run: warm-up included), when it failed or was over. */
  firstMs: number | null;
}

/** prepare, one validated run (skipped when `reuse` is the reference's own run), warm-up, timed runs. */
async function measure(
  c: Contender,
  w: Workload,
  model: RecurrentNet,
  x: Float32Array,
  budget: Budget,
  reuse: ReferenceRun | null,
  check: (out: FloatArray) => Validation,
  limitMs: number,
): Promise<Cell> {
  let prepared: PreparedRun | null = null;
  let validation: Validation | null = null;
  const failed = (message: string | null, firstMs: number | null, status: Cell['status'] = 'failed'): Cell => ({
    status,
    message,
    validation,
    runsMs: [],
    wallMs: [],
    timing: prepared?.timedRun ? 'in-process' : 'wall',
    gpuMs: [],
    gpuMethod: null,
    firstMs,
  });
  try {
    prepared = await c.prepare(w, model, x);
    const p = prepared;
    // Budgets (warm-up, cell time, the run limit) go by the harness's wall clock.
    let warmMs: number;
    if (reuse) {
      validation = { ok: true, maxAbsError: 0, against: `${c.name} (itself)`, message: null };
      warmMs = reuse.ms!;
    } else {
      const first = await runOnce(p);
      validation = check(first.output);
      if (!validation.ok) return failed(validation.message, first.wallMs);
      if (first.wallMs > limitMs) return failed(null, first.wallMs, 'over');
      warmMs = first.wallMs;
    }
    for (let i = 1; warmMs < budget.warmupMs && i < budget.maxRuns; i++) {
      await yieldToEventLoop();
      warmMs += (await runOnce(p)).wallMs;
    }
    const runsMs: number[] = [];
    const wallMs: number[] = [];
    const gpuMs: number[] = [];
    let gpuMethod: Cell['gpuMethod'] = null;
    let timing: Timing = 'wall';
    let spent = 0;
    while (runsMs.length < budget.minRuns || (runsMs.length < budget.maxRuns && spent < budget.cellMs)) {
      await yieldToEventLoop();
      const run = await runOnce(p);
      runsMs.push(run.ms);
      wallMs.push(run.wallMs);
      if (run.gpu) {
        gpuMs.push(run.gpu.ms);
        gpuMethod = run.gpu.method;
      }
      timing = run.timing;
      spent += run.wallMs;
    }
    return { status: 'ok', message: null, validation, runsMs, wallMs, timing, gpuMs, gpuMethod, firstMs: null };
  } catch (e) {
    return failed(`threw: ${(e as Error).message}`, null);
  } finally {
    await prepared?.dispose();
  }
}

/** Cells of the summary table: a header, then one row per record. Shared by the CLI and the page. */
export function tableRows(records: BenchRecord[]): string[][] {
  const header = ['workload', 'contender', 'median ms', 'GPU ms', 'seq/s', 'GFLOP/s', 'max err', '× webrnn', 'timing'];
  const fixed = (v: number | null, digits: number) => (v === null ? '' : v.toFixed(digits));
  const ms = (v: number) => v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0);
  const rows = records.map((r) => {
    const cells = [`${r.workload} ${r.batch}×${r.steps}`, r.contender];
    if (r.status !== 'ok') {
      const why = r.status === 'failed' ? `failed: ${r.message ?? ''}` : r.status;
      return [...cells, why.length > 90 ? `${why.slice(0, 89)}…` : why, '', '', '', '', '', ''];
    }
    return [
      ...cells,
      ms(r.medianMs!),
      r.gpuMedianMs === null ? '' : `${ms(r.gpuMedianMs)}${r.gpuTiming === 'timestamp' ? '' : '*'}`,
      Math.round(r.sequencesPerSecond!).toLocaleString('en-US'),
      r.gflops! >= 1 ? r.gflops!.toFixed(1) : r.gflops! >= 0.001 ? r.gflops!.toFixed(3) : r.gflops!.toExponential(1),
      r.maxAbsError!.toExponential(1),
      fixed(r.ratioToWebrnn, 2),
      r.timing ?? '',
    ];
  });
  return [header, ...rows];
}

/**
 * Rows of {@link tableRows} (or the training table) as aligned lines: names left, numbers right; a
 * row that did not run (nothing after its third cell) prints its status after the names.
 */
export function formatTable(rows: string[][]): string[] {
  const unrun = (r: string[]) => r.slice(3).every((c) => c === '');
  const measured = rows.filter((r) => !unrun(r));
  const widths = rows[0]!.map((_, i) => Math.max(...(i < 2 ? rows : measured).map((r) => r[i]!.length)));
  const pad = (c: string, i: number) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!));
  return rows.map((r) => (unrun(r) ? [pad(r[0]!, 0), pad(r[1]!, 1), r[2]!] : r.map(pad)).join('  '));
}
