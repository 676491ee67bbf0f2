import { ConfigError } from '../errors.ts';
import type { AcquireOptions } from '../gpu/device.ts';
import { FORWARD_KERNELS, isRecurrentKernelChoice, type RecurrentKernelChoice } from '../gpu/kernels/forward/plan.ts';
import { checkTuneMode, defaultTuneMode } from '../tune/defaults.ts';
import type { CandidateTimer } from '../tune/forward.ts';
import type { TuneMode, TuneStore } from '../tune/tuner.ts';

/** Options of `WebGPUBackend.create`. */
export interface WebGPUBackendOptions extends AcquireOptions {
  /**
   * Fill every output buffer with NaN before each dispatch, so an element the kernel fails to write
   * reads back as NaN instead of a stale value. For tests; costs one extra upload per output.
   */
  poisonOutputs?: boolean;
  /**
   * Which recurrent-layer kernel to run: chosen per shape class (`'auto'`, default: the autotuner's
   * choice, see `tune`, else the cost model of src/gpu/kernels/forward/plan.ts), or forced to a
   * kernel (`'small'`, `'tile'`, `'sequential'`, `'lanes'`, … : its best-ranked variant that fits)
   * or to one variant by the candidate name `webrnn tune` prints (`'tile/256'`); forced means no
   * tuning (tests, benchmarks, the GPU kit's sweep). Training runs the tiled or the sequential
   * kernel: forcing another leaves its choice to shape.
   */
  recurrentKernel?: RecurrentKernelChoice;
  /**
   * How `'auto'` chooses the forward kernel (src/tune/forward.ts). `'quick'` (default): on first
   * use of a layer's shape class on this adapter, time the cost model's best variant of each
   * kernel, at least three candidates (about a second, see `tuneBudgetMs`), and cache the fastest; `'full'`: time every candidate;
   * `'off'`: the cached choice, else the cost model's. The default comes from `WEBRNN_TUNE` in
   * Node when set (src/tune/defaults.ts). Choices are cached per adapter, limits, features,
   * kernel sources and shape class: in `~/.cache/webrnn/tune.json` in Node, IndexedDB in a browser.
   */
  tune?: TuneMode;
  /** Milliseconds the tuning of one shape class may spend timing (default 1000). */
  tuneBudgetMs?: number;
  /** Where tuned choices are kept (default: the cache file in Node, IndexedDB in a browser). */
  tuneStore?: TuneStore;
  /**
   * The tuner's clock and candidate timing, replaced by tests (a fake device's times).
   * @internal
   */
  tuneHooks?: { now?: () => number; time?: CandidateTimer };
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
  /**
   * How inference stores x, the weights and y on the GPU: `'f32'` (default), or `'f16'`: every
   * such value an IEEE binary16, two per 32-bit word (shaders/forward/storage_f16.wgsl, WGSL's core
   * pack2x16float, so it runs on every adapter, `shader-f16` or not), while the arithmetic, the
   * hidden and cell states, the initial and final states stay f32. It halves the bytes of the
   * upload, the readback of Y and the weights read per step. `recurrentLayer` and `recurrentStack`
   * (without a head) run it on the tiled kernel; an odd hidden size, a head, a forecast, ElmanRNN's
   * own kernel, x or weights beyond ±65504, or a kernel other than `'tile'` forced, is an error
   * before any GPU work.
   * Training and backward passes run f32 storage whatever this says.
   *
   * Error bound (test/f16-storage.gpu.test.ts): against the float64 reference on the f16-rounded
   * weights and x, Y_h and Y_c agree to float32's tolerance and Y to that plus one f16 step of
   * rounding the stored output (relative 2⁻¹⁰: WGSL lets the conversion round either way). Against
   * the float64 reference on the original values, each rounded weight and input moves by at most
   * u = 2⁻¹¹ of itself, and a gate's pre-activation by at most α = (2u + u²)(‖W‖∞·max|x| +
   * ‖R‖∞·max|h| + max|b|) per step; that propagates through the cell's Lipschitz constants and
   * the recurrence ‖R‖∞ over T steps (a first-order bound, the test's `f16Bound`), and Y adds the
   * output rounding above.
   */
  storage?: 'f32' | 'f16';
}

/** The options that shape how a backend runs (everything but device acquisition). */
export type BackendTuning = Omit<WebGPUBackendOptions, keyof AcquireOptions>;

/** Throws a ConfigError for a tuning option no kernel can take, before any device is acquired. */
export function checkTuning(options: BackendTuning): void {
  const tile = options.tileInvocations;
  if (tile !== undefined && !(Number.isInteger(tile) && tile >= 1 && (tile & (tile - 1)) === 0)) {
    throw new ConfigError(`tileInvocations must be a power of two, got ${tile}`);
  }
  const { storage, recurrentKernel: kernel } = options;
  if (kernel !== undefined && !isRecurrentKernelChoice(kernel)) {
    const names = FORWARD_KERNELS.map((k) => k.name).join(', ');
    throw new ConfigError(`recurrentKernel must be 'auto', a kernel (${names}) or one of its variants ('tile/256'), got ${String(kernel)}`);
  }
  if (storage !== undefined && storage !== 'f32' && storage !== 'f16') {
    throw new ConfigError(`storage must be 'f32' or 'f16', got ${JSON.stringify(storage)}`);
  }
  if (storage === 'f16' && kernel !== undefined && kernel !== 'auto' && kernel.split('/')[0] !== 'tile') {
    throw new ConfigError(`storage 'f16' runs on the tiled recurrent kernel only; recurrentKernel '${kernel}' reads f32`);
  }
  if (options.tune !== undefined) checkTuneMode(options.tune);
  else defaultTuneMode(); // a bad WEBRNN_TUNE is a ConfigError before any device is acquired
  const budget = options.tuneBudgetMs;
  if (budget !== undefined && !(Number.isFinite(budget) && budget >= 0)) {
    throw new ConfigError(`tuneBudgetMs must be a non-negative number of milliseconds, got ${budget}`);
  }
}
