import { WebGPUBackend } from '../backends/webgpu.ts';
import { FileTuneStore, tuneCachePath } from '../tune/file-store.ts';
import type { TuneResolution } from '../tune/forward.ts';
import { DEFAULT_TUNE_BUDGET_MS, type TuneEntry, type TuneStore } from '../tune/tuner.ts';
import { recurrentLayerSpec, type CellType } from '../rnn/spec.ts';
import { integer, oneOf, positiveInt, UsageError } from './args.ts';
import type { CliIO } from './io.ts';
import { parseOptions, usage, type OptionSpec } from './options.ts';

/**
 * `webrnn tune`: runs the forward kernel's autotuner ahead of time (src/tune/forward.ts) for the
 * given shapes on this machine's adapter, so that later runs find the choices in the cache file, and
 * prints what it timed.
 */

/** The standard workloads' layers (bench/workloads.ts MODELS): what `webrnn tune` tunes by default. */
export const STANDARD_TUNE_SHAPES: ReadonlyArray<{ cell: CellType; hidden: number; input: number }> = [
  { cell: 'rnn', hidden: 1, input: 1 },
  { cell: 'rnn', hidden: 32, input: 1 },
  { cell: 'lstm', hidden: 32, input: 1 },
  { cell: 'lstm', hidden: 128, input: 1 },
  { cell: 'gru', hidden: 24, input: 4 },
];

const CELLS: readonly CellType[] = ['rnn', 'gru', 'lstm'];

/** `--mode full`'s default budget per shape: ahead of time there is time to time every candidate. */
export const FULL_TUNE_BUDGET_MS = 10_000;

export const TUNE_OPTIONS = {
  cell: { type: 'string', value: 'rnn|gru|lstm', default: 'the standard workloads', about: 'the cell of the layers to tune' },
  hidden: { type: 'string', value: 'H[,H...]', default: '32 with --cell', about: 'hidden sizes, comma-separated' },
  input: { type: 'string', value: 'N', default: '1', about: 'input size (with --cell)' },
  head: { type: 'string', value: 'N', default: '1', about: 'outputs of the nn.Linear head after the layer, 0 for none' },
  batch: { type: 'string', value: 'N', default: '4096', about: 'sequences per call (choices are kept per batch bucket, powers of 4)' },
  mode: {
    type: 'string',
    value: 'quick|full',
    default: 'full',
    about: "'quick' times the cost model's best variant of each kernel (at least three candidates), 'full' every one",
  },
  'budget-ms': {
    type: 'string',
    value: 'MS',
    default: `${DEFAULT_TUNE_BUDGET_MS} with quick, ${FULL_TUNE_BUDGET_MS} with full`,
    about: 'milliseconds of timing per shape; no candidate starts after it is spent',
  },
  fresh: { type: 'boolean', default: 'cached choices are kept', about: 'time again even where the cache has a choice, and replace it' },
  json: { type: 'boolean', default: 'a table', about: 'the same as JSON' },
} as const satisfies Record<string, OptionSpec>;

export const TUNE_USAGE = usage({
  synopsis: 'tune [--cell C --hidden H,... --input N] [--batch N] [--mode quick|full] [--json]',
  about: [
    "Chooses the forward recurrent kernel for each shape ahead of time: times every kernel and tile shape that fits this adapter (the layer alone, forced, on seeded random data of the batch, capped to keep a run short, over 32 steps) and keeps the fastest in the cache file, where 'auto' finds it later. Without --cell: the standard workloads' layers (Elman ReLU H=1 and 32, LSTM H=32 and 128, GRU H=24 I=4).",
    'Prints, per shape, each candidate with its milliseconds, the choice and where it came from (tuned now, or the cache), and the cache file. Delete that file to forget every choice.',
  ],
  options: TUNE_OPTIONS,
});

/** Reads nothing: every shape is timed again, and the new choice replaces the old one. */
class WriteOnlyStore implements TuneStore {
  constructor(private readonly inner: TuneStore) {}
  async get(): Promise<TuneEntry | undefined> {
    return undefined;
  }
  set(key: string, entry: TuneEntry): Promise<void> {
    return this.inner.set(key, entry);
  }
}

/** What `webrnn tune --json` prints. */
export interface TuneCommandReport {
  cache: string;
  mode: 'quick' | 'full';
  budgetMs: number;
  adapter: WebGPUBackend['gpu']['summary'];
  shapes: TuneResolution[];
}

function list(flag: string, text: string): number[] {
  return text.split(',').map((t) => positiveInt(flag, t));
}

/** A count ≥ 0 (`--head 0`: no head; `--budget-ms 0`: time one candidate only). */
function count(flag: string, text: string): number {
  const n = integer(flag, text);
  if (n < 0) throw new UsageError(`--${flag} must be 0 or more, got ${JSON.stringify(text)}`);
  return n;
}

/** `webrnn tune [options]`. */
export async function tuneCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseOptions(args, TUNE_OPTIONS);
  if (values.help) {
    io.out(TUNE_USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`tune takes no arguments, got ${positionals.join(' ')}`);
  if (values.cell === undefined && (values.hidden !== undefined || values.input !== undefined))
    throw new UsageError('--hidden and --input need --cell');
  const cell = values.cell === undefined ? null : oneOf('cell', values.cell, CELLS);
  const shapes = cell
    ? list('hidden', values.hidden ?? '32').map((hidden) => ({ cell, hidden, input: positiveInt('input', values.input ?? '1') }))
    : STANDARD_TUNE_SHAPES;
  const head = count('head', values.head ?? '1');
  const batch = positiveInt('batch', values.batch ?? '4096');
  const mode = oneOf('mode', values.mode ?? 'full', ['quick', 'full'] as const);
  const budgetMs =
    values['budget-ms'] === undefined
      ? mode === 'full'
        ? FULL_TUNE_BUDGET_MS
        : DEFAULT_TUNE_BUDGET_MS
      : count('budget-ms', values['budget-ms']);
  const cache = tuneCachePath();
  const file = new FileTuneStore(cache);
  const backend = await WebGPUBackend.create({
    log: false,
    tune: mode,
    tuneBudgetMs: budgetMs,
    tuneStore: values.fresh ? new WriteOnlyStore(file) : file,
  });
  try {
    const report: TuneCommandReport = { cache, mode, budgetMs, adapter: backend.gpu.summary, shapes: [] };
    for (const s of shapes) {
      const spec = recurrentLayerSpec({ cell: s.cell, inputSize: s.input, hiddenSize: s.hidden, layout: 1 });
      report.shapes.push(await backend.tuneLayer(spec, batch, { headOutputs: head }));
    }
    if (values.json) io.out(JSON.stringify(report, null, 2));
    else formatTuneReport(report).forEach((l) => io.out(l));
    return 0;
  } finally {
    backend.dispose();
  }
}

/** The table: per shape, each candidate in the cost model's order with its milliseconds; the choice marked. */
export function formatTuneReport(r: TuneCommandReport): string[] {
  const a = r.adapter;
  const lines = [
    `adapter: ${a.vendor} ${a.architecture} (${a.description || a.device || 'no description'})`,
    `mode: ${r.mode}, budget ${r.budgetMs} ms per shape`,
    '',
  ];
  const rows: string[][] = [['shape', 'candidate', 'ms', 'choice']];
  for (const s of r.shapes) {
    s.candidates.forEach((c, i) => {
      const ms = s.timesMs[c.name];
      rows.push([
        i === 0 ? s.shape : '',
        c.name,
        ms === undefined ? '–' : ms.toFixed(3),
        c.name === s.choice ? `← ${s.source}${s.source === 'tuned' ? ` (timed on ${s.timedBatch} × ${s.timedSteps} steps)` : ''}` : '',
      ]);
    });
  }
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((row) => row[j]!.length)));
  for (const row of rows)
    lines.push(
      row
        .map((cell, j) => (j === 2 ? cell.padStart(widths[j]!) : cell.padEnd(widths[j]!)))
        .join('  ')
        .trimEnd(),
    );
  lines.push('', `cache: ${r.cache}`);
  return lines;
}
