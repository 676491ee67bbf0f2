import type { InferenceSession } from 'onnxruntime-web';
import type { PreparedRun } from '../contender.ts';
import { buildOnnxModel, ONNX_INPUT, ONNX_OUTPUT } from './onnx-model.ts';
import { currentRuntime, hardwareThreads, LazySetup, onlyIn, reasonOf, type PeerContender, type PeerSettings } from './peer.ts';

/**
 * ONNX Runtime as a benchmark peer: the workload's RecurrentNet as an ONNX model (onnx-model.ts),
 * one InferenceSession per workload, and per run a float32 input tensor in and the whole output
 * `[B, T, O]` read back.
 *
 * - `onnxruntime-node-cpu`: onnxruntime-node's CPU EP in Node, intra-op threads = logical cores.
 *   A devDependency; its postinstall would download CUDA provider binaries from api.nuget.org (on
 *   linux/x64, always), which fails where only the npm registry is reachable, so the project's
 *   .npmrc sets `onnxruntime-node-install=skip` (the CPU EP ships inside the npm package). The
 *   contender still imports it lazily and reports its absence (`npm install --omit=dev`).
 * - `ort-web-wasm`: onnxruntime-web's wasm EP, in a browser or in Node; threads: 1, or in a
 *   cross-origin-isolated page (SharedArrayBuffer) the logical cores.
 * - `ort-web-webgpu`: onnxruntime-web's WebGPU EP, in a browser (its Node build has no WebGPU EP).
 *   That EP has no RNN, GRU or LSTM kernel (1.30): ONNX Runtime places the recurrent nodes on its
 *   wasm CPU EP and only the transposes and the head on WebGPU, copying between them; its settings
 *   say so, and its log level is raised to errors to drop the warning about that placement.
 */

/** The API both packages export (onnxruntime-common's). */
type Ort = typeof import('onnxruntime-web');

interface OrtSetup {
  ort: Ort;
  options: InferenceSession.SessionOptions;
  settings: PeerSettings;
}

/** A contender around one way of creating sessions; `setup` throws the reason it cannot run. */
function ortContender(name: string, setup: () => Promise<OrtSetup>): PeerContender {
  const lazy = new LazySetup(setup);
  return {
    name,
    settings: () => lazy.settings(),
    available: () => lazy.available(),
    async prepare(w, model, x): Promise<PreparedRun> {
      const { ort, options } = await lazy.load();
      const session = await ort.InferenceSession.create(buildOnnxModel(model), options);
      const dims = [w.batch, w.steps, w.inputSize];
      return {
        async run() {
          const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', x, dims) });
          return (await out[ONNX_OUTPUT]!.getData(true)) as Float32Array;
        },
        dispose: () => session.release(),
      };
    },
    async dispose() {
      await lazy.reset();
    },
  };
}

const ORT_NODE_MISSING =
  'onnxruntime-node is not installed (it is a devDependency: run `npm ci`; the project .npmrc skips its CUDA download)';

/** onnxruntime-node's CPU execution provider, with one intra-op thread per logical core. */
export function onnxRuntimeNode(): PeerContender {
  return ortContender('onnxruntime-node-cpu', async () => {
    const where = onlyIn('node', 'native bindings');
    if (where !== true) throw new Error(where);
    const specifier = 'onnxruntime-node'; // optional: a variable, so neither tsc nor Vite resolve it
    let ort: Ort;
    try {
      ort = (await import(/* @vite-ignore */ specifier)) as Ort;
    } catch (err) {
      throw new Error(`${ORT_NODE_MISSING} (${reasonOf(err)})`);
    }
    const threads = await hardwareThreads();
    return {
      ort,
      options: {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      },
      settings: { library: `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common}`, executionProvider: 'cpu', threads },
    };
  });
}

/** onnxruntime-web, loaded and its wasm runtime configured once (the settings apply at its first session). */
let ortWeb: Promise<{ ort: Ort; threads: number }> | null = null;

async function loadOrtWeb(): Promise<{ ort: Ort; threads: number }> {
  ortWeb ??= (async () => {
    const ort = (await import('onnxruntime-web')) as Ort;
    // Threads need SharedArrayBuffer: a cross-origin-isolated page. In Node they gained nothing here.
    const isolated = currentRuntime() === 'browser' && globalThis.crossOriginIsolated === true;
    const threads = isolated ? await hardwareThreads() : 1;
    ort.env.wasm.numThreads = threads;
    return { ort, threads };
  })();
  return ortWeb;
}

/** onnxruntime-web with the `wasm` EP (browser or Node) or the `webgpu` EP (browser). */
export function onnxRuntimeWeb(ep: 'wasm' | 'webgpu'): PeerContender {
  return ortContender(`ort-web-${ep}`, async () => {
    if (ep === 'webgpu') {
      const where = onlyIn('browser', "onnxruntime-web's Node build has no WebGPU EP");
      if (where !== true) throw new Error(where);
      if (!globalThis.navigator?.gpu) throw new Error('no WebGPU in this browser (navigator.gpu is undefined)');
    }
    const { ort, threads } = await loadOrtWeb();
    const settings: PeerSettings = {
      library: `onnxruntime-web ${ort.env.versions.web ?? ort.env.versions.common}`,
      executionProvider: ep,
      runtime: currentRuntime(),
      threads,
    };
    if (currentRuntime() === 'browser') settings.crossOriginIsolated = globalThis.crossOriginIsolated === true;
    if (ep === 'webgpu') settings.recurrentNodes = 'wasm EP (the WebGPU EP has no RNN/GRU/LSTM kernel)';
    const options: InferenceSession.SessionOptions = { executionProviders: [ep], graphOptimizationLevel: 'all' };
    if (ep === 'webgpu') options.logSeverityLevel = 3;
    return { ort, options, settings };
  });
}
