import { checkKernel } from './kernel.ts';

/**
 * Compute pipelines and shader modules, built once per device. Modules are cached by their source,
 * pipelines by source, entry point and override constants: everything that changes the compiled
 * program, so two kernels never share a cache entry by name alone. Sizes that change per call
 * (batch, steps) live in uniforms and never force a rebuild. The caches are WeakMaps keyed by the
 * device, so a destroyed or lost device takes them along.
 */

/** What it takes to build one compute pipeline. */
export interface PipelineSpec {
  /** Name of the kernel (the label). */
  name: string;
  /** WGSL source. */
  code: string;
  entryPoint?: string;
  /** Override constants; part of the cache key. */
  constants: Readonly<Record<string, number>>;
  /** The entry point's storage bindings by name, when the caller declares them: checked against the WGSL on a build. */
  bindings?: readonly string[];
}

const modules = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();
const pipelines = new WeakMap<GPUDevice, Map<string, Map<string, Promise<GPUComputePipeline>>>>();

/** The cache key of a spec within its source: entry point and constants. */
export function pipelineKey(spec: Pick<PipelineSpec, 'entryPoint' | 'constants'>): string {
  const constants = Object.keys(spec.constants)
    .sort()
    .map((k) => `${k}=${spec.constants[k]}`)
    .join(',');
  return `${spec.entryPoint ?? 'main'}:${constants}`;
}

function shaderModule(device: GPUDevice, spec: PipelineSpec): GPUShaderModule {
  let bySource = modules.get(device);
  if (!bySource) modules.set(device, (bySource = new Map()));
  let module = bySource.get(spec.code);
  if (!module) {
    module = device.createShaderModule({ label: spec.name, code: spec.code });
    bySource.set(spec.code, module);
  }
  return module;
}

/**
 * The pipeline for `spec` on `device`, built on first use. A spec with `bindings` is checked against
 * its WGSL first (src/gpu/kernel.ts checkKernel): a mismatch throws here.
 */
export function getPipeline(device: GPUDevice, spec: PipelineSpec): Promise<GPUComputePipeline> {
  let bySource = pipelines.get(device);
  if (!bySource) pipelines.set(device, (bySource = new Map()));
  let byKey = bySource.get(spec.code);
  if (!byKey) bySource.set(spec.code, (byKey = new Map()));
  const key = pipelineKey(spec);
  let pipeline = byKey.get(key);
  if (!pipeline) {
    const entryPoint = spec.entryPoint ?? 'main';
    if (spec.bindings) checkKernel({ name: spec.name, code: spec.code, entryPoint, bindings: spec.bindings });
    const cache = byKey;
    pipeline = device.createComputePipelineAsync({
      label: `${spec.name}:${key}`,
      layout: 'auto',
      compute: { module: shaderModule(device, spec), entryPoint, constants: spec.constants as Record<string, number> },
    });
    // A failed build must not poison the cache for the next call.
    pipeline.catch(() => cache.delete(key));
    byKey.set(key, pipeline);
  }
  return pipeline;
}

/** How many pipelines are cached for `device` (for tests). */
export function cachedPipelineCount(device: GPUDevice): number {
  let n = 0;
  for (const byKey of pipelines.get(device)?.values() ?? []) n += byKey.size;
  return n;
}
