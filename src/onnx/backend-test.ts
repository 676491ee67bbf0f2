import type { Backend } from '../backends/backend.ts';
import { ModelError } from '../errors.ts';
import { compare, FLOAT32_TOLERANCE, type Tolerance } from '../util/compare.ts';
import { loadOnnxModel } from './graph.ts';
import { decodeTensor, formatDims, toNumbers, type OnnxTensor } from './tensor.ts';

/**
 * Runs cases in the ONNX backend-test layout (the one `onnx/backend/test/data/node/*` uses):
 *
 *   <case>/model.onnx
 *   <case>/test_data_set_N/input_K.pb, output_K.pb      (one serialized TensorProto each)
 *
 * input_K feeds the model's K-th input (graph inputs without initializer) and output_K is compared
 * with its K-th output. This module only sees bytes, so it runs in the browser too; reading the
 * directories is `backend-test-files.ts` (Node).
 */

export interface BackendTestDataSet {
  /** e.g. `test_data_set_0`. */
  name: string;
  /** Serialized TensorProtos, in input_K order. */
  inputs: Uint8Array[];
  outputs: Uint8Array[];
}

export interface BackendTestCase {
  name: string;
  /** The bytes of model.onnx. */
  model: Uint8Array;
  dataSets: BackendTestDataSet[];
}

export interface BackendTestResult {
  name: string;
  passed: boolean;
  /** The largest |actual − expected| over the outputs compared (NaN when the case could not run). */
  maxAbsError: number;
  /** Why it failed: the first mismatch, or the error that kept the case from running; '' when it passed. */
  message: string;
  /** True when the case could not run at all (bad model, unsupported operator, unreadable files). */
  errored: boolean;
}

/** A failed result for a case that could not run. */
export function erroredResult(name: string, err: unknown): BackendTestResult {
  return { name, passed: false, maxAbsError: NaN, message: err instanceof Error ? err.message : String(err), errored: true };
}

/** Compares one output; the message is '' when it matches. */
function compareOutput(
  label: string,
  actual: OnnxTensor,
  expected: OnnxTensor,
  tolerance: Tolerance,
): { maxAbsError: number; message: string } {
  if (actual.type !== expected.type || formatDims(actual.dims) !== formatDims(expected.dims)) {
    return {
      maxAbsError: NaN,
      message: `${label}: got ${actual.type} ${formatDims(actual.dims)}, expected ${expected.type} ${formatDims(expected.dims)}`,
    };
  }
  const r = compare(toNumbers(actual), toNumbers(expected), tolerance, expected.dims);
  return { maxAbsError: r.maxAbsError, message: r.ok ? '' : `${label}: ${r.message}` };
}

/** Feeds a data set's inputs by position to the model's inputs. */
function feedsOf(inputs: readonly { name: string }[], ds: BackendTestDataSet): Record<string, OnnxTensor> {
  if (ds.inputs.length !== inputs.length) {
    throw new ModelError(`${ds.name} has ${ds.inputs.length} input files but the model has ${inputs.length} inputs`);
  }
  return Object.fromEntries(inputs.map((info, k) => [info.name, decodeTensor(ds.inputs[k]!, `${ds.name}/input_${k}.pb`)]));
}

/**
 * Loads the case's model, runs every data set on `backend` and compares each output with
 * |actual − expected| ≤ atol + rtol·|expected| (NaN never passes). Never throws: a case that cannot
 * run is a failed result with `errored` set.
 */
export async function runBackendTest(
  testCase: BackendTestCase,
  backend: Backend,
  tolerance: Tolerance = FLOAT32_TOLERANCE,
): Promise<BackendTestResult> {
  try {
    const model = loadOnnxModel(testCase.model);
    if (testCase.dataSets.length === 0) throw new ModelError('the case has no test_data_set_* directory');
    let maxAbsError = 0;
    const failures: string[] = [];
    for (const ds of testCase.dataSets) {
      const got = await model.run(feedsOf(model.inputs, ds), { backend });
      if (ds.outputs.length === 0 || ds.outputs.length > model.outputs.length) {
        throw new ModelError(`${ds.name} has ${ds.outputs.length} output files but the model has ${model.outputs.length} outputs`);
      }
      ds.outputs.forEach((bytes, k) => {
        const name = model.outputs[k]!.name;
        const expected = decodeTensor(bytes, `${ds.name}/output_${k}.pb`);
        const r = compareOutput(`${ds.name} output ${JSON.stringify(name)}`, got[name]!, expected, tolerance);
        if (!Number.isNaN(r.maxAbsError)) maxAbsError = Math.max(maxAbsError, r.maxAbsError);
        if (r.message) failures.push(r.message);
      });
    }
    return { name: testCase.name, passed: failures.length === 0, maxAbsError, message: failures[0] ?? '', errored: false };
  } catch (err) {
    return erroredResult(testCase.name, err);
  }
}

/** One line per case: `PASS  name  max abs error 1.19e-07`, FAIL lines adding the reason. */
export function formatBackendTestResult(r: BackendTestResult): string {
  const status = r.passed ? 'PASS' : 'FAIL';
  const err = Number.isNaN(r.maxAbsError) ? '-' : r.maxAbsError.toExponential(2);
  const line = `${status}  ${r.name}  max abs error ${err}`;
  if (r.passed) return line;
  return `${line}  ${r.errored ? 'error' : 'mismatch'}: ${r.message}`;
}

/** The closing line: `N passed, M failed`. */
export function summarizeBackendTests(results: readonly BackendTestResult[]): string {
  const passed = results.filter((r) => r.passed).length;
  return `${passed} passed, ${results.length - passed} failed`;
}
