import { DeviceError } from '../errors.ts';

/**
 * Device acquisition, in one place for the browser (`navigator.gpu`) and Node (Dawn's `webgpu`
 * package). Order: a hardware adapter first; then a software (fallback) adapter; in Node, when the
 * Vulkan loader finds no usable driver, the software Vulkan drivers known on Debian are tried one by
 * one (Mesa's lavapipe, then Chromium's SwiftShader). Node's part is ./node-adapter.ts, reached only
 * from the package's `node` entry (see {@link useNodeAdapterSource}).
 */

/** What the engine reports about the adapter it runs on. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  device: string;
  /** True for a CPU implementation (SwiftShader, lavapipe, WARP…). */
  isSoftware: boolean;
  /** `'browser'` or `'node'`. */
  runtime: 'browser' | 'node';
  /** The Vulkan ICD file webrnn selected in Node, when it had to pick a software driver itself. */
  driverFile?: string;
}

/** A device with the adapter it came from. */
export interface GpuContext {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly summary: AdapterSummary;
  /** The optional features the device was granted (a subset of the adapter's), sorted. */
  readonly features: string[];
  /** Destroys the device; buffers and pipelines made on it go with it. */
  destroy(): void;
}

/** Options of {@link acquireGpu}. */
export interface AcquireOptions {
  /** Receives the one line naming the adapter (default: console.info). Pass `false` for silence. */
  log?: ((line: string) => void) | false;
  /** `'high-performance'` (default) or `'low-power'`. */
  powerPreference?: GPUPowerPreference;
  /**
   * Features to request when the adapter has them, beside `subgroups`, `shader-f16` and
   * `timestamp-query` (requested by default); those it lacks are skipped, so check
   * `device.features` before relying on one.
   */
  features?: GPUFeatureName[];
  /**
   * Node only: Dawn instance toggles, as `create()` of the `webgpu` package takes them (e.g.
   * `'enable-dawn-features=vulkan_enable_f16_on_nvidia'`, without which Dawn withholds `shader-f16`
   * on NVIDIA, or `'disable-dawn-features=timestamp_quantization'` for full-resolution GPU
   * timestamps). Default: the comma-separated list in the environment variable
   * `WEBRNN_DAWN_FLAGS`, else none. Ignored in a browser.
   */
  dawnFlags?: string[];
}

/**
 * Optional features requested whenever the adapter has them: `subgroups` and `shader-f16` for the
 * kernels that can use them, `timestamp-query` for GPU timing. Requesting a feature costs nothing
 * where no shader uses it.
 */
export const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['subgroups', 'shader-f16', 'timestamp-query'];

/** The environment variable that gives Node's Dawn instance its toggles (comma-separated). */
export const DAWN_FLAGS_ENV = 'WEBRNN_DAWN_FLAGS';

/** The limits the engine relies on, in the order `webrnn info` prints them. */
export const ENGINE_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupStorageSize',
  'minStorageBufferOffsetAlignment',
  'minUniformBufferOffsetAlignment',
] as const;

/**
 * WebGPU's default for each of {@link ENGINE_LIMITS}: what a device gets unless it asks for more
 * (the WebGPU specification's limits table).
 */
export const WEBGPU_DEFAULT_LIMITS: Record<(typeof ENGINE_LIMITS)[number], number> = {
  maxStorageBufferBindingSize: 134_217_728,
  maxBufferSize: 268_435_456,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupsPerDimension: 65_535,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 16_384,
  minStorageBufferOffsetAlignment: 256,
  minUniformBufferOffsetAlignment: 256,
};

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** The parts of a GPUAdapterInfo {@link isSoftwareAdapter} reads (all optional: older browsers lack some). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  description?: string;
  device?: string;
  isFallbackAdapter?: boolean;
}

/**
 * Whether an adapter runs its shaders on the CPU: the implementation says it is a fallback adapter
 * (`isFallbackAdapter`), or its identity names a software rasteriser — Google's SwiftShader (Chrome's
 * fallback), Mesa's llvmpipe and lavapipe, Microsoft's WARP / "Microsoft Basic Render Driver". The
 * app and the benchmarks say so beside their times, and pick the paths that are faster there.
 */
export function isSoftwareAdapter(info: AdapterInfoLike): boolean {
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''} ${info.device ?? ''}`.toLowerCase();
  return info.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|\bwarp\b|basic render|software|\bcpu\b/.test(text);
}

function looksSoftware(info: GPUAdapterInfo): boolean {
  return isSoftwareAdapter(info as AdapterInfoLike);
}

/** Summarises an adapter's identity. */
export function summarizeAdapter(adapter: GPUAdapter, runtime: 'browser' | 'node', driverFile?: string): AdapterSummary {
  const info = adapter.info;
  const summary: AdapterSummary = {
    vendor: info.vendor || 'unknown',
    architecture: info.architecture || 'unknown',
    description: info.description || '',
    device: info.device || '',
    isSoftware: looksSoftware(info),
    runtime,
  };
  if (driverFile) summary.driverFile = driverFile;
  return summary;
}

/** The line logged when a device is acquired. */
export function describeAdapter(s: AdapterSummary): string {
  const name = [s.vendor, s.architecture, s.description && `(${s.description})`].filter(Boolean).join(' ');
  return (
    `[webrnn] WebGPU adapter: ${name}, ${s.isSoftware ? 'software' : 'hardware'}, ${s.runtime}` +
    (s.driverFile ? `, Vulkan driver ${s.driverFile}` : '')
  );
}

/** Hardware first (the preference), then any adapter the implementation calls a fallback. */
export async function pickAdapter(gpu: GPU, powerPreference: GPUPowerPreference): Promise<GPUAdapter | null> {
  return (await gpu.requestAdapter({ powerPreference })) ?? (await gpu.requestAdapter({ forceFallbackAdapter: true }));
}

/** The Dawn toggles to create Node's instance with: the option, else {@link DAWN_FLAGS_ENV}. */
export function dawnFlagsFrom(option: string[] | undefined, env: Record<string, string | undefined>): string[] {
  if (option) return option;
  return (env[DAWN_FLAGS_ENV] ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
}

/** How Node finds an adapter: {@link acquireGpu}'s Node path, given the power preference and the Dawn toggles. */
export type NodeAdapterSource = (
  powerPreference: GPUPowerPreference,
  dawnFlags: string[],
) => Promise<{ adapter: GPUAdapter; driverFile?: string }>;

/**
 * Node's adapter source, set by {@link useNodeAdapterSource}. It lives in its own module
 * (./node-adapter.ts, which imports Dawn's `webgpu` package and `node:fs`) that only the package's
 * `node` entry reaches, so no browser bundle contains those imports.
 */
let nodeAdapterSource: NodeAdapterSource | undefined;

/** Sets how {@link acquireGpu} finds an adapter in Node (the `node` entry calls it on import). */
export function useNodeAdapterSource(source: NodeAdapterSource): void {
  nodeAdapterSource = source;
}

/**
 * Limits to ask the device for: the adapter's own for every limit the engine reads
 * ({@link ENGINE_LIMITS}), not WebGPU's defaults (16 KiB of workgroup storage, 256 invocations,
 * 128 MiB bindings). For the alignments (`min*`) the adapter's value is the smallest it allows.
 */
function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const name of ENGINE_LIMITS) limits[name] = adapter.limits[name];
  return limits;
}

/**
 * Acquires a WebGPU device: in a browser from `navigator.gpu`, in Node from Dawn's `webgpu`
 * package. Logs one line naming the adapter. Throws {@link DeviceError} when there is none.
 */
export async function acquireGpu(options: AcquireOptions = {}): Promise<GpuContext> {
  const powerPreference = options.powerPreference ?? 'high-performance';
  let adapter: GPUAdapter | null;
  let runtime: 'browser' | 'node';
  let driverFile: string | undefined;
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  if (nav?.gpu) {
    runtime = 'browser';
    adapter = await pickAdapter(nav.gpu, powerPreference);
    if (!adapter) {
      throw new DeviceError(
        'no WebGPU adapter: this browser exposes navigator.gpu but returned no adapter ' +
          '(Chromium needs --enable-unsafe-webgpu on Linux; see README)',
      );
    }
  } else if (isNode()) {
    runtime = 'node';
    if (!nodeAdapterSource) {
      throw new DeviceError(
        "no WebGPU in Node from webrnn's browser build: import 'webrnn' through Node's own resolution " +
          "(the package's `node` export, which loads Dawn's `webgpu` package), not a bundle made for browsers",
      );
    }
    ({ adapter, driverFile } = await nodeAdapterSource(powerPreference, dawnFlagsFrom(options.dawnFlags, process.env)));
  } else {
    throw new DeviceError('no WebGPU in this environment: navigator.gpu is undefined (needs a WebGPU-capable browser)');
  }

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: 'webrnn',
      requiredLimits: requiredLimits(adapter),
      requiredFeatures: [...new Set([...OPTIONAL_FEATURES, ...(options.features ?? [])])].filter((f) => adapter.features.has(f)),
    });
  } catch (cause) {
    throw new DeviceError(`the adapter refused a device: ${(cause as Error).message}`, { cause });
  }
  const summary = summarizeAdapter(adapter, runtime, driverFile);
  const log = options.log === undefined ? (line: string) => console.info(line) : options.log;
  if (log) log(describeAdapter(summary));
  return {
    adapter,
    device,
    summary,
    features: [...device.features].sort(),
    destroy: () => device.destroy(),
  };
}
