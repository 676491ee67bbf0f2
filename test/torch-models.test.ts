import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import { ConfigError, ModelError, ShapeError, type WebRNNError, WeightError } from '../src/errors.ts';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { layersToTorch, torchToLayers } from '../src/model/torch-lowering.ts';
import { checkTorchStateDict, resolveTorchModule, type TorchRecurrentOptions } from '../src/model/torch-modules.ts';
import { tensor, type Tensor } from '../src/tensor.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import golden from './data/torch/cases.json';
import { createGpuFixture, withErrorScope, type GpuFixture } from './helpers/gpu.ts';

// PyTorch nn.RNN / nn.LSTM / nn.GRU (+ nn.Linear) state dicts, saved as safetensors by
// test/golden/make_torch_models.py with PyTorch's outputs, loaded by webrnn with stated and with
// inferred options, and run on the float64 CPU reference and on WebGPU.

type Case = (typeof golden.cases)[number];

const DATA = new URL('./data/torch/', import.meta.url);
const fileOf = (c: Case) => new Uint8Array(readFileSync(new URL(c.file, DATA)));
const stateDictOf = (c: Case) =>
  Object.fromEntries(Object.entries(readSafetensors(fileOf(c)).tensors).map(([k, t]) => [k, { data: t.data, shape: t.shape }])) as Record<
    string,
    Tensor
  >;
const caseNamed = (name: string) => golden.cases.find((c) => c.name === name)!;

/** The case's input and per-call options as Float64Array tensors. */
function inputsOf(c: Case) {
  const { inputSize: I, numLayers: L, hiddenSize: H, bidirectional, batchFirst } = c.options;
  const LD = L * (bidirectional ? 2 : 1);
  const x = tensor(Float64Array.from(c.x), batchFirst ? [c.batch, c.steps, I] : [c.steps, c.batch, I]);
  const opts: { h0?: Tensor; c0?: Tensor; lengths?: number[] } = {};
  if (c.h0) opts.h0 = tensor(Float64Array.from(c.h0), [LD, c.batch, H]);
  if (c.c0) opts.c0 = tensor(Float64Array.from(c.c0), [LD, c.batch, H]);
  if (c.lengths) opts.lengths = c.lengths;
  return { x, opts, stateShape: [LD, c.batch, H] };
}

async function expectMatchesTorch(model: RecurrentNet, c: Case, backend: Backend, tol: { atol: number; rtol: number }) {
  const { x, opts, stateShape } = inputsOf(c);
  const res = await model.forward(x, { backend, ...opts });
  expect(res.output.shape).toEqual(c.outputShape);
  expect(res.hn.shape).toEqual(stateShape);
  expectClose(res.output.data, c.output, tol, `${c.name} output`, c.outputShape);
  expectClose(res.hn.data, c.hn, tol, `${c.name} h_n`, stateShape);
  if (c.cn) {
    expect(res.cn?.shape).toEqual(stateShape);
    expectClose(res.cn!.data, c.cn, tol, `${c.name} c_n`, stateShape);
  } else {
    expect(res.cn).toBeNull();
  }
}

// Both sides compute in float64 from the same float32-rounded weights and inputs.
const TIGHT = { atol: 1e-12, rtol: 1e-10 };

describe('PyTorch modules on the CPU reference', () => {
  it('has goldens from the committed script, covering every cell, option and input', () => {
    expect(golden.source).toMatch(/^torch /);
    const o = golden.cases.map((c) => c.options);
    for (const cell of ['rnn', 'lstm', 'gru']) expect(o.some((x) => x.cell === cell)).toBe(true);
    expect(new Set(o.map((x) => x.numLayers))).toEqual(new Set([1, 2, 3]));
    expect(o.some((x) => x.bidirectional) && o.some((x) => !x.bidirectional)).toBe(true);
    expect(o.some((x) => !x.bias) && o.some((x) => x.batchFirst === false)).toBe(true);
    expect(o.some((x) => x.nonlinearity === 'relu') && o.some((x) => x.nonlinearity === 'tanh')).toBe(true);
    expect(o.some((x) => 'outputSize' in x) && o.some((x) => !('outputSize' in x))).toBe(true);
    expect(golden.cases.some((c) => c.h0) && golden.cases.some((c) => c.c0) && golden.cases.some((c) => c.lengths)).toBe(true);
  });

  for (const c of golden.cases) {
    describe(c.name, () => {
      it(`stated options: ${c.description}`, async () => {
        const model = RecurrentNet.fromSafetensors(fileOf(c), c.options as TorchRecurrentOptions);
        expect(model.description).toBe(c.description);
        expect(model.notes).toEqual([]);
        expect(model.config.prefix).toBe(c.prefix);
        expect(model.config.headPrefix).toBe(c.headPrefix);
        await expectMatchesTorch(model, c, cpuBackend, TIGHT);
      });

      it('inferred from names and shapes: the same module', async () => {
        const stated = RecurrentNet.fromSafetensors(fileOf(c), c.options as TorchRecurrentOptions);
        const model = RecurrentNet.fromSafetensors(fileOf(c), c.inferOptions as TorchRecurrentOptions);
        expect(model.description).toBe(c.description);
        expect(model.config).toEqual(stated.config);
        await expectMatchesTorch(model, c, cpuBackend, TIGHT);
      });

      it('writes back the same state dict: names, order, values and safetensors bytes', () => {
        const model = RecurrentNet.fromStateDict(stateDictOf(c), c.inferOptions as TorchRecurrentOptions);
        const sd = model.stateDict();
        expect(Object.keys(sd).sort()).toEqual([...c.stateDictOrder].sort());
        for (const [name, t] of Object.entries(stateDictOf(c))) {
          expect(sd[name]!.shape, name).toEqual(t.shape);
          expect(sd[name]!.data, name).toEqual(t.data);
        }
        expect(model.toSafetensors({ format: 'pt' })).toEqual(fileOf(c));
      });
    });
  }

  it('accepts float32 input as well as float64', async () => {
    const c = caseNamed('lstm_head');
    const model = RecurrentNet.fromSafetensors(fileOf(c));
    const { x } = inputsOf(c);
    const res = await model.forward(tensor(Float32Array.from(x.data), x.shape), { backend: cpuBackend });
    expectClose(res.output.data, c.output, TIGHT, 'output', c.outputShape);
  });

  it('says what it assumed: an nn.RNN read without a nonlinearity is tanh', () => {
    const c = caseNamed('rnn_relu_lengths');
    const model = RecurrentNet.fromSafetensors(fileOf(c));
    expect(model.config.nonlinearity).toBe('tanh');
    expect(model.description).toBe('nn.RNN(input_size=3, hidden_size=5, batch_first=True)');
    expect(model.notes).toHaveLength(1);
    expect(model.notes[0]).toMatch(/assumed tanh \(pass \{ nonlinearity: 'relu' \} for ReLU\)/);
  });
});

describe('RecurrentNet.create: PyTorch default initialisation from a seed', () => {
  it('names, shapes and bounds as nn.LSTM + nn.Linear, reproducible from the seed', () => {
    const options = { cell: 'lstm', inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, outputSize: 2 } as const;
    const model = RecurrentNet.create(options, { seed: 7 });
    expect(model.description).toBe(
      'nn.LSTM(input_size=3, hidden_size=4, num_layers=2, batch_first=True, bidirectional=True) + nn.Linear(8, 2)',
    );
    const sd = model.stateDict();
    expect(Object.keys(sd)).toContain('lstm.weight_ih_l1_reverse');
    expect(sd['lstm.weight_ih_l1_reverse']!.shape).toEqual([16, 8]);
    expect(sd['head.weight']!.shape).toEqual([2, 8]);
    for (const [name, t] of Object.entries(sd)) {
      const bound = name.startsWith('head.') ? 1 / Math.sqrt(8) : 1 / Math.sqrt(4);
      for (const v of t.data) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    }
    const again = RecurrentNet.create(options, { seed: 7 }).stateDict();
    const other = RecurrentNet.create(options, { seed: 8 }).stateDict();
    expect(again['lstm.weight_hh_l0']!.data).toEqual(sd['lstm.weight_hh_l0']!.data);
    expect(other['lstm.weight_hh_l0']!.data).not.toEqual(sd['lstm.weight_hh_l0']!.data);
    // What it writes, it reads back as the same module.
    expect(RecurrentNet.fromSafetensors(model.toSafetensors()).description).toBe(model.description);
  });

  it('rejects bad options with a ConfigError', () => {
    expect(() => RecurrentNet.create({ cell: 'gru', inputSize: 0, hiddenSize: 3 })).toThrow(ConfigError);
    expect(() => RecurrentNet.create({ cell: 'gru', inputSize: 1, hiddenSize: 3 }, { seed: 0.5 })).toThrow(/seed must be an integer/);
  });
});

describe('gate order: PyTorch (LSTM i f g o, GRU r z n) ↔ ONNX (LSTM i o f c, GRU z r h)', () => {
  /** A one-unit module whose gate g has weight_ih = 1+g, weight_hh = 11+g, bias_ih = 21+g, bias_hh = 31+g. */
  function numbered(cell: 'lstm' | 'gru', G: number) {
    const rows = (base: number) =>
      tensor(
        Array.from({ length: G }, (_, g) => base + g),
        [G, 1],
      );
    const sd = {
      weight_ih_l0: rows(1),
      weight_hh_l0: rows(11),
      bias_ih_l0: tensor(
        Array.from({ length: G }, (_, g) => 21 + g),
        [G],
      ),
      bias_hh_l0: tensor(
        Array.from({ length: G }, (_, g) => 31 + g),
        [G],
      ),
    };
    return RecurrentNet.fromStateDict(sd, { cell, inputSize: 1, hiddenSize: 1 }).layers().layers[0]!;
  }

  it('LSTM: W, R and both halves of B become i, o, f, c', () => {
    const { spec, weights } = numbered('lstm', 4);
    expect(spec.cell).toBe('lstm');
    expect(Array.from(weights.W)).toEqual([1, 4, 2, 3]);
    expect(Array.from(weights.R)).toEqual([11, 14, 12, 13]);
    expect(Array.from(weights.B!)).toEqual([21, 24, 22, 23, 31, 34, 32, 33]);
  });

  it('GRU: z, r, h, with the reset gate after the recurrent product (linear_before_reset)', () => {
    const { spec, weights } = numbered('gru', 3);
    expect(spec.linearBeforeReset).toBe(true);
    expect(Array.from(weights.W)).toEqual([2, 1, 3]);
    expect(Array.from(weights.R)).toEqual([12, 11, 13]);
    expect(Array.from(weights.B!)).toEqual([22, 21, 23, 32, 31, 33]);
  });

  it('round-trips every golden state dict through the layers exactly', () => {
    for (const c of golden.cases) {
      const sd = stateDictOf(c);
      const { config } = resolveTorchModule(sd, c.inferOptions as TorchRecurrentOptions);
      const params = checkTorchStateDict(config, sd);
      const lowered = torchToLayers(config, params);
      expect(lowered.layers).toHaveLength(c.options.numLayers);
      expect(layersToTorch(config, lowered), c.name).toEqual(params);
    }
  });

  it('lowers layer k > 0 to input size D·H, batch-major, with nn.RNN activations', () => {
    const model = RecurrentNet.fromSafetensors(fileOf(caseNamed('rnn_relu_l2_bidir_h0')), { nonlinearity: 'relu', batchFirst: false });
    const [l0, l1] = model.layers().layers;
    expect(l0!.spec.inputSize).toBe(2);
    expect(l1!.spec.inputSize).toBe(6);
    expect(l1!.spec.direction).toBe('bidirectional');
    expect(l1!.spec.layout).toBe(1);
    expect(l1!.spec.activations.map((a) => a.name)).toEqual(['Relu', 'Relu']);
  });
});

describe('per-sequence lengths past what PyTorch packs: length 0', () => {
  it('outputs zeros (then the head bias) and returns h0 / c0 for an empty sequence', async () => {
    const c = caseNamed('lstm_l2_bidir_h0c0'); // time-major, head with bias
    const model = RecurrentNet.fromSafetensors(fileOf(c), { batchFirst: false });
    const { x, opts } = inputsOf(c);
    const B = c.batch;
    const T = c.steps;
    const full = await model.forward(x, { backend: cpuBackend, ...opts });
    const res = await model.forward(x, { backend: cpuBackend, ...opts, lengths: [0, T, T] });
    const O = c.options.outputSize!;
    const headBias = model.stateDict()['linear.bias']!.data;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const at = (t * B + b) * O;
        const want = b === 0 ? Array.from(headBias) : Array.from(full.output.data.subarray(at, at + O));
        expectClose(res.output.data.subarray(at, at + O), want, TIGHT, `output t=${t} b=${b}`);
      }
    }
    const H = c.options.hiddenSize;
    for (const [got, init, all] of [
      [res.hn, opts.h0!, full.hn],
      [res.cn!, opts.c0!, full.cn!],
    ] as const) {
      for (let ld = 0; ld < 4; ld++) {
        for (let b = 0; b < B; b++) {
          const at = (ld * B + b) * H;
          const want = (b === 0 ? init : all).data.subarray(at, at + H);
          expectClose(got.data.subarray(at, at + H), want, TIGHT, `state ${ld} ${b}`);
        }
      }
    }
  });
});

describe('typed errors naming what is wrong', () => {
  const lstm = caseNamed('lstm_head'); // lstm.* [16, 3], [16, 4], fc.weight [2, 4]
  const stated = lstm.options as TorchRecurrentOptions;

  function rejects(fn: () => unknown, type: new (...a: never[]) => WebRNNError, message: RegExp) {
    let caught: unknown;
    try {
      fn();
    } catch (e) {
      caught = e;
    }
    expect(caught, 'expected an error').toBeInstanceOf(type);
    expect((caught as Error).message).toMatch(message);
  }

  it('a tensor of the wrong shape: its name, expected and actual shape', () => {
    rejects(
      () => RecurrentNet.fromStateDict(stateDictOf(lstm), { ...stated, hiddenSize: 5 }),
      WeightError,
      /tensor lstm\.weight_ih_l0 has shape \[16, 3\], expected \[20, 3\] for nn\.LSTM\(input_size=3, hidden_size=5/,
    );
    rejects(
      () => RecurrentNet.fromStateDict(stateDictOf(lstm), { ...stated, cell: 'gru' }),
      WeightError,
      /tensor lstm\.weight_ih_l0 has shape \[16, 3\], expected \[12, 3\]/,
    );
    rejects(
      () => RecurrentNet.fromStateDict(stateDictOf(lstm), { ...stated, outputSize: 3 }),
      WeightError,
      /tensor fc\.weight has shape \[2, 4\], expected \[3, 4\]/,
    );
    const sd = stateDictOf(lstm);
    sd['lstm.bias_hh_l0'] = tensor(new Float32Array(16), [4, 4]);
    rejects(() => RecurrentNet.fromStateDict(sd), WeightError, /tensor lstm\.bias_hh_l0 has shape \[4, 4\], expected \[16\]/);
  });

  it('a missing tensor, with the shape it should have', () => {
    const sd = stateDictOf(lstm);
    delete sd['lstm.bias_hh_l0'];
    rejects(() => RecurrentNet.fromStateDict(sd, stated), WeightError, /missing tensor lstm\.bias_hh_l0 \[16\] of nn\.LSTM/);
    rejects(
      () => RecurrentNet.fromStateDict(stateDictOf(lstm), { ...stated, numLayers: 2 }),
      WeightError,
      /missing tensor lstm\.weight_ih_l1 \[16, 4\]/,
    );
    const deep = stateDictOf(caseNamed('lstm_l3_nobias_lengths'));
    delete deep['encoder.lstm.weight_hh_l1'];
    rejects(() => RecurrentNet.fromStateDict(deep), WeightError, /missing tensor encoder\.lstm\.weight_hh_l1 \[8, 2\]/);
    const headless = stateDictOf(lstm);
    delete headless['fc.weight'];
    rejects(() => RecurrentNet.fromStateDict(headless, stated), WeightError, /missing tensor fc\.weight \[2, 4\]/);
  });

  it('an unexpected tensor', () => {
    const sd = stateDictOf(lstm);
    sd['lstm.weight_ih_l0_reverse'] = tensor(new Float32Array(48), [16, 3]);
    rejects(
      () => RecurrentNet.fromStateDict(sd, stated),
      WeightError,
      /unexpected tensor lstm\.weight_ih_l0_reverse: nn\.LSTM\(.*\) has no such parameter/,
    );
    const { outputSize: _o, headBias: _b, ...noHead } = lstm.options;
    rejects(
      () => RecurrentNet.fromStateDict(stateDictOf(lstm), noHead as TorchRecurrentOptions),
      WeightError,
      /unexpected tensor fc\.(bias|weight).*\(an nn\.Linear head\? pass outputSize\)/,
    );
    const extra = stateDictOf(lstm);
    extra['fc.scale'] = tensor([1], [1]);
    rejects(() => RecurrentNet.fromStateDict(extra), WeightError, /unexpected tensor fc\.scale/);
    rejects(
      () => RecurrentNet.fromStateDict({ ...stateDictOf(lstm), 'other.weight': tensor([1], [1, 1]) }),
      WeightError,
      /more than one candidate nn\.Linear head \(fc\.weight, other\.weight\): pass \{ headPrefix \}/,
    );
  });

  it('a non-finite weight', () => {
    const sd = stateDictOf(lstm);
    (sd['lstm.weight_hh_l0']!.data as Float32Array)[5] = NaN;
    rejects(() => RecurrentNet.fromStateDict(sd), WeightError, /tensor lstm\.weight_hh_l0 holds a non-finite value \(NaN\) at index 5/);
  });

  it('LSTM projections (proj_size > 0) are not supported', () => {
    const sd = stateDictOf(lstm);
    sd['lstm.weight_hr_l0'] = tensor(new Float32Array(8), [2, 4]);
    rejects(
      () => RecurrentNet.fromStateDict(sd),
      ConfigError,
      /lstm\.weight_hr_l0 is an LSTM projection: nn\.LSTM with proj_size > 0 is not supported/,
    );
    rejects(() => RecurrentNet.fromStateDict(stateDictOf(lstm), { ...stated, projSize: 2 }), ConfigError, /proj_size=2 is not supported/);
  });

  it('state dicts that say nothing recognisable', () => {
    rejects(
      () => RecurrentNet.fromStateDict({ 'fc.weight': tensor([1], [1, 1]) }),
      WeightError,
      /no recurrent weights found: expected PyTorch names like weight_ih_l0/,
    );
    const sd = stateDictOf(lstm);
    rejects(
      () => RecurrentNet.fromStateDict({ ...sd, 'gru.weight_ih_l0': tensor([1], [1, 1]) }),
      WeightError,
      /recurrent weights under "lstm", "gru": pass \{ prefix \}/,
    );
    const twoGates = { weight_ih_l0: tensor(new Float32Array(6), [2, 3]), weight_hh_l0: tensor(new Float32Array(2), [2, 1]) };
    rejects(() => RecurrentNet.fromStateDict(twoGates), WeightError, /the rows must be 1, 3 or 4 times hidden_size/);
    rejects(
      () => RecurrentNet.fromStateDict({ weight_ih_l0: tensor([1, 2], [2]) }),
      WeightError,
      /weight_ih_l0 must be a matrix, got shape \[2\]/,
    );
    rejects(
      () => RecurrentNet.fromStateDict({ ...sd, 'lstm.weight_ih_l1000000000000': tensor([1], [1, 1]) }),
      WeightError,
      /tensor lstm\.weight_ih_l1000000000000 names layer 1000000000000; at most 256 layers/,
    );
    rejects(
      () => RecurrentNet.fromStateDict({ ...sd, 'lstm.weight_hh_l0': [1, 2] as never }, stated),
      WeightError,
      /lstm\.weight_hh_l0 must be/,
    );
  });

  it('bad options', () => {
    const sd = stateDictOf(lstm);
    rejects(() => RecurrentNet.fromStateDict(sd, { ...stated, cell: 'transformer' as never }), ConfigError, /unknown cell "transformer"/);
    rejects(() => RecurrentNet.fromStateDict(sd, { cell: 'lstm', inputSize: 3 }), ConfigError, /hiddenSize must be an integer/);
    rejects(() => RecurrentNet.fromStateDict(sd, { ...stated, numLayers: 0 }), ConfigError, /numLayers must be an integer from 1/);
    rejects(() => RecurrentNet.fromStateDict(sd, { ...stated, nonlinearity: 'relu' }), ConfigError, /nonlinearity applies to nn\.RNN only/);
    rejects(
      () => RecurrentNet.fromStateDict(sd, { nonlinearity: 'relu' }),
      ConfigError,
      /nonlinearity applies to nn\.RNN only, not nn\.LSTM/,
    );
    rejects(
      () => RecurrentNet.fromStateDict(sd, { ...stated, bidirectional: 'yes' as never }),
      ConfigError,
      /bidirectional must be true or false/,
    );
    rejects(() => RecurrentNet.fromStateDict(sd, { hiddenSize: 4 }), ConfigError, /hiddenSize given without cell/);
    const rnn = stateDictOf(caseNamed('rnn_tanh_head'));
    rejects(() => RecurrentNet.fromStateDict(rnn, { nonlinearity: 'gelu' as never }), ConfigError, /unknown nonlinearity "gelu"/);
  });

  it('a safetensors file with integer weights', () => {
    const bytes = writeSafetensors({ 'rnn.weight_ih_l0': tensor([1], [1, 1]) });
    // Rewrite the dtype in place: F32 → I32 (same size), a valid file of integers.
    const i = bytes.indexOf('F'.charCodeAt(0), 8);
    bytes[i] = 'I'.charCodeAt(0);
    rejects(() => RecurrentNet.fromSafetensors(bytes), ModelError, /tensor "rnn\.weight_ih_l0" holds I32 values/);
  });
});

describe('forward: bad input is rejected before any backend call', () => {
  // The CPU backend, except that reaching a layer fails the test.
  let layerCalls = 0;
  const spy: Backend = {
    ...cpuBackend,
    name: 'spy',
    async recurrentLayer() {
      layerCalls++;
      throw new Error('the backend must not be reached with bad input');
    },
  };
  const lstm = RecurrentNet.fromSafetensors(fileOf(caseNamed('lstm_l2_bidir_h0c0')), { batchFirst: false }); // I=2, H=3, L·D=4, time-major
  const gru = RecurrentNet.fromSafetensors(fileOf(caseNamed('gru_head'))); // I=1, H=5, batch-first
  const x = (T: number, B: number, I = 2) => tensor(new Float32Array(T * B * I), [T, B, I]);
  const state = (B: number, LD = 4, H = 3) => tensor(new Float32Array(LD * B * H), [LD, B, H]);

  async function rejects(p: () => Promise<unknown>, type: new (...a: never[]) => WebRNNError, message: RegExp) {
    const before = layerCalls;
    const caught = await p().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(caught, 'expected an error').toBeInstanceOf(type);
    expect((caught as Error).message).toMatch(message);
    expect(layerCalls).toBe(before);
  }

  it('needs a backend', async () => {
    await rejects(() => lstm.forward(x(2, 2), {} as never), ConfigError, /forward needs \{ backend \}/);
  });

  it('checks the input tensor', async () => {
    const run =
      (input: Tensor, m = lstm) =>
      () =>
        m.forward(input, { backend: spy });
    await rejects(
      run(tensor(new Float32Array(4), [2, 2])),
      ShapeError,
      /input must have shape \[steps, batch, inputSize\] \(batchFirst is false\), got \[2, 2\]/,
    );
    await rejects(
      run(tensor(new Float32Array(4), [2, 2]), gru),
      ShapeError,
      /input must have shape \[batch, steps, inputSize\], got \[2, 2\]/,
    );
    await rejects(run(x(2, 2, 3)), ShapeError, /input has 3 features per step but the module's input_size is 2/);
    await rejects(run(x(0, 2)), ShapeError, /input steps must be a positive integer, got 0/);
    await rejects(run(x(2, 0)), ShapeError, /input batch must be a positive integer, got 0/);
    await rejects(
      run({ data: new Float32Array(5), shape: [2, 2, 2] }),
      ShapeError,
      /input data has 5 values but shape \[2, 2, 2\] needs 8/,
    );
    await rejects(run({ data: [1, 2] as never, shape: [1, 1, 2] }), ShapeError, /input must be a tensor/);
  });

  it('checks h0, c0 and lengths', async () => {
    const run =
      (opts: object, m = lstm, input = x(3, 2)) =>
      () =>
        m.forward(input, { backend: spy, ...opts });
    await rejects(
      run({ h0: state(2, 2) }),
      ShapeError,
      /h0 must have shape \[4, 2, 3\] \(layers × directions, batch, hidden\), got \[2, 2, 3\]/,
    );
    await rejects(run({ c0: state(3) }), ShapeError, /c0 must have shape \[4, 2, 3\]/);
    await rejects(
      run({ h0: { data: new Float32Array(3), shape: [4, 2, 3] } }),
      ShapeError,
      /h0 data has 3 values but shape \[4, 2, 3\] needs 24/,
    );
    await rejects(run({ c0: state(2, 1, 5) }, gru, tensor(new Float32Array(6), [2, 3, 1])), ShapeError, /c0 applies to nn\.LSTM only/);
    await rejects(run({ lengths: [3] }), ShapeError, /lengths has 1 values but the batch is 2/);
    await rejects(run({ lengths: [3, 4] }), ShapeError, /lengths\[1\] = 4 must be an integer in 0…3/);
    await rejects(run({ lengths: [-1, 2] }), ShapeError, /lengths\[0\] = -1/);
    await rejects(run({ lengths: [1.5, 2] }), ShapeError, /lengths\[0\] = 1.5/);
    await rejects(run({ lengths: new Float32Array([1, 2]) }), ShapeError, /lengths must be an Int32Array or an array of numbers/);
  });
});

describe('PyTorch modules on WebGPU', () => {
  let gpu: GpuFixture;

  beforeAll(async () => {
    gpu = await createGpuFixture();
  });

  afterAll(() => {
    gpu?.backend.dispose();
  });

  for (const c of golden.cases) {
    it(`matches PyTorch within float32 tolerance: ${c.name}`, async () => {
      const model = RecurrentNet.fromSafetensors(fileOf(c), c.inferOptions as TorchRecurrentOptions);
      await withErrorScope(gpu.backend.device, () => expectMatchesTorch(model, c, gpu.backend, FLOAT32_TOLERANCE));
    });
  }

  it('returns float32 results that agree with the CPU reference, including length-0 sequences', async () => {
    const c = caseNamed('gru_l2_bidir_lengths_h0');
    const model = RecurrentNet.fromSafetensors(fileOf(c), { batchFirst: false });
    const { x, opts } = inputsOf(c);
    const withEmpty = { ...opts, lengths: [0, 5, 2] };
    const want = await model.forward(x, { backend: cpuBackend, ...withEmpty });
    const got = await withErrorScope(gpu.backend.device, () => model.forward(x, { backend: gpu.backend, ...withEmpty }));
    expect(got.output.data).toBeInstanceOf(Float32Array);
    expect(got.hn.data).toBeInstanceOf(Float32Array);
    expectClose(got.output.data, want.output.data, FLOAT32_TOLERANCE, 'output', want.output.shape);
    expectClose(got.hn.data, want.hn.data, FLOAT32_TOLERANCE, 'h_n', want.hn.shape);
  });

  it('reported no uncaptured WebGPU error', () => {
    expect(gpu.uncaptured).toEqual([]);
  });
});
