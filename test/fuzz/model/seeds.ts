import { cpuBackend } from '../../../src/backends/cpu.ts';
import { Forecaster } from '../../../src/forecast/forecaster.ts';
import type { Series } from '../../../src/forecast/frame.ts';
import { RecurrentNet } from '../../../src/model/recurrent.ts';
import { attribute, buildModel } from '../../../src/onnx/builder.ts';
import { encodeTensor, onnxTensor, type OnnxTensor } from '../../../src/onnx/tensor.ts';
import { mulberry32, uniformArray } from '../../../src/util/rng.ts';

/**
 * Valid model files to mutate, built in memory so the same seeds serve Node and the browser: ONNX
 * models with RNN, GRU and LSTM nodes (every optional input, both layouts, a head of MatMul and
 * Add), PyTorch state dicts as safetensors (RecurrentNet.toSafetensors), ONNX `.pb` tensors (inputs
 * of the first ONNX model) and saved forecasters (Forecaster.toSafetensors after a short fit on the
 * float64 backend). test/fuzz/model/file-seeds.ts adds the repository's real files in Node.
 */

export type SeedKind = 'onnx' | 'safetensors' | 'pb' | 'forecaster';

export interface ModelSeed {
  kind: SeedKind;
  name: string;
  bytes: Uint8Array;
}

const rand = mulberry32(0x5eed);
const f32 = (dims: number[], lo = -0.5, hi = 0.5) =>
  onnxTensor(
    'float32',
    dims,
    uniformArray(
      rand,
      dims.reduce((a, b) => a * b, 1),
      lo,
      hi,
    ),
  );

/** The ONNX model whose input X the `.pb` seeds feed: an LSTM over X [T, B, 3] with every optional input. */
export function lstmModel(): Uint8Array {
  const [I, H, D] = [3, 4, 2];
  return buildModel({
    nodes: [
      {
        op_type: 'LSTM',
        name: 'lstm',
        input: ['X', 'W', 'R', 'B', 'lens', 'h0', 'c0', 'P'],
        output: ['Y', 'Y_h', 'Y_c'],
        attribute: [attribute.int('hidden_size', H), attribute.string('direction', 'bidirectional'), attribute.float('clip', 5)],
      },
    ],
    inputs: [
      { name: 'X', type: 'float32', dims: ['T', 'B', I] },
      { name: 'lens', type: 'int32', dims: ['B'] },
      { name: 'h0', type: 'float32', dims: [D, 'B', H] },
      { name: 'c0', type: 'float32', dims: [D, 'B', H] },
    ],
    initializers: { W: f32([D, 4 * H, I]), R: f32([D, 4 * H, H]), B: f32([D, 8 * H]), P: f32([D, 3 * H]) },
    outputs: [
      { name: 'Y', type: 'float32' },
      { name: 'Y_h', type: 'float32' },
      { name: 'Y_c', type: 'float32' },
    ],
  });
}

function gruModel(): Uint8Array {
  const [I, H] = [2, 3];
  return buildModel({
    nodes: [
      {
        op_type: 'GRU',
        name: 'gru',
        input: ['X', 'W', 'R', 'B'],
        output: ['', 'Y_h'],
        attribute: [
          attribute.int('hidden_size', H),
          attribute.int('layout', 1),
          attribute.int('linear_before_reset', 1),
          attribute.strings('activations', ['HardSigmoid', 'Tanh']),
        ],
      },
    ],
    inputs: [{ name: 'X', type: 'float32', dims: ['B', 'T', I] }],
    initializers: { W: f32([1, 3 * H, I]), R: f32([1, 3 * H, H]), B: f32([1, 6 * H]) },
    outputs: [{ name: 'Y_h', type: 'float32' }],
  });
}

/** An RNN (ReLU) with a linear head, as PyTorch's exporter writes one: Squeeze, MatMul, Add. */
function rnnHeadModel(): Uint8Array {
  const [I, H, O] = [2, 5, 2];
  return buildModel({
    nodes: [
      {
        op_type: 'RNN',
        name: 'rnn',
        input: ['X', 'W', 'R', 'B'],
        output: ['Y'],
        attribute: [attribute.int('hidden_size', H), attribute.strings('activations', ['Relu'])],
      },
      { op_type: 'Squeeze', name: 'squeeze', input: ['Y', 'axis1'], output: ['Ys'] },
      { op_type: 'MatMul', name: 'head', input: ['Ys', 'Wo'], output: ['Z'] },
      { op_type: 'Add', name: 'bias', input: ['Z', 'bo'], output: ['y'] },
    ],
    inputs: [{ name: 'X', type: 'float32', dims: ['T', 'B', I] }],
    initializers: {
      W: f32([1, H, I]),
      R: f32([1, H, H]),
      B: f32([1, 2 * H]),
      axis1: onnxTensor('int64', [1], BigInt64Array.of(1n)),
      Wo: f32([H, O]),
      bo: f32([O]),
    },
    outputs: [{ name: 'y', type: 'float32', dims: ['T', 'B', O] }],
  });
}

/** `.pb` tensors that are valid X inputs of {@link lstmModel}: float32 (raw_data) and float64. */
function xTensors(): Array<[string, OnnxTensor]> {
  return [
    ['x-2x3', f32([2, 3, 3], -1, 1)],
    ['x-1x1', f32([1, 1, 3], -1, 1)],
    ['x-f64', onnxTensor('float64', [3, 2, 3], Float64Array.from(uniformArray(rand, 18, -1, 1)))],
  ];
}

/** Series a saved forecaster predicts: `count` series of `length` points. */
export function forecastSeries(count: number, length: number): Series[] {
  const r = mulberry32(17);
  return Array.from({ length: count }, (_, k) => ({
    id: `s${k}`,
    ds: Array.from({ length }, (_, t) => String(t)),
    y: Float64Array.from({ length }, (_, t) => 10 + k + Math.sin(t / 2 + k) + 0.1 * r()),
    exog: { temp: Float64Array.from({ length }, (_, t) => Math.cos(t / 3)) },
  }));
}

/** Fits a small forecaster on the float64 backend and saves it. */
async function savedForecaster(options: Parameters<typeof Forecaster.create>[0]): Promise<Uint8Array> {
  const f = Forecaster.create(options);
  await f.fit(forecastSeries(3, 16), { epochs: 1 });
  return f.toSafetensors();
}

let cached: Promise<ModelSeed[]> | null = null;

/** Every in-memory seed (built once). */
export function inMemorySeeds(): Promise<ModelSeed[]> {
  cached ??= (async () => {
    const seeds: ModelSeed[] = [
      { kind: 'onnx', name: 'lstm-bidir-all-inputs', bytes: lstmModel() },
      { kind: 'onnx', name: 'gru-batch-major', bytes: gruModel() },
      { kind: 'onnx', name: 'rnn-relu-head', bytes: rnnHeadModel() },
    ];
    const nets: Array<[string, RecurrentNet]> = [
      [
        'lstm-2layer-bidir-head',
        RecurrentNet.create({ cell: 'lstm', inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, outputSize: 2 }, { seed: 1 }),
      ],
      ['gru-nobias', RecurrentNet.create({ cell: 'gru', inputSize: 2, hiddenSize: 3, bias: false }, { seed: 2 })],
      [
        'rnn-relu-head',
        RecurrentNet.create({ cell: 'rnn', nonlinearity: 'relu', inputSize: 1, hiddenSize: 5, outputSize: 1 }, { seed: 3 }),
      ],
    ];
    for (const [name, net] of nets) seeds.push({ kind: 'safetensors', name, bytes: net.toSafetensors({ note: 'fuzz seed' }) });
    for (const [name, t] of xTensors()) seeds.push({ kind: 'pb', name, bytes: encodeTensor(t, 'X') });
    const base = { backend: cpuBackend, horizon: 3, season: 4, inputSize: 5, hiddenSize: 3, seed: 1, training: { batchSize: 8 } };
    seeds.push({ kind: 'forecaster', name: 'gru-recursive', bytes: await savedForecaster({ ...base, cell: 'gru' }) });
    seeds.push({
      kind: 'forecaster',
      name: 'lstm-direct-per-series',
      bytes: await savedForecaster({ ...base, cell: 'lstm', strategy: 'direct', perSeries: true, scaling: 'robust' }),
    });
    seeds.push({
      kind: 'forecaster',
      name: 'rnn-exog',
      bytes: await savedForecaster({ ...base, cell: 'rnn', nonlinearity: 'relu', exog: ['temp'], scaling: 'minmax' }),
    });
    return seeds;
  })();
  return cached;
}
