// Runs an ONNX model exported from PyTorch on the GPU and checks it against PyTorch's own output.
// lstm.onnx: torch.onnx.export of a 2-layer bidirectional nn.LSTM(3, 5, batch_first=True) with an
// nn.Linear(10, 2) head at every step (test/onnx/make_torch_exports.py in the webrnn repository);
// x.pb is an input of 3 sequences of 7 steps, y-pytorch.pb what PyTorch computed for it.
import { readFileSync } from 'node:fs';
import { compare, FLOAT32_TOLERANCE, WebGPUBackend } from 'webrnn';
import { decodeTensor, loadOnnxModel } from 'webrnn/onnx';

const file = (name) => new Uint8Array(readFileSync(new URL(name, import.meta.url)));
const model = loadOnnxModel(file('lstm.onnx'));
console.log('inputs', model.inputs.map((v) => v.name).join(', '), '| outputs', model.outputs.map((v) => v.name).join(', '));

const backend = await WebGPUBackend.create();
const x = decodeTensor(file('x.pb')); // float32 [batch, time, features]
const { y } = await model.run({ x }, { backend }); // RNN nodes on the GPU, the rest on the CPU
const check = compare(y.data, decodeTensor(file('y-pytorch.pb')).data, FLOAT32_TOLERANCE, y.dims);
console.log(`y [${y.dims}] matches PyTorch: ${check.ok}, largest difference ${check.maxAbsError.toExponential(1)}`);
backend.dispose();
if (!check.ok) process.exitCode = 1;
