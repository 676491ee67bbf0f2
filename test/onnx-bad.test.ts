import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { ModelError, ShapeError, WeightError } from '../src/errors.ts';
import { runBackendTest } from '../src/onnx/backend-test.ts';
import { attribute, buildModel, modelProto } from '../src/onnx/builder.ts';
import { loadOnnxModel } from '../src/onnx/graph.ts';
import { decodeModelProto, encodeModelProto, type ModelProtoJson, type NodeProtoJson } from '../src/onnx/proto.ts';
import { decodeTensor, encodeTensor, onnxTensor, type OnnxTensor } from '../src/onnx/tensor.ts';
import { mulberry32 } from '../src/util/rng.ts';

// Bad model files and bad feeds: each is a typed error (ModelError for the file, ShapeError for the
// feeds) whose message names what is wrong, thrown at once (every test has a short timeout).

const data = (path: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`./data/${path}`, import.meta.url))));
const LSTM_NODE_TEST = data('onnx-node/test_lstm_defaults/model.onnx'); // X [1, 3, 2], W, R as inputs; Y_h
const TORCH_LSTM = data('onnx-torch/lstm_bidir_2layer_head/model.onnx'); // x [batch, time, 3] → y, h_n, c_n
const FAST = 10_000;

/** The model re-encoded after `change` edited its decoded proto. */
function edited(bytes: Uint8Array, change: (m: ModelProtoJson) => void): Uint8Array {
  const m = decodeModelProto(bytes);
  change(m);
  return encodeModelProto(m);
}

function node(m: ModelProtoJson, opType: string): NodeProtoJson {
  return m.graph!.node!.find((n) => n.op_type === opType)!;
}

function expectModelError(bytes: Uint8Array, pattern: RegExp): void {
  expect(() => loadOnnxModel(bytes)).toThrow(ModelError);
  expect(() => loadOnnxModel(bytes)).toThrow(pattern);
}

const f32 = (dims: number[]) => onnxTensor('float32', dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5));

/** Feeds for the LSTM node test: X [1, 3, 2], W [1, 12, 2], R [1, 12, 3]. */
function lstmFeeds(): Record<string, OnnxTensor> {
  return { X: f32([1, 3, 2]), W: f32([1, 12, 2]), R: f32([1, 12, 3]) };
}

/** The LSTM node test with `attrs` added to its node. */
async function runLstmWith(...attrs: ReturnType<typeof attribute.int>[]): Promise<unknown> {
  const bytes = edited(LSTM_NODE_TEST, (m) => node(m, 'LSTM').attribute!.push(...attrs));
  return loadOnnxModel(bytes).run(lstmFeeds(), { backend: cpuBackend });
}

describe('bytes that are not an ONNX model', () => {
  it('an empty file', { timeout: FAST }, () => {
    expectModelError(new Uint8Array(0), /the model file is empty/);
  });

  it('truncated at every point', { timeout: FAST }, () => {
    for (let n = 1; n < TORCH_LSTM.length; n += 61) {
      expect(() => loadOnnxModel(TORCH_LSTM.subarray(0, n)), `first ${n} bytes`).toThrow(ModelError);
    }
    expectModelError(
      TORCH_LSTM.subarray(0, TORCH_LSTM.length >> 1),
      /not a valid ONNX ModelProto \(truncated or corrupt bytes: index out of range/,
    );
  });

  it('random garbage', { timeout: FAST }, () => {
    const rand = mulberry32(42);
    for (const size of [1, 7, 100, 4096, 100_000]) {
      for (let k = 0; k < 5; k++) {
        const bytes = Uint8Array.from({ length: size }, () => Math.floor(rand() * 256));
        expect(() => loadOnnxModel(bytes), `${size} random bytes #${k}`).toThrow(ModelError);
      }
    }
  });

  it('a TensorProto file instead of a model', { timeout: FAST }, () => {
    expect(() => loadOnnxModel(data('onnx-node/test_lstm_defaults/test_data_set_0/input_0.pb'))).toThrow(ModelError);
  });

  it('a model without a graph or without an ai.onnx opset, or an opset out of range', { timeout: FAST }, () => {
    expectModelError(
      edited(TORCH_LSTM, (m) => delete m.graph),
      /the model has no graph/,
    );
    expectModelError(
      edited(TORCH_LSTM, (m) => (m.opset_import = [{ domain: 'com.example', version: '1' }])),
      /imports no ai\.onnx opset/,
    );
    expectModelError(
      edited(TORCH_LSTM, (m) => (m.opset_import![0]!.version = '5')),
      /ai\.onnx opset 5 is not supported \(webrnn reads opsets 7–21\)/,
    );
    expectModelError(
      edited(TORCH_LSTM, (m) => (m.opset_import![0]!.version = '99')),
      /opset 99 is not supported/,
    );
  });
});

describe('graphs webrnn does not run', () => {
  it('an unknown operator, named with its node', { timeout: FAST }, () => {
    expectModelError(
      edited(TORCH_LSTM, (m) => (node(m, 'LSTM').op_type = 'LSTMv2')),
      /LSTMv2 node "\/rnn\/LSTM": operator "LSTMv2" is not supported/,
    );
    expectModelError(
      edited(LSTM_NODE_TEST, (m) => (node(m, 'LSTM').op_type = 'Scan')),
      /Scan node #0: operator "Scan" is not supported/,
    );
  });

  it('an operator of another domain', { timeout: FAST }, () => {
    expectModelError(
      edited(TORCH_LSTM, (m) => (node(m, 'MatMul').domain = 'com.microsoft')),
      /MatMul node "\/head\/MatMul": domain "com\.microsoft" is not supported/,
    );
  });

  it('an attribute the operator does not know', { timeout: FAST }, () => {
    const bytes = edited(TORCH_LSTM, (m) => node(m, 'LSTM').attribute!.push(attribute.int('proj_size', 2)));
    expectModelError(bytes, /LSTM node "\/rnn\/LSTM": attribute "proj_size" is not supported by LSTM/);
  });

  it('a node reading a value nothing defines', { timeout: FAST }, () => {
    const bytes = edited(TORCH_LSTM, (m) => (node(m, 'MatMul').input![1] = 'no_such_weight'));
    expectModelError(
      bytes,
      /MatMul node "\/head\/MatMul" reads "no_such_weight", which no graph input, initializer or earlier node provides/,
    );
  });

  it('a graph output no node produces', { timeout: FAST }, () => {
    expectModelError(
      edited(TORCH_LSTM, (m) => (m.graph!.output![0]!.name = 'nothing')),
      /graph output "nothing" is produced by no node/,
    );
  });

  it('initializers that are external, mis-sized, of an unsupported type or with overflowing dims', { timeout: FAST }, () => {
    const init = (change: (t: NonNullable<ModelProtoJson['graph']>['initializer'] & object) => void) =>
      edited(TORCH_LSTM, (m) => change(m.graph!.initializer!));
    expectModelError(
      init((ts) => {
        ts[0]!.data_location = 1;
        ts[0]!.external_data = [{ key: 'location', value: 'weights.bin' }];
      }),
      /initializer "head\.bias" keeps its data in an external file \(weights\.bin\)/,
    );
    expectModelError(
      init((ts) => (ts[0]!.raw_data = ts[0]!.raw_data!.subarray(1))),
      /initializer "head\.bias": raw_data holds 7 bytes but 2 float32 elements need 8/,
    );
    expectModelError(
      init((ts) => (ts[0]!.data_type = 10)),
      /initializer "head\.bias": element type float16 is not supported/,
    );
    expectModelError(
      init((ts) => (ts[0]!.dims = ['1048576', '1048576'])),
      /initializer "head\.bias": raw_data holds 8 bytes but 1099511627776 float32 elements need/,
    );
    expectModelError(
      init((ts) => (ts[0]!.dims = ['-2'])),
      /initializer "head\.bias": negative dimension -2/,
    );
    expectModelError(
      init((ts) => (ts[0]!.dims = ['9223372036854775807'])),
      /int64 value 9223372036854775807 is beyond ±2\^53 \(overflow\)/,
    );
  });

  it('a graph input that is not a tensor', { timeout: FAST }, () => {
    const bytes = edited(TORCH_LSTM, (m) => (m.graph!.input![0]!.type = { sequence_type: {} }));
    expectModelError(bytes, /graph input "x" is not a tensor/);
  });
});

describe('attribute values the recurrent operators reject', () => {
  it('each names the attribute and the node', { timeout: FAST }, async () => {
    await expect(runLstmWith(attribute.string('direction', 'sideways'))).rejects.toThrow(ModelError);
    await expect(runLstmWith(attribute.string('direction', 'sideways'))).rejects.toThrow(
      /attribute direction of LSTM node #0 is "sideways"/,
    );
    await expect(runLstmWith(attribute.strings('activations', ['Swish', 'Tanh', 'Tanh']))).rejects.toThrow(
      /LSTM node #0: unknown activation "Swish"/,
    );
    await expect(runLstmWith(attribute.strings('activations', ['Tanh']))).rejects.toThrow(
      /LSTM node #0: lstm takes 3 activation\(s\) per direction/,
    );
    await expect(runLstmWith(attribute.float('clip', -1))).rejects.toThrow(
      /LSTM node #0: clip must be a finite number ≥ 2⁻¹²⁶ \(float32's smallest normal\), got -1/,
    );
    await expect(runLstmWith(attribute.int('layout', 2))).rejects.toThrow(/LSTM node #0: layout must be 0 or 1/);
    await expect(runLstmWith(attribute.int('input_forget', 3))).rejects.toThrow(
      /attribute input_forget of LSTM node #0 must be 0 or 1, got 3/,
    );
    await expect(runLstmWith(attribute.float('direction', 1))).rejects.toThrow(
      /attribute direction of LSTM node #0 must be STRING, got FLOAT/,
    );
  });

  it('hidden_size that does not match W, or that overflows', { timeout: FAST }, async () => {
    const mismatch = edited(LSTM_NODE_TEST, (m) => (node(m, 'LSTM').attribute![0] = attribute.int('hidden_size', 4)));
    await expect(loadOnnxModel(mismatch).run(lstmFeeds(), { backend: cpuBackend })).rejects.toThrow(
      /attribute hidden_size of LSTM node #0 is 4 but W \[1, 12, 2\] holds 3 per gate/,
    );
    const overflow = edited(LSTM_NODE_TEST, (m) => (node(m, 'LSTM').attribute![0] = attribute.int('hidden_size', 2n ** 60n)));
    await expect(loadOnnxModel(overflow).run(lstmFeeds(), { backend: cpuBackend })).rejects.toThrow(/hidden_size .*overflow/);
  });

  it('weights of the wrong type or shape', { timeout: FAST }, async () => {
    const model = loadOnnxModel(LSTM_NODE_TEST);
    // Declared inputs are checked first: W must be float32 [1, 12, 2].
    await expect(
      model.run({ ...lstmFeeds(), W: onnxTensor('float64', [1, 12, 2], new Float64Array(24)) }, { backend: cpuBackend }),
    ).rejects.toThrow(/input "W" must be float32, got float64/);
    const undeclared = edited(LSTM_NODE_TEST, (m) => m.graph!.input!.forEach((v) => delete v.type!.tensor_type!.shape));
    await expect(loadOnnxModel(undeclared).run({ ...lstmFeeds(), R: f32([1, 12, 4]) }, { backend: cpuBackend })).rejects.toThrow(
      WeightError,
    );
    await expect(loadOnnxModel(undeclared).run({ ...lstmFeeds(), R: f32([1, 12, 4]) }, { backend: cpuBackend })).rejects.toThrow(
      /LSTM node #0: R is \[1, 12, 4\], expected \[1, 12, 3\]/,
    );
    await expect(loadOnnxModel(undeclared).run({ ...lstmFeeds(), X: f32([1, 3, 5]) }, { backend: cpuBackend })).rejects.toThrow(
      /LSTM node #0: X is \[1, 3, 5\], expected \[T, B, 2\]/,
    );
  });
});

describe('feeds that do not fit the model', () => {
  const model = loadOnnxModel(TORCH_LSTM);
  const run = (feeds: Record<string, OnnxTensor>) => model.run(feeds, { backend: cpuBackend });

  it('a missing or unknown input', { timeout: FAST }, async () => {
    await expect(run({})).rejects.toThrow(ShapeError);
    await expect(run({})).rejects.toThrow(/missing input "x"/);
    await expect(run({ x: f32([2, 4, 3]), h0: f32([1]) })).rejects.toThrow(/unknown input "h0"; the model's inputs are "x"/);
  });

  it('the wrong type, rank or static size', { timeout: FAST }, async () => {
    await expect(run({ x: onnxTensor('float64', [2, 4, 3], new Float64Array(24)) })).rejects.toThrow(
      /input "x" must be float32, got float64/,
    );
    await expect(run({ x: f32([2, 4]) })).rejects.toThrow(/input "x" must have dims \[batch, time, 3\], got \[2, 4\]/);
    await expect(run({ x: f32([2, 4, 5]) })).rejects.toThrow(ShapeError);
    await expect(loadOnnxModel(LSTM_NODE_TEST).run({ ...lstmFeeds(), X: f32([1, 4, 2]) }, { backend: cpuBackend })).rejects.toThrow(
      /input "X" must have dims \[1, 3, 2\], got \[1, 4, 2\]/,
    );
  });

  it('a tensor whose data does not match its dims', { timeout: FAST }, async () => {
    const x = { type: 'float32', dims: [2, 4, 3], data: new Float32Array(5) } as const;
    await expect(run({ x })).rejects.toThrow(/tensor data has 5 elements but dims \[2, 4, 3\] need 24/);
    expect(() => onnxTensor('float32', [2], new Float64Array(2))).toThrow(/a float32 tensor needs a Float32Array/);
  });
});

describe('operators given values they cannot use', () => {
  /** A model computing Reshape(x, shape) for a constant shape, or Expand likewise. */
  const shaped = (op: 'Reshape' | 'Expand', shape: bigint[]) =>
    buildModel({
      nodes: [{ op_type: op, name: `my_${op}`, input: ['x', 'shape'], output: ['y'] }],
      inputs: [{ name: 'x', type: 'float32', dims: [2, 3] }],
      initializers: { shape: onnxTensor('int64', [shape.length], BigInt64Array.from(shape)) },
      outputs: [{ name: 'y', type: 'float32' }],
    });
  const run = (bytes: Uint8Array) => loadOnnxModel(bytes).run({ x: f32([2, 3]) }, { backend: cpuBackend });

  it('an int64 shape beyond 2^53', { timeout: FAST }, async () => {
    await expect(run(shaped('Reshape', [2n ** 60n]))).rejects.toThrow(ModelError);
    await expect(run(shaped('Reshape', [2n ** 60n]))).rejects.toThrow(
      /Reshape node "my_Reshape" shape: int64 value 1152921504606846976 is beyond ±2\^53 \(overflow\)/,
    );
  });

  it('a reshape to the wrong element count', { timeout: FAST }, async () => {
    await expect(run(shaped('Reshape', [4n, -1n]))).rejects.toThrow(/Reshape node "my_Reshape": cannot reshape \[2, 3\] to \[4, -1\]/);
  });

  it('an Expand to an absurd size, refused before allocating', { timeout: FAST }, async () => {
    await expect(run(shaped('Expand', [1n << 16n, 1n << 16n, 2n, 3n]))).rejects.toThrow(
      /Expand node "my_Expand": a tensor of shape \[65536, 65536, 2, 3\] would hold 25769803776 elements, more than webrnn allows/,
    );
    await expect(run(shaped('Expand', [5n, 2n]))).rejects.toThrow(/Expand node "my_Expand": shapes \[2, 3\], \[5, 2\] do not broadcast/);
  });

  it('integer division by zero', { timeout: FAST }, async () => {
    const model = modelProto({
      nodes: [{ op_type: 'Div', input: ['a', 'b'], output: ['q'] }],
      initializers: { a: onnxTensor('int64', [1], BigInt64Array.of(1n)), b: onnxTensor('int64', [1], BigInt64Array.of(0n)) },
      outputs: [{ name: 'q', type: 'int64' }],
    });
    await expect(loadOnnxModel(encodeModelProto(model)).run({}, { backend: cpuBackend })).rejects.toThrow(
      /Div node #0: integer division by zero/,
    );
  });
});

describe('the backend-test runner', () => {
  it('reports a case with corrupt data files as failed instead of throwing', { timeout: FAST }, async () => {
    const input = data('onnx-node/test_lstm_defaults/test_data_set_0/input_0.pb');
    const output = data('onnx-node/test_lstm_defaults/test_data_set_0/output_0.pb');
    const dataSet = (inputs: Uint8Array[], outputs: Uint8Array[]) => ({ name: 'test_data_set_0', inputs, outputs });
    const base = { name: 'bad', model: LSTM_NODE_TEST };
    const W = encodeTensor(f32([1, 12, 2]));
    const R = encodeTensor(f32([1, 12, 3]));

    const garbage = await runBackendTest({ ...base, dataSets: [dataSet([input.subarray(0, 9), W, R], [output])] }, cpuBackend);
    expect(garbage).toMatchObject({ passed: false, errored: true });
    expect(garbage.message).toMatch(/test_data_set_0\/input_0\.pb is not a valid ONNX TensorProto/);

    const tooFew = await runBackendTest({ ...base, dataSets: [dataSet([input], [output])] }, cpuBackend);
    expect(tooFew.message).toMatch(/test_data_set_0 has 1 input files but the model has 3 inputs/);

    const noData = await runBackendTest({ ...base, dataSets: [] }, cpuBackend);
    expect(noData.message).toMatch(/no test_data_set_\* directory/);

    const wrongShape = encodeTensor(f32([2, 3]));
    const mismatch = await runBackendTest({ ...base, dataSets: [dataSet([input, W, R], [wrongShape])] }, cpuBackend);
    expect(mismatch).toMatchObject({ passed: false, errored: false });
    expect(mismatch.message).toMatch(/output "Y_h": got float32 \[1, 3, 3\], expected float32 \[2, 3\]/);
    expect(decodeTensor(wrongShape).dims).toEqual([2, 3]);
  });
});
