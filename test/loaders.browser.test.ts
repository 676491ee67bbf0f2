import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { loadOnnxModel } from '../src/onnx/graph.ts';
import { decodeTensor, type OnnxTensor } from '../src/onnx/tensor.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { createGpuFixture, type GpuFixture } from './helpers/gpu.ts';
import modelUrl from './data/onnx-torch/lstm_bidir_2layer_head/model.onnx?url';
import weightsUrl from './data/onnx-torch/lstm_bidir_2layer_head/weights.safetensors?url';
import xUrl from './data/onnx-torch/lstm_bidir_2layer_head/test_data_set_0/input_0.pb?url';
import yUrl from './data/onnx-torch/lstm_bidir_2layer_head/test_data_set_0/output_0.pb?url';
import hnUrl from './data/onnx-torch/lstm_bidir_2layer_head/test_data_set_0/output_1.pb?url';
import cnUrl from './data/onnx-torch/lstm_bidir_2layer_head/test_data_set_0/output_2.pb?url';

// The loaders in Chromium: the protobuf schema, the ONNX graph interpreter and the safetensors
// reader run in the page, fed with files fetched as a browser app would, on the browser's WebGPU.
// (The Node project runs every case; this checks that nothing in the path needs Node.)

async function bytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  expect(res.ok).toBe(true);
  return new Uint8Array(await res.arrayBuffer());
}

let gpu: GpuFixture;
let x: OnnxTensor;
let want: OnnxTensor[];

beforeAll(async () => {
  gpu = await createGpuFixture();
  x = decodeTensor(await bytes(xUrl));
  want = await Promise.all([yUrl, hnUrl, cnUrl].map(async (u) => decodeTensor(await bytes(u))));
});

afterAll(() => gpu?.backend.dispose());

describe('loaders in the browser (PyTorch nn.LSTM, 2 layers, bidirectional, + nn.Linear)', () => {
  it('runs in Chromium', () => {
    expect(typeof window).toBe('object');
    expect(gpu.backend.gpu.summary.runtime).toBe('browser');
  });

  it('an ONNX file gives PyTorch outputs on WebGPU', async () => {
    const model = loadOnnxModel(await bytes(modelUrl));
    const out = await model.run({ x }, { backend: gpu.backend });
    ['y', 'h_n', 'c_n'].forEach((name, k) => {
      expect(out[name]!.dims).toEqual(want[k]!.dims);
      expectClose(out[name]!.data as Float32Array, want[k]!.data as Float32Array, FLOAT32_TOLERANCE, `onnx ${name}`, want[k]!.dims);
    });
  });

  it('a safetensors file gives PyTorch outputs on WebGPU', async () => {
    const model = RecurrentNet.fromSafetensors(await bytes(weightsUrl));
    const out = await model.forward({ data: x.data as Float32Array, shape: x.dims }, { backend: gpu.backend });
    expectClose(out.output.data, want[0]!.data as Float32Array, FLOAT32_TOLERANCE, 'safetensors y', want[0]!.dims);
    expectClose(out.hn.data, want[1]!.data as Float32Array, FLOAT32_TOLERANCE, 'safetensors h_n', want[1]!.dims);
    expectClose(out.cn!.data, want[2]!.data as Float32Array, FLOAT32_TOLERANCE, 'safetensors c_n', want[2]!.dims);
    expect(gpu.uncaptured).toEqual([]);
  });
});
