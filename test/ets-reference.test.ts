import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { etsReferenceCases, recordEts } from './ets-reference-cases.ts';

// Automatic ETS was made faster (allocation-free admissibility test and filter) without changing a
// result: on seeded series, every model's fit takes the same number of Nelder–Mead evaluations to the
// same parameters, states and criteria, and the chosen forecast is the same, bit for bit, as commit
// 2661208's (test/golden/ets-reference.json, written by test/golden/make_ets_reference.ts there).
const reference = JSON.parse(readFileSync(new URL('./golden/ets-reference.json', import.meta.url), 'utf8')) as {
  commit: string;
  cases: { name: string }[];
};

describe('automatic ETS against its record from commit 2661208', () => {
  const cases = etsReferenceCases();
  it('has a record of every case', () => expect(reference.cases.map((c) => c.name)).toEqual(cases.map((c) => c.name)));
  for (const [i, c] of cases.entries()) {
    it(`${c.name}: the same fits and forecast, bit for bit`, () => {
      const { name, ...recorded } = reference.cases[i]!;
      expect(recordEts(c)).toEqual(recorded);
    });
  }
});
