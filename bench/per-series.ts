// `npm run bench:per-series [-- flags]`: per-series training, S small independent models (one per
// series, each with its own weights and Adam state), three ways on the same machine in one run:
//
//   webrnn-webgpu         one Trainer with `series: S`: every step of all S models is one GPU program
//   webrnn-webgpu-1by1    S Trainers of one model each, one after another (what a library without a
//                         per-series mode leaves a user to do; what webrnn's engine did before)
//   cpu-reference         the float64 engine with `series: S` (the oracle)
//
// Each contender's first epoch is its validation (every model's weights after it against the
// float64 reference's) and warm-up; then `--runs` epochs are timed, median reported. A contender
// whose validation epoch took longer than `--limit-ms` is not timed further (its validation epoch
// is reported as its one run).
//
//   --series 10,100,1000   the numbers of series (models)
//   --cells lstm,gru,rnn   the cells (H = --hidden, 1 input, 1 output, tanh for rnn)
//   --hidden 8 --windows 17 --steps 24 --batch 16   windows per series, steps per window, windows per batch
//   --runs 3  --limit-ms 20000  --json bench/out/per-series.json
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import type { CellType } from '../src/rnn/spec.ts';
import { gatherSamples, samples, type Samples } from '../src/train/data.ts';
import { flattenParams } from '../src/train/params.ts';
import { Trainer, type TrainerOptions } from '../src/train/trainer.ts';
import { mulberry32 } from '../src/util/rng.ts';
import { formatTable } from './harness.ts';

const { values: args } = parseArgs({
  options: {
    series: { type: 'string', default: '10,100,1000' },
    cells: { type: 'string', default: 'lstm,gru,rnn' },
    hidden: { type: 'string', default: '8' },
    windows: { type: 'string', default: '17' },
    steps: { type: 'string', default: '24' },
    batch: { type: 'string', default: '16' },
    runs: { type: 'string', default: '3' },
    'limit-ms': { type: 'string', default: '20000' },
    json: { type: 'string', default: 'bench/out/per-series.json' },
  },
});

function fail(message: string): never {
  console.error(`bench:per-series: ${message}`);
  process.exit(2);
}
const positive = (flag: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) fail(`--${flag} must be a positive integer, got ${v}`);
  return n;
};
const list = (flag: string, v: string) => v.split(',').map((s) => positive(flag, s.trim()));
const seriesCounts = list('series', args.series);
const cells = args.cells.split(',').map((c) => c.trim()) as CellType[];
for (const c of cells) if (!['rnn', 'gru', 'lstm'].includes(c)) fail(`unknown cell ${c}; one of rnn, gru, lstm`);
const H = positive('hidden', args.hidden);
const windows = positive('windows', args.windows);
const T = positive('steps', args.steps);
const batch = positive('batch', args.batch);
const runs = positive('runs', args.runs);
const limitMs = positive('limit-ms', args['limit-ms']);

/** `windows` windows of T steps per series of a seeded noisy two-sine series, next-value targets; grouped by series. */
function perSeriesData(S: number, seed = 3): Samples {
  const rand = mulberry32(seed);
  const N = S * windows;
  const x = new Float32Array(N * T);
  const y = new Float32Array(N * T);
  for (let s = 0; s < S; s++) {
    const [a, p, f] = [0.2 + 0.8 * rand(), 4 + 28 * rand(), 2 * Math.PI * rand()];
    const v = Float64Array.from(
      { length: windows + T },
      (_, u) => a * Math.sin((2 * Math.PI * u) / p + f) + 0.3 * Math.sin(u / 7) + 0.1 * (rand() - 0.5),
    );
    for (let w = 0; w < windows; w++) {
      for (let t = 0; t < T; t++) {
        x[(s * windows + w) * T + t] = v[w + t]!;
        y[(s * windows + w) * T + t] = v[w + t + 1]!;
      }
    }
  }
  return samples({ x, y, count: N, steps: T, inputSize: 1, outputSize: 1, series: S });
}

/** What a contender does: set up (untimed), train one epoch, give every model's weights. */
interface Contender {
  name: string;
  setup(model: RecurrentNet, options: Omit<TrainerOptions, 'backend' | 'series'>, data: Samples): Promise<void>;
  epoch(): Promise<void>;
  weights(): Promise<Float64Array[]>;
  dispose(): void;
}

const flat = async (t: Trainer) => (await t.allModels()).map((m) => Float64Array.from(flattenParams(m.layers())));

function together(name: string, backend: () => TrainerOptions['backend']): Contender {
  let trainer: Trainer | null = null;
  let data: Samples | null = null;
  return {
    name,
    async setup(model, options, d) {
      data = d;
      trainer = await Trainer.create(model, { ...options, backend: backend(), series: d.series });
    },
    async epoch() {
      await trainer!.fit(data!, { epochs: 1 });
    },
    weights: () => flat(trainer!),
    dispose() {
      trainer?.dispose();
      trainer = null;
    },
  };
}

function oneByOne(backend: () => TrainerOptions['backend']): Contender {
  let trainers: Trainer[] = [];
  let parts: Samples[] = [];
  return {
    name: 'webrnn-webgpu-1by1',
    async setup(model, options, d) {
      const per = d.count / d.series;
      parts = Array.from({ length: d.series }, (_, s) =>
        gatherSamples(
          d,
          Array.from({ length: per }, (_, k) => s * per + k),
          1,
        ),
      );
      trainers = await Promise.all(parts.map(() => Trainer.create(model, { ...options, backend: backend() })));
    },
    async epoch() {
      for (const [s, t] of trainers.entries()) await t.fit(parts[s]!, { epochs: 1 });
    },
    async weights() {
      return (await Promise.all(trainers.map(flat))).map((w) => w[0]!);
    },
    dispose() {
      for (const t of trainers) t.dispose();
      trainers = [];
    },
  };
}

const gpu = await WebGPUBackend.create();
const holder = globalThis as { webrnnBench?: unknown };
holder.webrnnBench = gpu; // keep Dawn's instance reachable (shared/ENVIRONMENT.md)
const adapter = gpu.gpu.summary;
const contenders = [together('webrnn-webgpu', () => gpu), oneByOne(() => gpu), together('cpu-reference', () => cpuBackend)];

interface PerSeriesRecord {
  cell: CellType;
  hiddenSize: number;
  series: number;
  windowsPerSeries: number;
  steps: number;
  batchPerSeries: number;
  contender: string;
  runMs: number[];
  medianMs: number;
  msPerSeries: number;
  /** The median over webrnn-webgpu's (above 1: webrnn's one program per step is faster). */
  ratio: number;
  /** Largest |w − w_ref| / (1e-3 + |w_ref|) over every model's weights after the validation epoch. */
  maxRelErr: number;
  /** maxRelErr within {@link TOLERANCE}: a float32 run that followed the reference. */
  valid: boolean;
  note?: string;
}
/** Largest relative weight difference after one epoch that still counts as following the reference (float32 drift over a few Adam steps is ~1e-4). */
const TOLERANCE = 1e-2;
const records: PerSeriesRecord[] = [];
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const started = performance.now();

for (const cell of cells) {
  for (const S of seriesCounts) {
    const data = perSeriesData(S);
    const model = RecurrentNet.create({ cell, inputSize: 1, hiddenSize: H, outputSize: 1 }, { seed: 1 });
    const options = { loss: { kind: 'mse' as const }, optimizer: { kind: 'adam' as const, lr: 0.01 }, batchSize: batch, seed: 4 };
    const results = new Map<string, { runs: number[]; weights: Float64Array[] }>();
    // The reference first: the others are validated against it.
    for (const c of [contenders[2]!, contenders[0]!, contenders[1]!]) {
      try {
        await c.setup(model, options, data);
        const t0 = performance.now();
        await c.epoch();
        const first = performance.now() - t0;
        const weights = await c.weights();
        const timed: number[] = [];
        if (first <= limitMs) {
          for (let r = 0; r < runs; r++) {
            const t1 = performance.now();
            await c.epoch();
            timed.push(performance.now() - t1);
          }
        }
        results.set(c.name, { runs: timed.length ? timed : [first], weights });
        console.log(
          `  ${cell} H=${H} S=${S} ${c.name}: ${(timed.length ? median(timed) : first).toFixed(0)} ms an epoch${timed.length ? '' : ' (validation epoch only: over --limit-ms)'}`,
        );
      } finally {
        c.dispose();
      }
    }
    const ref = results.get('cpu-reference')!.weights;
    const base = median(results.get('webrnn-webgpu')!.runs);
    for (const c of contenders) {
      const r = results.get(c.name)!;
      let err = 0;
      r.weights.forEach((w, s) => w.forEach((v, i) => (err = Math.max(err, Math.abs(v - ref[s]![i]!) / (1e-3 + Math.abs(ref[s]![i]!))))));
      const m = median(r.runs);
      records.push({
        cell,
        hiddenSize: H,
        series: S,
        windowsPerSeries: windows,
        steps: T,
        batchPerSeries: batch,
        contender: c.name,
        runMs: r.runs,
        medianMs: m,
        msPerSeries: m / S,
        ratio: m / base,
        maxRelErr: err,
        valid: err <= TOLERANCE,
        ...(r.runs.length < runs ? { note: 'validation epoch only' } : {}),
      });
    }
  }
}
gpu.dispose();

const cpu = cpus();
const command = ['npm run bench:per-series', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
console.log(`\n${command}: ${new Date().toISOString()}, ${((performance.now() - started) / 1000).toFixed(0)} s`);
console.log(
  `Node ${process.version}, ${platform()} ${arch()}, ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}; adapter ${adapter.vendor} ${adapter.architecture} (${adapter.description})\n`,
);
const rows = [['workload', 'contender', 'ms/epoch', 'ms/series', '× webrnn', 'max rel err', 'runs']];
for (const r of records) {
  rows.push([
    `${r.cell} H=${r.hiddenSize} S=${r.series.toLocaleString('en-US')}`,
    r.contender,
    r.medianMs.toFixed(r.medianMs < 100 ? 1 : 0),
    r.msPerSeries.toPrecision(3),
    r.ratio.toFixed(2),
    `${r.maxRelErr.toExponential(1)}${r.valid ? '' : ' INVALID'}`,
    r.note ? `1 (${r.note})` : String(r.runMs.length),
  ]);
}
for (const line of formatTable(rows)) console.log(line);
console.log(
  `\nAn epoch: ${windows} windows of ${T} steps per series in batches of ${batch} (Adam lr 0.01, MSE), all series at once; ` +
    "× webrnn: the contender's median over webrnn-webgpu's (above 1: webrnn is faster); " +
    `max rel err: every model's weights after one epoch against the float64 reference, |w − ref| / (1e-3 + |ref|) (INVALID above ${TOLERANCE}).`,
);
mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), command, adapter, records }, null, 2));
console.log(`\nwrote ${args.json}`);
if (records.some((r) => !r.valid)) process.exit(1);
