import { acquireGpu, ENGINE_LIMITS, type GpuContext } from '../gpu/device.ts';
import { WebRNNError } from '../errors.ts';

/** Where the CLI writes; injectable so tests can capture it. */
export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = `Usage: webrnn <command> [options]

Commands:
  info [--json]   the WebGPU adapter webrnn would use and the limits that matter to it
  help            this text
  version         the package version`;

/** Everything `webrnn info` reports. */
export interface InfoReport {
  adapter: GpuContext['summary'];
  limits: Record<string, number>;
  features: string[];
}

/** Acquires a device, reads its adapter and limits, and frees it again. */
export async function collectInfo(): Promise<InfoReport> {
  const gpu = await acquireGpu({ log: false });
  try {
    const limits: Record<string, number> = {};
    for (const name of ENGINE_LIMITS) limits[name] = gpu.device.limits[name];
    return { adapter: gpu.summary, limits, features: [...gpu.adapter.features].sort() };
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
  return lines;
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
