import { ElmanRNN } from '../../src/model/elman.ts';
import type { ElmanConfig } from '../../src/model/config.ts';
import { tensor, type Tensor } from '../../src/tensor.ts';
import { mulberry32, uniformArray } from '../../src/util/rng.ts';

/** A seeded random model and input batch for GPU-versus-reference tests. */
export interface RandomCase {
  model: ElmanRNN;
  x: Tensor;
  h0?: Tensor;
}

export function randomCase(config: ElmanConfig, batch: number, steps: number, seed: number, withH0 = false): RandomCase {
  const model = new ElmanRNN(config, { seed });
  const rand = mulberry32(seed ^ 0x9e3779b9);
  const x = tensor(uniformArray(rand, batch * steps * config.inputSize, -1, 1), [batch, steps, config.inputSize]);
  const L = config.numLayers ?? 1;
  const h0 = withH0 ? tensor(uniformArray(rand, L * batch * config.hiddenSize, -0.5, 0.5), [L, batch, config.hiddenSize]) : undefined;
  return h0 ? { model, x, h0 } : { model, x };
}
