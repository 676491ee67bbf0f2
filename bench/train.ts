// `npm run bench:train [-- flags]`: the training benchmark (bench/train-harness.ts) on every training
// contender available in Node: each validated step by step against the float64 reference, then its
// epochs timed. Prints a table and writes the JSON report.
//
//   --quick                2 timed epochs a cell, nothing over 10 s an epoch
//   --only SUBSTRING       workloads whose label (`lstm-h32 B=256 T=64 ×4 mse`) contains it
//   --contenders a,b       only these contenders (the reference still validates)
//   --batch N --steps T --epoch-steps K    the workloads' batch, window length and steps per epoch (256, 64, 4)
//   --last H               MSE over the last H steps of each window instead of all of them
//   --json PATH            where the report goes (default bench/out/train-results.json)
// Without flags: the five models of bench/workloads.ts at B = 256, T = 64, 4 Adam steps an epoch.
// PyTorch trains as pytorch-cpu, pytorch-cuda-fp32 and pytorch-cuda-tf32 (bench/peers/train-pytorch.ts),
// each unavailable with its reason where python3, torch or CUDA is missing.
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { describeAdapter, type AdapterSummary } from '../src/gpu/device.ts';
import { probeAdapter } from './contenders.ts';
import { formatTable } from './harness.ts';
import { TORCH_CUDA_FP32, TORCH_CUDA_TF32 } from './peers/pytorch.ts';
import { pytorchTrainPeer } from './peers/train-pytorch.ts';
import { tfjsTrainPeer } from './peers/train-tfjs.ts';
import type { TrainContender } from './train-contender.ts';
import { DEFAULT_TRAIN_BUDGET, runTrainHarness, trainTableRows, type TrainBudget, type TrainReport } from './train-harness.ts';
import { trainReferenceContender } from './train-reference.ts';
import { webrnnTrainContender } from './train-webrnn.ts';
import { STEPS_PER_EPOCH, TRAIN_BATCH, TRAIN_STEPS, trainWorkload, trainWorkloadLabel } from './train-workloads.ts';
import { MODELS } from './workloads.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    contenders: { type: 'string' },
    batch: { type: 'string', default: String(TRAIN_BATCH) },
    steps: { type: 'string', default: String(TRAIN_STEPS) },
    'epoch-steps': { type: 'string', default: String(STEPS_PER_EPOCH) },
    last: { type: 'string' },
    json: { type: 'string', default: 'bench/out/train-results.json' },
  },
});

function fail(message: string): never {
  console.error(`bench:train: ${message}`);
  process.exit(2);
}

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`--${flag} must be a positive integer, got ${value}`);
  return n;
}

const batch = positive('batch', args.batch);
const steps = positive('steps', args.steps);
const stepsPerEpoch = positive('epoch-steps', args['epoch-steps']);
const last = args.last === undefined ? undefined : positive('last', args.last);
if (last !== undefined && last > steps) fail(`--last ${last} is more than the ${steps} steps of a window`);

const workloads = Object.keys(MODELS)
  .map((m) => trainWorkload(m, { batch, steps, stepsPerEpoch, loss: last === undefined ? 'all' : { last } }))
  .filter((w) => !args.only || trainWorkloadLabel(w).includes(args.only));
if (workloads.length === 0) fail(`no workload matches --only ${args.only}`);

/** The training contenders in Node: webrnn, the float64 reference, then the peers. */
const reference = trainReferenceContender();
const every: TrainContender[] = [
  webrnnTrainContender(),
  reference,
  pytorchTrainPeer(),
  pytorchTrainPeer(TORCH_CUDA_FP32),
  pytorchTrainPeer(TORCH_CUDA_TF32),
  tfjsTrainPeer('wasm'),
  tfjsTrainPeer('cpu'),
  tfjsTrainPeer('webgpu'),
];
const names = args.contenders?.split(',').map((s) => s.trim());
const unknown = names?.filter((n) => !every.some((c) => c.name === n)) ?? [];
if (unknown.length) fail(`unknown contender ${unknown.join(', ')}; there are ${every.map((c) => c.name).join(', ')}`);
const contenders = names ? every.filter((c) => names.includes(c.name)) : every;

/** --quick: two timed epochs, nothing over 10 s an epoch. */
const QUICK: Partial<TrainBudget> = { minRuns: 2, maxRuns: 2, cellMs: 0, epochLimitMs: 10_000 };
const budget: TrainBudget = { ...DEFAULT_TRAIN_BUDGET, ...(args.quick ? QUICK : {}) };

// The adapter TF.js's webgpu backend (and later webrnn) trains on, for the record.
let adapter: AdapterSummary | null = null;
try {
  const probe = await probeAdapter();
  adapter = probe.adapter;
  probe.destroy();
  console.log(describeAdapter(adapter));
} catch (e) {
  console.log(`no WebGPU adapter: ${(e as Error).message}`);
}

const started = performance.now();
let records;
try {
  records = await runTrainHarness({ workloads, contenders, reference, adapter, budget, log: (line) => console.log(`  ${line}`) });
} finally {
  for (const c of new Set([...contenders, reference])) await c.dispose();
}

const cpu = cpus();
const report: TrainReport = {
  date: new Date().toISOString(),
  command: ['npm run bench:train', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
  environment: `Node ${process.version}, ${platform()} ${arch()}, ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}`,
  adapter,
  budget,
  records,
};
console.log(`\n${report.command}: ${report.date}, ${((performance.now() - started) / 1000).toFixed(0)} s`);
console.log(`${report.environment}${adapter ? `; adapter ${adapter.vendor} ${adapter.architecture} (${adapter.description})` : ''}\n`);

for (const line of formatTable(trainTableRows(records))) console.log(line);
console.log(
  `\nms/epoch: median of the timed epochs (${budget.minRuns}–${budget.maxRuns}, after a warm-up epoch), ${workloads[0]!.stepsPerEpoch} Adam steps of ${batch} windows; ` +
    'loss err / weight err: largest difference from the float64 reference over the validation run (validatedAgainst in the JSON).\n' +
    "timing: wall = the harness's clock around each epoch; in-process = the contender's own (pytorch-cpu: time.perf_counter() in Python; " +
    'pytorch-cuda-*: CUDA events, the data already on the GPU; both without the pipe).',
);
mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(args.json, JSON.stringify(report, null, 2));
console.log(`\nwrote ${args.json}`);
