import type { BackendTuning } from '../backends/webgpu-options.ts';
import { ConfigError } from '../errors.ts';
import { ENGINE_LIMITS, type GpuContext } from '../gpu/device.ts';
import { ProgramExecutor } from '../gpu/executor.ts';
import { planF16Layer } from '../gpu/kernels/forward/f16-storage.ts';
import {
  adapterTraits,
  forwardCandidates,
  planCandidate,
  planLayer,
  type ForwardKernelName,
  type KernelTraits,
  type LayerPlanContext,
  type RecurrentLayerPlan,
} from '../gpu/kernels/forward/plan.ts';
import { subgroupSizes } from '../gpu/kernels/forward/recurrent-subgroup.ts';
import type { GradProgramContext } from '../gpu/programs/gradients.ts';
import { stepsPerDispatch } from '../gpu/programs/segments.ts';
import type { ForwardContext } from '../gpu/programs/stack.ts';
import type { RecurrentLayerSpec } from '../rnn/spec.ts';
import { defaultBackendTuneStore, defaultTuneMode } from './defaults.ts';
import { ForwardTuner, shapeClass, timingProgram, type TuneResolution } from './forward.ts';

/** A layer as the choice sees it besides its spec: a head after it (its outputs), per-series models. */
export interface LayerShape {
  headOutputs?: number;
  models?: number;
}

/**
 * How a WebGPU backend chooses the forward recurrent kernel of each layer it runs, one per backend:
 * the forced kernel or variant (`recurrentKernel`), the tiled kernel for f16 storage, else per
 * shape class the autotuner's resolution (src/tune/forward.ts: this backend's memory, the store, or
 * timing the candidates) or the cost model's pick (src/gpu/kernels/forward/plan.ts). The backend
 * plans each call's programs with {@link ForwardKernelChoice.forCall} and delegates its
 * `recurrentKernelFor`, `forwardCandidates`, `tuneLayer` and `tuneReport` here.
 */
export class ForwardKernelChoice {
  /** What the adapter is like for the choice of recurrent kernel. */
  private readonly traits: KernelTraits;
  /** The forward context without a call's resolved choices (what the layers plan with when nothing is tuned). */
  private readonly forward: ForwardContext;
  /** The autotuner of the forward kernel (null when the kernel is forced). */
  private readonly tuner: ForwardTuner | null;

  /** `executor`: the backend's (its binding limit, whether it is still usable). */
  constructor(
    private readonly gpu: GpuContext,
    private readonly executor: ProgramExecutor,
    private readonly options: BackendTuning,
  ) {
    const tile = options.tileInvocations;
    this.traits = {
      ...adapterTraits(gpu.summary),
      maxBindingBytes: executor.bindingLimit,
      ...(tile ? { tileInvocations: tile } : {}),
      ...(gpu.features.includes('subgroups') ? { subgroups: subgroupSizes(gpu.adapter.info) } : {}),
    };
    this.forward = {
      plan: (spec, batch, headOutputs = 0, models = 1) => this.layerPlan(spec, batch, headOutputs, models),
      maxSteps: (spec, batch) => stepsPerDispatch(spec, batch, options.maxStepsPerDispatch),
      maxGrid: gpu.device.limits.maxComputeWorkgroupsPerDimension,
      storage: options.storage ?? 'f32',
    };
    // Nothing to choose where the kernel is forced, or where f16 storage runs its one kernel.
    const forced = options.recurrentKernel !== undefined && options.recurrentKernel !== 'auto';
    this.tuner = forced || options.storage === 'f16' ? null : this.createTuner();
  }

  private createTuner(): ForwardTuner {
    const { tune, tuneBudgetMs, tuneStore, tuneHooks } = this.options;
    const { vendor, architecture, device, description } = this.gpu.summary;
    const limits: Record<string, number> = {};
    for (const name of ENGINE_LIMITS) limits[name] = this.gpu.device.limits[name];
    return new ForwardTuner(
      { adapter: { vendor, architecture, device, description }, limits, features: this.gpu.features },
      {
        mode: tune ?? defaultTuneMode(),
        store: tuneStore ?? defaultBackendTuneStore(),
        ...(tuneBudgetMs !== undefined ? { budgetMs: tuneBudgetMs } : {}),
        ...(tuneHooks?.now ? { now: tuneHooks.now } : {}),
        ...(tuneHooks?.time ? { time: tuneHooks.time } : {}),
      },
    );
  }

  /** The kernel a layer of `spec` over `batch` sequences of one model runs on (WebGPUBackend.recurrentKernelFor). */
  kernelFor(spec: RecurrentLayerSpec, batch: number): ForwardKernelName {
    return this.layerPlan(spec, batch).kernel;
  }

  /** The fitting variants in the cost model's order (WebGPUBackend.forwardCandidates). */
  candidates(
    spec: RecurrentLayerSpec,
    batch: number,
    shape: LayerShape = {},
  ): Array<{ name: string; kernel: ForwardKernelName; estimate: number }> {
    const ctx = this.planContext(spec, batch, shape.headOutputs ?? 0, shape.models ?? 1);
    return forwardCandidates(ctx).map((c) => ({ name: c.name, kernel: c.kernel.name, estimate: c.estimate }));
  }

  /** Resolves a layer's shape class as a call would (WebGPUBackend.tuneLayer). */
  async tune(spec: RecurrentLayerSpec, batch: number, shape: LayerShape = {}): Promise<TuneResolution> {
    this.executor.checkUsable();
    if (!this.tuner)
      throw new ConfigError(
        this.options.storage === 'f16'
          ? 'this backend stores f16, which runs on the tiled kernel only: there is nothing to tune'
          : `this backend runs the ${this.options.recurrentKernel} kernel (forced): there is nothing to tune`,
      );
    const ctx = this.planContext(spec, batch, shape.headOutputs ?? 0, shape.models ?? 1);
    // An executor of its own times the runs (its pool is freed after): created only when something is timed.
    const timing: { executor: ProgramExecutor | null } = { executor: null };
    try {
      return await this.tuner.resolve(ctx, (timed, plan) =>
        this.timeLayer((timing.executor ??= new ProgramExecutor(this.gpu.device, { timing: true })), timed, plan),
      );
    } finally {
      timing.executor?.dispose();
    }
  }

  /** Every shape class resolved so far, in order (WebGPUBackend.tuneReport). */
  report(): TuneResolution[] {
    return this.tuner?.report() ?? [];
  }

  /**
   * The forward context of one call over `batch` sequences of the layers of `stack` (`models`
   * per-series models; a head after the last layer): every layer's shape class resolved first
   * (tuned when this backend tunes and nothing is known yet), then planned with that choice for
   * every batch chunk.
   */
  async forCall(
    stack: { layers: readonly { spec: RecurrentLayerSpec }[]; head?: { outputSize: number } | null },
    batch: number,
    models = 1,
  ): Promise<ForwardContext> {
    if (!this.tuner) return this.forward;
    const L = stack.layers.length;
    const choices = new Map<string, string>();
    for (const [k, { spec }] of stack.layers.entries()) {
      const shape = { headOutputs: k === L - 1 ? (stack.head?.outputSize ?? 0) : 0, models };
      const ctx = this.planContext(spec, batch, shape.headOutputs, models);
      const known = this.tuner.lookup(ctx) ?? (await this.tune(spec, batch, shape));
      choices.set(shapeClass(ctx), known.choice);
    }
    return { ...this.forward, plan: (spec, n, headOutputs = 0, m = 1) => this.layerPlan(spec, n, headOutputs, m, choices) };
  }

  /** What src/gpu/programs/gradients.ts plans a training program's kernels from (WebGPUBackend.gradProgramContext). */
  gradContext(): GradProgramContext {
    return {
      limits: this.gpu.device.limits,
      maxBindingBytes: this.executor.bindingLimit,
      kernel: this.options.recurrentKernel ?? 'auto',
      stepsPerDispatch: this.forward.maxSteps,
    };
  }

  /** One timing run of `plan` (src/tune/forward.ts timingProgram), by the backend's GPU timer. */
  private async timeLayer(timing: ProgramExecutor, ctx: LayerPlanContext, plan: RecurrentLayerPlan): Promise<number> {
    const program = timingProgram(ctx, plan, { maxSteps: this.forward.maxSteps, maxGrid: this.forward.maxGrid });
    timing.lastTiming = null;
    await timing.runProgram(program);
    return timing.lastTiming!.ms;
  }

  private planContext(spec: RecurrentLayerSpec, batch: number, headOutputs: number, models: number): LayerPlanContext {
    return { spec, batch, limits: this.gpu.device.limits, headOutputs, models, traits: this.traits };
  }

  /**
   * The plan of a layer on this device: the forced kernel; else the call's choice for its shape
   * class (`choices`), or this backend's resolution for it, when that fits this batch; else the
   * cost model's pick.
   */
  private layerPlan(
    spec: RecurrentLayerSpec,
    batch: number,
    headOutputs = 0,
    models = 1,
    choices?: Map<string, string>,
  ): RecurrentLayerPlan {
    if (this.options.storage === 'f16') return planF16Layer(spec, batch, this.gpu.device.limits, models, this.traits);
    const ctx = this.planContext(spec, batch, headOutputs, models);
    if (!this.tuner) return planLayer(ctx, this.options.recurrentKernel);
    const name = choices?.get(shapeClass(ctx)) ?? this.tuner.lookup(ctx)?.choice;
    return (name !== undefined ? planCandidate(ctx, name) : null) ?? planLayer(ctx, 'auto');
  }
}
