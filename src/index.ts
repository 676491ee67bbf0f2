/**
 * webrnn: recurrent networks over thousands of independent sequences on the GPU through WebGPU.
 * @packageDocumentation
 */
export { ConfigError, DeviceError, ModelError, ShapeError, WebRNNError, WeightError } from './errors.ts';
export { tensor, sizeOf, type Tensor, type FloatArray } from './tensor.ts';
export { ElmanRNN, type RunOptions } from './model/elman.ts';
export type { ElmanConfig, ResolvedElmanConfig, Nonlinearity } from './model/config.ts';
export type { ForwardOptions, ForwardResult } from './model/forward.ts';
export { elmanParamSpecs, type ElmanStateDict, type ParamSpec } from './model/params.ts';
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
