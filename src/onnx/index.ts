/**
 * ONNX models in webrnn: load a `.onnx` file, run its graph with RNN, GRU and LSTM nodes on a
 * backend (WebGPU or the CPU reference) and the small operators around them on the CPU, and run
 * cases in the ONNX backend-test layout. Browser-safe; the directory reader for backend tests is
 * `./backend-test-files.ts` (Node only) and is not re-exported here.
 * @module webrnn/onnx
 */
export { loadOnnxModel, OnnxModel, MIN_OPSET, MAX_OPSET, type OnnxRunOptions, type OnnxValueInfo } from './graph.ts';
export {
  decodeTensor,
  encodeTensor,
  onnxTensor,
  type OnnxData,
  type OnnxDataType,
  type OnnxTensor,
} from './tensor.ts';
export { OPERATORS } from './ops/index.ts';
export type { OpContext, OpDef } from './ops/op.ts';
export type { NodeAttributes } from './attributes.ts';
export {
  formatBackendTestResult,
  runBackendTest,
  summarizeBackendTests,
  type BackendTestCase,
  type BackendTestDataSet,
  type BackendTestResult,
} from './backend-test.ts';
