import { WebGPUBackend } from '../../src/backends/webgpu.ts';

/**
 * One WebGPU backend for a test file, with output poisoning on and every uncaptured WebGPU error
 * recorded, so a test can assert that none happened.
 */
export interface GpuFixture {
  backend: WebGPUBackend;
  uncaptured: string[];
}

export async function createGpuFixture(): Promise<GpuFixture> {
  const backend = await WebGPUBackend.create({ poisonOutputs: true });
  const uncaptured: string[] = [];
  backend.device.addEventListener('uncapturederror', (e) => {
    uncaptured.push((e as GPUUncapturedErrorEvent).error.message);
  });
  return { backend, uncaptured };
}

/**
 * Runs `fn` inside validation and out-of-memory error scopes and throws if WebGPU reported anything.
 */
export async function withErrorScope<T>(device: GPUDevice, fn: () => Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await fn();
  } finally {
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (validation) throw new Error(`WebGPU validation error: ${validation.message}`);
    if (oom) throw new Error(`WebGPU out-of-memory error: ${oom.message}`);
  }
  return result;
}
