import type { Backend } from '../src/backends/backend.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { describeAdapter } from '../src/gpu/device.ts';

/** The backend a run uses, and a sentence saying why, for the page. */
export interface BackendChoice {
  backend: Backend;
  name: 'webgpu' | 'cpu';
  detail: string;
  /**
   * WebGPU on a software adapter (SwiftShader, lavapipe, WARP: the shaders run on the CPU), as
   * src/gpu/device.ts tells it from the adapter's vendor and architecture. The page says so:
   * training is then far slower than on a GPU.
   */
  software: boolean;
}

/**
 * WebGPU when this browser has an adapter and webrnn's WebGPU backend can both train
 * (`createTrainEngine`) and forecast (`recurrentForecast`); otherwise the float64 CPU backend, with
 * the reason. The WebGPU backend is kept for the worker's lifetime once it qualifies.
 */
export async function chooseBackend(): Promise<BackendChoice> {
  const cpu = (why: string): BackendChoice => ({
    backend: cpuBackend,
    name: 'cpu',
    detail: `CPU (float64 reference): ${why}`,
    software: false,
  });
  if (!('gpu' in navigator)) return cpu('this browser has no WebGPU');
  let gpu: WebGPUBackend;
  try {
    gpu = await WebGPUBackend.create({ log: false });
  } catch (e) {
    return cpu(`no WebGPU device (${(e as Error).message})`);
  }
  const adapter = describeAdapter(gpu.gpu.summary).replace('[webrnn] ', '');
  const can: Backend = gpu; // the optional members, whichever this build of the backend has
  const missing = [
    typeof can.createTrainEngine === 'function' ? null : 'train',
    typeof can.recurrentForecast === 'function' ? null : 'forecast',
  ].filter((m) => m !== null);
  if (missing.length === 0) return { backend: gpu, name: 'webgpu', detail: `WebGPU: ${adapter}`, software: gpu.gpu.summary.isSoftware };
  gpu.dispose();
  return cpu(`the WebGPU backend cannot ${missing.join(' or ')} yet (${adapter})`);
}

/** The CPU backend, when the person asked for it. */
export const CPU_CHOICE: BackendChoice = {
  backend: cpuBackend,
  name: 'cpu',
  detail: 'CPU (float64 reference), as chosen',
  software: false,
};
