import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuReferenceContender } from '../bench/contenders.ts';
import { runHarness } from '../bench/harness.ts';
import { encodeFrame, FrameReader, PYTHON_ENV, pytorchCpu, resolvePython, startTorch, TorchPeerError } from '../bench/peers/pytorch.ts';
import { MODELS, type Workload } from '../bench/workloads.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { tensor } from '../src/tensor.ts';
import { expectClose, FLOAT32_TOLERANCE } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';

// PyTorch on the CPU as a benchmark peer (bench/peers/pytorch.ts, a Python subprocess): it must
// compute webrnn's model before it is timed, and the harness must time it by its in-process clock.
// It needs Debian's python3-torch, which is not an npm package: where the peer's interpreter
// (WEBRNN_BENCH_PYTHON, else /usr/bin/python3, else python3 on PATH) cannot import torch, the tests
// that run PyTorch are skipped (the reason is printed; on the development machine and in CI it is
// installed). The unavailable paths are tested everywhere with stand-in interpreters. The CUDA
// contenders are tested in torch-peer-cuda.test.ts.

const PYTHON = resolvePython(process.env, existsSync) ?? 'python3';

/** Why PyTorch cannot run here, checked without the peer; null when `python -c 'import torch'` works. */
function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${r.error.message})`;
  return r.status === 0 ? null : `${PYTHON} cannot import torch (${r.stderr.trim().split('\n').at(-1)})`;
}

const MISSING = torchMissing();
if (MISSING) console.warn(`torch-peer.test.ts: the PyTorch runs are skipped: ${MISSING}`);
const withTorch = MISSING ? it.skip : it;

const B = 3;
const T = 5;
const I = 2;
const H = 4;
const O = 2;

const MODELS_UNDER_TEST = [
  { cell: 'rnn', nonlinearity: 'relu' },
  { cell: 'rnn', nonlinearity: 'tanh' },
  { cell: 'lstm' },
  { cell: 'gru' },
] as const;

async function makeCase(m: (typeof MODELS_UNDER_TEST)[number], numLayers: number, bidirectional: boolean) {
  const nonlinearity = 'nonlinearity' in m ? m.nonlinearity : undefined;
  const options = {
    cell: m.cell,
    inputSize: I,
    hiddenSize: H,
    outputSize: O,
    numLayers,
    bidirectional,
    ...(nonlinearity ? { nonlinearity } : {}),
  };
  const model = RecurrentNet.create(options, { seed: 3 + numLayers });
  const x = uniformArray(mulberry32(5), B * T * I, -1, 1);
  const reference = (await model.forward(tensor(x, [B, T, I]), { backend: cpuBackend })).output.data;
  const title = `${m.cell}${nonlinearity ? ` ${nonlinearity}` : ''}, ${numLayers} layer(s)${bidirectional ? ', bidirectional' : ''}`;
  const workload: Workload = { name: title, ...m, inputSize: I, hiddenSize: H, outputSize: O, numLayers, batch: B, steps: T };
  return { title, workload, model, x, reference };
}

const CASES = await Promise.all(MODELS_UNDER_TEST.flatMap((m) => [makeCase(m, 1, false), makeCase(m, 2, false), makeCase(m, 2, true)]));

const peer = pytorchCpu();
afterAll(() => peer.dispose());

describe('the frames between Node and the PyTorch process', () => {
  /** The bytes of one frame, as torch_peer.py writes them (the same layout as a request). */
  const frameBytes = (header: Record<string, unknown>, values: number[]) =>
    Buffer.concat(encodeFrame(header, values.length ? [{ name: 'v', shape: [values.length], data: Float32Array.from(values) }] : []));

  it('reassembles frames however the pipe splits them: a header cut in two, two frames in one read', () => {
    const bytes = Buffer.concat([frameBytes({ ok: true, n: 1 }, [1.5, -2, 3]), frameBytes({ ok: true, n: 2 }, [])]);
    for (const cuts of [[5], [12, 13], [1, 2, 3, 30, 31], [bytes.length - 1]]) {
      const reader = new FrameReader();
      const ends = [...cuts, bytes.length];
      const pieces = ends.map((end, i) => bytes.subarray(i ? ends[i - 1] : 0, end));
      const replies = pieces.flatMap((p) => reader.push(p));
      expect(
        replies.map((r) => r.header.n),
        `cut at ${cuts.join(', ')}`,
      ).toEqual([1, 2]);
      expect(Array.from(replies[0]!.tensors.get('v')!)).toEqual([1.5, -2, 3]);
    }
  });

  it('joins a large reply once, not at every pipe read (64 MiB in 64 KiB reads: 30 s when it joined at each)', () => {
    const small = frameBytes({ ok: true }, []);
    const big = Buffer.concat(encodeFrame({ ok: true }, [{ name: 'v', shape: [2 ** 24], data: new Float32Array(2 ** 24) }]));
    const reader = new FrameReader();
    const start = performance.now();
    let replies = 0;
    for (let i = 0; i < big.length; i += 2 ** 16) replies += reader.push(big.subarray(i, i + 2 ** 16)).length;
    replies += reader.push(small).length;
    expect(replies).toBe(2);
    expect(performance.now() - start).toBeLessThan(5_000);
  });
});

describe('pytorch-cpu', () => {
  withTorch(`is available where ${PYTHON} imports torch, on every logical core`, async () => {
    expect(await peer.available()).toBe(true);
    expect(peer.settings()).toMatchObject({
      library: expect.stringMatching(/^PyTorch \d/),
      device: 'cpu',
      threads: availableParallelism(),
    });
  });

  withTorch('matches the float64 reference on every cell, 1 and 2 layers, one and two directions, twice in a row', async () => {
    expect(await peer.available()).toBe(true);
    for (const c of CASES) {
      const prepared = await peer.prepare(c.workload, c.model, c.x);
      try {
        expectClose(await prepared.run(), c.reference, FLOAT32_TOLERANCE, `${c.title}, run()`, [B, T, O]);
        const timed = await prepared.timedRun!();
        expectClose(timed.output, c.reference, FLOAT32_TOLERANCE, `${c.title}, timedRun()`, [B, T, O]);
        expect(timed.ms).toBeGreaterThan(0);
      } finally {
        await prepared.dispose();
      }
    }
  });

  withTorch('is timed by its in-process clock in the harness, the wall clock kept beside it', async () => {
    const reference = cpuReferenceContender();
    const w: Workload = { name: 'lstm-h32', ...MODELS['lstm-h32']!, batch: 16, steps: 8 };
    const records = await runHarness({
      workloads: [w],
      contenders: [reference, peer],
      reference,
      baseline: reference.name,
      adapter: null,
      budget: { minRuns: 3, maxRuns: 3, cellMs: 0, warmupMs: 0 },
    });
    const torch = records.find((r) => r.contender === 'pytorch-cpu')!;
    expect(torch, torch.message ?? '').toMatchObject({ status: 'ok', timing: 'in-process', validatedAgainst: 'cpu-reference' });
    expect(torch.runsMs).toHaveLength(3);
    // The wall clock also counts the pipe and the copies.
    expect(torch.wallMedianMs!).toBeGreaterThan(torch.medianMs!);
    expect(records.find((r) => r.contender === 'cpu-reference')).toMatchObject({ status: 'ok', timing: 'wall' });
  });

  withTorch('rejects a request it cannot serve with a TorchPeerError, and serves the next one', async () => {
    const { process: proc } = await startTorch();
    try {
      await expect(proc.request('forward.run', { handle: 42 })).rejects.toThrow(TorchPeerError);
      await expect(proc.request('forward.run', { handle: 42 })).rejects.toThrow(/no forward model prepared under handle 42/);
      await expect(proc.request('no-such-op')).rejects.toThrow(/unknown op 'no-such-op'/);
      await expect(proc.request('release', { handle: 42 })).resolves.toMatchObject({ header: { ok: true } });
    } finally {
      proc.close();
    }
  });

  it('says why it is unavailable where the interpreter cannot import torch', async () => {
    // An interpreter that runs but has no torch: a script answering as Python does without it.
    const dir = mkdtempSync(join(tmpdir(), 'webrnn-notorch-'));
    const fake = join(dir, 'python3');
    writeFileSync(fake, `#!/bin/sh\necho "ModuleNotFoundError: No module named 'torch'" >&2\nexit 1\n`);
    chmodSync(fake, 0o755);
    const saved = process.env[PYTHON_ENV];
    process.env[PYTHON_ENV] = fake;
    try {
      expect(await pytorchCpu().available()).toMatch(/torch/i);
      expect(await pytorchCpu().available()).not.toBe(true);
    } finally {
      if (saved === undefined) delete process.env[PYTHON_ENV];
      else process.env[PYTHON_ENV] = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which interpreter is missing', async () => {
    const saved = process.env[PYTHON_ENV];
    process.env[PYTHON_ENV] = '/nonexistent/python3';
    try {
      const missing = pytorchCpu();
      expect(await missing.available()).toMatch(/^\/nonexistent\/python3 not found: install Debian's python3 and python3-torch/);
    } finally {
      if (saved === undefined) delete process.env[PYTHON_ENV];
      else process.env[PYTHON_ENV] = saved;
    }
  });
});
