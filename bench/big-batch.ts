// `node scripts/vite-run.mjs bench/big-batch.ts [flags]`: time per sequence of webrnn's WebGPU
// forward pass against the batch size B, up to batches far beyond one buffer (issue 12: B = 800k
// took 4× the time of 400k; B ≥ 1.4M without a head, ≥ 850k with one, failed). Each B is validated
// against the float64 CPU reference on its first and last 8 sequences (the last chunk included)
// before it is timed. Prints a table and writes the JSON report.
//
// Times: wall clock around the forward call, the GPU's share (submit to completion per chunk, or
// timestamp queries), and the process's CPU time (user + system, all threads: on a software adapter
// the shaders run on this process's threads, so CPU time counts the work done even while other
// processes share the cores and stretch the wall clock). Ratios are taken on CPU time.
//
//   --model rnn|lstm|gru   the cell (nn.RNN is ReLU), H = --hidden (default 32), I = 1
//   --head                 an nn.Linear(H, 1) head at every step (default: none, Y is read back)
//   --steps T              default 5
//   --batches a,b,…        default 50000,100000,200000,400000,800000
//   --runs N               timed runs per B (default 1; the validating run comes first)
//   --json PATH            default bench/out/big-batch.json
//
// bench/RESULTS.md ("Big batches") holds the runs of issue 12 and their commands.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { tensor } from '../src/tensor.ts';
import { compare, FLOAT32_TOLERANCE } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'rnn' },
    hidden: { type: 'string', default: '32' },
    head: { type: 'boolean', default: false },
    steps: { type: 'string', default: '5' },
    batches: { type: 'string', default: '50000,100000,200000,400000,800000' },
    runs: { type: 'string', default: '1' },
    json: { type: 'string', default: 'bench/out/big-batch.json' },
  },
});
const cell = args.model as 'rnn' | 'lstm' | 'gru';
if (!['rnn', 'lstm', 'gru'].includes(cell)) throw new Error(`--model must be rnn, lstm or gru, got ${args.model}`);
const H = Number(args.hidden);
const T = Number(args.steps);
const runs = Number(args.runs);
const batches = args.batches.split(',').map(Number);

const model = RecurrentNet.create(
  {
    cell,
    inputSize: 1,
    hiddenSize: H,
    ...(cell === 'rnn' ? { nonlinearity: 'relu' as const } : {}),
    ...(args.head ? { outputSize: 1 } : {}),
  },
  { seed: 1 },
);
const outPerSequence = T * (args.head ? 1 : H);
const gpu = await WebGPUBackend.create({ timing: true });
const label = `${model.description}, T=${T}`;
console.log(label);

/** The GPU time of the calls since `lastTiming` was reset (read through a function: not narrowed). */
const gpuMs = () => gpu.lastTiming?.ms ?? NaN;

interface Row {
  batch: number;
  status: string;
  runsMs: number[];
  gpuMs: number[];
  cpuMs: number[];
  usPerSequence: number | null;
  ratioToFirst: number | null;
  rssGiB: number;
}
const rows: Row[] = [];
try {
  // Pipelines built outside the timed runs.
  await model.forward(tensor(new Float32Array(1024 * T), [1024, T, 1]), { backend: gpu });
  for (const B of batches) {
    const x = uniformArray(mulberry32(B), B * T, -1, 1);
    const row: Row = { batch: B, status: 'ok', runsMs: [], gpuMs: [], cpuMs: [], usPerSequence: null, ratioToFirst: null, rssGiB: 0 };
    try {
      for (let r = 0; r <= runs; r++) {
        gpu.lastTiming = null;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const out = await model.forward(tensor(x, [B, T, 1]), { backend: gpu });
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        if (r === 0) {
          // The first and last 8 sequences against the float64 reference.
          for (const b0 of [0, B - 8]) {
            const part = tensor(x.slice(b0 * T, (b0 + 8) * T), [8, T, 1]);
            const want = await model.forward(part, { backend: cpuBackend });
            const got = out.output.data.subarray(b0 * outPerSequence, (b0 + 8) * outPerSequence);
            const c = compare(got, want.output.data, FLOAT32_TOLERANCE);
            if (!c.ok) throw new Error(`sequences ${b0}…${b0 + 7} differ from the reference: ${c.message}`);
          }
        }
        if (r > 0 || runs === 0) {
          row.runsMs.push(ms);
          row.gpuMs.push(gpuMs());
          row.cpuMs.push((cpu.user + cpu.system) / 1000);
        }
      }
      const median = [...row.cpuMs].sort((a, b) => a - b)[Math.floor(row.cpuMs.length / 2)]!;
      row.usPerSequence = (median * 1000) / B;
      const first = rows.find((r) => r.usPerSequence !== null);
      row.ratioToFirst = first ? row.usPerSequence / first.usPerSequence! : 1;
    } catch (e) {
      row.status = `${(e as Error).name}: ${(e as Error).message.slice(0, 200)}`;
    }
    row.rssGiB = process.memoryUsage().rss / 2 ** 30;
    rows.push(row);
    const t = row.runsMs.length
      ? `wall ${(row.runsMs.at(-1)! / 1000).toFixed(1)} s (GPU ${(row.gpuMs.at(-1)! / 1000).toFixed(1)} s), CPU ${(row.cpuMs.at(-1)! / 1000).toFixed(1)} s`
      : '';
    console.log(
      `B=${B}: ${row.status === 'ok' ? `${t}, ${row.usPerSequence!.toFixed(1)} CPU µs/seq, ×${row.ratioToFirst!.toFixed(2)} the first B's` : row.status}, RSS ${row.rssGiB.toFixed(2)} GiB`,
    );
  }
} finally {
  gpu.dispose();
}

const report = {
  date: new Date().toISOString(),
  command: ['node scripts/vite-run.mjs bench/big-batch.ts', ...process.argv.slice(2)].join(' '),
  model: label,
  adapter: gpu.gpu.summary,
  environment: `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`,
  rows,
};
mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(args.json, JSON.stringify(report, null, 2));
console.log(`\n| B | wall s (GPU s) | CPU s | CPU µs / sequence | × first B |\n|---|---|---|---|---|`);
for (const r of rows) {
  const cells =
    r.status === 'ok'
      ? `${(r.runsMs.at(-1)! / 1000).toFixed(1)} (${(r.gpuMs.at(-1)! / 1000).toFixed(1)}) | ${(r.cpuMs.at(-1)! / 1000).toFixed(1)} | ${r.usPerSequence!.toFixed(1)} | ${r.ratioToFirst!.toFixed(2)}`
      : `${r.status} | | | `;
  console.log(`| ${r.batch.toLocaleString('en-US')} | ${cells} |`);
}
