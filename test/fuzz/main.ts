// The fuzzing suite's long runs, started by scripts/fuzz.mjs (`npm run fuzz -- --runs N …`) inside
// Vite's SSR loader (the library imports WGSL with `?raw`). Arguments:
//
//   --runs N          inputs per kind (default 1000), shared among the kind's properties by weight
//   --seed S          fast-check's seed (default: a fresh one, printed)
//   --kind K          csv, model or api (default: all three)
//   --property NAME   one property only (csv-parse, model-files, model-files-gpu, api, api-gpu)
//   --path P          with --property and --seed: replay the input that path names, and shrink it
//   --no-gpu          skip the properties that compare WebGPU with the float64 reference
//   --json FILE       write the report as JSON too
//
// Every input is checked (a failure does not stop the run); failing inputs are grouped by the shape
// of their message and the first of each group is replayed and shrunk. Exit status 1 when any input
// failed. FUZZ_PROGRESS names a file that hears of every input before it runs: scripts/fuzz.mjs
// watches it to catch a synchronous hang, which nothing inside this process can interrupt.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WebGPUBackend } from '../../src/backends/webgpu.ts';
import { runProperty, surveyProperty, type FuzzProperty, type FuzzReport } from './harness.ts';
import { guardAllocations } from './memory-guard.ts';
import { fileSeeds } from './model/file-seeds.ts';
import { fuzzSuite } from './suite.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    seed: { type: 'string' },
    kind: { type: 'string' },
    property: { type: 'string' },
    path: { type: 'string' },
    'no-gpu': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

function usage(message: string): never {
  console.error(`fuzz: ${message}`);
  process.exit(2);
}

const runs = Number(args.runs);
if (!Number.isSafeInteger(runs) || runs < 1) usage(`--runs must be a positive integer, got ${args.runs}`);
const seed = args.seed === undefined ? (Date.now() ^ (Math.random() * 2 ** 31)) | 0 : Number(args.seed);
if (!Number.isSafeInteger(seed)) usage(`--seed must be an integer, got ${args.seed}`);
if (args.kind && !['csv', 'model', 'api'].includes(args.kind)) usage(`--kind must be csv, model or api, got ${args.kind}`);
if (args.path && !(args.property && args.seed !== undefined)) usage('--path replays one input: give --property and --seed with it');

// No case needs more than a few MiB; 1 GiB leaves room and stops a 16 GiB allocation cold.
guardAllocations(1 << 30);

const wantsGpu = !args['no-gpu'] && args.kind !== 'csv' && !(args.property && !args.property.endsWith('-gpu'));
let gpu: WebGPUBackend | null = null;
if (wantsGpu) {
  try {
    gpu = await WebGPUBackend.create({ poisonOutputs: true });
  } catch (err) {
    console.log(`fuzz: no WebGPU device (${(err as Error).message}); the GPU properties are skipped`);
  }
}

const suite = await fuzzSuite({ gpu, extraSeeds: fileSeeds() });
const properties = suite.properties.filter((p) => (!args.kind || p.kind === args.kind) && (!args.property || p.name === args.property));
if (properties.length === 0) usage(`no property matches (${suite.properties.map((p) => p.name).join(', ')})`);

/** A kind's runs shared among its properties by weight (at least one each). */
function share(p: FuzzProperty): number {
  const same = properties.filter((q) => q.kind === p.kind);
  const total = same.reduce((n, q) => n + q.weight, 0);
  return Math.max(1, Math.round((runs * p.weight) / total));
}

const progress = process.env.FUZZ_PROGRESS;
const reports: FuzzReport[] = [];
const started = Date.now();
console.log(
  `fuzz: seed ${seed}, ${runs} inputs per kind, properties ${properties.map((p) => `${p.name} (${args.path ? 'replay' : share(p)})`).join(', ')}`,
);
for (const p of properties) {
  const report = args.path
    ? await runProperty(p, { runs: 1, seed, path: args.path })
    : await surveyProperty(p, {
        runs: share(p),
        seed,
        onCase: (i, shrinking) => {
          if (progress) writeFileSync(progress, `${p.name} ${seed} ${i}${shrinking ? ' shrinking' : ''}\n`);
          if (!shrinking && i > 0 && i % Math.max(1, Math.floor(share(p) / 10)) === 0)
            console.log(`  ${p.name}: ${i} inputs, ${((Date.now() - started) / 1000).toFixed(0)} s`);
        },
      });
  reports.push(report);
  console.log(
    `${p.name}: ${report.runs} inputs, ${report.failing} failing, ${(report.ms / 1000).toFixed(1)} s\n  outcomes: ${report.tally}`,
  );
  for (const f of report.failures) console.log(`\n${f}\n`);
}
suite.dispose();
gpu?.dispose();

const kinds = [...new Set(reports.map((r) => r.kind))].map((kind) => {
  const rs = reports.filter((r) => r.kind === kind);
  return {
    kind,
    inputs: rs.reduce((n, r) => n + r.runs, 0),
    failing: rs.reduce((n, r) => n + r.failing, 0),
    distinct: rs.reduce((n, r) => n + r.failures.length, 0),
    seconds: rs.reduce((n, r) => n + r.ms, 0) / 1000,
  };
});
const wall = (Date.now() - started) / 1000;
console.log(`\nfuzz summary (seed ${seed}, ${wall.toFixed(0)} s wall):`);
for (const k of kinds)
  console.log(`  ${k.kind}: ${k.inputs} inputs, ${k.failing} failing (${k.distinct} distinct), ${k.seconds.toFixed(0)} s`);
if (args.json) {
  const json = {
    seed,
    runs,
    wallSeconds: wall,
    kinds,
    properties: reports.map((r) => ({
      property: r.property,
      kind: r.kind,
      inputs: r.runs,
      failing: r.failing,
      seconds: r.ms / 1000,
      outcomes: Object.fromEntries(r.tally.counts),
      failures: r.failures,
    })),
  };
  writeFileSync(args.json, `${JSON.stringify(json, null, 2)}\n`);
}
process.exitCode = reports.some((r) => r.failing > 0) ? 1 : 0;
