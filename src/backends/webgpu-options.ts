import { ConfigError } from '../errors.ts';
import type { AcquireOptions } from '../gpu/device.ts';
import type { RecurrentKernelChoice } from '../gpu/kernels/forward/plan.ts';

/** Options of `WebGPUBackend.create`. */
export interface WebGPUBackendOptions extends AcquireOptions {
  /**
   * Fill every output buffer with NaN before each dispatch, so an element the kernel fails to write
   * reads back as NaN instead of a stale value. For tests; costs one extra upload per output.
   */
  poisonOutputs?: boolean;
  /**
   * Which recurrent-layer kernel to run: picked by shape (`'auto'`, default; see
   * src/gpu/kernels/forward/plan.ts, which also weighs the adapter), or forced to `'small'`,
   * `'tile'`, `'sequential'` or `'lanes'` (tests, benchmarks). Training runs the tiled or the
   * sequential kernel: forcing `'small'` or `'lanes'` leaves its choice to shape.
   */
  recurrentKernel?: RecurrentKernelChoice;
  /**
   * The tiled kernel's shape: invocations per workgroup it aims at, a power of two from 1 to the
   * device's limit (default 128). For benchmarks sweeping tile shapes.
   */
  tileInvocations?: number;
  /**
   * Split batches so that no binding exceeds this many bytes (default: the device's binding limit).
   * For tests of the chunking, which otherwise needs gigabytes.
   */
  maxBindingBytes?: number;
  /** Steps per dispatch of a recurrent layer (default: as many as keep a submission under 2³¹ multiply-adds). For tests. */
  maxStepsPerDispatch?: number;
  /**
   * Time every call's GPU work (src/gpu/timer.ts: timestamp queries when the device has
   * `timestamp-query`, which `acquireGpu({ features })` can ask for; else submit-to-completion wall
   * time) and keep it in `WebGPUBackend.lastTiming`. For benchmarks; costs a wait per call.
   */
  timing?: boolean;
}

/** The options that shape how a backend runs (everything but device acquisition). */
export type BackendTuning = Omit<WebGPUBackendOptions, keyof AcquireOptions>;

/** Throws a ConfigError for a tuning option no kernel can take, before any device is acquired. */
export function checkTuning(options: BackendTuning): void {
  const tile = options.tileInvocations;
  if (tile !== undefined && !(Number.isInteger(tile) && tile >= 1 && (tile & (tile - 1)) === 0)) {
    throw new ConfigError(`tileInvocations must be a power of two, got ${tile}`);
  }
}
