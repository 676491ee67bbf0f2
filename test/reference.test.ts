import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { ElmanRNN } from '../src/model/elman.ts';
import type { ElmanStateDict } from '../src/model/params.ts';
import { tensor } from '../src/tensor.ts';
import golden from './golden/elman_torch.json';
import { expectClose } from '../src/util/compare.ts';
import { WORKED_EXAMPLE, workedExampleModel } from '../app/worked-example.ts';

// The float64 reference against values from independent sources: a hand calculation and PyTorch.

describe('CPU reference: worked example (by hand)', () => {
  it('forecasts today and tomorrow from [yesterday, today]', async () => {
    const model = workedExampleModel();
    const { output, hn } = await model.forward(tensor(WORKED_EXAMPLE.x, [2, 2, 1]), { backend: cpuBackend });
    expect(output.shape).toEqual([2, 2, 1]);
    expect(hn.shape).toEqual([1, 2, 1]);
    // Weights are float32 (1.2 and -0.5 are not exact in binary), so agreement is to ~1e-7.
    expectClose(output.data, WORKED_EXAMPLE.y, { atol: 1e-6, rtol: 0 }, 'y');
    expectClose(hn.data, WORKED_EXAMPLE.hn, { atol: 1e-6, rtol: 0 }, 'hn');
  });

  it('returns only the last step when asked, and continues from a given h0', async () => {
    const model = workedExampleModel();
    // Day 1 alone, then day 2 started from day 1's state, equals both days at once.
    const first = await model.forward(tensor([1], [1, 1, 1]), { backend: cpuBackend });
    const second = await model.forward(tensor([2], [1, 1, 1]), { backend: cpuBackend, h0: first.hn, outputs: 'last' });
    expect(second.output.shape).toEqual([1, 1]);
    expectClose(second.output.data, [2.7], { atol: 1e-6, rtol: 0 }, 'y tomorrow');
  });
});

describe('CPU reference: PyTorch nn.RNN + nn.Linear goldens', () => {
  it('has goldens from the committed script', () => {
    expect(golden.cases.length).toBeGreaterThanOrEqual(4);
    expect(golden.source).toMatch(/^torch /);
  });

  for (const c of golden.cases) {
    it(`${c.name}: L=${c.config.numLayers} ${c.config.nonlinearity} I=${c.config.inputSize} H=${c.config.hiddenSize} O=${c.config.outputSize}`, async () => {
      const sd: ElmanStateDict = {
        rnn: Object.fromEntries(Object.entries(c.rnn).map(([k, v]) => [k, Float32Array.from(v)])),
        readout: { weight: Float32Array.from(c.readout.weight), bias: Float32Array.from(c.readout.bias) },
      };
      const model = new ElmanRNN(c.config as ConstructorParameters<typeof ElmanRNN>[0], sd);
      const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O } = c.config;
      const x = tensor(Float64Array.from(c.x), [c.batch, c.steps, I]);
      const h0 = c.h0 ? tensor(Float64Array.from(c.h0), [L, c.batch, H]) : undefined;
      const res = await model.forward(x, h0 ? { backend: cpuBackend, h0 } : { backend: cpuBackend });
      // Both sides compute in float64 from the same float32-rounded values: agreement to rounding.
      const tight = { atol: 1e-12, rtol: 1e-12 };
      expectClose(res.output.data, c.y, tight, 'y', [c.batch, c.steps, O]);
      expectClose(res.hn.data, c.hn, tight, 'hn', [L, c.batch, H]);
    });
  }
});
