import { ElmanRNN } from '../src/model/elman.ts';

/**
 * The worked example of the foundation issue: one input, one hidden unit, ReLU,
 * W_ih = 1.2, W_hh = -0.5, W_ho = 1.5, every bias 0. Shared by the CPU and GPU tests and the page.
 */
export function workedExampleModel(): ElmanRNN {
  return new ElmanRNN(
    { inputSize: 1, hiddenSize: 1, outputSize: 1, nonlinearity: 'relu' },
    {
      rnn: {
        weight_ih_l0: new Float32Array([1.2]),
        weight_hh_l0: new Float32Array([-0.5]),
        bias_ih_l0: new Float32Array([0]),
        bias_hh_l0: new Float32Array([0]),
      },
      readout: { weight: new Float32Array([1.5]), bias: new Float32Array([0]) },
    },
  );
}

/**
 * Inputs [yesterday, today] and the values worked out by hand:
 *
 *   x = [1, 2]:  h_0 = relu(1.2·1 − 0.5·0)   = 1.2   y_0 = 1.5·1.2 = 1.8  (the forecast for today)
 *                h_1 = relu(1.2·2 − 0.5·1.2) = 1.8   y_1 = 1.5·1.8 = 2.7  (the forecast for tomorrow)
 *   x = [2, -1]: h_0 = relu(1.2·2)           = 2.4   y_0 = 3.6
 *                h_1 = relu(−1.2 − 1.2)      = 0     y_1 = 0            (ReLU cuts the negative sum)
 *
 * The same two weights serve every step: a third day would add a step, not a weight.
 */
export const WORKED_EXAMPLE = {
  x: [1, 2, 2, -1], // [B=2, T=2, I=1]
  y: [1.8, 2.7, 3.6, 0], // [B=2, T=2, O=1]
  hn: [1.8, 0], // [L=1, B=2, H=1]
} as const;
