import type * as tfc from '@tensorflow/tfjs-core';
import { acquireGpu, type GpuContext } from '../../src/gpu/device.ts';
import type { PreparedRun } from '../contender.ts';
import { currentRuntime, LazySetup, type PeerContender, type PeerSettings } from './peer.ts';
import { buildTfjsModel, type Tfjs } from './tfjs-model.ts';

/**
 * TensorFlow.js as a benchmark peer: the workload's RecurrentNet as a tf.layers model
 * (tfjs-model.ts) on one backend, per run the input uploaded as a tensor, the model applied and the
 * whole output read back with `await y.data()`, every tensor disposed.
 *
 * - `tfjs-webgpu`: @tensorflow/tfjs-backend-webgpu. In a browser it registers itself on
 *   navigator.gpu; in Node it runs on Dawn (the `webgpu` package) with a device from webrnn's own
 *   acquireGpu, so both libraries run on the same adapter.
 * - `tfjs-wasm`: @tensorflow/tfjs-backend-wasm (XNNPACK), in Node or a browser; threads as the
 *   backend picks them (1 in Node and in pages that are not cross-origin isolated).
 * - `tfjs-cpu`: @tensorflow/tfjs-backend-cpu, plain JavaScript kernels.
 *
 * The backend is TF.js's global engine state: each run switches to its own backend if another
 * contender changed it.
 */

export type TfjsBackend = 'cpu' | 'wasm' | 'webgpu';

interface TfjsSetup {
  tf: Tfjs;
  settings: PeerSettings;
  /** Releases what setup acquired (Node: the tfjs-webgpu backend and its Dawn device). */
  release(): void;
}

async function loadTfjs(): Promise<Tfjs> {
  const [core, tfl] = await Promise.all([import('@tensorflow/tfjs-core'), import('@tensorflow/tfjs-layers')]);
  return { core, tfl };
}

/**
 * Runs `construct` with a `navigator.gpu` in place: TF.js's WebGPUBackend constructor checks that
 * one exists (and uses nothing else of it; the device is passed in). Node has no navigator (20) or
 * one without gpu (21+); the previous state is restored, so webrnn's own device code still sees Node.
 */
function withNavigatorGpu<T>(construct: () => T): T {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: {} }, configurable: true, writable: true });
  try {
    return construct();
  } finally {
    if (saved) Object.defineProperty(globalThis, 'navigator', saved);
    else delete (globalThis as { navigator?: unknown }).navigator;
  }
}

/** Node: registers TF.js's `webgpu` backend on a Dawn device from webrnn's acquireGpu. */
async function registerDawnBackend(core: typeof tfc): Promise<{ gpu: GpuContext; adapter: string }> {
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const gpu = await acquireGpu({ log: false });
  const backend = withNavigatorGpu(() => new WebGPUBackend(gpu.device, gpu.adapter.info));
  core.registerBackend('webgpu', () => backend);
  const { vendor, architecture, description } = gpu.summary;
  return { gpu, adapter: `${vendor} ${architecture}${description ? ` (${description})` : ''}, Dawn in Node` };
}

/** Imports the backend's package (which registers it) and makes it the current backend. */
async function setupBackend(name: TfjsBackend): Promise<TfjsSetup> {
  const tf = await loadTfjs();
  const { core } = tf;
  const settings: PeerSettings = { library: `@tensorflow/tfjs ${core.version_core}`, backend: name, runtime: currentRuntime() };
  let release = () => {};
  if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (name === 'webgpu' && currentRuntime() === 'node') {
    if (!core.findBackendFactory('webgpu')) {
      const { gpu, adapter } = await registerDawnBackend(core);
      settings.adapter = adapter;
      release = () => {
        core.removeBackend('webgpu');
        gpu.destroy();
      };
    }
  } else if (name === 'webgpu') {
    if (!globalThis.navigator?.gpu) throw new Error('no WebGPU in this browser (navigator.gpu is undefined)');
    await import('@tensorflow/tfjs-backend-webgpu');
  }
  if (!(await core.setBackend(name))) {
    release();
    throw new Error(`TF.js could not initialise its ${name} backend (see the console)`);
  }
  if (name === 'wasm') settings.threads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  if (name === 'webgpu' && !settings.adapter) {
    const info = (core.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
    settings.adapter = `${info?.vendor ?? 'unknown'} ${info?.architecture ?? ''}`.trim();
  }
  return { tf, settings, release };
}

/** TF.js Layers on one backend: `tfjs-webgpu`, `tfjs-wasm` or `tfjs-cpu`. */
export function tfjsPeer(backend: TfjsBackend): PeerContender {
  const lazy = new LazySetup(() => setupBackend(backend));
  return {
    name: `tfjs-${backend}`,
    settings: () => lazy.settings(),
    available: () => lazy.available(),
    async prepare(w, model, x): Promise<PreparedRun> {
      const { tf } = await lazy.load();
      const { core } = tf;
      if (core.getBackend() !== backend) await core.setBackend(backend);
      const seq = buildTfjsModel(tf, model);
      return {
        async run() {
          if (core.getBackend() !== backend) await core.setBackend(backend);
          const input = core.tensor3d(x, [w.batch, w.steps, w.inputSize]);
          const y = core.tidy(() => seq.apply(input) as tfc.Tensor);
          try {
            return (await y.data()) as Float32Array;
          } finally {
            input.dispose();
            y.dispose();
          }
        },
        dispose() {
          seq.dispose();
        },
      };
    },
    async dispose() {
      (await lazy.reset())?.release();
    },
  };
}
