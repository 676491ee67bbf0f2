import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.ts';
import { ConfigError, ShapeError, WebRNNError, WeightError } from '../src/errors.ts';
import { ElmanRNN } from '../src/model/elman.ts';
import type { ElmanConfig } from '../src/model/config.ts';
import { tensor, type Tensor } from '../src/tensor.ts';

// Bad input is rejected with a typed error that says what is wrong, before any backend work: the
// spy backend below fails the test if it is ever reached.

const spy: Backend & { calls: number } = {
  name: 'spy',
  calls: 0,
  async elmanForward() {
    spy.calls++;
    throw new Error('the backend must not be reached with bad input');
  },
  async recurrentLayer() {
    spy.calls++;
    throw new Error('the backend must not be reached with bad input');
  },
  async recurrentStack() {
    spy.calls++;
    throw new Error('the backend must not be reached with bad input');
  },
  dispose() {},
};

const config: ElmanConfig = { inputSize: 2, hiddenSize: 3, outputSize: 1, numLayers: 2, nonlinearity: 'tanh' };

function x(B: number, T: number, I = 2): Tensor {
  return tensor(new Float32Array(B * T * I), [B, T, I]);
}

async function rejects(p: () => Promise<unknown> | unknown, type: new (...a: never[]) => WebRNNError, message: RegExp) {
  const before = spy.calls;
  let caught: unknown;
  try {
    await p();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error').toBeInstanceOf(type);
  expect(caught).toBeInstanceOf(WebRNNError);
  expect((caught as Error).message).toMatch(message);
  expect(spy.calls).toBe(before);
}

describe('configuration errors', () => {
  it.each([
    [{ ...config, hiddenSize: 0 }, /hiddenSize must be an integer from 1/],
    [{ ...config, inputSize: -3 }, /inputSize must be an integer from 1.*got -3/],
    [{ ...config, outputSize: 1.5 }, /outputSize must be an integer/],
    [{ ...config, numLayers: 0 }, /numLayers must be an integer from 1/],
    [{ ...config, hiddenSize: Number.NaN }, /hiddenSize/],
    [{ ...config, nonlinearity: 'sigmoid' }, /unknown nonlinearity "sigmoid": expected one of tanh, relu/],
  ] as Array<[ElmanConfig, RegExp]>)('rejects %o', async (bad, message) => {
    await rejects(() => new ElmanRNN(bad), ConfigError, message);
  });

  it('rejects a forward call without a backend and an unknown outputs mode', async () => {
    const m = new ElmanRNN(config);
    await rejects(() => m.forward(x(1, 1), undefined as never), ConfigError, /needs \{ backend \}/);
    await rejects(() => m.forward(x(1, 1), { backend: spy, outputs: 'first' as never }), ConfigError, /outputs must be 'all' or 'last'/);
  });
});

describe('input shape errors', () => {
  const m = new ElmanRNN(config);
  it('rejects data whose length does not match the shape', async () => {
    await rejects(
      () => m.forward({ data: new Float32Array(5), shape: [1, 2, 2] }, { backend: spy }),
      ShapeError,
      /has 5 values but shape \[1, 2, 2\] needs 4/,
    );
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(ShapeError);
  });
  it('rejects a wrong rank, zero batch or steps, and the wrong feature count', async () => {
    await rejects(() => m.forward(tensor(new Float32Array(4), [2, 2]), { backend: spy }), ShapeError, /\[batch, steps, inputSize\]/);
    await rejects(() => m.forward(x(0, 3), { backend: spy }), ShapeError, /batch must be a positive integer, got 0/);
    await rejects(() => m.forward(x(2, 0), { backend: spy }), ShapeError, /steps must be a positive integer, got 0/);
    await rejects(() => m.forward(x(2, 3, 5), { backend: spy }), ShapeError, /5 features per step but the model's inputSize is 2/);
    await rejects(() => m.forward({ data: [1, 2] as never, shape: [1, 1, 2] }, { backend: spy }), ShapeError, /must be a tensor/);
  });
  it('rejects an h0 of the wrong shape or length', async () => {
    await rejects(
      () => m.forward(x(4, 3), { backend: spy, h0: tensor(new Float32Array(2 * 3 * 3), [2, 3, 3]) }),
      ShapeError,
      /h0 must have shape \[2, 4, 3\]/,
    );
    await rejects(
      () => m.forward(x(4, 3), { backend: spy, h0: { data: new Float32Array(5), shape: [2, 4, 3] } }),
      ShapeError,
      /h0 data has 5 values/,
    );
  });
});

describe('weight errors', () => {
  const good = new ElmanRNN(config, { seed: 1 }).stateDict();
  const cases: Array<[string, (sd: ReturnType<typeof structuredClone<typeof good>>) => void, RegExp]> = [
    ['a missing tensor', (sd) => delete sd.rnn.bias_hh_l1, /missing parameter rnn.bias_hh_l1 \[3\]/],
    ['an extra layer', (sd) => (sd.rnn.weight_ih_l2 = new Float32Array(9)), /unexpected parameter rnn.weight_ih_l2 for a 2-layer network/],
    [
      'a transposed input matrix',
      (sd) => (sd.rnn.weight_ih_l0 = new Float32Array(3 * 5)),
      /rnn.weight_ih_l0 has 15 values but shape \[3, 2\] needs 6/,
    ],
    [
      'a readout of the wrong size',
      (sd) => (sd.readout.weight = new Float32Array(4)),
      /readout.weight has 4 values but shape \[1, 3\] needs 3/,
    ],
    ['a NaN weight', (sd) => (sd.rnn.weight_hh_l0![4] = Number.NaN), /rnn.weight_hh_l0 holds a non-finite value \(NaN\) at index 4/],
    ['an infinite bias', (sd) => (sd.readout.bias[0] = Infinity), /readout.bias holds a non-finite value \(Infinity\)/],
    ['a non-array tensor', (sd) => ((sd.rnn as Record<string, unknown>).bias_ih_l0 = 'x'), /bias_ih_l0 must be a Float32Array/],
  ];
  for (const [what, mutate, message] of cases) {
    it(`rejects ${what}`, async () => {
      const sd = structuredClone(good);
      mutate(sd);
      await rejects(() => new ElmanRNN(config, sd), WeightError, message);
      const m = new ElmanRNN(config, good);
      await rejects(() => m.loadStateDict(sd), WeightError, message);
      // A rejected load leaves the old weights in place.
      expect(m.stateDict().rnn.weight_hh_l0).toEqual(good.rnn.weight_hh_l0);
    });
  }
  it('rejects a state dict that is not shaped { rnn, readout }', async () => {
    await rejects(() => new ElmanRNN(config, { weight_ih_l0: [] } as never), WeightError, /\{ rnn: \{\.\.\.\}, readout/);
  });
});

describe('weights round-trip with PyTorch names', () => {
  it('lists parameters in PyTorch state-dict order with PyTorch shapes', () => {
    const specs = new ElmanRNN(config).parameterSpecs().map((s) => `${s.group}.${s.name}[${s.shape}]`);
    expect(specs).toEqual([
      'rnn.weight_ih_l0[3,2]',
      'rnn.weight_hh_l0[3,3]',
      'rnn.bias_ih_l0[3]',
      'rnn.bias_hh_l0[3]',
      'rnn.weight_ih_l1[3,3]',
      'rnn.weight_hh_l1[3,3]',
      'rnn.bias_ih_l1[3]',
      'rnn.bias_hh_l1[3]',
      'readout.weight[1,3]',
      'readout.bias[1]',
    ]);
  });
  it('initialises like PyTorch (uniform in ±1/√H), reproducibly from a seed', () => {
    const a = new ElmanRNN(config, { seed: 5 }).stateDict();
    const b = new ElmanRNN(config, { seed: 5 }).stateDict();
    const c = new ElmanRNN(config, { seed: 6 }).stateDict();
    expect(a).toEqual(b);
    expect(a.rnn.weight_hh_l0).not.toEqual(c.rnn.weight_hh_l0);
    const bound = 1 / Math.sqrt(3);
    for (const v of Object.values(a.rnn)) for (const w of v) expect(Math.abs(w)).toBeLessThanOrEqual(bound);
  });
});
