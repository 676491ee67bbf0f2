/**
 * ElmanRNN on its own kernel (shaders/elman_forward.wgsl, `backend.elmanForward`) against the same
 * network lowered onto the general stack (`elmanStack`: nn.RNN layers on the recurrent kernels, the
 * readout as the stack's head, `backend.recurrentStack`), for ElmanRNN's shapes: with the kernel
 * picked by shape, and with the sequential kernel forced (one invocation per sequence, as
 * elman_forward). Each shape is first validated (every path against the float64 reference, within
 * float32's tolerance), then timed: median of 9 alternating calls, wall time of the whole call
 * (upload, dispatches, readback) and GPU time (the backend's timer).
 *
 *   node scripts/vite-run.mjs bench/elman-paths.ts
 */
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { ElmanRNN, elmanStack } from '../src/model/elman.ts';
import { checkForwardArgs } from '../src/model/forward.ts';
import { tensor } from '../src/tensor.ts';
import { compare, FLOAT32_TOLERANCE } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';

interface Shape {
  H: number;
  L: number;
  nonlinearity: 'relu' | 'tanh';
  B: number;
  T: number;
  I: number;
  O: number;
}

const SHAPES: Shape[] = [
  { H: 1, L: 1, nonlinearity: 'relu', B: 1024, T: 64, I: 1, O: 1 },
  { H: 32, L: 1, nonlinearity: 'relu', B: 1024, T: 64, I: 1, O: 1 },
  { H: 32, L: 1, nonlinearity: 'tanh', B: 1024, T: 64, I: 1, O: 1 },
  { H: 8, L: 1, nonlinearity: 'tanh', B: 16_384, T: 64, I: 1, O: 1 },
  { H: 1, L: 1, nonlinearity: 'relu', B: 65_536, T: 64, I: 1, O: 1 },
  { H: 32, L: 2, nonlinearity: 'tanh', B: 1024, T: 64, I: 2, O: 3 },
  { H: 8, L: 2, nonlinearity: 'relu', B: 4096, T: 64, I: 1, O: 1 },
  { H: 64, L: 1, nonlinearity: 'relu', B: 256, T: 256, I: 1, O: 1 },
];
const RUNS = 9;

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;

const backend = await WebGPUBackend.create({ log: false, timing: true });
const sequential = WebGPUBackend.fromContext(backend.gpu, { timing: true, recurrentKernel: 'sequential' });
console.log(`adapter: ${backend.gpu.summary.description || backend.gpu.summary.architecture}`);
console.log('shape | path | kernel | wall ms | GPU ms | max |Δ| vs float64');
try {
  for (const s of SHAPES) {
    const model = new ElmanRNN(
      { inputSize: s.I, hiddenSize: s.H, outputSize: s.O, numLayers: s.L, nonlinearity: s.nonlinearity },
      { seed: 1 },
    );
    const x = tensor(uniformArray(mulberry32(2), s.B * s.T * s.I, -1, 1), [s.B, s.T, s.I]);
    const args = checkForwardArgs(model.config, x);
    const sd = model.stateDict();
    const stack = elmanStack(model.config, sd);
    const inputs = {
      X: x.data,
      batch: s.B,
      steps: s.T,
      sequenceLens: null,
      initialH: stack.layers.map(() => null),
      initialC: stack.layers.map(() => null),
    };
    const paths = {
      special: async () => (await backend.elmanForward(model.config, sd, args)).output.data,
      general: async () => (await backend.recurrentStack(stack, inputs)).Y,
      'general, sequential': async () => (await sequential.recurrentStack(stack, inputs)).Y,
    };
    const backendOf = (name: string) => (name === 'general, sequential' ? sequential : backend);
    const want = (await cpuBackend.recurrentStack(stack, inputs)).Y;
    const label = `H=${s.H} L=${s.L} ${s.nonlinearity} I=${s.I} O=${s.O} B=${s.B} T=${s.T}`;
    const error: Record<string, number> = {};
    for (const [name, run] of Object.entries(paths)) {
      const c = compare(await run(), want, FLOAT32_TOLERANCE);
      if (!c.ok) throw new Error(`${label} ${name}: ${c.message}`);
      error[name] = c.maxAbsError;
    }
    const wall: Record<string, number[]> = {};
    const gpu: Record<string, number[]> = {};
    for (let r = 0; r < RUNS; r++) {
      for (const [name, run] of Object.entries(paths)) {
        const b = backendOf(name);
        b.lastTiming = null;
        const t0 = performance.now();
        await run();
        (wall[name] ??= []).push(performance.now() - t0);
        (gpu[name] ??= []).push(b.lastTiming!.ms);
      }
    }
    for (const name of Object.keys(paths)) {
      const b = backendOf(name);
      const kernels = stack.layers.map(({ spec }) => b.recurrentKernelFor(spec, s.B));
      // The small kernel runs a one-layer stack's head inside.
      const head = kernels.length === 1 && kernels[0] === 'small' ? ' (head fused)' : ' + head';
      const k = name === 'special' ? 'elman_forward' : `${kernels.join('+')}${head}`;
      console.log(
        `${label} | ${name} | ${k} | ${median(wall[name]!).toFixed(1)} | ${median(gpu[name]!).toFixed(1)} | ${error[name]!.toExponential(2)}`,
      );
    }
  }
} finally {
  sequential.dispose();
  backend.dispose();
}
