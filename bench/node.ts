// `npm run bench [-- flags]`: every workload on every contender available in Node, on this machine's
// WebGPU adapter, validated before timing (bench/harness.ts). Prints a table and writes the JSON report.
//
//   --quick                STANDARD only, 2–3 timed runs a cell, nothing but webrnn over 10 s a run
//   --sweep batch|steps    only a sweep (bench/workloads.ts) of --model (default elman-relu-h32)
//   --only SUBSTRING       workloads whose label (`lstm-h32 B=1024 T=64`) contains it
//   --contenders a,b       only these contenders (names as in the table), e.g. webrnn against cuDNN on a GPU
//                          machine: --contenders webrnn-webgpu,pytorch-cuda-fp32,pytorch-cuda-tf32
//   --kernel small|tile|sequential|lanes|auto   webrnn's recurrent kernel (default auto)
//   --json PATH            where the report goes (default bench/out/results.json)
// Without --quick or --sweep: STANDARD (runs up to 20 s), then the batch sweep of --model (up to 10 s a
// run): about 10 minutes on 2 cores with SwiftShader. bench/RESULTS.md holds the latest such run.
//
// PyTorch runs as three contenders (bench/peers/pytorch.ts), each unavailable with its reason where
// python3, torch or CUDA is missing: pytorch-cpu; pytorch-cuda-fp32, cuDNN with TF32 off (fp32 against
// fp32); pytorch-cuda-tf32, TF32 on. The CUDA ones are timed by CUDA events from the input's upload to
// the output's readback (webrnn's median covers both too); their GPU ms is the forward alone. The
// interpreter is $WEBRNN_BENCH_PYTHON, else /usr/bin/python3, else python3 on PATH.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, arch } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { describeAdapter } from '../src/gpu/device.ts';
import { FORWARD_KERNELS, isRecurrentKernelChoice, type RecurrentKernelChoice } from '../src/gpu/kernels/forward/plan.ts';
import { contenderSet, probeAdapter } from './contenders.ts';
import {
  DEFAULT_BUDGET,
  formatTable,
  runHarness,
  tableRows,
  workloadLabel,
  type BenchRecord,
  type BenchReport,
  type Budget,
} from './harness.ts';
import { batchSweep, MODELS, STANDARD, stepSweep, type Workload } from './workloads.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sweep: { type: 'string' },
    model: { type: 'string', default: 'elman-relu-h32' },
    only: { type: 'string' },
    contenders: { type: 'string' },
    kernel: { type: 'string', default: 'auto' },
    json: { type: 'string', default: 'bench/out/results.json' },
  },
});

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

if (!(args.model in MODELS)) fail(`unknown --model ${args.model}; one of ${Object.keys(MODELS).join(', ')}`);
if (!isRecurrentKernelChoice(args.kernel))
  fail(`--kernel must be auto, a kernel (${FORWARD_KERNELS.map((k) => k.name).join(', ')}) or a variant (tile/256), got ${args.kernel}`);
if (args.sweep && !['batch', 'steps'].includes(args.sweep)) fail(`--sweep must be batch or steps, got ${args.sweep}`);

/** --quick: two or three timed runs a cell (the validating run warms up), nothing over 10 s a run but webrnn. */
const QUICK: Partial<Budget> = { minRuns: 2, maxRuns: 3, cellMs: 0, warmupMs: 0, runLimitMs: 10_000, referenceMs: 10_000 };
/** Sweeps stop where one run of a contender would pass 10 s, so the default run stays near 10 minutes on 2 cores. */
const SWEEP: Partial<Budget> = { cellMs: 3_000, runLimitMs: 10_000, referenceMs: 15_000 };

/** The workloads to run, in phases that each have their own budget. */
function phases(): Array<{ workloads: Workload[]; budget: Budget }> {
  const only = (ws: Workload[]) => (args.only ? ws.filter((w) => workloadLabel(w).includes(args.only!)) : ws);
  const standard = { workloads: only(STANDARD), budget: { ...DEFAULT_BUDGET, ...(args.quick ? QUICK : {}) } };
  const sweep = (ws: Workload[]) => ({ workloads: only(ws), budget: { ...DEFAULT_BUDGET, ...SWEEP } });
  if (args.sweep === 'batch') return [sweep(batchSweep(args.model))];
  if (args.sweep === 'steps') return [sweep(stepSweep(args.model))];
  if (args.quick) return [standard];
  // B = 1024 is in STANDARD already.
  return [standard, sweep(batchSweep(args.model).filter((w) => w.batch !== 1024))];
}

const plan = phases();
if (plan.every((p) => p.workloads.length === 0)) fail(`no workload matches --only ${args.only}`);
function contenders() {
  try {
    return contenderSet('node', { kernel: args.kernel as RecurrentKernelChoice, names: args.contenders?.split(',').map((s) => s.trim()) });
  } catch (e) {
    return fail((e as Error).message);
  }
}
const { all, reference } = contenders();

// The adapter and its ceilings, on a device of their own, before the contenders take theirs.
const probe = await probeAdapter();
const adapter = probe.adapter;
console.log(describeAdapter(adapter));
const ceilings = await probe.ceilings();
probe.destroy();
console.log(
  ceilings
    ? `ceilings: copy ${ceilings.copyGBs.toFixed(2)} GB/s, matmul ${ceilings.matmulGflops.toFixed(2)} GFLOP/s`
    : `ceilings: not measured (${probe.ceilingsError})`,
);

const started = performance.now();
const records: BenchRecord[] = [];
try {
  for (const { workloads, budget } of plan) {
    const log = (line: string) => console.log(`  ${line}`);
    records.push(...(await runHarness({ workloads, contenders: all, reference, adapter, ceilings, budget, log, earlier: records })));
  }
} finally {
  for (const c of new Set([...all, reference])) await c.dispose();
}

const cpu = cpus();
const report: BenchReport = {
  date: new Date().toISOString(),
  command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
  environment: `Node ${process.version}, ${platform()} ${arch()}, ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}`,
  adapter,
  ceilings,
  budget: plan.map((p) => p.budget),
  records,
};
console.log(`\n${report.command}: ${report.date}, ${((performance.now() - started) / 1000).toFixed(0)} s`);
console.log(`${report.environment}; adapter ${adapter.vendor} ${adapter.architecture} (${adapter.description})\n`);
for (const line of formatTable(tableRows(records))) console.log(line);
if (records.some((r) => r.gpuMedianMs !== null)) {
  console.log(
    "\nGPU ms: webrnn's kernels alone over the same runs, from the first pass's start to the last pass's end by GPU timestamp\n" +
      'queries (* where the adapter has none: submit to completion); median ms includes upload and readback. pytorch-cuda-*:\n' +
      'the forward alone by CUDA events, its input already on the GPU; their median ms includes upload and readback too.',
  );
}
if (records.some((r) => r.timing === 'in-process')) {
  console.log(
    "\ntiming: wall = the harness's clock around each run (upload, compute, readback); in-process = the contender's own\n" +
      "clock (pytorch-cpu: time.perf_counter() around the forward in Python; pytorch-cuda-*: CUDA events from the input's\n" +
      "upload to the output's readback; both without the pipe to Node; the JSON keeps the wall time of the same runs as\n" +
      'wallMedianMs)',
  );
}
const shares = records.filter((r) => r.ceilingShare);
if (shares.length) {
  console.log('\nwebrnn against the adapter ceilings (share of matmul GFLOP/s; of copy GB/s for H ≤ 4):');
  for (const r of shares) {
    const copy = r.ceilingShare!.copy === null ? '' : `, copy ${(100 * r.ceilingShare!.copy).toFixed(1)}%`;
    console.log(
      `  ${workloadLabel({ name: r.workload, batch: r.batch, steps: r.steps })}: matmul ${(100 * r.ceilingShare!.matmul).toFixed(1)}%${copy}`,
    );
  }
}
mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(args.json, JSON.stringify(report, null, 2));
console.log(`\nwrote ${args.json}`);
