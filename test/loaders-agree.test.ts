import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { loadOnnxModel } from '../src/onnx/graph.ts';
import { decodeTensor, type OnnxTensor } from '../src/onnx/tensor.ts';
import type { FloatArray } from '../src/tensor.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { createGpuFixture, type GpuFixture } from './helpers/gpu.ts';

// One PyTorch module, two files: its ONNX export and its state dict as safetensors, both written by
// test/onnx/make_torch_exports.py with PyTorch's outputs. Both loaders must give PyTorch's numbers,
// on the CPU reference and on WebGPU.

const ROOT = join(import.meta.dirname, 'data', 'onnx-torch');
const CASES = readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'weights.safetensors')));

interface ModuleInfo {
  batchFirst: boolean;
  lastStepOnly: boolean;
  nonlinearity: 'tanh' | 'relu' | null;
  inputs: string[];
  outputs: string[];
}

function loadCase(name: string) {
  const dir = join(ROOT, name);
  const info = JSON.parse(readFileSync(join(dir, 'module.json'), 'utf8')) as ModuleInfo;
  const read = (kind: string, k: number) => decodeTensor(readFileSync(join(dir, 'test_data_set_0', `${kind}_${k}.pb`)));
  return {
    info,
    onnx: readFileSync(join(dir, 'model.onnx')),
    weights: readFileSync(join(dir, 'weights.safetensors')),
    inputs: info.inputs.map((_, k) => read('input', k)),
    outputs: info.outputs.map((_, k) => read('output', k)),
  };
}

/** The last step of a `[B, T, F]` (or `[T, B, F]`) output, `[B, F]`, as PyTorch's `y[:, -1]` gives it. */
function lastStep(y: FloatArray, shape: readonly number[], batchFirst: boolean): Float64Array {
  const [d0, d1, F] = shape as [number, number, number];
  const [B, T] = batchFirst ? [d0, d1] : [d1, d0];
  const out = new Float64Array(B * F);
  for (let b = 0; b < B; b++) {
    const row = batchFirst ? b * T + T - 1 : (T - 1) * B + b;
    for (let f = 0; f < F; f++) out[b * F + f] = y[row * F + f]!;
  }
  return out;
}

async function runBoth(name: string, backend: Backend) {
  const c = loadCase(name);
  const model = RecurrentNet.fromSafetensors(c.weights, {
    batchFirst: c.info.batchFirst,
    ...(c.info.nonlinearity ? { nonlinearity: c.info.nonlinearity } : {}),
  });
  const [x, h0, c0] = c.inputs as [OnnxTensor, OnnxTensor?, OnnxTensor?];
  const tensorOf = (t: OnnxTensor) => ({ data: t.data as Float32Array, shape: t.dims });
  const torch = await model.forward(tensorOf(x), {
    backend,
    ...(h0 ? { h0: tensorOf(h0) } : {}),
    ...(c0 ? { c0: tensorOf(c0) } : {}),
  });
  const feeds = Object.fromEntries(c.info.inputs.map((n, k) => [n, c.inputs[k]!]));
  const onnx = await loadOnnxModel(c.onnx).run(feeds, { backend });
  return { c, torch, onnx };
}

function checkCase(getBackend: () => Backend) {
  for (const name of CASES) {
    it(`${name}: safetensors and ONNX both give PyTorch's outputs`, async () => {
      const { c, torch, onnx } = await runBoth(name, getBackend());
      const [y, hn, cn] = c.outputs as [OnnxTensor, OnnxTensor, OnnxTensor?];
      const yTorch = c.info.lastStepOnly ? lastStep(torch.output.data, torch.output.shape, c.info.batchFirst) : torch.output.data;
      expectClose(yTorch, y.data as Float32Array, FLOAT32_TOLERANCE, `${name} safetensors y`, y.dims);
      expectClose(torch.hn.data, hn.data as Float32Array, FLOAT32_TOLERANCE, `${name} safetensors h_n`, hn.dims);
      if (cn) expectClose(torch.cn!.data, cn.data as Float32Array, FLOAT32_TOLERANCE, `${name} safetensors c_n`, cn.dims);
      c.info.outputs.forEach((n, k) => {
        expect(onnx[n]!.dims).toEqual(c.outputs[k]!.dims);
        expectClose(
          onnx[n]!.data as Float32Array,
          c.outputs[k]!.data as Float32Array,
          FLOAT32_TOLERANCE,
          `${name} onnx ${n}`,
          c.outputs[k]!.dims,
        );
      });
    });
  }
}

describe('both loaders agree with PyTorch: CPU reference', () => {
  it('has a safetensors twin for every ONNX export', () => {
    expect(CASES.length).toBe(readdirSync(ROOT).length);
    expect(CASES.length).toBeGreaterThanOrEqual(5);
  });
  checkCase(() => cpuBackend);
});

describe('both loaders agree with PyTorch: WebGPU', () => {
  let gpu: GpuFixture;
  beforeAll(async () => {
    gpu = await createGpuFixture();
  });
  afterAll(() => gpu?.backend.dispose());
  checkCase(() => gpu.backend);
  it('raised no WebGPU error', () => expect(gpu.uncaptured).toEqual([]));
});
