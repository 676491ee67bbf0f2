import { acquireGpu, ENGINE_LIMITS, type GpuContext } from '../gpu/device.ts';
import { adapterTraits, LANES_HIDDEN_MIN, SMALL_HIDDEN_MAX } from '../gpu/kernels/recurrent-layer.ts';
import { WebRNNError } from '../errors.ts';
import type { Backend } from '../backends/backend.ts';
import { cpuBackend } from '../backends/cpu.ts';
import { WebGPUBackend } from '../backends/webgpu.ts';
import { formatBackendTestResult, summarizeBackendTests } from '../onnx/backend-test.ts';
import { runBackendTestDirs } from '../onnx/backend-test-files.ts';
import { FORECAST_USAGE, forecastCommand } from './forecast.ts';

/** Where the CLI writes; injectable so tests can capture it. */
export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = `Usage: webrnn <command> [options]

Commands:
  info [--json]   the WebGPU adapter webrnn would use and the limits that matter to it
  onnx-test [--cpu] DIR...
                  run ONNX backend-test cases (DIR/model.onnx + test_data_set_*, or a directory
                  of such cases) on the GPU, or on the float64 CPU reference with --cpu
${FORECAST_USAGE}
  help            this text
  version         the package version`;

/** Everything `webrnn info` reports. */
export interface InfoReport {
  adapter: GpuContext['summary'];
  limits: Record<string, number>;
  features: string[];
  /** What the choice of recurrent kernel reads from the adapter (src/gpu/kernels/recurrent-layer.ts). */
  traits: { simdLanes: boolean };
}

/** Acquires a device, reads its adapter and limits, and frees it again. */
export async function collectInfo(): Promise<InfoReport> {
  const gpu = await acquireGpu({ log: false });
  try {
    const limits: Record<string, number> = {};
    for (const name of ENGINE_LIMITS) limits[name] = gpu.device.limits[name];
    return { adapter: gpu.summary, limits, features: [...gpu.adapter.features].sort(), traits: { simdLanes: adapterTraits(gpu.summary).simdLanes === true } };
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
  for (const [k, v] of Object.entries(r.limits)) lines.push(`  ${k.padEnd(width)}  ${v}`);
  lines.push(`features`, `  ${r.features.join(', ') || '(none)'}`);
  lines.push(
    `kernels`,
    `  simd lanes    ${r.traits.simdLanes ? `yes: hidden sizes from ${LANES_HIDDEN_MIN} run on the lanes kernel` : `no: hidden sizes above ${SMALL_HIDDEN_MAX} run on the tiled kernel while they fit a workgroup`}`,
  );
  return lines;
}

/**
 * `webrnn onnx-test [--cpu] DIR...`: one line per case, then `N passed, M failed`; exit code 1 when
 * any case fails or cannot run, 2 for bad usage.
 */
async function onnxTest(args: string[], io: CliIO): Promise<number> {
  const options = args.filter((a) => a.startsWith('-'));
  const dirs = args.filter((a) => !a.startsWith('-'));
  const unknown = options.filter((a) => a !== '--cpu');
  if (unknown.length || dirs.length === 0) {
    io.err(unknown.length ? `webrnn onnx-test: unknown option ${unknown[0]}` : 'webrnn onnx-test: name at least one directory');
    return 2;
  }
  let backend: Backend = cpuBackend;
  if (options.includes('--cpu')) io.out('backend: cpu (float64 reference)');
  else backend = await WebGPUBackend.create({ log: (line) => io.out(`backend: webgpu, ${line.replace(/^\[webrnn\] /, '')}`) });
  try {
    const results = await runBackendTestDirs(dirs, backend, (r) => io.out(formatBackendTestResult(r)));
    io.out(summarizeBackendTests(results));
    return results.every((r) => r.passed) ? 0 : 1;
  } finally {
    backend.dispose();
  }
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO, version = '0.0.0'): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'info': {
        const unknown = rest.filter((a) => a !== '--json');
        if (unknown.length) {
          io.err(`webrnn info: unknown option ${unknown[0]}`);
          return 2;
        }
        const report = await collectInfo();
        if (rest.includes('--json')) io.out(JSON.stringify(report, null, 2));
        else formatInfo(report).forEach((l) => io.out(l));
        return 0;
      }
      case 'onnx-test':
        return await onnxTest(rest, io);
      case 'forecast':
      case 'fit':
      case 'predict':
      case 'backtest':
        return await forecastCommand(command, rest, io);
      case 'version':
      case '--version':
        io.out(version);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return 0;
      default:
        io.err(`webrnn: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof WebRNNError) {
      io.err(`webrnn: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
