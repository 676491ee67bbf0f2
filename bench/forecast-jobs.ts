// `node scripts/vite-run.mjs bench/forecast-jobs.ts [flags]`: the forecasting job at scale
// (bench/forecast-job.ts, issue 18) on this machine's WebGPU adapter, timed per phase, once per
// baseline pool size, so the rows of one run compare fitting the baselines on 1 thread and on a
// pool (bench/baseline-pool.ts). The GPU run kit runs the same jobs (bench/kit-forecast.ts).
//
//   --series 200 --length 120 --horizon 12 --season 12   synthetic series (the app's generator)
//   --real NAMES           the accuracy benchmark's datasets instead (comma-separated, or `all`)
//   --steps S              backtest+fit+forecast (default) or fit+forecast
//   --combine ets,theta    the baselines combined with the networks (`none`: the networks alone)
//   --ensemble K --hidden H --epochs N    forecaster options (default: the forecaster's own)
//   --threads 1,2          baseline pool sizes, one run each (1: the main thread, no pool)
//   --json PATH            default bench/out/forecast-jobs.json
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { BASELINES, type BaselineName } from '../src/forecast/baselines/index.ts';
import { startBaselinePool } from './baseline-pool.ts';
import {
  accuracyInput,
  forecastRows,
  runForecastJob,
  syntheticInput,
  type ForecastJob,
  type ForecastJobRecord,
  type JobSteps,
} from './forecast-job.ts';
import { formatTable } from './harness.ts';

const { values: args } = parseArgs({
  options: {
    series: { type: 'string', default: '200' },
    length: { type: 'string', default: '120' },
    horizon: { type: 'string', default: '12' },
    season: { type: 'string', default: '12' },
    real: { type: 'string' },
    steps: { type: 'string', default: 'backtest+fit+forecast' },
    combine: { type: 'string' },
    ensemble: { type: 'string' },
    hidden: { type: 'string' },
    epochs: { type: 'string' },
    threads: { type: 'string', default: '1' },
    json: { type: 'string', default: 'bench/out/forecast-jobs.json' },
  },
});

function fail(message: string): never {
  console.error(`forecast-jobs: ${message}`);
  process.exit(2);
}
const positive = (flag: string, v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) fail(`--${flag} must be a positive integer, got ${v}`);
  return n;
};
const steps = args.steps as JobSteps;
if (steps !== 'backtest+fit+forecast' && steps !== 'fit+forecast')
  fail(`--steps must be backtest+fit+forecast or fit+forecast, got ${args.steps}`);
const combine = args.combine === undefined ? undefined : args.combine === 'none' ? [] : (args.combine.split(',') as BaselineName[]);
for (const name of combine ?? [])
  if (!(BASELINES as readonly string[]).includes(name)) fail(`--combine: ${name} is not one of ${BASELINES.join(', ')}`);
const options = {
  ...(combine ? { combine } : {}),
  ...(args.ensemble ? { ensemble: positive('ensemble', args.ensemble) } : {}),
  ...(args.hidden ? { hiddenSize: positive('hidden', args.hidden) } : {}),
};
const threads = args.threads.split(',').map((t) => positive('threads', t.trim()));
const job: ForecastJob = {
  name: args.real ? 'real' : 'synthetic',
  input: args.real
    ? accuracyInput(args.real === 'all' ? undefined : args.real.split(','))
    : syntheticInput(
        positive('series', args.series),
        positive('length', args.length),
        positive('horizon', args.horizon),
        positive('season', args.season),
      ),
  steps,
  options,
  ...(args.epochs ? { fit: { epochs: positive('epochs', args.epochs) } } : {}),
};

const backend = await WebGPUBackend.create({ log: false });
const records: ForecastJobRecord[] = [];
try {
  for (const n of threads) {
    const pool = n > 1 ? await startBaselinePool(n) : null;
    try {
      records.push(await runForecastJob(job, backend, (l) => console.log(`  ${l}`), pool));
    } finally {
      await pool?.close();
    }
  }
} finally {
  backend.dispose();
}
const command = ['node scripts/vite-run.mjs bench/forecast-jobs.ts', ...process.argv.slice(2)].join(' ');
const cpu = cpus();
const adapter = backend.gpu.summary;
console.log(`\n${command}: ${new Date().toISOString()}`);
console.log(
  `Node ${process.version}, ${platform()} ${arch()}, ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}; adapter ${adapter.vendor} ${adapter.architecture} (${adapter.description})\n`,
);
for (const line of formatTable(forecastRows(records))) console.log(line);
console.log(
  '\nseconds per phase, each without the phases inside it; backend: seconds with a backend call pending (share of the wall time); threads: the baseline pool',
);
mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), command, adapter, records }, null, 2));
console.log(`\nwrote ${args.json}`);
if (records.some((r) => r.status !== 'ok')) process.exit(1);
