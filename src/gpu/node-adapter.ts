import { existsSync } from 'node:fs';
import { DeviceError } from '../errors.ts';
import { FileTuneStore } from '../tune/file-store.ts';
import { useNodeTuneStore } from '../tune/stores.ts';
import { throttleDawnPump } from './dawn-pump.ts';
import { isSoftwareAdapter, pickAdapter, useNodeAdapterSource, type AdapterInfoLike, type NodeAdapterSource } from './device.ts';

/**
 * Node's WebGPU: an adapter from Dawn's `webgpu` package (webrnn's optional peer dependency). Only
 * the package's `node` entry (src/node.ts) and the CLI import this module, so browser bundles never
 * contain `import("webgpu")` or `node:` imports. `webgpu` is imported when the first device is
 * asked for, so `import 'webrnn'` works in Node without it (the CPU reference needs no GPU).
 */

/** Software Vulkan drivers to try in Node when the loader finds no usable one by itself. */
const NODE_SOFTWARE_DRIVERS = [
  '/usr/share/vulkan/icd.d/lvp_icd.json',
  '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json',
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

/**
 * Every GPU object Dawn's `create()` returned. Dawn's event pump dereferences the instance while any
 * device from it lives; if V8 collected it the process would die at random (futex errors, segfaults).
 * Holding them here, in a module-level array that live code reads, keeps them reachable for the life
 * of the process.
 */
const nodeInstances: GPU[] = [];

interface NodeWebGPU {
  create(flags: string[]): GPU;
  globals: object;
}

/**
 * An adapter from Dawn: hardware first, then a fallback adapter; when the Vulkan loader finds no
 * usable driver (and none was named through VK_ICD_FILENAMES), the software drivers known on Debian
 * one by one.
 */
export const nodeAdapter: NodeAdapterSource = async (powerPreference, dawnFlags) => {
  let mod: NodeWebGPU;
  try {
    mod = (await import('webgpu')) as NodeWebGPU;
  } catch (cause) {
    throw new DeviceError("Node has no WebGPU: install Dawn's bindings with `npm install webgpu`", { cause });
  }
  // Dawn's GPU* classes and constants (GPUBufferUsage…) as globals, as in a browser.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const tryInstance = async (): Promise<GPUAdapter | null> => {
    const gpu = mod.create(dawnFlags);
    nodeInstances.push(gpu);
    const adapter = await pickAdapter(gpu, powerPreference);
    // Dawn's waits poll on setImmediate, a busy loop: on a software adapter the core it spins on is
    // one the shaders need, so it spins only briefly, then polls on a timer (./dawn-pump.ts). On a
    // GPU it keeps polling at full speed: no added latency in timings.
    if (adapter && isSoftwareAdapter(adapter.info as AdapterInfoLike)) throttleDawnPump();
    return adapter;
  };

  const adapter = await tryInstance();
  if (adapter) return { adapter };
  const env = process.env;
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) {
    throw new DeviceError(
      `no WebGPU adapter from the Vulkan driver(s) named by VK_ICD_FILENAMES/VK_DRIVER_FILES ` +
        `(${env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES})`,
    );
  }
  for (const file of NODE_SOFTWARE_DRIVERS) {
    if (!existsSync(file)) continue;
    // The Vulkan loader reads this when Dawn creates its next instance.
    env.VK_ICD_FILENAMES = file;
    const fallback = await tryInstance();
    if (fallback) return { adapter: fallback, driverFile: file };
    delete env.VK_ICD_FILENAMES;
  }
  throw new DeviceError(
    'no WebGPU adapter: no Vulkan driver worked. Install a GPU driver, or a software one ' +
      '(Debian: apt-get install chromium, for SwiftShader), and the Vulkan loader (libvulkan1)',
  );
};

/**
 * Makes `acquireGpu` use Dawn in Node, and the autotuner keep its choices in a file under the user's
 * cache folder (src/tune/file-store.ts). Idempotent; the `node` entry and the CLI call it.
 */
export function installNodeGpu(): void {
  useNodeAdapterSource(nodeAdapter);
  useNodeTuneStore(() => new FileTuneStore());
}
