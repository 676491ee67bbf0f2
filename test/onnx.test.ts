import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import type { Backend } from '../src/backends/backend.ts';
import { main } from '../src/cli/main.ts';
import { runBackendTestDirs } from '../src/onnx/backend-test-files.ts';
import { attribute, buildModel } from '../src/onnx/builder.ts';
import { loadOnnxModel } from '../src/onnx/graph.ts';
import type { AttributeProtoJson } from '../src/onnx/proto.ts';
import { decodeTensor, encodeTensor, onnxTensor, type OnnxDataType, type OnnxTensor } from '../src/onnx/tensor.ts';
import { recurrentLayerReference } from '../src/reference/recurrent-layer.ts';
import { activation } from '../src/rnn/activations.ts';
import { recurrentLayerSpec } from '../src/rnn/spec.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';

// ONNX models: the ONNX project's own RNN/GRU/LSTM node tests (test/onnx/make_node_tests.py) and
// PyTorch exports with PyTorch's outputs (test/onnx/make_torch_exports.py), through the backend-test
// runner and the `webrnn onnx-test` command, on the CPU reference and on WebGPU; then each small
// operator the exporter uses, against values computed by hand (or with numpy).

const NODE_TESTS = fileURLToPath(new URL('./data/onnx-node', import.meta.url));
const TORCH_EXPORTS = fileURLToPath(new URL('./data/onnx-torch', import.meta.url));
const NODE_TEST_COUNT = 12;
const TORCH_EXPORT_COUNT = 5;

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err: err.join('\n') };
}

async function expectAllPass(dirs: string[], backend: Backend, count: number): Promise<void> {
  const results = await runBackendTestDirs(dirs, backend);
  expect(results).toHaveLength(count);
  for (const r of results) expect(r, `${r.name}: ${r.message}`).toMatchObject({ passed: true, message: '' });
}

describe('ONNX backend tests on the CPU reference', () => {
  it(`passes the ${NODE_TEST_COUNT} ONNX node tests for RNN, GRU and LSTM`, () => expectAllPass([NODE_TESTS], cpuBackend, NODE_TEST_COUNT));

  it('reproduces PyTorch on its exported LSTM, GRU and RNN models', () => expectAllPass([TORCH_EXPORTS], cpuBackend, TORCH_EXPORT_COUNT));

  it('reads the declared inputs and outputs, symbolic dims by name', () => {
    return readFile(join(TORCH_EXPORTS, 'lstm_bidir_2layer_head', 'model.onnx')).then((bytes) => {
      const model = loadOnnxModel(bytes);
      expect(model.inputs).toEqual([{ name: 'x', type: 'float32', dims: ['batch', 'time', 3] }]);
      expect(model.outputs.map((o) => o.name)).toEqual(['y', 'h_n', 'c_n']);
      // h_n is [num_layers · directions, batch, hidden]; the exporter names the batch dimension itself.
      expect(model.outputs[1]!.dims).toEqual([4, expect.any(String), 5]);
      expect(model.opset).toBe(14);
    });
  });
});

describe('webrnn onnx-test', () => {
  it('prints one line per case and the summary, exit code 0', async () => {
    const r = await cli('onnx-test', '--cpu', NODE_TESTS);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^backend: cpu/);
    const cases = r.out.slice(1, -1);
    expect(cases).toHaveLength(NODE_TEST_COUNT);
    for (const line of cases) expect(line).toMatch(/^PASS {2}\S+test_\w+ {2}max abs error \d\.\d\de[-+]\d+$/);
    expect(r.out.at(-1)).toBe(`${NODE_TEST_COUNT} passed, 0 failed`);
  });

  it('fails a case whose expected output was changed, and one that cannot run, exit code 1', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'webrnn-onnx-'));
    try {
      const bad = join(tmp, 'test_gru_defaults_perturbed');
      await cp(join(NODE_TESTS, 'test_gru_defaults'), bad, { recursive: true });
      const file = join(bad, 'test_data_set_0', 'output_0.pb');
      const t = decodeTensor(await readFile(file));
      (t.data as Float32Array)[3]! += 0.01;
      await writeFile(file, encodeTensor(t, 'Y_h'));
      const missing = join(tmp, 'no_such_case');

      const r = await cli('onnx-test', '--cpu', join(NODE_TESTS, 'test_lstm_defaults'), bad, missing);
      expect(r.code).toBe(1);
      expect(r.out.find((l) => l.includes('test_lstm_defaults'))).toMatch(/^PASS/);
      expect(r.out.find((l) => l.includes('perturbed'))).toMatch(
        /^FAIL .*max abs error 1\.00e-2 .*mismatch: .*"Y_h".*1 of 15 elements differ/,
      );
      expect(r.out.find((l) => l.includes('no_such_case'))).toMatch(/^FAIL .*error: .*no_such_case/);
      expect(r.out.at(-1)).toBe('1 passed, 2 failed');
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('rejects a missing directory argument and unknown options with exit code 2', async () => {
    expect((await cli('onnx-test')).code).toBe(2);
    const r = await cli('onnx-test', '--gpu-please', NODE_TESTS);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option --gpu-please/);
    expect((await cli('help')).out.join('\n')).toMatch(/onnx-test \[--cpu\] DIR/);
  });
});

// ---- single operators ------------------------------------------------------------------------

const f32 = (dims: number[], values: number[]) => onnxTensor('float32', dims, Float32Array.from(values));
const i64 = (dims: number[], values: number[]) => onnxTensor('int64', dims, BigInt64Array.from(values, BigInt));
const values = (t: OnnxTensor) => Array.from(t.data, Number);

/** Runs one node on the CPU; null inputs are omitted optional inputs. */
async function runOp(
  op: string,
  inputs: (OnnxTensor | null)[],
  attrs: AttributeProtoJson[] = [],
  options: { opset?: number; outputType?: OnnxDataType } = {},
): Promise<OnnxTensor> {
  const names = inputs.map((t, i) => (t ? `x${i}` : ''));
  const given = inputs.flatMap((t, i) => (t ? [[names[i]!, t] as const] : []));
  const model = loadOnnxModel(
    buildModel({
      nodes: [{ op_type: op, name: `test_${op}`, input: names, output: ['y'], attribute: attrs }],
      inputs: given.map(([name, t]) => ({ name, type: t.type, dims: t.dims })),
      outputs: [{ name: 'y', type: options.outputType ?? inputs[0]?.type ?? 'float32' }],
      opset: options.opset,
    }),
  );
  return (await model.run(Object.fromEntries(given), { backend: cpuBackend })).y!;
}

async function expectOp(result: Promise<OnnxTensor>, dims: number[], want: number[]): Promise<void> {
  const t = await result;
  expect(t.dims).toEqual(dims);
  expectClose(values(t), want, { atol: 1e-6, rtol: 1e-6 }, 'result');
}

describe('ONNX operators around the recurrent layers', () => {
  it('Add, Sub, Mul, Div broadcast as numpy does', async () => {
    const a = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    await expectOp(runOp('Add', [a, f32([3], [10, 20, 30])]), [2, 3], [11, 22, 33, 14, 25, 36]);
    await expectOp(runOp('Sub', [f32([2, 1], [1, 2]), f32([1, 3], [1, 2, 3])]), [2, 3], [0, -1, -2, 1, 0, -1]);
    await expectOp(runOp('Mul', [a, f32([], [2])]), [2, 3], [2, 4, 6, 8, 10, 12]);
    await expectOp(runOp('Div', [a, f32([2, 1], [2, 4])]), [2, 3], [0.5, 1, 1.5, 1, 1.25, 1.5]);
  });

  it('divides int64 exactly, truncating toward zero', async () => {
    const big = 2n ** 62n + 3n;
    const q = await runOp('Div', [onnxTensor('int64', [3], BigInt64Array.of(7n, -7n, big)), i64([3], [2, 2, 1])]);
    expect(q.type).toBe('int64');
    expect([...(q.data as BigInt64Array)]).toEqual([3n, -3n, big]);
  });

  it('Equal, Where, Cast, Identity', async () => {
    const eq = await runOp('Equal', [i64([3], [1, 2, 3]), i64([3], [1, 0, 3])], [], { outputType: 'bool' });
    expect(eq.type).toBe('bool');
    expect(values(eq)).toEqual([1, 0, 1]);
    await expectOp(runOp('Where', [eq, f32([3], [1, 2, 3]), f32([1], [-1])]), [3], [1, -1, 3]);
    const cast = await runOp('Cast', [f32([3], [1.7, -1.7, 3])], [attribute.int('to', 7)], { outputType: 'int64' });
    expect(cast.type).toBe('int64');
    expect([...(cast.data as BigInt64Array)]).toEqual([1n, -1n, 3n]);
    const back = await runOp('Cast', [cast], [attribute.int('to', 1)], { outputType: 'float32' });
    expect(back.data).toEqual(Float32Array.of(1, -1, 3));
    await expectOp(runOp('Identity', [f32([1, 2], [4, 5])]), [1, 2], [4, 5]);
  });

  it('Relu, Tanh, Sigmoid', async () => {
    const x = f32([3], [-1, 0, 0.5]);
    await expectOp(runOp('Relu', [x]), [3], [0, 0, 0.5]);
    await expectOp(runOp('Tanh', [x]), [3], [-0.7615941762924194, 0, 0.46211716532707214]);
    await expectOp(runOp('Sigmoid', [x]), [3], [0.2689414322376251, 0.5, 0.622459352016449]);
  });

  it('Shape (with start/end), Reshape (0 and -1), Flatten', async () => {
    const x = f32(
      [2, 3, 4],
      Array.from({ length: 24 }, (_, i) => i),
    );
    await expectOp(runOp('Shape', [x]), [3], [2, 3, 4]);
    await expectOp(runOp('Shape', [x], [attribute.int('start', 1)]), [2], [3, 4]);
    await expectOp(runOp('Shape', [x], [attribute.int('end', -1)]), [2], [2, 3]);
    expect((await runOp('Reshape', [x, i64([2], [0, -1])])).dims).toEqual([2, 12]);
    expect((await runOp('Reshape', [x, i64([3], [-1, 2, 2])])).dims).toEqual([6, 2, 2]);
    expect((await runOp('Flatten', [x], [attribute.int('axis', 2)])).dims).toEqual([6, 4]);
    expect((await runOp('Flatten', [x], [attribute.int('axis', 0)])).dims).toEqual([1, 24]);
  });

  it('Squeeze and Unsqueeze take axes as an attribute before opset 13 and as an input from 13', async () => {
    const x = f32([1, 3, 1], [1, 2, 3]);
    expect((await runOp('Squeeze', [x], [attribute.ints('axes', [0])], { opset: 11 })).dims).toEqual([3, 1]);
    expect((await runOp('Squeeze', [x, i64([1], [-1])], [], { opset: 13 })).dims).toEqual([1, 3]);
    expect((await runOp('Squeeze', [x])).dims).toEqual([3]);
    const y = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    expect((await runOp('Unsqueeze', [y], [attribute.ints('axes', [0, 3])], { opset: 11 })).dims).toEqual([1, 2, 3, 1]);
    expect((await runOp('Unsqueeze', [y, i64([2], [-1, 1])], [], { opset: 13 })).dims).toEqual([2, 1, 3, 1]);
  });

  it('Expand, ConstantOfShape, Constant, Concat', async () => {
    await expectOp(runOp('Expand', [f32([3, 1], [1, 2, 3]), i64([3], [2, 1, 2])]), [2, 3, 2], [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    const sevens = await runOp('ConstantOfShape', [i64([2], [2, 2])], [attribute.tensor('value', i64([1], [7]))], { outputType: 'int64' });
    expect(sevens.type).toBe('int64');
    expect(values(sevens)).toEqual([7, 7, 7, 7]);
    await expectOp(runOp('ConstantOfShape', [i64([1], [3])]), [3], [0, 0, 0]);
    await expectOp(runOp('Constant', [], [attribute.ints('value_ints', [4, 5])], { outputType: 'int64' }), [2], [4, 5]);
    await expectOp(runOp('Constant', [], [attribute.tensor('value', f32([2], [1.5, 2.5]))]), [2], [1.5, 2.5]);
    await expectOp(
      runOp('Concat', [f32([2, 1], [1, 2]), f32([2, 2], [3, 4, 5, 6])], [attribute.int('axis', -1)]),
      [2, 3],
      [1, 3, 4, 2, 5, 6],
    );
  });

  it('Transpose, Gather (negative and scalar indices), Slice (attribute and input forms, negative steps)', async () => {
    const x = f32([2, 3], [0, 1, 2, 3, 4, 5]);
    await expectOp(runOp('Transpose', [x]), [3, 2], [0, 3, 1, 4, 2, 5]);
    await expectOp(
      runOp('Transpose', [f32([2, 3, 1], [0, 1, 2, 3, 4, 5])], [attribute.ints('perm', [1, 0, 2])]),
      [3, 2, 1],
      [0, 3, 1, 4, 2, 5],
    );
    await expectOp(runOp('Gather', [x, i64([2], [-1, 0])], [attribute.int('axis', 1)]), [2, 2], [2, 0, 5, 3]);
    await expectOp(runOp('Gather', [x, i64([], [1])]), [3], [3, 4, 5]);
    const INT64_MAX = 2n ** 63n - 1n;
    const attrs = [attribute.ints('starts', [1]), attribute.ints('ends', [INT64_MAX]), attribute.ints('axes', [1])];
    await expectOp(runOp('Slice', [x], attrs, { opset: 9 }), [2, 2], [1, 2, 4, 5]);
    const reversed = runOp('Slice', [
      x,
      i64([1], [-1]),
      onnxTensor('int64', [1], BigInt64Array.of(-INT64_MAX)),
      i64([1], [1]),
      i64([1], [-1]),
    ]);
    await expectOp(reversed, [2, 3], [2, 1, 0, 5, 4, 3]);
    await expectOp(runOp('Slice', [x, i64([1], [0]), i64([1], [1]), null, null]), [1, 3], [0, 1, 2]);
  });

  it('MatMul (batch broadcasting, 1-D operands) and Gemm (alpha, beta, transA, transB, broadcast C)', async () => {
    const A = f32(
      [2, 1, 2, 3],
      Array.from({ length: 12 }, (_, i) => i),
    );
    const B = f32([3, 2], [0, 1, 2, 3, 4, 5]);
    await expectOp(runOp('MatMul', [A, B]), [2, 1, 2, 2], [10, 13, 28, 40, 46, 67, 64, 94]);
    await expectOp(runOp('MatMul', [f32([3], [1, 2, 3]), B]), [2], [16, 22]);
    const a = f32([3, 2], [1, 2, 3, 4, 5, 6]);
    const b = f32([2, 3], [1, 0, 2, 0, 1, 1]);
    const c = f32([3], [1, 2, 3]);
    const want = [2.5, 5, 8, 3.5, 6, 11, 4.5, 7, 14];
    const scale = [attribute.float('alpha', 0.5), attribute.float('beta', 2)];
    await expectOp(runOp('Gemm', [a, b, c], scale), [3, 3], want);
    const aT = f32([2, 3], [1, 3, 5, 2, 4, 6]);
    const bT = f32([3, 2], [1, 0, 0, 1, 2, 1]);
    await expectOp(runOp('Gemm', [aT, bT, c], [...scale, attribute.int('transA', 1), attribute.int('transB', 1)]), [3, 3], want);
  });

  it('hands activation_alpha / activation_beta to the activations that take them, in order', async () => {
    // LSTM f = HardSigmoid(alpha 0.3, beta 0.4), g = Tanh (takes none), h = ScaledTanh(alpha 0.7, beta 1.1).
    const rand = mulberry32(7);
    const [I, H, B, T] = [2, 3, 2, 4];
    const W = uniformArray(rand, 4 * H * I, -1, 1);
    const R = uniformArray(rand, 4 * H * H, -1, 1);
    const X = uniformArray(rand, T * B * I, -1, 1);
    const model = loadOnnxModel(
      buildModel({
        nodes: [
          {
            op_type: 'LSTM',
            input: ['X', 'W', 'R'],
            output: ['Y'],
            attribute: [
              attribute.strings('activations', ['HardSigmoid', 'Tanh', 'ScaledTanh']),
              attribute.floats('activation_alpha', [0.3, 0.7]),
              attribute.floats('activation_beta', [0.4, 1.1]),
              attribute.int('hidden_size', H),
            ],
          },
        ],
        inputs: [{ name: 'X', type: 'float32', dims: [T, B, I] }],
        initializers: { W: onnxTensor('float32', [1, 4 * H, I], W), R: onnxTensor('float32', [1, 4 * H, H], R) },
        outputs: [{ name: 'Y', type: 'float32' }],
      }),
    );
    const got = await model.run({ X: onnxTensor('float32', [T, B, I], X) }, { backend: cpuBackend });
    const spec = recurrentLayerSpec({
      cell: 'lstm',
      inputSize: I,
      hiddenSize: H,
      activations: [activation('HardSigmoid', 0.3, 0.4), activation('Tanh'), activation('ScaledTanh', 0.7, 1.1)],
    });
    const want = recurrentLayerReference(
      spec,
      { W, R, B: null, P: null },
      { X, batch: B, steps: T, sequenceLens: null, initialH: null, initialC: null },
    );
    expect(got.Y!.dims).toEqual([T, 1, B, H]);
    expectClose(got.Y!.data as Float32Array, want.Y, FLOAT32_TOLERANCE, 'Y');
  });
});

// ---- WebGPU (last: it needs an adapter) -------------------------------------------------------

describe('ONNX backend tests on WebGPU', () => {
  let gpu: GpuFixture;

  beforeAll(async () => {
    gpu = await createGpuFixture();
  });

  afterAll(() => {
    gpu?.backend.dispose();
  });

  it(`passes the ${NODE_TEST_COUNT} ONNX node tests and reproduces the PyTorch exports, reusing its buffers`, async () => {
    const runAll = () =>
      withErrorScope(gpu.backend.device, async () => {
        await expectAllPass([NODE_TESTS], gpu.backend, NODE_TEST_COUNT);
        await expectAllPass([TORCH_EXPORTS], gpu.backend, TORCH_EXPORT_COUNT);
      });
    await runAll();
    const buffers = gpu.backend.pool.liveBuffers;
    await runAll(); // the same shapes again: every buffer comes from the pool
    expect(gpu.backend.pool.liveBuffers).toBe(buffers);
    expect(gpu.uncaptured).toEqual([]);
  });

  it('webrnn onnx-test runs on the GPU by default', async () => {
    const r = await cli('onnx-test', NODE_TESTS, TORCH_EXPORTS);
    expect(r.out[0]).toMatch(/^backend: webgpu/);
    expect(r.out.at(-1)).toBe(`${NODE_TEST_COUNT + TORCH_EXPORT_COUNT} passed, 0 failed`);
    expect(r.code).toBe(0);
  });
});
