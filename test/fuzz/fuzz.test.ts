import { afterAll, beforeAll, describe, it } from 'vitest';
import { apiProperty } from './api/property.ts';
import { csvProperty } from './csv/property.ts';
import { runProperty, type FuzzProperty } from './harness.ts';
import { guardAllocations } from './memory-guard.ts';
import { fileSeeds } from './model/file-seeds.ts';
import { modelProperty } from './model/property.ts';
import { inMemorySeeds } from './model/seeds.ts';
import { DEFAULT_SEED, shortRuns } from './settings.ts';

// The fuzzing suite's short seeded run on the float64 reference (test/fuzz/harness.ts states the
// invariant; fuzz.gpu.test.ts runs the WebGPU comparisons). The same inputs every time (fixed
// seed); `npm run fuzz -- --runs N` runs the long ones. A failure prints the shrunk counterexample
// and the command that replays it.

// A size that slipped through validation fails as an allocation refused, not by taking the machine down.
let unguard: () => void;
beforeAll(() => {
  unguard = guardAllocations(1 << 30);
});
afterAll(() => unguard?.());

async function expectNoFailure(p: FuzzProperty, runs: number): Promise<void> {
  const report = await runProperty(p, { runs: shortRuns(runs), seed: DEFAULT_SEED });
  if (report.failures.length) throw new Error(report.failures.join('\n\n'));
}

describe('fuzzing (short seeded run)', () => {
  it('CSV files, long and wide, every kind of time stamp, extreme and non-decimal cells, defects: parsed exactly or refused with a typed error', {
    timeout: 60_000,
  }, async () => {
    await expectNoFailure(csvProperty, 1000);
  });

  it('model files (ONNX, safetensors, .pb tensors, saved forecasters), mutated: a typed error or a model whose outputs are finite', {
    timeout: 60_000,
  }, async () => {
    await expectNoFailure(modelProperty([...(await inMemorySeeds()), ...fileSeeds()]), 800);
  });

  it('API calls with bad shapes, options and values: a typed error or a finite result of the right shape', {
    timeout: 60_000,
  }, async () => {
    await expectNoFailure(apiProperty(), 800);
  });
});
