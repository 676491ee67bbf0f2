/**
 * webrnn: recurrent networks over thousands of independent sequences on the GPU through WebGPU.
 * ONNX models load through the `webrnn/onnx` entry (./onnx/index.ts), so apps that do not use them
 * do not ship protobufjs and the graph interpreter.
 * @module webrnn
 */
export { ConfigError, DataError, DeviceError, ModelError, NumericError, ShapeError, WebRNNError, WeightError } from './errors.ts';
export { checkFiniteInput, checkFiniteOutputs, FLOAT32_MAX } from './util/finite.ts';
export { tensor, sizeOf, type Tensor, type FloatArray } from './tensor.ts';
export { ElmanRNN, type RunOptions } from './model/elman.ts';
export type { ElmanConfig, ResolvedElmanConfig, Nonlinearity } from './model/config.ts';
export type { ForwardOptions, ForwardResult } from './model/forward.ts';
export { elmanParamSpecs, type ElmanSizes, type ElmanStateDict, type ParamSpec } from './model/params.ts';
export { RecurrentNet, type RecurrentRunOptions } from './model/recurrent.ts';
export type { RecurrentForwardOptions, RecurrentForwardResult } from './model/recurrent-forward.ts';
export {
  describeTorchModule,
  torchParamSpecs,
  type TorchRecurrentOptions,
  type TorchRecurrentConfig,
  type TorchParamSpec,
} from './model/torch-modules.ts';
export { TORCH_GATE_OF_ONNX, type LoweredLayer, type LoweredModule, type LinearHead } from './model/torch-lowering.ts';
export {
  readSafetensors,
  writeSafetensors,
  floatTensors,
  type SafetensorsFile,
  type SafetensorsEntry,
  type SafetensorsDtype,
  type SafetensorsData,
} from './io/safetensors.ts';
export {
  recurrentLayerSpec,
  checkLayerInputs,
  checkLayerWeights,
  numDirections,
  GATES,
  type CellType,
  type Direction,
  type RecurrentLayerSpec,
  type RecurrentLayerOptions,
  type RecurrentLayerWeights,
  type RecurrentLayerInputs,
  type RecurrentLayerOutputs,
} from './rnn/spec.ts';
export { activation, ACTIVATION_NAMES, type Activation, type ActivationName } from './rnn/activations.ts';
export { recurrentLayerReference } from './reference/recurrent-layer.ts';
export type { Backend } from './backends/backend.ts';
export { cpuBackend } from './backends/cpu.ts';
export { WebGPUBackend, type WebGPUBackendOptions } from './backends/webgpu.ts';
export {
  acquireGpu,
  describeAdapter,
  ENGINE_LIMITS,
  type AcquireOptions,
  type AdapterSummary,
  type GpuContext,
} from './gpu/device.ts';
export { mulberry32, uniformArray, type Random } from './util/rng.ts';
export { compare, expectClose, FLOAT32_TOLERANCE, type Tolerance, type CompareReport } from './util/compare.ts';
export { activationDerivative } from './rnn/activations.ts';
export { recurrentLayerBackwardReference } from './reference/recurrent-layer-backward.ts';
export {
  recurrentStackBackwardReference,
  type RecurrentStackBackward,
  type RecurrentStackStateGrads,
} from './reference/recurrent-stack-backward.ts';
export type {
  RecurrentLayerOutputGrads,
  RecurrentLayerGrads,
  LinearHeadGrads,
  RecurrentStackGrads,
} from './rnn/backward.ts';
export {
  lossSpec,
  lossReference,
  checkLossInputs,
  firstLossStep,
  type LossKind,
  type LossSteps,
  type LossSpec,
  type LossOptions,
  type LossInputs,
  type LossResult,
} from './train/loss.ts';
export {
  optimizerSpec,
  scheduleSpec,
  gradClipSpec,
  optimizationSpec,
  learningRateAt,
  optimizerSlots,
  createOptimizerState,
  checkOptimizerState,
  CLIP_NORM_EPS,
  type SgdOptions,
  type AdamOptions,
  type OptimizerOptions,
  type OptimizerSpec,
  type ScheduleOptions,
  type ScheduleSpec,
  type GradClipOptions,
  type GradClipSpec,
  type OptimizationOptions,
  type OptimizationSpec,
  type OptimizerState,
} from './train/optim.ts';
export {
  optimizerStepReference,
  clipGradNormReference,
  clipGradValueReference,
  type OptimizerStepReport,
} from './reference/optim.ts';
export {
  Trainer,
  trainSpec,
  type TrainerOptions,
  type TrainOptions,
  type TrainSpec,
  type FitOptions,
  type FitHistory,
  type EpochSamples,
  type StepEvent,
  type EpochEvent,
} from './train/trainer.ts';
export type { TrainEngine, EngineSetup, StackStates, StepResult } from './train/engine.ts';
export { CpuTrainEngine } from './train/cpu-engine.ts';
export { samples, seriesWindows, epochBatches, splitValidation, gatherSamples, type Samples, type SamplesOptions } from './train/data.ts';
export { paramSlots, paramCount, flattenParams, flattenGrads, unflattenParams, type ParamSlot } from './train/params.ts';
export { checkForecast, type ForecastInputs } from './rnn/forecast.ts';
export { forecastReference } from './reference/forecast.ts';
export { Forecaster, type ForecasterOptions, type Forecast, type BacktestReport, type BacktestRow } from './forecast/forecaster.ts';
export {
  parseLong,
  parseWide,
  readTable,
  checkSeries,
  isDecimal,
  type Series,
  type LongColumns,
  type StampOptions,
} from './forecast/frame.ts';
export {
  stampFormat,
  STAMP_FORMATS,
  frequencyOfStamps,
  describeFrequency,
  type Frequency,
  type StampFormat,
  type TimeUnit,
} from './forecast/timestamps.ts';
export { mae, rmse, smape, mase, metrics, overall, seasonalNaive, seasonalNaiveScale, type Metrics } from './forecast/metrics.ts';
export { fitScaler, scale, unscale, quantile, type Scaler, type ScalingKind } from './forecast/scaling.ts';
export { co2Monthly, parseCsv, type DatedSeries } from './data/datasets.ts';
export { forecastsCsv, nextStamps } from './forecast/output.ts';
export type { RecurrentLayerBackwardResult, RecurrentStackBackwardResult } from './backends/backend.ts';
export type { BackendTuning } from './backends/webgpu.ts';
export type { StackLayer, RecurrentStack, RecurrentStackInputs, RecurrentStackOutputs, StackModels } from './rnn/stack.ts';
export type { ForecastFitOptions, Weighting } from './forecast/forecaster.ts';
export { BASELINES, type BaselineName, type Interval } from './forecast/baselines/index.ts';
export type { WindowScaling, Transform } from './forecast/windows.ts';
export type { CsvForecast } from './forecast/output.ts';
export type { ForwardKernelName, RecurrentKernelChoice } from './gpu/kernels/forward/plan.ts';
export { MemoryTuneStore, type ChoiceSource, type TuneMode, type TuneStore, type TuneEntry } from './tune/tuner.ts';
export { setTuneDefaults, type TuneDefaults } from './tune/defaults.ts';
export type { TuneResolution } from './tune/forward.ts';
export type { GpuTiming, TimingMethod } from './gpu/timer.ts';
export type { BatchLimits } from './train/batching.ts';
export type { ForwardArgs } from './model/forward.ts';
