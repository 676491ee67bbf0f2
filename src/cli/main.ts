import { acquireGpu, ENGINE_LIMITS, OPTIONAL_FEATURES, WEBGPU_DEFAULT_LIMITS, type GpuContext } from '../gpu/device.ts';
import { adapterTraits, LANES_HIDDEN_MIN, SMALL_HIDDEN_MAX } from '../gpu/kernels/forward/plan.ts';
import { WebRNNError } from '../errors.ts';
import type { Backend } from '../backends/backend.ts';
import { cpuBackend } from '../backends/cpu.ts';
import { WebGPUBackend } from '../backends/webgpu.ts';
import { formatBackendTestResult, summarizeBackendTests } from '../onnx/backend-test.ts';
import { runBackendTestDirs } from '../onnx/backend-test-files.ts';
import { UsageError } from './args.ts';
import { forecastCommand } from './forecast.ts';
import { FORECAST_COMMAND_LIST, forecastUsage } from './forecast-options.ts';
import { CPU_OPTION, paragraph, parseOptions, twoColumns, usage, type OptionSpec } from './options.ts';
import { tuneCommand, TUNE_USAGE } from './tune.ts';
import type { CliIO } from './io.ts';

export type { CliIO } from './io.ts';

/**
 * The exit statuses, as `webrnn help` and the README state them; {@link reportError} and the
 * commands return them.
 */
const EXIT_STATUS: Array<[string, string]> = [
  ['0', 'done (onnx-test: every case passed)'],
  [
    '1',
    'a file, data, model or device error (a file that cannot be read or written, a CSV that does not parse, a corrupt model, no WebGPU adapter), an onnx-test case that failed, or an internal error',
  ],
  ['2', 'bad usage: an unknown command or option, a missing or malformed value, an option the command does not take'],
];

const USAGE = [
  'Usage: webrnn <command> [options]',
  '',
  'Commands:',
  ...twoColumns([
    ['info [--json]', 'the WebGPU adapter webrnn would use and the limits that matter to it'],
    ['onnx-test [--cpu] DIR...', 'run ONNX backend-test cases on the GPU, or on the float64 CPU reference with --cpu'],
    ...FORECAST_COMMAND_LIST,
    ['tune [options]', 'choose the recurrent kernel for given shapes ahead of time: time the candidates, cache the fastest'],
    ['help [COMMAND]', "this text, or a command's options with their defaults (also: webrnn COMMAND --help)"],
    ['version', 'the package version'],
  ]),
  '',
  'Exit status:',
  ...twoColumns(EXIT_STATUS),
  '',
  paragraph('Errors are one line on standard error, "webrnn: …"; WEBRNN_DEBUG=1 adds the stack trace of an internal error.'),
].join('\n');

const INFO_OPTIONS = {
  json: { type: 'boolean', default: 'text', about: 'the same as JSON' },
} as const satisfies Record<string, OptionSpec>;

const INFO_USAGE = usage({
  synopsis: 'info [--json]',
  about: [
    "The WebGPU adapter webrnn would use (vendor, architecture, software or not), the limits that matter to it (beside WebGPU's defaults), the optional features granted and the recurrent kernel its hidden sizes get.",
  ],
  options: INFO_OPTIONS,
});

const ONNX_TEST_OPTIONS = {
  cpu: CPU_OPTION,
} as const satisfies Record<string, OptionSpec>;

const ONNX_TEST_USAGE = usage({
  synopsis: 'onnx-test [--cpu] DIR...',
  about: [
    'Runs ONNX backend-test cases: each DIR holds model.onnx and test_data_set_*/, or is a folder of such cases. One line per case, then "N passed, M failed"; exit status 1 when any case fails.',
  ],
  options: ONNX_TEST_OPTIONS,
});

const COMMAND_USAGE: Record<string, () => string> = {
  info: () => INFO_USAGE,
  'onnx-test': () => ONNX_TEST_USAGE,
  forecast: () => forecastUsage('forecast'),
  fit: () => forecastUsage('fit'),
  predict: () => forecastUsage('predict'),
  backtest: () => forecastUsage('backtest'),
  tune: () => TUNE_USAGE,
};

/** Everything `webrnn info` reports. */
export interface InfoReport {
  adapter: GpuContext['summary'];
  /** The limits the engine reads, as granted to its device (the adapter's own, not WebGPU's defaults). */
  limits: Record<string, number>;
  /** WebGPU's default for each of those limits, to show what requesting the adapter's gained. */
  defaultLimits: Record<string, number>;
  /** Every feature the adapter offers. */
  features: string[];
  /** The optional features the engine requested and was granted (OPTIONAL_FEATURES the adapter has). */
  granted: string[];
  /** What the choice of recurrent kernel reads from the adapter (src/gpu/kernels/forward/plan.ts). */
  traits: { simdLanes: boolean };
}

/** Acquires a device, reads its adapter and limits, and frees it again. */
export async function collectInfo(): Promise<InfoReport> {
  const gpu = await acquireGpu({ log: false });
  try {
    const limits: Record<string, number> = {};
    const defaultLimits: Record<string, number> = {};
    for (const name of ENGINE_LIMITS) {
      limits[name] = gpu.device.limits[name];
      defaultLimits[name] = WEBGPU_DEFAULT_LIMITS[name];
    }
    return {
      adapter: gpu.summary,
      limits,
      defaultLimits,
      features: [...gpu.adapter.features].sort(),
      granted: gpu.features.filter((f) => (OPTIONAL_FEATURES as readonly string[]).includes(f)),
      traits: { simdLanes: adapterTraits(gpu.summary).simdLanes === true },
    };
  } finally {
    gpu.destroy();
  }
}

function formatInfo(r: InfoReport): string[] {
  const a = r.adapter;
  const lines = [
    `adapter`,
    `  vendor        ${a.vendor}`,
    `  architecture  ${a.architecture}`,
    `  description   ${a.description || '(none)'}`,
    `  device        ${a.device || '(none)'}`,
    `  software      ${a.isSoftware ? 'yes' : 'no'}`,
    `  runtime       ${a.runtime}${a.driverFile ? ` (Vulkan driver ${a.driverFile})` : ''}`,
    `limits`,
  ];
  const width = Math.max(...Object.keys(r.limits).map((k) => k.length));
  const valueWidth = Math.max(...Object.values(r.limits).map((v) => String(v).length));
  for (const [k, v] of Object.entries(r.limits)) {
    const d = r.defaultLimits[k];
    lines.push(`  ${k.padEnd(width)}  ${String(v).padStart(valueWidth)}${d !== undefined && d !== v ? `  (WebGPU default ${d})` : ''}`);
  }
  lines.push(`features granted`, `  ${r.granted.join(', ') || '(none)'}`);
  lines.push(`adapter features`, `  ${r.features.join(', ') || '(none)'}`);
  lines.push(
    `kernels`,
    `  simd lanes    ${r.traits.simdLanes ? `yes: the cost model ranks the lanes kernel first from hidden size ${LANES_HIDDEN_MIN}` : `no: without tuning, hidden sizes above ${SMALL_HIDDEN_MAX} run on the tiled kernel while they fit a workgroup`}`,
    `  choice        per shape class by the autotuner ('webrnn tune' prints its table), else the cost model`,
  );
  return lines;
}

/** `webrnn info [--json]`. */
async function info(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseOptions(args, INFO_OPTIONS);
  if (values.help) {
    io.out(INFO_USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`info takes no arguments, got ${positionals.join(' ')}`);
  const report = await collectInfo();
  if (values.json) io.out(JSON.stringify(report, null, 2));
  else formatInfo(report).forEach((l) => io.out(l));
  return 0;
}

/**
 * `webrnn onnx-test [--cpu] DIR...`: one line per case, then `N passed, M failed`; exit code 1 when
 * any case fails or cannot run.
 */
async function onnxTest(args: string[], io: CliIO): Promise<number> {
  const { values, positionals: dirs } = parseOptions(args, ONNX_TEST_OPTIONS);
  if (values.help) {
    io.out(ONNX_TEST_USAGE);
    return 0;
  }
  if (dirs.length === 0) throw new UsageError('name at least one directory');
  let backend: Backend = cpuBackend;
  if (values.cpu) io.out('backend: cpu (float64 reference)');
  else backend = await WebGPUBackend.create({ log: (line) => io.out(`backend: webgpu, ${line.replace(/^\[webrnn\] /, '')}`) });
  try {
    const results = await runBackendTestDirs(dirs, backend, (r) => io.out(formatBackendTestResult(r)));
    io.out(summarizeBackendTests(results));
    return results.every((r) => r.passed) ? 0 : 1;
  } finally {
    backend.dispose();
  }
}

async function run(command: string | undefined, rest: string[], io: CliIO, version: string): Promise<number> {
  switch (command) {
    case 'info':
      return await info(rest, io);
    case 'onnx-test':
      return await onnxTest(rest, io);
    case 'forecast':
    case 'fit':
    case 'predict':
    case 'backtest':
      return await forecastCommand(command, rest, io);
    case 'tune':
      return await tuneCommand(rest, io);
    case 'version':
    case '--version':
      io.out(version);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h': {
      const topic = rest[0];
      if (topic !== undefined && !COMMAND_USAGE[topic]) throw new UsageError(`no command ${JSON.stringify(topic)}`);
      io.out(topic === undefined ? USAGE : COMMAND_USAGE[topic]!());
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

/** A message as one line: the CLI's contract is one line per error. */
const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

/**
 * Prints `err` as one line on `io.err` and returns the exit status: 2 for a {@link UsageError}
 * (with the help to read), 1 for a WebRNNError (files, data, models, the device) and 1 for anything
 * else, which is a bug in webrnn: `internal error`, its stack only with WEBRNN_DEBUG=1.
 */
export function reportError(err: unknown, command: string | undefined, io: CliIO): number {
  if (err instanceof UsageError) {
    const help = command !== undefined && COMMAND_USAGE[command] ? `webrnn ${command} --help` : 'webrnn help';
    io.err(`webrnn: ${oneLine(err.message)} (see ${help})`);
    return 2;
  }
  if (err instanceof WebRNNError) {
    io.err(`webrnn: ${oneLine(err.message)}`);
    return 1;
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (process.env.WEBRNN_DEBUG) io.err(`webrnn: internal error: ${err instanceof Error ? err.stack : message}`);
  else io.err(`webrnn: internal error: ${oneLine(message)} (WEBRNN_DEBUG=1 prints the stack)`);
  return 1;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code and never rejects. */
export async function main(argv: string[], io: CliIO, version = '0.0.0'): Promise<number> {
  const [command, ...rest] = argv;
  try {
    return await run(command, rest, io, version);
  } catch (err) {
    return reportError(err, command, io);
  }
}
