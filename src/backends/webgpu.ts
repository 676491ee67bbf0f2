import { acquireGpu, type GpuContext } from '../gpu/device.ts';
import { ProgramExecutor } from '../gpu/executor.ts';
import type { ForwardKernelName } from '../gpu/kernels/forward/plan.ts';
import { elmanMacsPerStep, packElmanWeights } from '../gpu/kernels/forward/elman-forward.ts';
import { checkF16Call } from '../gpu/kernels/forward/f16-storage.ts';
import { packLayerWeights } from '../gpu/kernels/forward/recurrent-common.ts';
import type { Program, RunOptions } from '../gpu/program.ts';
import { layerBackwardJob, runBackward, stackBackwardJob } from '../gpu/programs/backward.ts';
import { checkElmanWeights, ElmanOutputRows, elmanProgram } from '../gpu/programs/elman.ts';
import { forecastProgram } from '../gpu/programs/forecast.ts';
import { trainingFloatsPerWindow, type GradProgramContext } from '../gpu/programs/gradients.ts';
import { layerInputRows, LayerOutputRows, layerProgram } from '../gpu/programs/layer.ts';
import { checkStackWeights, modelUnit, packModels, stackProgram, stackWork, StackOutputRows } from '../gpu/programs/stack.ts';
import type { GpuTiming } from '../gpu/timer.ts';
import { BatchRows } from '../gpu/rows.ts';
import { checkTuning, type BackendTuning, type WebGPUBackendOptions } from './webgpu-options.ts';
import type { TuneResolution } from '../tune/forward.ts';
import { ForwardKernelChoice } from '../tune/kernel-choice.ts';
import type { ResolvedElmanConfig } from '../model/config.ts';
import type { ForwardArgs, ForwardResult } from '../model/forward.ts';
import type { ElmanStateDict } from '../model/params.ts';
import type { ForecastInputs } from '../rnn/forecast.ts';
import type { RecurrentLayerInputs, RecurrentLayerOutputs, RecurrentLayerSpec, RecurrentLayerWeights } from '../rnn/spec.ts';
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
  /** The forward kernel of each layer: forced, tuned or the cost model's (src/tune/kernel-choice.ts). */
  private readonly choice: ForwardKernelChoice;
  private disposed = false;

  private constructor(
    readonly gpu: GpuContext,
    private readonly ownsDevice: boolean,
    private readonly options: BackendTuning,
  ) {
    this.executor = new ProgramExecutor(gpu.device, options);
    this.choice = new ForwardKernelChoice(gpu, this.executor, options);
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
    const { batch: B, steps: T } = args;
    // Sizes first: packing weights that could never be bound would only spend memory.
    checkElmanWeights(this.executor, c);
    const weights = packElmanWeights(c, sd);
    const outputs = new ElmanOutputRows(c, args);
    const program = (b0: number, b1: number) => elmanProgram(c, weights, args, b0, b1, this.device.limits.maxComputeWorkgroupsPerDimension);
    // The kernel runs all T steps in one dispatch: a chunk's submission holds all of them.
    const work = { steps: T, macsPerStep: elmanMacsPerStep(c) };
    await this.executor.runChunked(B, 1, work, program, (out, b0, b1) => outputs.put(out, b0, b1));
    return checked('the Elman network', outputs.result);
  }

  async recurrentLayer(
    spec: RecurrentLayerSpec,
    weights: RecurrentLayerWeights,
    inputs: RecurrentLayerInputs,
  ): Promise<RecurrentLayerOutputs<Float32Array>> {
    this.executor.checkUsable();
    checkLayerCall(spec, weights, inputs);
    if (this.options.storage === 'f16') checkF16Call([{ spec, weights }], false, inputs.X);
    checkStackWeights(this.executor, { layers: [{ spec, weights }], head: null });
    const { batch: B, steps: T } = inputs;
    const packed = packLayerWeights(spec, weights);
    const outputs = new LayerOutputRows(spec, B, T);
    const forward = await this.choice.forCall({ layers: [{ spec }] }, B);
    const program = (b0: number, b1: number) =>
      layerProgram(forward.plan(spec, b1 - b0), spec, packed, layerInputRows(spec, inputs, b0, b1), forward.maxSteps(spec, b1 - b0));
    await this.executor.runChunked(B, 1, stackWork({ layers: [{ spec }] }, T), program, (out, b0, b1) => outputs.put(out, b0, b1));
    return checked(`the ${spec.cell.toUpperCase()} layer`, outputs.result);
  }

  async recurrentStack(models: StackModels, inputs: RecurrentStackInputs): Promise<RecurrentStackOutputs<Float32Array>> {
    this.executor.checkUsable();
    const stacks = checkStackCall(models, inputs);
    const stack = stacks[0]!;
    checkStackWeights(this.executor, stack);
    if (this.options.storage === 'f16') for (const s of stacks) checkF16Call(s.layers, s.head !== null, inputs.X);
    const { batch: B, steps: T } = inputs;
    const outputs = new StackOutputRows(stack, B, T);
    const weights = packModels(stacks);
    const forward = await this.choice.forCall(stack, B, weights.count);
    const program = (b0: number, b1: number) => stackProgram(forward, stack, weights, inputs, b0, b1);
    await this.executor.runChunked(B, modelUnit(weights, B), stackWork(stack, T), program, (out, b0, b1) => outputs.put(out, b0, b1));
    return checked('the stack', outputs.result);
  }

  /** Recursive forecasting (src/rnn/forecast.ts): one program per batch chunk (src/gpu/programs/forecast.ts). */
  async recurrentForecast(models: StackModels, inputs: ForecastInputs): Promise<Float32Array> {
    this.executor.checkUsable();
    if (this.options.storage === 'f16') throw new ConfigError("storage 'f16' does not forecast (its head reads f32): use storage 'f32'");
    const stacks = checkForecastCall(models, inputs);
    const stack = stacks[0]!;
    checkStackWeights(this.executor, stack);
    const { batch: B, steps: T, horizon: H } = inputs;
    const forecast = new BatchRows(B, H * stack.head!.outputSize, 'the forecast');
    const weights = packModels(stacks);
    const forward = await this.choice.forCall(stack, B, weights.count);
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
    checkStackWeights(this.executor, job);
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
    checkStackWeights(this.executor, stack);
    const job = stackBackwardJob(stack, inputs, dY, stateGrads);
    const { Y, Yh, Yc, layers, head } = await runBackward(this.executor, this.gradProgramContext(), job);
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
    return this.choice.kernelFor(spec, batch);
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
    return this.choice.candidates(spec, batch, options);
  }

  /**
   * Resolves the forward kernel for a layer of `spec` over `batch` sequences (`headOutputs`: a head
   * after it; `models`: per-series models) as a call would: from this backend's memory, the cache,
   * by timing the candidates (mode `'quick'` or `'full'`), or the cost model. What `webrnn tune`
   * runs ahead of time. Throws a ConfigError when this backend's kernel is forced.
   */
  tuneLayer(spec: RecurrentLayerSpec, batch: number, options: { headOutputs?: number; models?: number } = {}): Promise<TuneResolution> {
    return this.choice.tune(spec, batch, options);
  }

  /**
   * How this backend chose the forward kernel per shape class so far: the choice, whether it came
   * from the cache, from timing now or from the cost model, and the times measured.
   */
  tuneReport(): TuneResolution[] {
    return this.choice.report();
  }

  /**
   * What src/gpu/programs/gradients.ts plans a training program from, on this device and with this backend's tuning.
   * @internal
   */
  gradProgramContext(): GradProgramContext {
    return this.choice.gradContext();
  }

  /**
   * The batch limits of training `stack` on `steps`-step windows here (src/train/batching.ts
   * batchLimits): the cap for this kind of adapter, and no more windows than one binding of the
   * training program holds (what a window keeps: its saved states and gradients).
   */
  trainingBatchLimits(stack: RecurrentStack, steps: number): BatchLimits {
    const binding = this.executor.bindingLimit;
    const bytesPerWindow = 4 * trainingFloatsPerWindow(stack, steps);
    return batchLimits({ maxStorageBufferBindingSize: binding, maxBufferSize: binding }, { software: this.software, bytesPerWindow });
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
