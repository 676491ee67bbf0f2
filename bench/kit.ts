// The GPU run kit's benchmark (issue 14): `npm run gpu-kit` bundles this file into the kit's
// kit.mjs, and the kit's run.sh runs it on a machine with a GPU and no Node.js (see bench/kit/).
// Here it runs as any benchmark does: `node scripts/vite-run.mjs bench/kit.ts --quick --out DIR`.
//
// Sections, in order, each written to DIR/results.json as soon as it is measured (a run cut short
// keeps what it finished):
//   info      the adapter, every limit it offers and what the device was granted, its features
//   ceilings  a plain copy (GB/s) and the best WGSL matmul (GFLOP/s) on this adapter; the cost of a
//             dispatch and of a submission round trip
//   tune      the forward kernel's autotuner in 'full' mode on the layers of the standard and hidden
//             sections' workloads (src/tune/forward.ts): every candidate's time and the choice, kept
//             in the cache file, so the sections after it run the tuned choices
//   standard  every model of bench/workloads.ts at B = 4,096, T = 64 and 256
//   batch     Elman ReLU H=32 and LSTM H=32 from B = 16,384 to 10⁶ (T = 64); at T = 256 Elman H=1
//             (copy-bound) at B = 10⁶ and LSTM H=32 at B = 262,144
//   hidden    LSTM and Elman tanh at H = 32, 64, 128, 256 (B = 16,384, T = 64)
//   kernels   webrnn alone, every forward candidate (kernel and tile shape) that fits, on four shapes
//   toggles   webrnn alone on two shapes with Dawn's bounds checks and workgroup zeroing switched off
//             (`disable_robustness`, `disable_workgroup_init`), against the defaults
// Contenders: webrnn (kernel by shape), PyTorch on CUDA with TF32 off and on where the machine's
// python3 has CUDA (bench/peers/pytorch.ts), all validated against the float64 CPU reference before
// they are timed (bench/harness.ts).
//
// Issue 18's sections, not in the default run (a second invocation, see bench/kit/run.sh):
//   train       training against PyTorch cuDNN fp32 and TF32 (bench/kit-train.ts, bench/train-harness.ts)
//   per-series  1,000 and 10,000 small models trained side by side, against PyTorch's batched and
//               vmap ways and one model at a time (bench/kit-train.ts)
//   forecast    the forecasting job timed per phase: 100,000 synthetic series with the networks alone,
//               the real datasets and 2,000 synthetic series with the default combination, the
//               baselines on a thread per core (bench/kit-forecast.ts, bench/baseline-pool.ts)
// Each of these gets a share of the time left when it starts (train 30 %, per-series 20 %, forecast
// 50 % of the budget when all three run) and stops starting workloads at its share's end.
//
//   --out DIR        where results.json goes (default kit-out)
//   --quick          tiny shapes, for checking the kit on a software adapter (the kit's test)
//   --budget-s N     stop starting workloads after N seconds (default 300); what was left is listed
//   --sections a,b   only these sections (default info … toggles: issue 14's, and tune)
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installNodeGpu } from '../src/gpu/node-adapter.ts';
import { acquireGpu, DAWN_FLAGS_ENV, dawnFlagsFrom, type AdapterSummary } from '../src/gpu/device.ts';
import type { RecurrentKernelChoice } from '../src/gpu/kernels/forward/plan.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { tuneCachePath } from '../src/tune/file-store.ts';
import type { TuneResolution } from '../src/tune/forward.ts';
import { measureCeilings, measureDispatchCost, type Ceilings, type DispatchCost } from './ceilings.ts';
import type { Contender } from './contender.ts';
import { contenderSet, webrnnContender } from './contenders.ts';
import { buildModel, formatTable, runHarness, tableRows, workloadLabel, type BenchRecord, type Budget } from './harness.ts';
import { startBaselinePool } from './baseline-pool.ts';
import { forecastRows, runForecastJob, type ForecastJobRecord } from './forecast-job.ts';
import { forecastPlan } from './kit-forecast.ts';
import { trainBudget, trainContenders, trainPlan } from './kit-train.ts';
import { runTrainHarness, trainTableRows, type TrainRecord } from './train-harness.ts';
import { trainWorkloadLabel } from './train-workloads.ts';
import { MODELS, type Workload } from './workloads.ts';

/** Issue 14's sections: the default run. */
export const DEFAULT_SECTIONS = ['info', 'ceilings', 'tune', 'standard', 'batch', 'hidden', 'kernels', 'toggles'] as const;
/** Issue 18's sections, each with its share of the time budget when they run together. */
export const TRAINING_SECTIONS = { train: 0.3, 'per-series': 0.2, forecast: 0.5 } as const;
export const KIT_SECTIONS = [...DEFAULT_SECTIONS, ...(Object.keys(TRAINING_SECTIONS) as Array<keyof typeof TRAINING_SECTIONS>)] as const;
export type KitSection = (typeof KIT_SECTIONS)[number];

/** A kernel-sweep or toggles record: which kernel and tile shape, or which Dawn toggles, ran. */
export interface KernelRecord extends BenchRecord {
  variant: string;
}

/** What results.json holds. */
export interface KitReport {
  date: string;
  command: string;
  environment: string;
  /** Dawn instance toggles in force (WEBRNN_DAWN_FLAGS). */
  dawnFlags: string[];
  adapter: AdapterSummary | null;
  /** Every limit the adapter offers, and what the engine's device was granted. */
  limits: { adapter: Record<string, number>; device: Record<string, number> } | null;
  features: { adapter: string[]; granted: string[] } | null;
  ceilings: Ceilings | null;
  dispatch: DispatchCost | null;
  /** The tune section: the autotuner's table per shape (candidates, ms each, choice, source) and where it is cached. */
  tune: { mode: 'full'; budgetMs: number; cache: string; shapes: TuneResolution[] } | null;
  /**
   * Records per section (standard, batch, hidden: every contender; kernels: webrnn per variant;
   * train, perSeries: every training contender; forecast: one per job).
   */
  records: {
    standard: BenchRecord[];
    batch: BenchRecord[];
    hidden: BenchRecord[];
    kernels: KernelRecord[];
    toggles: KernelRecord[];
    train: TrainRecord[];
    perSeries: TrainRecord[];
    forecast: ForecastJobRecord[];
  };
  /** Workloads not started because the time budget ran out, by section. */
  skipped: string[];
  /** Sections that failed, with the error. */
  errors: string[];
  /** Seconds the whole run took. */
  seconds: number | null;
}

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'kit-out' },
    quick: { type: 'boolean', default: false },
    'budget-s': { type: 'string', default: '300' },
    sections: { type: 'string', default: DEFAULT_SECTIONS.join(',') },
  },
});

function fail(message: string): never {
  console.error(`kit: ${message}`);
  process.exit(2);
}

const budgetS = Number(args['budget-s']);
if (!(budgetS > 0)) fail(`--budget-s must be a positive number of seconds, got ${args['budget-s']}`);
const sections = args.sections.split(',').map((s) => s.trim());
for (const s of sections)
  if (!(KIT_SECTIONS as readonly string[]).includes(s)) fail(`unknown section ${s}; one of ${KIT_SECTIONS.join(', ')}`);
const wants = (s: KitSection) => sections.includes(s);

const w = (name: string, batch: number, steps: number, model: Partial<Workload> = {}): Workload => ({
  name,
  ...MODELS[name]!,
  batch,
  steps,
  ...model,
});
/** A model of bench/workloads.ts at another hidden size (named like the others). */
const hidden = (cell: 'lstm' | 'rnn', H: number, batch: number, steps: number): Workload => {
  const name = cell === 'lstm' ? `lstm-h${H}` : `elman-tanh-h${H}`;
  return {
    name,
    cell,
    ...(cell === 'rnn' ? { nonlinearity: 'tanh' as const } : {}),
    inputSize: 1,
    hiddenSize: H,
    outputSize: 1,
    numLayers: 1,
    batch,
    steps,
  };
};

/** The workloads of each section: on a GPU, and tiny ones (--quick) for a software adapter. */
const PLAN: Record<'standard' | 'batch' | 'hidden' | 'kernels' | 'toggles', Workload[]> = args.quick
  ? {
      standard: [w('elman-relu-h1', 64, 8), w('lstm-h32', 64, 8)],
      batch: [w('lstm-h32', 16, 8), w('lstm-h32', 256, 8)],
      hidden: [hidden('lstm', 8, 32, 4), hidden('rnn', 16, 32, 4)],
      kernels: [w('elman-relu-h1', 64, 4), hidden('lstm', 16, 64, 4)],
      toggles: [hidden('lstm', 16, 64, 4)],
    }
  : {
      standard: [64, 256].flatMap((T) => Object.keys(MODELS).map((m) => w(m, 4096, T))),
      batch: [
        ...['elman-relu-h32', 'lstm-h32'].flatMap((m) => [16_384, 65_536, 262_144, 1_000_000].map((B) => w(m, B, 64))),
        w('elman-relu-h1', 1_000_000, 256),
        // 10⁶ × 256 LSTM steps would hold about 136 GB of host memory by the harness's estimate.
        w('lstm-h32', 262_144, 256),
      ],
      hidden: (['lstm', 'rnn'] as const).flatMap((cell) => [32, 64, 128, 256].map((H) => hidden(cell, H, 16_384, 64))),
      kernels: [w('elman-relu-h1', 65_536, 64), w('lstm-h32', 65_536, 64), w('gru-h24-i4', 65_536, 64), w('lstm-h128', 16_384, 64)],
      toggles: [w('elman-relu-h1', 65_536, 64), w('lstm-h32', 65_536, 64)],
    };

/** Dawn toggles the `toggles` section adds to the run's own (each alone, then both). */
const TOGGLES: Array<[name: string, flags: string[]]> = [
  ['defaults', []],
  ['no robustness', ['enable-dawn-features=disable_robustness']],
  ['no workgroup init', ['enable-dawn-features=disable_workgroup_init']],
  ['neither', ['enable-dawn-features=disable_robustness,disable_workgroup_init']],
];

/** Short runs: the kit has minutes for everything, and validates every cell before timing it. */
const BUDGET: Partial<Budget> = args.quick
  ? { minRuns: 2, maxRuns: 3, cellMs: 0, warmupMs: 0, runLimitMs: 10_000, referenceMs: 5_000 }
  : { minRuns: 3, maxRuns: 10, cellMs: 1_500, warmupMs: 200, runLimitMs: 8_000, referenceMs: 3_000, hostBytes: 48 * 2 ** 30 };

/** The tune section's time per shape: 'full' times every candidate, median of three, within it. */
const TUNE_BUDGET_MS = args.quick ? 500 : 5_000;

/** The workload's layers as the kernel choice sees them: its model's specs, the head after the last. */
function workloadLayers(wl: Workload) {
  const { layers, head } = buildModel(wl).layers();
  return layers.map(({ spec }, k) => ({ spec, headOutputs: k === layers.length - 1 ? (head?.outputSize ?? 0) : 0 }));
}

/**
 * Every forward candidate (kernel and variant: src/gpu/kernels/forward/plan.ts forwardCandidates)
 * that takes the workload's first layer on this device, with its traits (subgroups where granted),
 * in the cost model's order: the names `recurrentKernel` forces.
 */
export function kernelVariants(wl: Workload, backend: WebGPUBackend): RecurrentKernelChoice[] {
  const [first] = workloadLayers(wl);
  return backend.forwardCandidates(first!.spec, wl.batch).map((c) => c.name as RecurrentKernelChoice);
}

/**
 * The tune section: the autotuner in 'full' mode on every layer of the standard and hidden
 * workloads, on a backend as the contenders create theirs (same device options, so the same keys):
 * the choices land in the cache file the later sections read.
 */
async function tuneSection(report: KitReport, log: (line: string) => void): Promise<void> {
  const backend = await WebGPUBackend.create({ log: false, tune: 'full', tuneBudgetMs: TUNE_BUDGET_MS });
  report.tune = { mode: 'full', budgetMs: TUNE_BUDGET_MS, cache: tuneCachePath(), shapes: [] };
  try {
    const seen = new Set<string>();
    for (const wl of [...PLAN.standard, ...PLAN.hidden]) {
      for (const { spec, headOutputs } of workloadLayers(wl)) {
        const r = await backend.tuneLayer(spec, wl.batch, { headOutputs });
        if (seen.has(r.shape)) continue;
        seen.add(r.shape);
        report.tune.shapes.push(r);
        const times = r.candidates.map((c) => `${c.name} ${r.timesMs[c.name]?.toFixed(3) ?? '–'}`).join(', ');
        log(`  ${r.shape}: ${r.choice} (${r.source}); ms: ${times}`);
      }
    }
  } finally {
    backend.dispose();
  }
}

async function main(): Promise<void> {
  installNodeGpu();
  const started = performance.now();
  const deadline = started + budgetS * 1000;
  const cpu = cpus();
  const report: KitReport = {
    date: new Date().toISOString(),
    command: ['kit', ...process.argv.slice(2)].join(' '),
    environment: `Node ${process.version}, ${platform()} ${arch()}, ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    dawnFlags: dawnFlagsFrom(undefined, process.env),
    adapter: null,
    limits: null,
    features: null,
    ceilings: null,
    dispatch: null,
    tune: null,
    records: { standard: [], batch: [], hidden: [], kernels: [], toggles: [], train: [], perSeries: [], forecast: [] },
    skipped: [],
    errors: [],
    seconds: null,
  };
  mkdirSync(args.out, { recursive: true });
  const file = join(args.out, 'results.json');
  const save = () => writeFileSync(file, JSON.stringify(report, null, 2));
  const log = (line: string) => console.log(line);
  log(`kit: ${report.environment}; ${DAWN_FLAGS_ENV}=${report.dawnFlags.join(',') || '(none)'}`);

  // The adapter, its limits and features, and its ceilings, on a device of their own.
  const gpu = await acquireGpu({ log });
  const sweepVariants = new Map<Workload, RecurrentKernelChoice[]>();
  try {
    const all = (l: GPUSupportedLimits) => {
      const out: Record<string, number> = {};
      // Dawn's limits are getters on the prototype: for…in sees them, Object.keys does not.
      for (const k in l)
        if (typeof (l as unknown as Record<string, unknown>)[k] === 'number') out[k] = (l as unknown as Record<string, number>)[k]!;
      return out;
    };
    report.adapter = gpu.summary;
    report.limits = { adapter: all(gpu.adapter.limits), device: all(gpu.device.limits) };
    report.features = { adapter: [...gpu.adapter.features].sort(), granted: gpu.features };
    log(`limits granted: ${JSON.stringify(report.limits.device)}`);
    log(`features granted: ${gpu.features.join(', ')}`);
    save();
    if (wants('ceilings')) {
      try {
        report.ceilings = await measureCeilings(gpu.device, {
          log: (l) => log(`  ${l}`),
          ...(args.quick ? { copyBytes: 1 << 20, matmulSizes: [128] } : {}),
        });
        report.dispatch = await measureDispatchCost(gpu.device);
        log(
          `dispatch: ${report.dispatch.perDispatchUs.toFixed(2)} µs each in a pass, submit round trip ${report.dispatch.submitRoundTripUs.toFixed(0)} µs (${report.dispatch.method})`,
        );
      } catch (e) {
        report.errors.push(`ceilings: ${(e as Error).message}`);
      }
      save();
    }
    // The kernel sweep's candidates, as a backend on this device lists them.
    if (wants('kernels')) {
      const probe = WebGPUBackend.fromContext(gpu);
      for (const wl of PLAN.kernels) sweepVariants.set(wl, kernelVariants(wl, probe));
      probe.dispose();
    }
  } finally {
    gpu.destroy();
  }
  if (wants('tune')) {
    log('\ntune');
    try {
      await tuneSection(report, log);
    } catch (e) {
      report.errors.push(`tune: ${(e as Error).message}`);
    }
    save();
  }

  const earlier: BenchRecord[] = [];
  const { all, reference } = contenderSet('node');
  const webrnn = webrnnContender();
  const cuda = all.filter((c) => c.name.startsWith('pytorch-cuda'));
  const contenders: Contender[] = [webrnn, ...cuda];
  const timed = async (section: keyof KitReport['records'], wl: Workload, run: () => Promise<BenchRecord[]>, variant?: string) => {
    if (performance.now() > deadline) {
      report.skipped.push(`${section}: ${workloadLabel(wl)}${variant ? ` ${variant}` : ''}`);
      return [];
    }
    try {
      const records = await run();
      earlier.push(...records);
      return records;
    } catch (e) {
      report.errors.push(`${section} ${workloadLabel(wl)}: ${(e as Error).message}`);
      return [];
    } finally {
      save();
    }
  };
  try {
    for (const section of ['standard', 'batch', 'hidden'] as const) {
      if (!wants(section)) continue;
      log(`\n${section}`);
      for (const wl of PLAN[section]) {
        const records = await timed(section, wl, () =>
          runHarness({
            workloads: [wl],
            contenders,
            reference,
            adapter: report.adapter,
            ceilings: report.ceilings,
            budget: BUDGET,
            earlier,
            log: (l) => log(`  ${l}`),
          }),
        );
        report.records[section].push(...records);
      }
    }
    // webrnn alone per variant (a device of its own each), validated like the rest.
    const sweep = async (section: 'kernels' | 'toggles', wl: Workload, name: string, variant: ReturnType<typeof webrnnContender>) => {
      try {
        const records = await timed(
          section,
          wl,
          () =>
            runHarness({
              workloads: [wl],
              contenders: [variant],
              reference,
              adapter: report.adapter,
              ceilings: report.ceilings,
              budget: BUDGET,
              log: (l) => log(`  ${name}: ${l}`),
            }),
          name,
        );
        report.records[section].push(...records.map((r) => ({ ...r, variant: name })));
      } finally {
        await variant.dispose();
      }
    };
    if (wants('kernels')) {
      log('\nkernels');
      for (const wl of PLAN.kernels) {
        for (const name of sweepVariants.get(wl) ?? []) await sweep('kernels', wl, name, webrnnContender(name));
      }
    }
    if (wants('toggles')) {
      log('\ntoggles');
      for (const wl of PLAN.toggles) {
        for (const [name, flags] of TOGGLES)
          await sweep('toggles', wl, name, webrnnContender('auto', { dawnFlags: [...report.dawnFlags, ...flags] }));
      }
    }
  } finally {
    for (const c of new Set([...contenders, reference])) await c.dispose();
    save();
  }
  try {
    await trainingSections(report, deadline, save, log);
  } finally {
    report.seconds = (performance.now() - started) / 1000;
    save();
  }

  log(
    `\n${report.command}: ${report.seconds.toFixed(0)} s on ${report.adapter?.vendor} ${report.adapter?.architecture} (${report.adapter?.description})`,
  );
  const forward = [...report.records.standard, ...report.records.batch, ...report.records.hidden];
  if (forward.length) for (const line of formatTable(tableRows(forward))) log(line);
  for (const section of ['kernels', 'toggles'] as const) {
    if (!report.records[section].length) continue;
    log(`\n${section === 'kernels' ? 'kernel sweep' : 'Dawn toggles'} (webrnn alone):`);
    for (const r of report.records[section]) {
      const label = workloadLabel({ name: r.workload, batch: r.batch, steps: r.steps }).padEnd(28);
      const cell =
        r.status === 'ok'
          ? `${r.medianMs!.toFixed(2)} ms, GPU ${r.gpuMedianMs?.toFixed(2) ?? '–'} ms, ${r.gflops?.toPrecision(3)} GFLOP/s`
          : r.status;
      log(`  ${label} ${r.variant.padEnd(18)} ${cell}`);
    }
  }
  if (report.records.train.length || report.records.perSeries.length) {
    log('\ntraining (ms per epoch; × webrnn above 1: webrnn is faster):');
    for (const line of formatTable(trainTableRows([...report.records.train, ...report.records.perSeries]))) log(line);
  }
  if (report.records.forecast.length) {
    log("\nforecasting job (seconds per phase; backend: time inside the backend's calls):");
    for (const line of formatTable(forecastRows(report.records.forecast))) log(line);
  }
  if (report.skipped.length) log(`\nnot started (time budget of ${budgetS} s): ${report.skipped.join('; ')}`);
  if (report.errors.length) log(`\nerrors: ${report.errors.join('; ')}`);
  log(`\nwrote ${file}`);
}

/**
 * Issue 18's sections, in order (see the header): each stops starting workloads at the end of its
 * share of the time left when it starts, and none after the run's deadline.
 */
async function trainingSections(report: KitReport, deadline: number, save: () => void, log: (line: string) => void): Promise<void> {
  const requested = (Object.keys(TRAINING_SECTIONS) as Array<keyof typeof TRAINING_SECTIONS>).filter((s) => wants(s));
  const sectionDeadline = (section: keyof typeof TRAINING_SECTIONS) => {
    const left = requested.slice(requested.indexOf(section));
    const share = TRAINING_SECTIONS[section] / left.reduce((a, s) => a + TRAINING_SECTIONS[s], 0);
    return performance.now() + Math.max(0, deadline - performance.now()) * share;
  };
  /** Runs `step` for one workload unless the section's time is up (then it is listed as skipped); errors are recorded. */
  const attempt = async (section: string, until: number, label: string, step: () => Promise<void>) => {
    if (performance.now() > until) {
      report.skipped.push(`${section}: ${label}`);
      return;
    }
    try {
      await step();
    } catch (e) {
      report.errors.push(`${section} ${label}: ${(e as Error).message}`);
    } finally {
      save();
    }
  };
  const plan = trainPlan(args.quick);
  for (const [section, key] of [
    ['train', 'train'],
    ['per-series', 'perSeries'],
  ] as const) {
    if (!wants(section)) continue;
    log(`\n${section}`);
    const until = sectionDeadline(section);
    const { reference, ...sets } = trainContenders(args.quick);
    const contenders = sets[key];
    try {
      for (const w of plan[key]) {
        await attempt(section, until, trainWorkloadLabel(w), async () => {
          const records = await runTrainHarness({
            workloads: [w],
            contenders,
            reference,
            adapter: report.adapter,
            budget: trainBudget(args.quick, key),
            log: (l) => log(`  ${l}`),
          });
          report.records[key].push(...records);
        });
      }
    } finally {
      for (const c of new Set([...contenders, reference])) await c.dispose();
    }
  }
  if (wants('forecast')) {
    log('\nforecast');
    const until = sectionDeadline('forecast');
    const backend = await WebGPUBackend.create({ log: false });
    // The baselines on every core (bench/baseline-pool.ts): the same fits, threads × faster.
    const pool = await startBaselinePool(availableParallelism());
    try {
      for (const job of forecastPlan(args.quick)) {
        await attempt('forecast', until, job.name, async () => {
          report.records.forecast.push(await runForecastJob(job, backend, (l) => log(`  ${l}`), pool));
        });
      }
    } finally {
      await pool.close();
      backend.dispose();
    }
  }
}

await main();
