import { onnxRuntimeNode, onnxRuntimeWeb } from './onnxruntime.ts';
import { currentRuntime, type PeerContender, type Runtime } from './peer.ts';
import { pytorchCpu, pytorchCuda } from './pytorch.ts';
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

/**
 * Peers that need software outside npm, reported unavailable (with the reason) where it is missing:
 *
 *   Node:    pytorch-cpu (Debian's /usr/bin/python3 with python3-torch, or WEBRNN_BENCH_PYTHON's),
 *            pytorch-cuda-fp32 and pytorch-cuda-tf32 (cuDNN with TF32 off and on: a python3 whose torch
 *            sees CUDA; bench/peers/pytorch.ts)
 *   browser: none
 *
 * They are contenders of `npm run bench` like the others; unlike {@link peerContenders}, which the
 * peer tests require on every machine, a machine without them still runs the benchmark and the tests.
 */
export function systemPeerContenders(runtime: Runtime = currentRuntime()): PeerContender[] {
  return runtime === 'node' ? [pytorchCpu(), pytorchCuda(false), pytorchCuda(true)] : [];
}

export { buildOnnxModel, ONNX_INPUT, ONNX_OUTPUT } from './onnx-model.ts';
export { buildTfjsModel, kerasWeights, type KerasLayerWeights, type Tfjs } from './tfjs-model.ts';
export { onnxRuntimeNode, onnxRuntimeWeb } from './onnxruntime.ts';
export { tfjsPeer, type TfjsBackend } from './tfjs.ts';
export { pytorchCpu, pytorchCuda, pytorchPeer, PYTHON_ENV, TORCH_PEER_SCRIPT_ENV, TorchPeerError } from './pytorch.ts';
export type { PeerContender, PeerSettings, Runtime } from './peer.ts';
