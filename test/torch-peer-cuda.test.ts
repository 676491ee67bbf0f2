import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Contender } from '../bench/contender.ts';
import { contenderSet, cpuReferenceContender } from '../bench/contenders.ts';
import { runHarness, WEBRNN } from '../bench/harness.ts';
import { systemPeerContenders } from '../bench/peers/index.ts';
import {
  DEFAULT_PYTHON,
  forwardTimes,
  PYTHON_ENV,
  pytorchCpu,
  pytorchCuda,
  resolvePython,
  resolveTorchScript,
  startTorch,
  TORCH_CUDA_FP32,
  TORCH_CUDA_TF32,
  TF32_TOLERANCE,
  TORCH_PEER_SCRIPT_ENV,
} from '../bench/peers/pytorch.ts';
import { pytorchTrainPeer } from '../bench/peers/train-pytorch.ts';
import { validateEpoch } from '../bench/train-harness.ts';
import { referenceTraining } from '../bench/train-reference.ts';
import { initialModel, trainData, trainWorkload } from '../bench/train-workloads.ts';
import { MODELS, type Workload } from '../bench/workloads.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { tensor } from '../src/tensor.ts';
import { expectClose, FLOAT32_TOLERANCE, type Tolerance } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';

// PyTorch on CUDA as a benchmark contender (bench/peers/pytorch.ts): pytorch-cuda-fp32 (TF32 off)
// and pytorch-cuda-tf32 (TF32 on). The runs on CUDA need a python3 whose torch sees a GPU and are
// skipped elsewhere, with the reason in their names; everything else of the CUDA path (names, the
// reason it is unavailable, the TF32 flags, the interpreter and script overrides) is tested here on
// the CPU with Debian's python3-torch. test/torch-peer.test.ts covers the CPU peer itself.

const PYTHON = resolvePython(process.env, existsSync);

/** What the interpreter's torch can do: `cuda`, `cpu` (torch without CUDA), or why it cannot run. */
function probeTorch(): { kind: 'cuda' | 'cpu' | 'none'; why: string } {
  if (!PYTHON) return { kind: 'none', why: `no ${DEFAULT_PYTHON} and no python3 on PATH` };
  const r = spawnSync(PYTHON, ['-c', 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 3)'], { encoding: 'utf8' });
  if (r.error) return { kind: 'none', why: `${PYTHON} cannot run (${r.error.message})` };
  if (r.status === 3) return { kind: 'cpu', why: `torch.cuda.is_available() is False for ${PYTHON}` };
  return r.status === 0 ? { kind: 'cuda', why: '' } : { kind: 'none', why: `${PYTHON} cannot import torch` };
}

const TORCH = probeTorch();
const NO_TORCH = TORCH.kind === 'none';
const NO_CUDA = TORCH.kind !== 'cuda';
const onCuda = (title: string) => (NO_CUDA ? `${title} (skipped: ${TORCH.why})` : title);
if (NO_CUDA) console.warn(`torch-peer-cuda.test.ts: the CUDA runs are skipped: ${TORCH.why}`);

const CUDA_NAMES = ['pytorch-cuda-fp32', 'pytorch-cuda-tf32'];
const SCRIPT = fileURLToPath(new URL('../bench/peers/torch_peer.py', import.meta.url));

/** Runs `body` with environment variables set (undefined: removed), then restores them. */
async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}

describe('the PyTorch CUDA contenders, without CUDA', () => {
  it('are named pytorch-cuda-fp32 and pytorch-cuda-tf32 beside pytorch-cpu, in Node only, and the kit can pick them by name', () => {
    expect(systemPeerContenders('node').map((c) => c.name)).toEqual(['pytorch-cpu', ...CUDA_NAMES]);
    expect(systemPeerContenders('browser')).toEqual([]);
    const names = [WEBRNN, ...CUDA_NAMES];
    expect(contenderSet('node', { names }).all.map((c) => c.name)).toEqual(names);
    expect([TORCH_CUDA_FP32, TORCH_CUDA_TF32].map((d) => pytorchTrainPeer(d).name)).toEqual(CUDA_NAMES);
    expect(pytorchTrainPeer().name).toBe('pytorch-cpu');
  });

  it(`takes the interpreter from ${PYTHON_ENV} (a bare name from PATH), else ${DEFAULT_PYTHON}, else python3 on PATH`, () => {
    const on =
      (...paths: string[]) =>
      (p: string) =>
        paths.includes(p);
    const PATH = '/venv/bin::/usr/local/bin';
    expect(resolvePython({ [PYTHON_ENV]: '/opt/py/bin/python3', PATH }, on())).toBe('/opt/py/bin/python3');
    expect(resolvePython({ [PYTHON_ENV]: 'python3.12', PATH }, on('/usr/local/bin/python3.12'))).toBe('/usr/local/bin/python3.12');
    expect(resolvePython({ [PYTHON_ENV]: 'python3.12', PATH }, on())).toBe('python3.12');
    expect(resolvePython({ PATH }, on(DEFAULT_PYTHON, '/venv/bin/python3'))).toBe(DEFAULT_PYTHON);
    expect(resolvePython({ [PYTHON_ENV]: '', PATH }, on('/venv/bin/python3', '/usr/local/bin/python3'))).toBe('/venv/bin/python3');
    expect(resolvePython({ PATH: ':/usr/local/bin' }, on('/usr/local/bin/python3'))).toBe('/usr/local/bin/python3');
    expect(resolvePython({ PATH }, on())).toBeNull();
    expect(resolvePython({}, on())).toBeNull();
  });

  it(`takes torch_peer.py from ${TORCH_PEER_SCRIPT_ENV}, else the one beside the module`, () => {
    expect(resolveTorchScript({ [TORCH_PEER_SCRIPT_ENV]: '/kit/torch_peer.py' }, '/src/torch_peer.py')).toBe('/kit/torch_peer.py');
    expect(resolveTorchScript({}, '/src/torch_peer.py')).toBe('/src/torch_peer.py');
  });

  it('times a CUDA cell from upload to readback and keeps the forward alone as its GPU time; a CPU cell by the forward', () => {
    const cuda = { clock: 'cuda-events', forwardMs: 1.5, roundTripMs: 4.25 };
    expect(forwardTimes(cuda)).toEqual({ ms: 4.25, gpu: { ms: 1.5, method: 'timestamp' } });
    expect(forwardTimes({ clock: 'perf_counter', forwardMs: 2.5, roundTripMs: null })).toEqual({ ms: 2.5, gpu: null });
  });

  it('the harness keeps the GPU time of a contender that times itself, as the CUDA contenders do', async () => {
    const reference = cpuReferenceContender();
    // The reference's output, timed as a CUDA contender reports it: run k takes 2k ms, k of them on the GPU.
    let k = 0;
    const selfTimed: Contender = {
      name: 'self-timed',
      available: async () => true,
      async prepare(w, model, x) {
        const inner = await reference.prepare(w, model, x);
        return {
          run: () => inner.run(),
          timedRun: async () => ({ output: await inner.run(), ms: 2 * ++k }),
          gpuTime: () => ({ ms: k, method: 'timestamp' }),
          dispose: () => inner.dispose(),
        };
      },
      dispose() {},
    };
    const w: Workload = { name: 'gru-h24-i4', ...MODELS['gru-h24-i4']!, batch: 2, steps: 3 };
    const budget = { minRuns: 3, maxRuns: 3, cellMs: 0, warmupMs: 0 };
    const records = await runHarness({
      workloads: [w],
      contenders: [reference, selfTimed],
      reference,
      baseline: reference.name,
      adapter: null,
      budget,
    });
    const r = records.find((x) => x.contender === 'self-timed')!;
    // Run 1 validates; runs 2-4 are timed.
    expect(r, r.message ?? '').toMatchObject({
      status: 'ok',
      timing: 'in-process',
      runsMs: [4, 6, 8],
      medianMs: 6,
      gpuMedianMs: 3,
      gpuTiming: 'timestamp',
    });
  });

  it("validates a contender with its own tolerance (TF32's) and says so, while others keep float32's", async () => {
    expect(pytorchCuda(true).tolerance).toBe(TF32_TOLERANCE);
    expect(pytorchCuda(false).tolerance).toBeUndefined();
    const reference = cpuReferenceContender();
    // The reference's output with an error of 1e-3 on every value: within TF32's tolerance, far outside float32's.
    const off = (name: string, tolerance?: Tolerance): Contender => ({
      name,
      ...(tolerance ? { tolerance } : {}),
      available: async () => true,
      async prepare(w, model, x) {
        const inner = await reference.prepare(w, model, x);
        return { run: async () => Float32Array.from(await inner.run(), (v) => v + 1e-3), dispose: () => inner.dispose() };
      },
      dispose() {},
    });
    const w: Workload = { name: 'lstm-h32', ...MODELS['lstm-h32']!, batch: 3, steps: 4 };
    const budget = { minRuns: 2, maxRuns: 2, cellMs: 0, warmupMs: 0 };
    const contenders = [reference, off('coarse', TF32_TOLERANCE), off('strict')];
    const records = await runHarness({ workloads: [w], contenders, reference, baseline: reference.name, adapter: null, budget });
    const coarse = records.find((r) => r.contender === 'coarse')!;
    expect(coarse.status, coarse.message ?? '').toBe('ok');
    expect(coarse.validatedAgainst).toBe('cpu-reference (within atol 0.002, rtol 0.01)');
    expect(coarse.maxAbsError).toBeCloseTo(1e-3, 4);
    const strict = records.find((r) => r.contender === 'strict')!;
    expect(strict.status).toBe('failed');
  });

  it.skipIf(NO_TORCH)(`sets both TF32 flags as asked, on the CPU too${NO_TORCH ? ` (skipped: ${TORCH.why})` : ''}`, async () => {
    for (const tf32 of [true, false]) {
      const { process: proc, hello } = await startTorch({ device: 'cpu', tf32 });
      proc.close();
      expect(hello, `tf32 ${tf32}`).toMatchObject({ device: 'cpu', clock: 'perf_counter', cudnnAllowTf32: tf32, matmulAllowTf32: tf32 });
    }
  });

  it.skipIf(TORCH.kind !== 'cpu')(
    `says that torch.cuda.is_available() is False where torch has no CUDA${TORCH.kind !== 'cpu' ? ` (skipped: ${TORCH.kind === 'cuda' ? 'CUDA is here' : TORCH.why})` : ''}`,
    async () => {
      for (const tf32 of [false, true]) {
        const peer = pytorchCuda(tf32);
        expect(await peer.available()).toMatch(
          /^no CUDA for \S+: torch\.cuda\.is_available\(\) is False \(PyTorch \S+, built (with|without) CUDA/,
        );
        await peer.dispose();
      }
    },
  );

  it.skipIf(NO_TORCH)(
    `runs the script named by ${TORCH_PEER_SCRIPT_ENV}, and names it when it is missing${NO_TORCH ? ` (skipped: ${TORCH.why})` : ''}`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'webrnn-torch-script-'));
      try {
        const missing = join(dir, 'absent.py');
        await withEnv({ [TORCH_PEER_SCRIPT_ENV]: missing }, async () => {
          expect(await pytorchCpu().available()).toBe(
            `${missing} not found: the PyTorch peer's script; name torch_peer.py in ${TORCH_PEER_SCRIPT_ENV}`,
          );
        });
        const copy = join(dir, 'torch_peer.py');
        copyFileSync(SCRIPT, copy);
        await withEnv({ [TORCH_PEER_SCRIPT_ENV]: copy }, async () => {
          const peer = pytorchCpu();
          try {
            expect(await peer.available()).toBe(true);
          } finally {
            await peer.dispose();
          }
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it.skipIf(NO_TORCH)(`looks a bare ${PYTHON_ENV} up on PATH${NO_TORCH ? ` (skipped: ${TORCH.why})` : ''}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webrnn-torch-path-'));
    try {
      symlinkSync(PYTHON!, join(dir, 'python-with-torch'));
      await withEnv({ [PYTHON_ENV]: 'python-with-torch', PATH: `${dir}:${process.env.PATH ?? ''}` }, async () => {
        const peer = pytorchCpu();
        try {
          expect(await peer.available()).toBe(true);
          expect(String(peer.settings().python)).toMatch(new RegExp(`^${join(dir, 'python-with-torch')} \\(3\\.`));
        } finally {
          await peer.dispose();
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Tiny workloads of every cell, as in torch-peer.test.ts, checked against the float64 reference.
const B = 3;
const T = 5;
const I = 2;
const H = 4;
const O = 2;
const CELLS = [{ cell: 'rnn', nonlinearity: 'relu' }, { cell: 'rnn', nonlinearity: 'tanh' }, { cell: 'lstm' }, { cell: 'gru' }] as const;

async function makeCase(m: (typeof CELLS)[number], numLayers: number, bidirectional: boolean) {
  const nonlinearity = 'nonlinearity' in m ? m.nonlinearity : undefined;
  const model = RecurrentNet.create(
    { cell: m.cell, inputSize: I, hiddenSize: H, outputSize: O, numLayers, bidirectional, ...(nonlinearity ? { nonlinearity } : {}) },
    { seed: 13 + numLayers },
  );
  const x = uniformArray(mulberry32(17), B * T * I, -1, 1);
  const reference = (await model.forward(tensor(x, [B, T, I]), { backend: cpuBackend })).output.data;
  const title = `${m.cell}${nonlinearity ? ` ${nonlinearity}` : ''}, ${numLayers} layer(s)${bidirectional ? ', bidirectional' : ''}`;
  const workload: Workload = { name: title, ...m, inputSize: I, hiddenSize: H, outputSize: O, numLayers, batch: B, steps: T };
  return { title, workload, model, x, reference };
}

describe('the PyTorch CUDA contenders, on CUDA', () => {
  const fp32 = pytorchCuda(false);
  const tf32 = pytorchCuda(true);
  const train = pytorchTrainPeer(TORCH_CUDA_FP32);
  afterAll(async () => {
    for (const c of [fp32, tf32, train]) await c.dispose();
  });

  for (const [peer, tolerance, flag, within] of [
    [fp32, FLOAT32_TOLERANCE, false, "float32's tolerance"],
    [tf32, TF32_TOLERANCE, true, "TF32's tolerance"],
  ] as const) {
    it.skipIf(NO_CUDA)(
      onCuda(`${peer.name} matches the float64 reference within ${within} on every cell, 1 and 2 layers, both directions, twice`),
      async () => {
        expect(await peer.available()).toBe(true);
        expect(peer.settings()).toMatchObject({
          device: 'cuda',
          gpu: expect.any(String),
          cuda: expect.stringMatching(/^\d+\.\d+/),
          cudnn: expect.stringMatching(/^\d+\.\d+\.\d+$/),
          tf32: flag,
          cudnnAllowTf32: flag,
          matmulAllowTf32: flag,
        });
        const cases = await Promise.all(CELLS.flatMap((m) => [makeCase(m, 1, false), makeCase(m, 2, true)]));
        for (const c of cases) {
          const prepared = await peer.prepare(c.workload, c.model, c.x);
          try {
            expect(peer.settings().cudnnAlgo).toMatch(/^CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H|^CUDNN_RNN_ALGO_STANDARD/);
            expectClose(await prepared.run(), c.reference, tolerance, `${peer.name}, ${c.title}, run()`, [B, T, O]);
            const timed = await prepared.timedRun!();
            expectClose(timed.output, c.reference, tolerance, `${peer.name}, ${c.title}, timedRun()`, [B, T, O]);
            const gpu = prepared.gpuTime!()!;
            // The round trip holds the forward and two copies.
            expect(gpu.method).toBe('timestamp');
            expect(gpu.ms).toBeGreaterThan(0);
            expect(timed.ms).toBeGreaterThan(gpu.ms);
          } finally {
            await prepared.dispose();
          }
        }
      },
    );
  }

  it.skipIf(NO_CUDA)(onCuda('pytorch-cuda-fp32 is timed in the harness by CUDA events, the forward alone as its GPU time'), async () => {
    const reference = cpuReferenceContender();
    const w: Workload = { name: 'lstm-h32', ...MODELS['lstm-h32']!, batch: 64, steps: 16 };
    const records = await runHarness({
      workloads: [w],
      contenders: [reference, fp32],
      reference,
      baseline: reference.name,
      adapter: null,
      budget: { minRuns: 3, maxRuns: 3, cellMs: 0, warmupMs: 0 },
    });
    const r = records.find((x) => x.contender === 'pytorch-cuda-fp32')!;
    expect(r, r.message ?? '').toMatchObject({
      status: 'ok',
      timing: 'in-process',
      gpuTiming: 'timestamp',
      validatedAgainst: 'cpu-reference',
    });
    expect(r.gpuMedianMs!).toBeLessThan(r.medianMs!);
    expect(r.wallMedianMs!).toBeGreaterThan(r.medianMs!);
    expect(r.settings).toMatchObject({
      device: 'cuda',
      tf32: false,
      cudnnAlgo: expect.stringMatching(/^CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H/),
    });
  });

  it.skipIf(NO_CUDA)(onCuda('pytorch-cuda-fp32 trains like the float64 reference, step by step over two epochs'), async () => {
    expect(await train.available()).toBe(true);
    const w = { ...trainWorkload('lstm-h32', { batch: 4, steps: 6, stepsPerEpoch: 3 }), name: 'lstm-h3', hiddenSize: 3 };
    const initial = initialModel(w, 3).stateDict();
    const data = trainData(w, 4);
    const ref = referenceTraining(w, initial, data);
    const prepared = await train.prepare(w, initial, data);
    try {
      for (const epoch of [1, 2]) {
        const v = validateEpoch(await prepared.runEpoch(), await ref.runEpoch(), initial);
        expect(v.ok, `epoch ${epoch}: ${v.message}`).toBe(true);
      }
      expect(train.settings!()).toMatchObject({
        device: 'cuda',
        cudnnAlgo: expect.stringMatching(/^forward CUDNN_RNN_ALGO_.*, backward CUDNN_RNN_ALGO_/),
      });
    } finally {
      await prepared.dispose();
    }
  });
});
