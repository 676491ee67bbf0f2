import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Backend } from '../backends/backend.ts';
import { ModelError } from '../errors.ts';
import type { Tolerance } from '../util/compare.ts';
import { erroredResult, runBackendTest, type BackendTestCase, type BackendTestDataSet, type BackendTestResult } from './backend-test.ts';

/**
 * Node only: reads ONNX backend-test cases from directories (see backend-test.ts for the layout)
 * and runs them. The rest of src/onnx never touches the file system, so it bundles for the browser.
 */

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

/** Names in `dir` that match `prefix` + a number + `suffix`, in numeric order. */
async function numbered(dir: string, prefix: string, suffix = ''): Promise<string[]> {
  const pattern = new RegExp(`^${prefix}(\\d+)${suffix.replace('.', '\\.')}$`);
  const names = (await readdir(dir)).filter((n) => pattern.test(n));
  const index = (n: string) => Number(pattern.exec(n)![1]);
  return names.sort((a, b) => index(a) - index(b));
}

/**
 * The case directories `dir` stands for: itself when it holds a model.onnx, else its
 * subdirectories that do, sorted by name. {@link ModelError} when there are none.
 */
export async function findBackendTestDirs(dir: string): Promise<string[]> {
  if (await isFile(join(dir, 'model.onnx'))) return [dir];
  const entries = await readdir(dir, { withFileTypes: true });
  const cases: string[] = [];
  for (const e of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    if (await isFile(join(dir, e.name, 'model.onnx'))) cases.push(join(dir, e.name));
  }
  if (cases.length === 0) throw new ModelError(`${dir} holds no model.onnx, nor do its subdirectories`);
  return cases;
}

async function readDataSet(dir: string): Promise<BackendTestDataSet> {
  const read = async (kind: string) =>
    Promise.all((await numbered(dir, `${kind}_`, '.pb')).map(async (n) => new Uint8Array(await readFile(join(dir, n)))));
  return { name: basename(dir), inputs: await read('input'), outputs: await read('output') };
}

/** Reads one case directory: model.onnx and every test_data_set_N. */
export async function readBackendTestCase(dir: string): Promise<BackendTestCase> {
  const model = new Uint8Array(await readFile(join(dir, 'model.onnx')));
  const dataSets = await Promise.all((await numbered(dir, 'test_data_set_')).map((n) => readDataSet(join(dir, n))));
  return { name: dir, model, dataSets };
}

/**
 * Runs every case under `dirs` (each a case or a directory of cases) on `backend`, one at a time,
 * handing each result to `onResult` as it comes. A directory that cannot be read is a failed result.
 */
export async function runBackendTestDirs(
  dirs: readonly string[],
  backend: Backend,
  onResult: (r: BackendTestResult) => void = () => {},
  tolerance?: Tolerance,
): Promise<BackendTestResult[]> {
  const results: BackendTestResult[] = [];
  const report = (r: BackendTestResult) => {
    results.push(r);
    onResult(r);
  };
  for (const dir of dirs) {
    let caseDirs: string[];
    try {
      caseDirs = await findBackendTestDirs(dir);
    } catch (err) {
      report(erroredResult(dir, err));
      continue;
    }
    for (const caseDir of caseDirs) {
      let testCase: BackendTestCase;
      try {
        testCase = await readBackendTestCase(caseDir);
      } catch (err) {
        report(erroredResult(caseDir, err));
        continue;
      }
      report(await runBackendTest(testCase, backend, tolerance));
    }
  }
  return results;
}
