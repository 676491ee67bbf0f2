import { onnxRuntimeNode, onnxRuntimeWeb } from './onnxruntime.ts';
import { currentRuntime, type PeerContender, type Runtime } from './peer.ts';
import { tfjsPeer } from './tfjs.ts';

/**
 * The peer libraries of the speed issue, as benchmark contenders (bench/contender.ts), for the
 * runtime they are compared in. Each validates like webrnn's own contenders (the harness compares
 * its `[B, T, O]` with the float64 reference) and says through `available()` why it cannot run.
 *
 *   Node:    onnxruntime-node-cpu, ort-web-wasm, tfjs-wasm, tfjs-cpu, tfjs-webgpu (on Dawn)
 *   browser: ort-web-wasm, ort-web-webgpu, tfjs-webgpu
 */
export function peerContenders(runtime: Runtime = currentRuntime()): PeerContender[] {
  return runtime === 'node'
    ? [onnxRuntimeNode(), onnxRuntimeWeb('wasm'), tfjsPeer('wasm'), tfjsPeer('cpu'), tfjsPeer('webgpu')]
    : [onnxRuntimeWeb('wasm'), onnxRuntimeWeb('webgpu'), tfjsPeer('webgpu')];
}

export { buildOnnxModel, ONNX_INPUT, ONNX_OUTPUT } from './onnx-model.ts';
export { buildTfjsModel, kerasWeights, type KerasLayerWeights, type Tfjs } from './tfjs-model.ts';
export { onnxRuntimeNode, onnxRuntimeWeb } from './onnxruntime.ts';
export { tfjsPeer, type TfjsBackend } from './tfjs.ts';
export type { PeerContender, PeerSettings, Runtime } from './peer.ts';
