import { acquireGpu, ENGINE_LIMITS, type GpuContext } from '../gpu/device.ts';
import { ProgramExecutor } from '../gpu/executor.ts';
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
import { elmanMacsPerStep, elmanPackedFloats, packElmanWeights } from '../gpu/kernels/forward/elman-forward.ts';
import { checkF16Call, planF16Layer } from '../gpu/kernels/forward/f16-storage.ts';
import { packedFloats, packLayerWeights } from '../gpu/kernels/forward/recurrent-common.ts';
import { subgroupSizes } from '../gpu/kernels/forward/recurrent-subgroup.ts';
import type { Program, RunOptions } from '../gpu/program.ts';
import { layerBackwardJob, runBackward, stackBackwardJob } from '../gpu/programs/backward.ts';
import { elmanProgram } from '../gpu/programs/elman.ts';
import { forecastProgram } from '../gpu/programs/forecast.ts';
import { gradFloatsPerSequence, type GradProgramContext } from '../gpu/programs/gradients.ts';
import { layerInputRows, layerProgram } from '../gpu/programs/layer.ts';
import { stepsPerDispatch } from '../gpu/programs/segments.ts';
import { modelUnit, packModels, stackProgram, stackWork, type ForwardContext } from '../gpu/programs/stack.ts';
import type { GpuTiming } from '../gpu/timer.ts';
import { BatchRows } from '../gpu/rows.ts';
import { checkTuning, type BackendTuning, type WebGPUBackendOptions } from './webgpu-options.ts';
import { defaultBackendTuneStore, defaultTuneMode } from '../tune/defaults.ts';
import { ForwardTuner, shapeClass, timingProgram, type TuneResolution } from '../tune/forward.ts';
import type { ResolvedElmanConfig } from '../model/config.ts';
import type { ForwardArgs, ForwardResult } from '../model/forward.ts';
import type { ElmanStateDict } from '../model/params.ts';
import type { ForecastInputs } from '../rnn/forecast.ts';
import {
  numDirections,
  type RecurrentLayerInputs,
  type RecurrentLayerOutputs,
  type RecurrentLayerSpec,
  type RecurrentLayerWeights,
} from '../rnn/spec.ts';
import type { RecurrentStack, RecurrentStackInputs, RecurrentStackOutputs, StackModels } from '../rnn/stack.ts';
import type { FloatArray } from '../tensor.ts';
import type { RecurrentLayerOutputGrads } from '../rnn/backward.ts';
import { batchLimits, type BatchLimits } from '../train/batching.ts';
import type { EngineSetup, TrainEngine } from '../train/engine.ts';
import { GpuTrainEngine } from '../train/gpu-engine.ts';
import { checkedOutputs as checked } from '../util/finite.ts';
import type { Backend, RecurrentLayerBackwardResult, RecurrentStackBackwardResult, RecurrentStackStateGrads } from './backend.ts';
import { ConfigError } from '../errors.ts';
import { checkForecastCall, checkLayerBackwardCall, checkLayerCall, checkStackBackwardCall, checkStackCall } from './validate.ts';

export type { BackendTuning, WebGPUBackendOptions } from './webgpu-options.ts';

/** A stack's layers as the kernel choice sees them: the head after the last, the models' count. */
function stackLayers(stack: RecurrentStack, models: number): { spec: RecurrentLayerSpec; headOutputs: number; models: number }[] {
  const L = stack.layers.length;
  return stack.layers.map(({ spec }, k) => ({ spec, headOutputs: k === L - 1 ? (stack.head?.outputSize ?? 0) : 0, models }));
}

const WEIGHTS_ADVICE = 'the model is too large for this device (run it on the CPU backend, or on a device with larger bindings)';

/**
 * Runs models on a WebGPU device: every step of every sequence in one dispatch per forward pass.
 * A thin layer over src/gpu: each call is validated (src/backends/validate.ts, shared with the CPU
 * backend), built as programs (src/gpu/programs/), run in batch chunks by the executor
 * (src/gpu/executor.ts), and its chunks' results scattered into place. Create with
 * {@link WebGPUBackend.create} (acquires a device) or {@link WebGPUBackend.fromContext}; `dispose()`
 * frees its buffers, and the device when the backend acquired it.
 */
export class WebGPUBackend implements Backend {
  readonly name = 'webgpu';
  /**
   * The executor of every program: pool, pipelines, limits.
   * @internal
   */
  readonly executor: ProgramExecutor;
  /** What the adapter is like for the choice of recurrent kernel. */
  private readonly traits: KernelTraits;
  private readonly forward: ForwardContext;
  /** The autotuner of the forward kernel (null when the kernel is forced). */
  private readonly tuner: ForwardTuner | null;
  private disposed = false;

  private constructor(
    readonly gpu: GpuContext,
    private readonly ownsDevice: boolean,
    private readonly options: BackendTuning,
  ) {
    this.executor = new ProgramExecutor(gpu.device, options);
    const tile = options.tileInvocations;
    this.traits = {
      ...adapterTraits(gpu.summary),
      maxBindingBytes: this.executor.bindingLimit,
      ...(tile ? { tileInvocations: tile } : {}),
      ...(gpu.features.includes('subgroups') ? { subgroups: subgroupSizes(gpu.adapter.info) } : {}),
    };
    this.forward = {
      plan: (spec, batch, headOutputs = 0, models = 1) => this.layerPlan(spec, batch, headOutputs, models),
      maxSteps: (spec, batch) => stepsPerDispatch(spec, batch, this.options.maxStepsPerDispatch),
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
    for (const name of ENGINE_LIMITS) limits[name] = this.device.limits[name];
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

  /** Acquires a device (hardware first, software fallback) and wraps it. */
  static async create(options: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
    checkTuning(options);
    return new WebGPUBackend(await acquireGpu(options), true, options);
  }

  /** Wraps a device the caller acquired; `dispose()` leaves that device alive. */
  static fromContext(gpu: GpuContext, options: BackendTuning = {}): WebGPUBackend {
    checkTuning(options);
    return new WebGPUBackend(gpu, false, options);
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  /**
   * Buffers this backend allocated; public so tests can check that nothing leaks.
   * @internal
   */
  get pool() {
    return this.executor.pool;
  }

  /**
   * With `timing`: the GPU time of the programs run since the caller last set this to null (a call
   * may run several, one per batch chunk: their times add up). Null until then.
   */
  get lastTiming(): GpuTiming | null {
    return this.executor.lastTiming;
  }

  set lastTiming(t: GpuTiming | null) {
    this.executor.lastTiming = t;
  }

  /** Whether the adapter runs shaders on the CPU (SwiftShader, lavapipe, WARP…: src/gpu/device.ts isSoftwareAdapter). */
  get software(): boolean {
    return this.gpu.summary.isSoftware;
  }

  /** ElmanRNN's own kernel (src/gpu/kernels/forward/elman-forward.ts says why it still has one). */
  async elmanForward(c: ResolvedElmanConfig, sd: ElmanStateDict, args: ForwardArgs): Promise<ForwardResult<Float32Array>> {
    this.executor.checkUsable();
    if (this.options.storage === 'f16')
      throw new ConfigError("storage 'f16' runs recurrentLayer and recurrentStack; ElmanRNN's own kernel reads f32");
    const { batch: B, steps: T, lastOnly } = args;
    // Sizes first: packing weights that could never be bound would only spend memory.
    this.executor.checkFits('the weights buffer', 4 * elmanPackedFloats(c), WEIGHTS_ADVICE);
    const weights = packElmanWeights(c, sd);
    const y = new BatchRows(B, lastOnly ? c.outputSize : T * c.outputSize, 'the output');
    const hn = new BatchRows(B, c.hiddenSize, 'hn', c.numLayers);
    const program = (b0: number, b1: number) => elmanProgram(c, weights, args, b0, b1, this.forward.maxGrid);
    // The kernel runs all T steps in one dispatch: a chunk's submission holds all of them.
    await this.executor.runChunked(B, 1, { steps: T, macsPerStep: elmanMacsPerStep(c) }, program, (out, b0, b1) => {
      y.put(out.y!, b0, b1);
      hn.put(out.hn!, b0, b1);
    });
    return checked('the Elman network', {
      output: { data: y.result, shape: lastOnly ? [B, c.outputSize] : [B, T, c.outputSize] },
      hn: { data: hn.result, shape: [c.numLayers, B, c.hiddenSize] },
    });
  }

  async recurrentLayer(
    spec: RecurrentLayerSpec,
    weights: RecurrentLayerWeights,
    inputs: RecurrentLayerInputs,
  ): Promise<RecurrentLayerOutputs<Float32Array>> {
    this.executor.checkUsable();
    checkLayerCall(spec, weights, inputs);
    if (this.options.storage === 'f16') checkF16Call([{ spec, weights }], false, inputs.X);
    this.executor.checkFits('the weights buffer', 4 * packedFloats(spec), WEIGHTS_ADVICE);
    const { batch: B, steps: T } = inputs;
    const D = numDirections(spec);
    const packed = packLayerWeights(spec, weights);
    // Layout 0 puts the batch in the middle ([T, B, I], [T, D, B, H], [D, B, H]); layout 1 first.
    const rows = (perStep: number, steps: number, what: string) =>
      spec.layout === 0 ? new BatchRows(B, perStep, what, steps) : new BatchRows(B, steps * perStep, what);
    const Y = rows(spec.hiddenSize, T * D, 'Y');
    const Yh = rows(spec.hiddenSize, D, 'Y_h');
    const Yc = spec.cell === 'lstm' ? rows(spec.hiddenSize, D, 'Y_c') : null;
    const forward = await this.forwardFor([{ spec }], B);
    const program = (b0: number, b1: number) =>
      layerProgram(forward.plan(spec, b1 - b0), spec, packed, layerInputRows(spec, inputs, b0, b1), this.forward.maxSteps(spec, b1 - b0));
    await this.executor.runChunked(B, 1, stackWork({ layers: [{ spec }] }, T), program, (out, b0, b1) => {
      Y.put(out.Y!, b0, b1);
      // Y_h then, for LSTM, Y_c, each [D, n, H] (layout 0) or [n, D, H] (layout 1).
      const final = out['Y_h|Y_c']!;
      const states = D * (b1 - b0) * spec.hiddenSize;
      Yh.put(final.subarray(0, states), b0, b1);
      Yc?.put(final.subarray(states), b0, b1);
    });
    return checked(`the ${spec.cell.toUpperCase()} layer`, { Y: Y.result, Y_h: Yh.result, Y_c: Yc?.result ?? null });
  }

  async recurrentStack(models: StackModels, inputs: RecurrentStackInputs): Promise<RecurrentStackOutputs<Float32Array>> {
    this.executor.checkUsable();
    const stacks = checkStackCall(models, inputs);
    const stack = stacks[0]!;
    this.checkStackWeights(stack);
    if (this.options.storage === 'f16') for (const s of stacks) checkF16Call(s.layers, s.head !== null, inputs.X);
    const { batch: B, steps: T } = inputs;
    const width = stack.layers.map(({ spec }) => numDirections(spec) * spec.hiddenSize);
    const lstm = stack.layers[0]!.spec.cell === 'lstm';
    const Y = new BatchRows(B, T * (stack.head ? stack.head.outputSize : width.at(-1)!), 'the output');
    const Yh = width.map((w, k) => new BatchRows(B, w, `Y_h of layer ${k}`));
    const Yc = lstm ? width.map((w, k) => new BatchRows(B, w, `Y_c of layer ${k}`)) : null;
    const weights = packModels(stacks);
    const forward = await this.forwardFor(stackLayers(stack, weights.count), B);
    const program = (b0: number, b1: number) => stackProgram(forward, stack, weights, inputs, b0, b1);
    await this.executor.runChunked(B, modelUnit(weights, B), stackWork(stack, T), program, (out, b0, b1) => {
      // The head's output, or the last layer's (no head, or the head fused into it): the one read back.
      Y.put(out.out ?? out[`y${stack.layers.length - 1}`]!, b0, b1);
      width.forEach((w, k) => {
        // Y_h then, for LSTM, Y_c, each [n, D, H].
        const final = out[`final${k}`]!;
        const count = (b1 - b0) * w;
        Yh[k]!.put(final.subarray(0, count), b0, b1);
        if (Yc) Yc[k]!.put(final.subarray(count, 2 * count), b0, b1);
      });
    });
    return checked('the stack', { Y: Y.result, Y_h: Yh.map((r) => r.result), Y_c: Yc?.map((r) => r.result) ?? null });
  }

  /** Recursive forecasting (src/rnn/forecast.ts): one program per batch chunk (src/gpu/programs/forecast.ts). */
  async recurrentForecast(models: StackModels, inputs: ForecastInputs): Promise<Float32Array> {
    this.executor.checkUsable();
    if (this.options.storage === 'f16') throw new ConfigError("storage 'f16' does not forecast (its head reads f32): use storage 'f32'");
    const stacks = checkForecastCall(models, inputs);
    const stack = stacks[0]!;
    this.checkStackWeights(stack);
    const { batch: B, steps: T, horizon: H } = inputs;
    const forecast = new BatchRows(B, H * stack.head!.outputSize, 'the forecast');
    const weights = packModels(stacks);
    const forward = await this.forwardFor(stackLayers(stack, weights.count), B);
    const program = (b0: number, b1: number) => forecastProgram(forward, stack, weights, inputs, b0, b1);
    await this.executor.runChunked(B, modelUnit(weights, B), stackWork(stack, T), program, (out, b0, b1) =>
      forecast.put(out.forecast!, b0, b1),
    );
    return checked('the forecast', forecast.result);
  }

  async recurrentLayerBackward(
    spec: RecurrentLayerSpec,
    weights: RecurrentLayerWeights,
    inputs: RecurrentLayerInputs,
    outGrads: RecurrentLayerOutputGrads,
  ): Promise<RecurrentLayerBackwardResult<Float32Array>> {
    this.executor.checkUsable();
    checkLayerBackwardCall(spec, weights, inputs, outGrads);
    const job = layerBackwardJob(spec, weights, inputs, outGrads);
    this.checkStackWeights(job);
    const { Y, Yh, Yc, layers } = await runBackward(this.executor, this.gradProgramContext(), job);
    return checked(`the ${spec.cell.toUpperCase()} layer's backward pass`, {
      outputs: { Y, Y_h: Yh[0]!, Y_c: Yc?.[0] ?? null },
      grads: layers[0]!,
    });
  }

  async recurrentStackBackward(
    stack: RecurrentStack,
    inputs: RecurrentStackInputs,
    dY: FloatArray,
    stateGrads: RecurrentStackStateGrads = {},
  ): Promise<RecurrentStackBackwardResult<Float32Array>> {
    this.executor.checkUsable();
    checkStackBackwardCall(stack, inputs, dY, stateGrads);
    this.checkStackWeights(stack);
    const { Y, Yh, Yc, layers, head } = await runBackward(
      this.executor,
      this.gradProgramContext(),
      stackBackwardJob(stack, inputs, dY, stateGrads),
    );
    return checked("the stack's backward pass", {
      outputs: { Y, Y_h: Yh, Y_c: Yc },
      grads: { layers, head },
      dX: layers[0]!.dX,
      dInitialH: layers.map((g) => g.dInitialH),
      dInitialC: layers.map((g) => g.dInitialC),
    });
  }

  /**
   * The kernel this backend runs an inference layer of `spec` on, for `batch` sequences of one model
   * (`'small'`, `'tile'`, `'sequential'` or `'lanes'`; src/gpu/kernels/forward/plan.ts says why):
   * the forced one, the choice this backend resolved for the shape class (see {@link tuneReport}),
   * else the cost model's. For benchmarks and for users who want to know; it does no GPU work.
   */
  recurrentKernelFor(spec: RecurrentLayerSpec, batch: number): ForwardKernelName {
    return this.layerPlan(spec, batch).kernel;
  }

  /**
   * The forward kernels and variants that can run a layer of `spec` over `batch` sequences on this
   * device, in the cost model's order: their names are what `recurrentKernel` forces (`'tile/256'`)
   * and what the tuner times and stores. It does no GPU work.
   */
  forwardCandidates(
    spec: RecurrentLayerSpec,
    batch: number,
    options: { headOutputs?: number; models?: number } = {},
  ): Array<{ name: string; kernel: ForwardKernelName; estimate: number }> {
    const ctx = this.planContext(spec, batch, options.headOutputs ?? 0, options.models ?? 1);
    return forwardCandidates(ctx).map((c) => ({ name: c.name, kernel: c.kernel.name, estimate: c.estimate }));
  }

  /**
   * Resolves the forward kernel for a layer of `spec` over `batch` sequences (`headOutputs`: a head
   * after it; `models`: per-series models) as a call would: from this backend's memory, the cache,
   * by timing the candidates (mode `'quick'` or `'full'`), or the cost model. What `webrnn tune`
   * runs ahead of time. Throws a ConfigError when this backend's kernel is forced.
   */
  async tuneLayer(
    spec: RecurrentLayerSpec,
    batch: number,
    options: { headOutputs?: number; models?: number } = {},
  ): Promise<TuneResolution> {
    this.executor.checkUsable();
    if (!this.tuner)
      throw new ConfigError(
        this.options.storage === 'f16'
          ? 'this backend stores f16, which runs on the tiled kernel only: there is nothing to tune'
          : `this backend runs the ${this.options.recurrentKernel} kernel (forced): there is nothing to tune`,
      );
    const ctx = this.planContext(spec, batch, options.headOutputs ?? 0, options.models ?? 1);
    // An executor of its own times the runs (its pool is freed after): created only when something is timed.
    const timing: { executor: ProgramExecutor | null } = { executor: null };
    try {
      return await this.tuner.resolve(ctx, (timed, plan) =>
        this.timeLayer((timing.executor ??= new ProgramExecutor(this.device, { timing: true })), timed, plan),
      );
    } finally {
      timing.executor?.dispose();
    }
  }

  /**
   * How this backend chose the forward kernel per shape class so far: the choice, whether it came
   * from the cache, from timing now or from the cost model, and the times measured.
   */
  tuneReport(): TuneResolution[] {
    return this.tuner?.report() ?? [];
  }

  /** One timing run of `plan` (src/tune/forward.ts timingProgram), by the backend's GPU timer. */
  private async timeLayer(timing: ProgramExecutor, ctx: LayerPlanContext, plan: RecurrentLayerPlan): Promise<number> {
    const program = timingProgram(ctx, plan, { maxSteps: this.forward.maxSteps, maxGrid: this.forward.maxGrid });
    timing.lastTiming = null;
    await timing.runProgram(program);
    return timing.lastTiming!.ms;
  }

  /**
   * The forward context of one call over `batch` sequences: every layer's shape class resolved
   * first (tuned when this backend tunes and nothing is known yet), then planned with that choice
   * for every batch chunk.
   */
  private async forwardFor(
    layers: readonly { spec: RecurrentLayerSpec; headOutputs?: number; models?: number }[],
    batch: number,
  ): Promise<ForwardContext> {
    if (!this.tuner) return this.forward;
    const choices = new Map<string, string>();
    for (const l of layers) {
      const ctx = this.planContext(l.spec, batch, l.headOutputs ?? 0, l.models ?? 1);
      const known = this.tuner.lookup(ctx) ?? (await this.tuneLayer(l.spec, batch, l));
      choices.set(shapeClass(ctx), known.choice);
    }
    return { ...this.forward, plan: (spec, n, headOutputs = 0, models = 1) => this.layerPlan(spec, n, headOutputs, models, choices) };
  }

  private planContext(spec: RecurrentLayerSpec, batch: number, headOutputs: number, models: number): LayerPlanContext {
    return { spec, batch, limits: this.device.limits, headOutputs, models, traits: this.traits };
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
    if (this.options.storage === 'f16') return planF16Layer(spec, batch, this.device.limits, models, this.traits);
    const ctx = this.planContext(spec, batch, headOutputs, models);
    if (!this.tuner) return planLayer(ctx, this.options.recurrentKernel);
    const name = choices?.get(shapeClass(ctx)) ?? this.tuner.lookup(ctx)?.choice;
    return (name !== undefined ? planCandidate(ctx, name) : null) ?? planLayer(ctx, 'auto');
  }

  /**
   * Throws before any packing or GPU work when a layer's or the head's weights (of one model) could
   * not be bound. Per-series models bind the weights of a chunk's models together: the chunk sizing
   * keeps those within the limit, down to one model a chunk.
   */
  private checkStackWeights(stack: Pick<RecurrentStack, 'layers' | 'head'>): void {
    for (const { spec } of stack.layers) this.executor.checkFits('the weights buffer', 4 * packedFloats(spec), WEIGHTS_ADVICE);
    if (stack.head)
      this.executor.checkFits("the head's weights buffer", 4 * stack.head.outputSize * (stack.head.inputSize + 1), WEIGHTS_ADVICE);
  }

  /**
   * What src/gpu/programs/gradients.ts plans a training program from, on this device and with this backend's tuning.
   * @internal
   */
  gradProgramContext(): GradProgramContext {
    return {
      limits: this.device.limits,
      maxBindingBytes: this.executor.bindingLimit,
      kernel: this.options.recurrentKernel ?? 'auto',
      stepsPerDispatch: this.forward.maxSteps,
    };
  }

  /**
   * The batch limits of training `stack` on `steps`-step windows here (src/train/batching.ts
   * batchLimits): the cap for this kind of adapter, and no more windows than one binding of the
   * training program holds (what a window keeps: its saved states and gradients).
   */
  trainingBatchLimits(stack: RecurrentStack, steps: number): BatchLimits {
    const perWindow = gradFloatsPerSequence({
      layers: stack.layers.map(({ spec, weights }) => ({
        spec,
        peepholes: weights.P !== null,
        hasH0: false,
        hasC0: false,
        hasDh: false,
        hasDc: false,
      })),
      head: stack.head,
      steps,
      hasLens: false,
    });
    const binding = this.executor.bindingLimit;
    return batchLimits(
      { maxStorageBufferBindingSize: binding, maxBufferSize: binding },
      { software: this.software, bytesPerWindow: 4 * perWindow },
    );
  }

  /** The WebGPU training engine (src/train/gpu-engine.ts): parameters and optimizer state stay on this device. */
  createTrainEngine(setup: EngineSetup): Promise<TrainEngine> {
    this.executor.checkUsable();
    return GpuTrainEngine.create(this, this.gradProgramContext(), setup);
  }

  /**
   * Runs a caller-built {@link Program} (the training engine's, on device-resident `external`
   * buffers). With `deferred`, it resolves as soon as the program is submitted (see RunOptions).
   * @internal
   */
  runProgram(program: Program, options: RunOptions = {}): Promise<Record<string, Float32Array>> {
    return this.executor.runProgram(program, options);
  }

  /** Destroys the buffers this backend holds, and its device when it acquired it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.executor.dispose();
    if (this.ownsDevice) this.gpu.destroy();
  }
}
