// `node scripts/vite-run.mjs test/golden/make_ets_reference.ts`: writes test/golden/ets-reference.json,
// automatic ETS as commit 2661208 computed it (before its speed work) on the seeded series of
// test/ets-reference-cases.ts, every candidate model's fit included, so test/ets-reference.test.ts
// can check that the faster implementation takes the same path to the same numbers, bit for bit.
// The file is the record of that commit's code: regenerate it only from that code.
import { writeFileSync } from 'node:fs';
import { etsReferenceCases, recordEts } from '../ets-reference-cases.ts';

const cases = etsReferenceCases().map((c) => ({ name: c.name, ...(recordEts(c) as object) }));
writeFileSync(new URL('./ets-reference.json', import.meta.url), `${JSON.stringify({ commit: '2661208', cases })}\n`);
console.log(`wrote ${cases.length} cases`);
