import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { loadOnnxModel } from '../src/onnx/graph.ts';
import { onnxTensor } from '../src/onnx/tensor.ts';
import { tensor } from '../src/tensor.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import type { Workload } from '../bench/workloads.ts';
import { buildOnnxModel, ONNX_INPUT, ONNX_OUTPUT } from '../bench/peers/onnx-model.ts';
import { kerasWeights } from '../bench/peers/tfjs-model.ts';
import { peerContenders } from '../bench/peers/index.ts';
import { onnxRuntimeWeb } from '../bench/peers/onnxruntime.ts';

// The benchmark's peer libraries (bench/peers/) must compute webrnn's model before they are timed:
// every cell, one and two layers, against the float64 CPU reference. Every Node peer must be
// available (all are devDependencies; tfjs-webgpu runs on the same adapter as webrnn).

const B = 3;
const T = 5;
const I = 2;
const H = 4;
const O = 2;

const MODELS = [{ cell: 'rnn', nonlinearity: 'relu' }, { cell: 'rnn', nonlinearity: 'tanh' }, { cell: 'lstm' }, { cell: 'gru' }] as const;

interface Case {
  title: string;
  workload: Workload;
  model: RecurrentNet;
  x: Float32Array;
  reference: Float64Array | Float32Array;
}

async function makeCase(m: (typeof MODELS)[number], numLayers: number, bidirectional = false): Promise<Case> {
  const nonlinearity = 'nonlinearity' in m ? m.nonlinearity : undefined;
  const options = {
    cell: m.cell,
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    numLayers,
    bidirectional,
    ...(nonlinearity ? { nonlinearity } : {}),
  };
  const model = RecurrentNet.create(options, { seed: 7 + numLayers });
  const x = uniformArray(mulberry32(11), B * T * I, -1, 1);
  const reference = (await model.forward(tensor(x, [B, T, I]), { backend: cpuBackend })).output.data;
  const title = `${m.cell}${nonlinearity ? ` ${nonlinearity}` : ''}, ${numLayers} layer${numLayers > 1 ? 's' : ''}${bidirectional ? ', bidirectional' : ''}`;
  const workload: Workload = { name: title, ...m, inputSize: I, hiddenSize: H, outputSize: O, numLayers, batch: B, steps: T };
  return { title, workload, model, x, reference };
}

const CASES = await Promise.all(MODELS.flatMap((m) => [1, 2].map((L) => makeCase(m, L))));
const BIDIRECTIONAL = await Promise.all(MODELS.map((m) => makeCase(m, 2, true)));

describe('the ONNX model of a RecurrentNet (bench/peers/onnx-model.ts)', () => {
  for (const c of [...CASES, ...BIDIRECTIONAL]) {
    it(`${c.title}: webrnn's own ONNX loader on the CPU gives the reference`, async () => {
      const onnx = loadOnnxModel(buildOnnxModel(c.model));
      expect(onnx.inputs.map((v) => [v.name, v.dims])).toEqual([[ONNX_INPUT, ['batch', 'steps', I]]]);
      const out = await onnx.run({ [ONNX_INPUT]: onnxTensor('float32', [B, T, I], c.x) }, { backend: cpuBackend });
      expect(out[ONNX_OUTPUT]!.dims).toEqual([B, T, O]);
      expectClose(out[ONNX_OUTPUT]!.data as Float32Array, c.reference, FLOAT32_TOLERANCE, c.title, [B, T, O]);
    });
  }
});

describe('the Keras weights of a RecurrentNet (bench/peers/tfjs-model.ts)', () => {
  it('transposes the matrices, sums LSTM biases and keeps GRU biases apart as [2, 3H]', async () => {
    const shapes = (cell: 'lstm' | 'gru') =>
      kerasWeights(RecurrentNet.create({ cell, inputSize: I, hiddenSize: H, outputSize: O })).map((l) => l.weights.map((w) => w.shape));
    expect(shapes('lstm')).toEqual([
      [[I, 4 * H], [H, 4 * H], [4 * H]],
      [[H, O], [O]],
    ]);
    expect(shapes('gru')).toEqual([
      [
        [I, 3 * H],
        [H, 3 * H],
        [2, 3 * H],
      ],
      [[H, O], [O]],
    ]);
  });

  it('moves PyTorch GRU gate r, z, n to Keras z, r, h', () => {
    const model = RecurrentNet.create({ cell: 'gru', inputSize: 1, hiddenSize: 1 });
    const sd = model.stateDict();
    const [r, z, n] = sd['gru.weight_ih_l0']!.data;
    expect(Array.from(kerasWeights(model)[0]!.weights[0]!.data)).toEqual([z, r, n]);
  });
});

const PEERS = peerContenders('node');

afterAll(async () => {
  for (const peer of PEERS) await peer.dispose();
});

describe.each(PEERS.map((p) => [p.name, p] as const))('peer %s in Node', (name, peer) => {
  // Every Node peer is a devDependency and this machine has an adapter: none may be missing.
  it('is available', async () => {
    const available = await peer.available();
    expect(available).toBe(true);
    expect(peer.settings()).toHaveProperty('library');
  });

  it('matches the float64 reference on every cell, 1 and 2 layers, twice in a row', async () => {
    expect(await peer.available()).toBe(true);
    for (const c of CASES) {
      const prepared = await peer.prepare(c.workload, c.model, c.x);
      try {
        for (const attempt of ['first', 'second']) {
          const y = await prepared.run();
          expectClose(y, c.reference, FLOAT32_TOLERANCE, `${name}, ${c.title}, ${attempt} run`, [B, T, O]);
        }
      } finally {
        await prepared.dispose();
      }
    }
  });
});

describe('TF.js peers release their tensors', () => {
  it('tfjs-wasm: a run and the model disposal leave no tensor behind', async () => {
    const peer = PEERS.find((p) => p.name === 'tfjs-wasm')!;
    expect(await peer.available()).toBe(true);
    const { memory } = await import('@tensorflow/tfjs-core');
    const before = memory().numTensors;
    const c = CASES.find((k) => k.workload.cell === 'gru')!;
    const prepared = await peer.prepare(c.workload, c.model, c.x);
    await prepared.run();
    await prepared.dispose();
    expect(memory().numTensors).toBe(before);
  });
});

describe('peers outside their runtime', () => {
  it("ort-web-webgpu says that onnxruntime-web's Node build has no WebGPU EP", async () => {
    expect(await onnxRuntimeWeb('webgpu').available()).toMatch(/browser only.*no WebGPU EP/);
  });
});
