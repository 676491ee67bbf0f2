/**
 * Compute pipelines, built once per device and shape class. The cache is a WeakMap keyed by the
 * device, so a destroyed or lost device takes its pipelines along. The key names everything that
 * changes the compiled program: the shader, the entry point and every override constant; sizes that
 * change per call (batch, steps) live in uniforms and never force a rebuild.
 */
const cache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();
const modules = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();

/** What it takes to build one compute pipeline. */
export interface PipelineSpec {
  /** Name of the kernel (also the label). */
  name: string;
  /** WGSL source. */
  code: string;
  entryPoint?: string;
  /** Override constants; part of the cache key. */
  constants: Record<string, number>;
}

/** The cache key of a spec. */
export function pipelineKey(spec: PipelineSpec): string {
  const constants = Object.keys(spec.constants)
    .sort()
    .map((k) => `${k}=${spec.constants[k]}`)
    .join(',');
  return `${spec.name}:${spec.entryPoint ?? 'main'}:${constants}`;
}

function shaderModule(device: GPUDevice, spec: PipelineSpec): GPUShaderModule {
  let byName = modules.get(device);
  if (!byName) modules.set(device, (byName = new Map()));
  let module = byName.get(spec.name);
  if (!module) {
    module = device.createShaderModule({ label: spec.name, code: spec.code });
    byName.set(spec.name, module);
  }
  return module;
}

/** The pipeline for `spec` on `device`, built on first use. */
export function getPipeline(device: GPUDevice, spec: PipelineSpec): Promise<GPUComputePipeline> {
  let byKey = cache.get(device);
  if (!byKey) cache.set(device, (byKey = new Map()));
  const key = pipelineKey(spec);
  let pipeline = byKey.get(key);
  if (!pipeline) {
    pipeline = device.createComputePipelineAsync({
      label: key,
      layout: 'auto',
      compute: { module: shaderModule(device, spec), entryPoint: spec.entryPoint ?? 'main', constants: spec.constants },
    });
    // A failed build must not poison the cache for the next call.
    pipeline.catch(() => byKey!.delete(key));
    byKey.set(key, pipeline);
  }
  return pipeline;
}

/** How many pipelines are cached for `device` (for tests). */
export function cachedPipelineCount(device: GPUDevice): number {
  return cache.get(device)?.size ?? 0;
}
