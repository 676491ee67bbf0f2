import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src/backends/cpu.ts';
import { NumericError, ShapeError, WeightError } from '../../src/errors.ts';
import { buildModel } from '../../src/onnx/builder.ts';
import { loadOnnxModel } from '../../src/onnx/graph.ts';
import { onnxTensor } from '../../src/onnx/tensor.ts';

// Failures the fuzzing suite found in files no other part of issue 12 owns, each pinned by the
// smallest input that showed it (see /work/notes/fuzz-findings.md for the fuzz counterexamples).

/** x [2] · W [2, 2] + b [2] on the CPU (MatMul, Add): no recurrent node, so no backend check is involved. */
function linearModel(W: number[], b: number[]): Uint8Array {
  return buildModel({
    nodes: [
      { op_type: 'MatMul', name: 'head', input: ['x', 'W'], output: ['z'] },
      { op_type: 'Add', name: 'bias', input: ['z', 'b'], output: ['y'] },
    ],
    inputs: [{ name: 'x', type: 'float32', dims: [1, 2] }],
    initializers: { W: onnxTensor('float32', [2, 2], Float32Array.from(W)), b: onnxTensor('float32', [2], Float32Array.from(b)) },
    outputs: [{ name: 'y', type: 'float32' }],
  });
}

const x = (values: number[]) => ({ x: onnxTensor('float32', [1, 2], Float32Array.from(values)) });

describe('ONNX graphs never return a non-finite output without an error (M4)', () => {
  it('refuses an initializer holding -Infinity or NaN when the model is loaded, naming it and the index', () => {
    expect(() => loadOnnxModel(linearModel([1, -Infinity, 0, 1], [0, 0]))).toThrow(WeightError);
    expect(() => loadOnnxModel(linearModel([1, -Infinity, 0, 1], [0, 0]))).toThrow(
      /initializer "W" holds a non-finite value \(-Infinity\) at index 1/,
    );
    expect(() => loadOnnxModel(linearModel([1, 0, 0, 1], [NaN, 0]))).toThrow(/initializer "b" holds a non-finite value \(NaN\) at index 0/);
  });

  it('refuses a feed holding NaN, ±Infinity or a value beyond float32, before running', async () => {
    const model = loadOnnxModel(linearModel([1, 0, 0, 1], [0, 0]));
    await expect(model.run(x([1, NaN]), { backend: cpuBackend })).rejects.toThrow(ShapeError);
    await expect(model.run(x([1, NaN]), { backend: cpuBackend })).rejects.toThrow(/input "x" holds a non-finite value \(NaN\) at index 1/);
    const f64 = loadOnnxModel(
      buildModel({
        nodes: [{ op_type: 'Identity', input: ['x'], output: ['y'] }],
        inputs: [{ name: 'x', type: 'float64', dims: [1] }],
        outputs: [{ name: 'y', type: 'float64' }],
      }),
    );
    await expect(f64.run({ x: onnxTensor('float64', [1], Float64Array.of(1e300)) }, { backend: cpuBackend })).rejects.toThrow(
      /beyond float32's range/,
    );
  });

  it('refuses an output that overflowed on the CPU (MatMul, Add in float32), naming the output', async () => {
    const model = loadOnnxModel(linearModel([3e38, 0, 0, 1], [3e38, 0]));
    await expect(model.run(x([1, 1]), { backend: cpuBackend })).rejects.toThrow(NumericError);
    await expect(model.run(x([1, 1]), { backend: cpuBackend })).rejects.toThrow(
      /output "y" holds a non-finite value \(Infinity\) at index 0/,
    );
    // The same model on inputs that do not overflow gives its numbers.
    const y = (await model.run(x([0, 1]), { backend: cpuBackend })).y!;
    expect(Array.from(y.data as Float32Array)).toEqual([Math.fround(3e38), 1]);
  });
});
