import { packedFloats } from '../gpu/kernels/forward/recurrent-common.ts';
import {
  forwardCandidates,
  replanCandidate,
  type ForwardCandidate,
  type ForwardKernelName,
  type LayerPlanContext,
  type RecurrentLayerPlan,
} from '../gpu/kernels/forward/plan.ts';
import type { Kernel } from '../gpu/kernel.ts';
import type { Program } from '../gpu/program.ts';
import { layerProgram } from '../gpu/programs/layer.ts';
import { macsPerStep, stackProgram, type ForwardContext, type PackedModels } from '../gpu/programs/stack.ts';
import { numDirections } from '../rnn/spec.ts';
import { mulberry32, uniformArray } from '../util/rng.ts';
import { batchBucket, hashText, tuneKey, type TuneKeyParts } from './key.ts';
import { type ChoiceSource, Tuner, type TunerOptions } from './tuner.ts';

/**
 * The autotuner applied to the forward recurrent kernel. A layer's shape class (cell, H, I,
 * directions, layout, per-series models, the head after it, the batch bucket) is resolved once per
 * backend: from memory, else the store under a key that also names the adapter, the granted limits
 * and features and a hash of the candidate kernels' WGSL (src/tune/key.ts), else by timing the
 * candidates (src/gpu/kernels/forward/plan.ts forwardCandidates) as src/tune/tuner.ts does: each
 * runs the layer alone, forced, on seeded random data of the call's batch capped to
 * {@link TUNE_STEPS} steps and {@link TUNE_MAX_BYTES} / {@link TUNE_MAX_MACS}, timed by the
 * backend's GPU timer (timestamp queries where granted, else the wall time to the queue's
 * `onSubmittedWorkDone`). With mode `'off'` it is the cached choice or the cost model's.
 */

/** Steps one timing runs: the kernels loop over steps inside one dispatch, so a step's cost shows at 32. */
export const TUNE_STEPS = 32;
/** The largest buffer of a timing run (its output): the batch is capped to fit. */
export const TUNE_MAX_BYTES = 256 * 2 ** 20;
/** The multiply-adds of a timing run: the batch is capped so that a software adapter's run stays short. */
export const TUNE_MAX_MACS = 2 ** 31;

/** How the backend tuned one shape class: what `WebGPUBackend.tuneReport()` lists. */
export interface TuneResolution {
  /** The shape class, readable: `lstm H=32 I=1 D=1 layout=1 head=0 models=1 batch~4096`. */
  shape: string;
  /** The store's key (src/tune/key.ts). */
  key: string;
  /** The chosen candidate (`tile/128`) and its kernel. */
  choice: string;
  kernel: ForwardKernelName;
  /** `cache`: the store had it; `tuned`: timed now; `model`: the cost model's pick (mode off, or nothing timed). */
  source: ChoiceSource;
  /** Milliseconds per timed candidate: now (`tuned`), or when the cached choice was made (`cache`); empty for `model`. */
  timesMs: Record<string, number>;
  /** The candidates that fit, in the cost model's order, with its estimate. */
  candidates: { name: string; estimate: number }[];
  /** The batch and steps the candidates were timed on (the call's batch, capped). */
  timedBatch: number;
  timedSteps: number;
}

/** What the key is made of besides the shape: the device the choices are for. */
export interface TuneDevice {
  adapter: TuneKeyParts['adapter'];
  limits: Record<string, number>;
  features: readonly string[];
}

/** How a candidate is timed: `run` executes the timing program once and resolves to its milliseconds. */
export type CandidateTimer = (candidate: string, run: () => Promise<number>) => Promise<number>;

export interface ForwardTunerOptions extends TunerOptions {
  /** Replaces the timing (tests: a fake device's times; the run itself still happens). Default: `run()`. */
  time?: CandidateTimer;
}

/** The shape class of a layer call, without the batch. */
export function shapeClass(ctx: LayerPlanContext): string {
  const s = ctx.spec;
  const parts = [
    s.cell,
    `H=${s.hiddenSize}`,
    `I=${s.inputSize}`,
    `D=${numDirections(s)}${s.direction === 'reverse' ? 'r' : ''}`,
    `layout=${s.layout}`,
    `head=${ctx.headOutputs}`,
    `models=${ctx.models}`,
  ];
  if (s.linearBeforeReset) parts.push('lbr');
  if (ctx.traits.tileInvocations) parts.push(`tile=${ctx.traits.tileInvocations}`);
  return parts.join(' ');
}

/** The shape class with its batch bucket: one memo entry and one store key each. */
export function shapeWithBatch(ctx: LayerPlanContext): string {
  return `${shapeClass(ctx)} batch~${batchBucket(ctx.batch)}`;
}

/**
 * The batch a timing runs: the call's, capped so that its output stays within
 * {@link TUNE_MAX_BYTES} and its work within {@link TUNE_MAX_MACS}; per-series models keep whole
 * models (at least one).
 */
export function timingBatch(ctx: LayerPlanContext): { batch: number; models: number } {
  const s = ctx.spec;
  const width = Math.max(numDirections(s) * s.hiddenSize, s.inputSize, ctx.headOutputs);
  const cap = Math.max(
    1,
    Math.min(Math.floor(TUNE_MAX_BYTES / (4 * TUNE_STEPS * width)), Math.floor(TUNE_MAX_MACS / (TUNE_STEPS * macsPerStep(s)))),
  );
  if (ctx.models === 1) return { batch: Math.min(ctx.batch, cap), models: 1 };
  const per = ctx.batch / ctx.models;
  const models = Math.max(1, Math.min(ctx.models, Math.floor(cap / per)));
  return { batch: models * per, models };
}

/**
 * The program that times `plan` for the layer of `ctx` (already at the timing batch): the layer
 * alone on seeded random inputs and weights, with the head after it when it has one (the small
 * kernel may run the head inside), per-series models as many as `ctx.models`.
 */
export function timingProgram(ctx: LayerPlanContext, plan: RecurrentLayerPlan, forward: Omit<ForwardContext, 'plan'>): Program {
  const { spec, batch: n, models, headOutputs } = ctx;
  const random = (seed: number, count: number, scale: number) => uniformArray(mulberry32(seed), count, -scale, scale);
  const T = TUNE_STEPS;
  const X = random(1, n * T * spec.inputSize, 1);
  const scale = 1 / Math.sqrt(spec.hiddenSize);
  if (spec.layout === 0) {
    // A layer call (recurrentLayer): one model, no head.
    const inputs = { X, batch: n, steps: T, sequenceLens: null, initialH: null, initialC: null };
    return layerProgram(plan, spec, random(2, packedFloats(spec), scale), inputs, forward.maxSteps(spec, n));
  }
  const stride = packedFloats(spec);
  const headStride = headOutputs * (numDirections(spec) * spec.hiddenSize + 1);
  const weights: PackedModels = {
    count: models,
    layers: [{ data: random(2, models * stride, scale), stride }],
    head: headOutputs ? { data: random(3, models * headStride, scale), stride: headStride } : null,
  };
  const F = numDirections(spec) * spec.hiddenSize;
  const head = headOutputs ? { weight: weights.head!.data, bias: null, outputSize: headOutputs, inputSize: F } : null;
  // The stack's programs read only the layers' specs and the head's sizes: the weights are `weights`.
  const stack = { layers: [{ spec, weights: { W: new Float32Array(0), R: new Float32Array(0), B: null, P: null } }], head };
  const inputs = { X, batch: n, steps: T, sequenceLens: null, initialH: [null], initialC: [null] };
  return stackProgram({ ...forward, plan: () => plan }, stack, weights, inputs, 0, n);
}

/** Hashes of kernels' sources (hashing 20 kB of WGSL is not free; a kernel's source never changes). */
const sourceHashes = new WeakMap<Kernel, string>();

function sourceHash(kernel: Kernel): string {
  let hash = sourceHashes.get(kernel);
  if (hash === undefined) {
    hash = hashText(`${kernel.name}:${kernel.entryPoint}\n${kernel.code}`);
    sourceHashes.set(kernel, hash);
  }
  return hash;
}

/** Chooses the forward kernel per shape class with a {@link Tuner}; one per backend. */
export class ForwardTuner {
  readonly tuner: Tuner;
  private readonly time: CandidateTimer;
  /** Resolutions by shape class and batch bucket: finished, and in flight (so concurrent calls tune once). */
  private readonly done = new Map<string, TuneResolution>();
  private readonly pending = new Map<string, Promise<TuneResolution>>();
  private readonly order: string[] = [];

  constructor(
    private readonly device: TuneDevice,
    options: ForwardTunerOptions,
  ) {
    this.tuner = new Tuner(options);
    this.time = options.time ?? ((_, run) => run());
  }

  /** The resolution of `ctx`'s shape class and batch bucket, when this backend made one. */
  lookup(ctx: LayerPlanContext): TuneResolution | undefined {
    return this.done.get(shapeWithBatch(ctx));
  }

  /** Every resolution made, in the order they were first asked for. */
  report(): TuneResolution[] {
    return this.order.map((k) => this.done.get(k)).filter((r): r is TuneResolution => r !== undefined);
  }

  /** The store key of `ctx` with these candidates. */
  key(ctx: LayerPlanContext, candidates: readonly ForwardCandidate[]): string {
    // Each candidate kernel by name and the hash of each WGSL source it dispatches.
    const sources = [...new Set(candidates.map((c) => c.kernel))].map((k) => `${k.name}:${k.kernels.map(sourceHash).join(',')}`).sort();
    const s = ctx.spec;
    return tuneKey({
      ...this.device,
      sources,
      shape: {
        cell: s.cell,
        H: s.hiddenSize,
        I: s.inputSize,
        D: numDirections(s),
        direction: s.direction,
        layout: s.layout,
        lbr: s.linearBeforeReset ? 1 : 0,
        head: ctx.headOutputs,
        models: ctx.models,
        ...(ctx.traits.tileInvocations ? { tile: ctx.traits.tileInvocations } : {}),
      },
      batch: ctx.batch,
    });
  }

  /**
   * Resolves `ctx`'s shape class (once per backend; concurrent callers share the work). `run(c)` runs
   * the timing program of candidate `c` replanned at the timing batch (see {@link timingBatch}) and
   * resolves to its milliseconds.
   */
  resolve(ctx: LayerPlanContext, run: (timed: LayerPlanContext, plan: RecurrentLayerPlan) => Promise<number>): Promise<TuneResolution> {
    const id = shapeWithBatch(ctx);
    const done = this.done.get(id);
    if (done) return Promise.resolve(done);
    let p = this.pending.get(id);
    if (!p) {
      p = this.choose(ctx, id, run).finally(() => this.pending.delete(id));
      this.pending.set(id, p);
      this.order.push(id);
    }
    return p;
  }

  private async choose(
    ctx: LayerPlanContext,
    id: string,
    run: (timed: LayerPlanContext, plan: RecurrentLayerPlan) => Promise<number>,
  ): Promise<TuneResolution> {
    const candidates = forwardCandidates(ctx);
    const key = this.key(ctx, candidates);
    const timed = { ...ctx, ...timingBatch(ctx) };
    const choice = await this.tuner.choose(
      key,
      candidates.map((c) => ({ name: c.name, config: c, estimate: c.estimate, group: c.kernel.name })),
      async ({ config }) => {
        const plan = replanCandidate(config, timed);
        if (!plan) throw new Error(`${config.name} does not fit the timing batch`);
        return this.time(config.name, () => run(timed, plan));
      },
    );
    const resolution: TuneResolution = {
      shape: id,
      key,
      choice: choice.candidate.name,
      kernel: choice.candidate.config.kernel.name,
      source: choice.source,
      timesMs: choice.timesMs,
      candidates: candidates.map((c) => ({ name: c.name, estimate: c.estimate })),
      timedBatch: timed.batch,
      timedSteps: TUNE_STEPS,
    };
    this.done.set(id, resolution);
    return resolution;
  }
}
