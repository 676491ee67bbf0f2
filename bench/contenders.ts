import type { Backend } from '../src/backends/backend.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { acquireGpu, type AdapterSummary } from '../src/gpu/device.ts';
import type { RecurrentKernelChoice } from '../src/gpu/kernels/forward/plan.ts';
import type { RecurrentNet } from '../src/model/recurrent.ts';
import { tensor } from '../src/tensor.ts';
import { measureCeilings, type Ceilings } from './ceilings.ts';
import type { Contender, PreparedRun } from './contender.ts';
import { WEBRNN } from './harness.ts';
import { peerContenders, systemPeerContenders } from './peers/index.ts';
import type { Runtime } from './peers/peer.ts';
import type { Workload } from './workloads.ts';

/**
 * The contenders of the benchmark: webrnn on WebGPU, the float64 CPU reference, and the peers of
 * bench/peers (other libraries on the same machine) for the runtime at hand: those from npm, then
 * those that need system packages (PyTorch in Node), which say so when they are missing.
 */

export const CPU_REFERENCE = 'cpu-reference';

/** A contender that runs `model.forward` on a webrnn backend. */
function forwardRun(backend: Backend, w: Workload, model: RecurrentNet, x: Float32Array): PreparedRun {
  const input = tensor(x, [w.batch, w.steps, w.inputSize]);
  return {
    run: async () => (await model.forward(input, { backend })).output.data,
    dispose: () => {},
  };
}

/**
 * webrnn's forward pass on WebGPU: one `WebGPUBackend` (one device) for the whole benchmark run,
 * acquired by `available()` and destroyed by `dispose()`. `kernel` forces a recurrent kernel for A/B
 * comparisons (default: picked by shape); `tileInvocations` the tiled kernel's shape and `dawnFlags`
 * Node's Dawn toggles for this contender's device (the GPU kit's sweeps).
 */
export function webrnnContender(
  kernel: RecurrentKernelChoice = 'auto',
  options: { tileInvocations?: number; dawnFlags?: string[] } = {},
): Contender & { settings(): { recurrentKernel: string; kernels?: string; tileInvocations?: number; dawnFlags?: string } } {
  let backend: WebGPUBackend | null = null;
  let failure: string | null = null;
  // The kernel of each layer of the workload prepared last (the harness reads settings after a cell).
  let kernels: string | null = null;
  return {
    name: WEBRNN,
    settings: () => ({
      recurrentKernel: kernel,
      ...(options.tileInvocations ? { tileInvocations: options.tileInvocations } : {}),
      ...(options.dawnFlags ? { dawnFlags: options.dawnFlags.join(',') } : {}),
      ...(kernels ? { kernels } : {}),
    }),
    async available() {
      if (backend) return true;
      if (failure) return failure;
      try {
        // GPU time of every run beside its wall time: timestamp queries where the adapter has them.
        backend = await WebGPUBackend.create({
          log: false,
          recurrentKernel: kernel,
          ...options,
          timing: true,
          features: ['timestamp-query'],
        });
        return true;
      } catch (e) {
        return (failure = (e as Error).message);
      }
    },
    async prepare(w, model, x) {
      if (!backend) throw new Error('webrnn: available() was not called or failed');
      kernels = model
        .layers()
        .layers.map(({ spec }) => backend!.recurrentKernelFor(spec, w.batch))
        .join(',');
      const run = forwardRun(backend, w, model, x);
      const b = backend;
      return {
        ...run,
        run: () => ((b.lastTiming = null), run.run()),
        gpuTime: () => b.lastTiming,
      };
    },
    dispose() {
      backend?.dispose();
      backend = null;
    },
  };
}

/** The float64 plain-loop CPU reference (src/reference) through `cpuBackend`. */
export function cpuReferenceContender(): Contender {
  return {
    name: CPU_REFERENCE,
    available: async () => true,
    prepare: async (w, model, x) => forwardRun(cpuBackend, w, model, x),
    dispose() {},
  };
}

export interface ContenderSet {
  /** webrnn first, then the CPU reference, then the peers. */
  all: Contender[];
  /** The one that computes expected outputs (also in `all`). */
  reference: Contender;
  webrnn: ReturnType<typeof webrnnContender>;
}

/**
 * Every contender for `runtime`; `names` keeps only those listed (the reference still validates) and
 * throws on a name that is not one of them.
 */
export function contenderSet(runtime: Runtime, options: { kernel?: RecurrentKernelChoice; names?: string[] } = {}): ContenderSet {
  const webrnn = webrnnContender(options.kernel);
  const reference = cpuReferenceContender();
  const all = [webrnn, reference, ...peerContenders(runtime), ...systemPeerContenders(runtime)];
  const names = options.names;
  const unknown = names?.filter((n) => !all.some((c) => c.name === n)) ?? [];
  if (unknown.length) throw new Error(`unknown contender ${unknown.join(', ')}; ${runtime} has ${all.map((c) => c.name).join(', ')}`);
  return { all: names ? all.filter((c) => names.includes(c.name)) : all, reference, webrnn };
}

/** The adapter the benchmark runs on, and its ceilings measured once on request. */
export interface AdapterProbe {
  adapter: AdapterSummary;
  /** bench/ceilings.ts's copy and matmul ceilings; null (and the reason in `ceilingsError`) when they failed. */
  ceilings(): Promise<Ceilings | null>;
  ceilingsError: string | null;
  destroy(): void;
}

/** A device of its own (with GPU timestamps where the adapter has them) for the adapter's summary and ceilings. */
export async function probeAdapter(): Promise<AdapterProbe> {
  const gpu = await acquireGpu({ features: ['timestamp-query'], log: false });
  let measured: Promise<Ceilings | null> | null = null;
  const probe: AdapterProbe = {
    adapter: gpu.summary,
    ceilingsError: null,
    ceilings: () =>
      (measured ??= measureCeilings(gpu.device).catch((e: Error) => {
        probe.ceilingsError = e.message;
        return null;
      })),
    destroy: () => gpu.destroy(),
  };
  return probe;
}
