import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, type TempProject } from './helpers/pack.ts';

// The package's types as a TypeScript user gets them: the packed tarball installed into a fresh
// project, compiled strict (declarations checked too: no skipLibCheck, no ambient types) with
// NodeNext and with Bundler resolution.

/** The two resolution modes a TypeScript project uses for an ES module package. */
const RESOLUTIONS = {
  NodeNext: { module: 'NodeNext', moduleResolution: 'NodeNext' },
  Bundler: { module: 'ESNext', moduleResolution: 'Bundler' },
} as const;

/** A typical use, checked for real types: results, options, errors; and mistakes the types must catch. */
const CONSUMER = `
import { cpuBackend, DeviceError, ElmanRNN, Forecaster, parseLong, tensor, WebRNNError, type Forecast, type ForwardResult, type Tensor } from 'webrnn';
import { loadOnnxModel, onnxTensor, type OnnxTensor } from 'webrnn/onnx';

const model = new ElmanRNN({ inputSize: 1, hiddenSize: 4, outputSize: 1, numLayers: 1, nonlinearity: 'relu' }, { seed: 1 });
const x: Tensor = tensor(new Float32Array(6), [2, 3, 1]);
export const forward: Promise<ForwardResult> = model.forward(x, { backend: cpuBackend });
export const shape: readonly number[] = x.shape;

const forecaster = Forecaster.create({ backend: cpuBackend, horizon: 3, season: 1 });
export const forecasts: Promise<Forecast[]> = forecaster.predict(parseLong('unique_id,ds,y\\na,1,2\\n'));

export const feed: OnnxTensor = onnxTensor('float32', [1], new Float32Array(1));
export const load: (bytes: Uint8Array) => unknown = loadOnnxModel;

export function kind(e: unknown): string {
  if (e instanceof DeviceError) return e.code;
  return e instanceof WebRNNError ? e.name : 'other';
}

// @ts-expect-error hiddenSize is a number
new ElmanRNN({ inputSize: 1, hiddenSize: 'four', outputSize: 1, numLayers: 1 });
// @ts-expect-error horizon is required
Forecaster.create({ backend: cpuBackend });
`;

/**
 * One line per run-time export of `entry`: its type must be known (not `any`), so every exported
 * class, function and constant has a declaration. Generated from what the package exports at run
 * time, so a new export is covered without editing this test.
 */
function usageOf(entry: string, alias: string, names: string[]): string {
  return [
    `import * as ${alias} from '${entry}';`,
    ...names.map((name) => `export const ${alias}_${name}: Known<typeof ${alias}.${name}> = ${alias}.${name};`),
  ].join('\n');
}

let project: TempProject;
let exportsOf: Record<string, string[]>;

beforeAll(async () => {
  project = await makeProject('ts');
  const list = "const m = await import(process.argv[1]); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default')));";
  exportsOf = {};
  for (const entry of ['webrnn', 'webrnn/onnx']) {
    exportsOf[entry] = JSON.parse((await project.exec('node', ['--input-type=module', '-e', list, entry])).stdout) as string[];
  }
  const usage = [
    '/** `never` for `any`: assigning an export to `Known<typeof it>` fails when its type is unknown. */',
    'type Known<T> = 0 extends 1 & T ? never : T;',
    usageOf('webrnn', 'webrnn', exportsOf['webrnn']!),
    usageOf('webrnn/onnx', 'onnx', exportsOf['webrnn/onnx']!),
  ].join('\n');
  await writeFile(join(project.dir, 'usage.ts'), `${usage}\n`);
  await writeFile(join(project.dir, 'consumer.ts'), CONSUMER);
  for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
    const compilerOptions = {
      ...resolution,
      target: 'ES2022',
      // WebGPU's interfaces (GPUDevice…) come from TypeScript's DOM library.
      lib: ['ES2022', 'DOM'],
      types: [],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
    };
    await writeFile(
      join(project.dir, `tsconfig.${name}.json`),
      JSON.stringify({ compilerOptions, files: ['usage.ts', 'consumer.ts'] }, null, 2),
    );
  }
});

afterAll(async () => {
  await project?.cleanup();
});

describe('the packed package’s types', () => {
  it('cover the public API at run time: classes, functions, constants of both entries', () => {
    expect(exportsOf['webrnn']).toEqual(
      expect.arrayContaining(['ElmanRNN', 'Forecaster', 'WebGPUBackend', 'acquireGpu', 'tensor', 'DeviceError']),
    );
    expect(exportsOf['webrnn/onnx']).toEqual(expect.arrayContaining(['loadOnnxModel', 'OnnxModel', 'onnxTensor']));
    expect(exportsOf['webrnn']!.length).toBeGreaterThan(80);
  });

  for (const name of Object.keys(RESOLUTIONS)) {
    it(`compile strict with ${name} resolution, every export typed`, async () => {
      const result = await project.exec('tsc', ['-p', `tsconfig.${name}.json`]).catch((e: { stdout: string; stderr: string }) => e);
      expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    });
  }
});
