/**
 * Every variant behind webrnn's kernel choices, each validated against a float64 reference and then
 * timed on this adapter, in the manner of llm.c's dev/cuda programs: the numbers the choices in
 * src/gpu/kernels/forward/plan.ts and src/gpu/kernels/backward/grad-contract.ts cite.
 *
 *   node scripts/vite-run.mjs bench/kernels.ts [--layers] [--wide] [--stepwise [--batch B]] [--contractions] [--runs N] [--kernels a,b] [--f16]
 *
 * --layers        one batch-major layer (backend.recurrentLayer, B = 1024, T = 64) on each kernel that
 *                 takes its shape: small (H ≤ 4), tile, sequential, lanes, subgroup (where the device
 *                 has `subgroups`, H up to 4 × its smallest subgroup; a row says why where it does not), wide
 * --kernels       only these of the layer kernels (comma-separated), e.g. --kernels tile,subgroup
 * --f16           with --layers, also the tiled kernel with f16 storage (even H), validated against
 *                 the float64 reference on the f16-rounded weights and inputs (Δ is against that)
 * --wide          the same layers (H > 4) on every variant of the wide kernel that fits (sequences per
 *                 invocation × where R lives × tile sized by the fill rule or at the tiled kernel's 128
 *                 invocations: src/gpu/kernels/forward/recurrent-wide.ts wideVariants), each with its
 *                 time as a ratio to the tiled kernel's
 * --stepwise      LSTM layers at H = 128 and 256 (I = 32, T = 16, B = --batch, default 256) on the tiled,
 *                 sequential and step-wise kernels, with the step-wise layer's GEMM rate (compare it with
 *                 the matmul ceiling of `node scripts/vite-run.mjs bench/ceilings.ts`)
 * --contractions  the gradient contractions a training step is made of, on both entry points of
 *                 grad_contract (`main`, staged; `main_direct`): a GRU H=24 I=4 layer's dW
 *                 (P = 72, Q = 4) and dR (P = 48, Q = 24) over 65,536 rows, and a head's dX over
 *                 one row (P = 98,304, Q = 8)
 *
 * Neither flag: both. Times are medians of `--runs` calls (default 3) after the validating one:
 * the wall time of the call and its GPU time (timestamps where the adapter has them).
 */
import { parseArgs } from 'node:util';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { acquireGpu, type GpuContext } from '../src/gpu/device.ts';
import { contractionDispatch, type Contraction } from '../src/gpu/kernels/backward/grad-contract.ts';
import { F16_OUTPUT_ROUNDING, roundedLayerWeights } from '../src/gpu/kernels/forward/f16-storage.ts';
import { planRecurrentLayer, type RecurrentKernelChoice, type RecurrentLayerPlan } from '../src/gpu/kernels/forward/plan.ts';
import { packLayerWeights } from '../src/gpu/kernels/forward/recurrent-common.ts';
import { stepwiseFlopsPerStep } from '../src/gpu/kernels/forward/recurrent-stepwise.ts';
import { TILE_INVOCATIONS } from '../src/gpu/kernels/forward/recurrent-tile.ts';
import { wideVariants } from '../src/gpu/kernels/forward/recurrent-wide.ts';
import { layerProgram } from '../src/gpu/programs/layer.ts';
import { GATES, recurrentLayerSpec, type CellType } from '../src/rnn/spec.ts';
import { compare, FLOAT32_TOLERANCE } from '../src/util/compare.ts';
import { roundedToHalf } from '../src/util/f16.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';

const { values: args } = parseArgs({
  options: {
    layers: { type: 'boolean', default: false },
    f16: { type: 'boolean', default: false },
    wide: { type: 'boolean', default: false },
    stepwise: { type: 'boolean', default: false },
    batch: { type: 'string', default: '256' },
    contractions: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    kernels: { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const both = !args.layers && !args.wide && !args.contractions && !args.stepwise;

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;

/** Runs `run` once (its result validated by `check`), then RUNS times, timed; the median wall and GPU ms. */
async function timed(backend: WebGPUBackend, run: () => Promise<void>): Promise<{ wall: number; gpu: number; method: string }> {
  await run();
  const wall: number[] = [];
  const gpu: number[] = [];
  let method = '';
  for (let r = 0; r < RUNS; r++) {
    backend.lastTiming = null;
    const t0 = performance.now();
    await run();
    wall.push(performance.now() - t0);
    gpu.push(backend.lastTiming!.ms);
    method = backend.lastTiming!.method;
  }
  return { wall: median(wall), gpu: median(gpu), method };
}

const LAYERS: Array<{ name: string; cell: CellType; H: number; I: number; activation?: string }> = [
  { name: 'Elman ReLU H=1', cell: 'rnn', H: 1, I: 1, activation: 'Relu' },
  { name: 'Elman ReLU H=32', cell: 'rnn', H: 32, I: 1, activation: 'Relu' },
  { name: 'GRU H=24 I=4', cell: 'gru', H: 24, I: 4 },
  { name: 'LSTM H=16', cell: 'lstm', H: 16, I: 1 },
  { name: 'LSTM H=32', cell: 'lstm', H: 32, I: 1 },
  { name: 'LSTM H=128', cell: 'lstm', H: 128, I: 1 },
];

const B = 1024;
const T = 64;

/** One of LAYERS as a batch-major layer call, with its float64 result. */
async function layerCase(l: (typeof LAYERS)[number]) {
  const spec = recurrentLayerSpec({
    cell: l.cell,
    inputSize: l.I,
    hiddenSize: l.H,
    layout: 1,
    ...(l.activation ? { activations: [l.activation] } : {}),
    linearBeforeReset: l.cell === 'gru',
  });
  const G = GATES[l.cell];
  const bound = 1 / Math.sqrt(l.H);
  const rand = mulberry32(l.H * 31 + G);
  const weights = {
    W: uniformArray(rand, G * l.H * l.I, -bound, bound),
    R: uniformArray(rand, G * l.H * l.H, -bound, bound),
    B: uniformArray(rand, 2 * G * l.H, -bound, bound),
    P: null,
  };
  const inputs = { X: uniformArray(rand, B * T * l.I, -1, 1), batch: B, steps: T, sequenceLens: null, initialH: null, initialC: null };
  const want = await cpuBackend.recurrentLayer(spec, weights, inputs);
  return { spec, weights, inputs, want };
}

/** Throws unless `got` matches the float64 `want` within `tolerance` (default FLOAT32_TOLERANCE); the max |Δ|. */
function validated(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tolerance = FLOAT32_TOLERANCE): number {
  const c = compare(got, want, tolerance);
  if (!c.ok) throw new Error(`${what}: ${c.message}`);
  return c.maxAbsError;
}

async function layers(gpu: GpuContext): Promise<void> {
  console.log(`\none layer, B = ${B}, T = ${T} | kernel | wall ms | GPU ms | max |Δ| vs float64`);
  for (const l of LAYERS) {
    const { spec, weights, inputs, want } = await layerCase(l);
    const all: RecurrentKernelChoice[] = [...(l.H <= 4 ? ['small' as const] : []), 'tile', 'sequential', 'lanes', 'subgroup', 'wide'];
    const kernels = args.kernels ? all.filter((k) => args.kernels!.split(',').includes(k)) : all;
    const variants: Array<{ kernel: RecurrentKernelChoice; storage?: 'f16' }> = kernels.map((kernel) => ({ kernel }));
    if (args.f16 && l.H % 2 === 0) variants.push({ kernel: 'tile', storage: 'f16' });
    for (const { kernel, storage } of variants) {
      const backend = WebGPUBackend.fromContext(gpu, { recurrentKernel: kernel, timing: true, ...(storage ? { storage } : {}) });
      const name = storage ? `${kernel} (${storage} storage)` : kernel;
      try {
        // f16 storage: the reference on the values it holds, and the stored output's rounding.
        const [reference, tolerance] = storage
          ? [
              await cpuBackend.recurrentLayer(spec, roundedLayerWeights(weights), { ...inputs, X: roundedToHalf(inputs.X) }),
              { atol: FLOAT32_TOLERANCE.atol + F16_OUTPUT_ROUNDING.atol, rtol: FLOAT32_TOLERANCE.rtol + F16_OUTPUT_ROUNDING.rtol },
            ]
          : [want, FLOAT32_TOLERANCE];
        let error = 0;
        const t = await timed(backend, async () => {
          const got = await backend.recurrentLayer(spec, weights, inputs);
          error = validated(got.Y, reference.Y, `${l.name} on ${name}`, tolerance);
        });
        console.log(`${l.name} | ${name} | ${t.wall.toFixed(1)} | ${t.gpu.toFixed(1)} (${t.method}) | ${error.toExponential(2)}`);
      } catch (e) {
        console.log(`${l.name} | ${name} | unavailable: ${(e as Error).message}`);
      } finally {
        backend.dispose();
      }
    }
  }
}

/** Every variant of the wide kernel on the layers with H > 4, each against the tiled kernel's time. */
async function wideKernel(gpu: GpuContext): Promise<void> {
  console.log(`\none layer, B = ${B}, T = ${T} | wide variant (constants) | wall ms | GPU ms | GPU time / tiled | max |Δ| vs float64`);
  const backend = WebGPUBackend.fromContext(gpu, { timing: true });
  try {
    for (const l of LAYERS.filter((x) => x.H > 4)) {
      const { spec, weights, inputs, want } = await layerCase(l);
      const packed = packLayerWeights(spec, weights);
      const run = (plan: RecurrentLayerPlan, what: string) =>
        timed(backend, async () => {
          const out = await backend.runProgram(layerProgram(plan, spec, packed, inputs, T));
          validated(out.Y!, want.Y, what);
        });
      const limits = gpu.device.limits;
      const tile = await run(planRecurrentLayer(spec, B, limits, 'tile'), `${l.name} on tile`);
      console.log(`${l.name} | tile | ${tile.wall.toFixed(1)} | ${tile.gpu.toFixed(1)} (${tile.method}) | 1.00 |`);
      for (const traits of [{}, ...wideVariants(spec, B, limits, 1, [undefined, TILE_INVOCATIONS])]) {
        const plan = planRecurrentLayer(spec, B, limits, 'wide', 0, 1, traits);
        const { VECTORS: v, GROUPS: g, R_MODE: r } = plan.pipeline.constants;
        const name = `${Object.keys(traits).length ? JSON.stringify(traits) : 'default'} (VECTORS ${v}, GROUPS ${g}, R_MODE ${r})`;
        try {
          const t = await run(plan, `${l.name} on wide ${name}`);
          console.log(
            `${l.name} | ${name} | ${t.wall.toFixed(1)} | ${t.gpu.toFixed(1)} (${t.method}) | ${(t.gpu / tile.gpu).toFixed(2)} |`,
          );
        } catch (e) {
          console.log(`${l.name} | ${name} | failed: ${(e as Error).message}`);
        }
      }
    }
  } finally {
    backend.dispose();
  }
}

/**
 * LSTM layers at H = 128 and 256 (I = 32, T = 16, B = --batch) on the tiled, sequential and step-wise
 * kernels, validated against the float64 reference, then timed. The rate column counts the step-wise
 * layer's GEMM work (2·B·G·H·(I + H) per step and direction) over each kernel's GPU time, the same
 * figure for every kernel: compare it with the adapter's matmul ceiling (bench/ceilings.ts).
 */
async function stepwise(gpu: GpuContext): Promise<void> {
  const B = Number(args.batch);
  const T = 16;
  const I = 32;
  console.log(`\none LSTM layer, B = ${B}, T = ${T}, I = ${I} | kernel | wall ms | GPU ms | max |Δ| vs float64 | GFLOP/s`);
  for (const H of [128, 256]) {
    const spec = recurrentLayerSpec({ cell: 'lstm', inputSize: I, hiddenSize: H, layout: 1 });
    const rand = mulberry32(H);
    const bound = 1 / Math.sqrt(H);
    const weights = {
      W: uniformArray(rand, 4 * H * I, -bound, bound),
      R: uniformArray(rand, 4 * H * H, -bound, bound),
      B: uniformArray(rand, 8 * H, -bound, bound),
      P: null,
    };
    const inputs = { X: uniformArray(rand, B * T * I, -1, 1), batch: B, steps: T, sequenceLens: null, initialH: null, initialC: null };
    const want = await cpuBackend.recurrentLayer(spec, weights, inputs);
    const perStep = stepwiseFlopsPerStep(spec, B);
    const flops = T * (perStep.input + perStep.recurrent);
    console.log(
      `LSTM H=${H}: ${((perStep.input + perStep.recurrent) / 1e6).toFixed(1)} MFLOP per step (input GEMM ${(perStep.input / 1e6).toFixed(1)}, step GEMM ${(perStep.recurrent / 1e6).toFixed(1)})`,
    );
    for (const kernel of ['tile', 'sequential', 'stepwise'] as const) {
      const backend = WebGPUBackend.fromContext(gpu, { recurrentKernel: kernel, timing: true });
      try {
        let error = 0;
        const t = await timed(backend, async () => {
          error = validated((await backend.recurrentLayer(spec, weights, inputs)).Y, want.Y, `LSTM H=${H} on ${kernel}`);
        });
        console.log(
          `LSTM H=${H} | ${kernel} | ${t.wall.toFixed(1)} | ${t.gpu.toFixed(1)} (${t.method}) | ${error.toExponential(2)} | ${(flops / t.gpu / 1e6).toFixed(2)}`,
        );
      } catch (e) {
        console.log(`LSTM H=${H} | ${kernel} | unavailable: ${(e as Error).message}`);
      } finally {
        backend.dispose();
      }
    }
  }
}

const CONTRACTIONS: Array<{ name: string; p: number; q: number; rows: number }> = [
  { name: 'GRU H=24 I=4 dW', p: 72, q: 4, rows: 65_536 },
  { name: 'GRU H=24 I=4 dR', p: 48, q: 24, rows: 65_536 },
  { name: "a head's dX (one row)", p: 98_304, q: 8, rows: 1 },
];

async function contractions(gpu: GpuContext): Promise<void> {
  console.log('\ncontraction out[p, q] = Σ_r A[r, p]·B[r, q] | entry point | wall ms | GPU ms | max |Δ| vs float64');
  const backend = WebGPUBackend.fromContext(gpu, { timing: true });
  try {
    for (const c of CONTRACTIONS) {
      const rand = mulberry32(c.p + c.q);
      const A = uniformArray(rand, c.rows * c.p, -1, 1);
      const Bm = uniformArray(rand, c.rows * c.q, -1, 1);
      // float64 sums, and the bound of a float32 recursive sum: rows · 2⁻²⁴ · Σ |a·b| per output.
      const want = new Float64Array(c.p * c.q);
      const bound = new Float64Array(c.p * c.q);
      for (let r = 0; r < c.rows; r++) {
        for (let p = 0; p < c.p; p++) {
          const a = A[r * c.p + p]!;
          for (let q = 0; q < c.q; q++) {
            want[p * c.q + q]! += a * Bm[r * c.q + q]!;
            bound[p * c.q + q]! += Math.abs(a * Bm[r * c.q + q]!);
          }
        }
      }
      const contraction: Contraction = {
        a: { buffer: 'a', row: c.p, col: 1 },
        b: { buffer: 'b', row: c.q, col: 1 },
        out: { buffer: 'out', p: c.q, q: 1 },
        p: c.p,
        q: c.q,
        rows: c.rows,
      };
      const maxGrid = gpu.device.limits.maxComputeWorkgroupsPerDimension;
      for (const entryPoint of ['main', 'main_direct'] as const) {
        let error = 0;
        const t = await timed(backend, async () => {
          const out = await backend.runProgram({
            what: `${c.name} on ${entryPoint}`,
            buffers: { a: { data: A }, b: { data: Bm }, out: { bytes: 4 * c.p * c.q, read: true } },
            dispatches: [contractionDispatch(contraction, maxGrid, entryPoint)],
          });
          error = 0;
          out.out!.forEach((v, i) => {
            const d = Math.abs(v - want[i]!);
            if (!(d <= Math.max(1e-6, c.rows * 2 ** -24 * bound[i]!)))
              throw new Error(`${c.name} on ${entryPoint}: output ${i} is ${v}, want ${want[i]}`);
            error = Math.max(error, d);
          });
        });
        console.log(
          `${c.name} (P = ${c.p}, Q = ${c.q}, ${c.rows} rows) | ${entryPoint} | ${t.wall.toFixed(1)} | ${t.gpu.toFixed(1)} (${t.method}) | ${error.toExponential(2)}`,
        );
      }
    }
  } finally {
    backend.dispose();
  }
}

const gpu = await acquireGpu({ log: false, features: ['timestamp-query'] });
try {
  console.log(`adapter: ${gpu.summary.description || gpu.summary.architecture}; ${RUNS} timed runs a cell`);
  if (both || args.layers) await layers(gpu);
  if (both || args.wide) await wideKernel(gpu);
  if (args.stepwise) await stepwise(gpu);
  if (both || args.contractions) await contractions(gpu);
} finally {
  gpu.destroy();
}
