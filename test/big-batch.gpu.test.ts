import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend, type BackendTuning } from '../src/backends/webgpu.ts';
import { ConfigError, DeviceError, ShapeError } from '../src/errors.ts';
import { BufferPool, bucketBytes } from '../src/gpu/buffers.ts';
import {
  MACS_PER_SUBMISSION,
  MIN_CHUNK_SEQUENCES,
  MIN_SEGMENT_STEPS,
  planChunk,
  type ChunkLimits,
  type ProgramFootprint,
} from '../src/gpu/chunks.ts';
import type { GpuContext } from '../src/gpu/device.ts';
import { MAX_PARAMETERS } from '../src/model/config.ts';
import { ElmanRNN } from '../src/model/elman.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import type { TorchRecurrentOptions } from '../src/model/torch-modules.ts';
import type { CellType } from '../src/rnn/spec.ts';
import { Trainer } from '../src/train/trainer.ts';
import { tensor } from '../src/tensor.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { createGpuFixture, type GpuFixture } from './helpers/gpu.ts';

// Issue 12, items 4 and 6: batches beyond what one program may hold are split into chunks sized by
// every binding, the combined readback and a memory target; the buffer pool never rounds a request
// past what the device can allocate, and a failed allocation is a DeviceError naming it (the chunk
// retried at half its size); ElmanRNN is chunked like the rest; models too large to hold are a
// ConfigError, weights too large for the device a DeviceError before any GPU work.
//
// Real limits need gigabytes, so the device is given smaller ones here: a wrapper reports lower
// `limits` (a device whose maxBufferSize is 16 KiB: every batch below runs as several chunks), or
// simulates running out of memory (createBuffer above a capacity returns an invalid buffer and
// raises a GPUOutOfMemoryError in the innermost out-of-memory error scope, as Dawn does when an
// allocation fails: seen on SwiftShader for a 2^30-byte buffer). Everything else is the real
// device. Runs in Node and in Chromium.

let gpu: GpuFixture;

beforeAll(async () => {
  gpu = await createGpuFixture();
});

afterAll(() => {
  gpu?.backend.dispose();
});

interface Tweaks {
  /** Limits the device reports instead of its own. */
  limits?: Partial<Record<'maxBufferSize' | 'maxStorageBufferBindingSize', number>>;
  /** Buffers above this many bytes fail as out of memory (simulated). */
  capacity?: number;
}

/**
 * The fixture's device behind a wrapper with {@link Tweaks}: `uncaptured` collects the simulated
 * out-of-memory errors raised outside any error scope.
 */
function tweakedContext(t: Tweaks): { ctx: GpuContext; uncaptured: GPUError[] } {
  const real = gpu.backend.device;
  const scopes: { filter: GPUErrorFilter; error: GPUError | null }[] = [];
  const uncaptured: GPUError[] = [];
  const limits = new Proxy(real.limits, {
    get: (target, p) => (t.limits as Record<string | symbol, number> | undefined)?.[p] ?? Reflect.get(target, p, target),
  });
  const createBuffer = (desc: GPUBufferDescriptor): GPUBuffer => {
    if (t.capacity === undefined || desc.size <= t.capacity) return real.createBuffer(desc);
    // An invalid buffer (over the real limit; its validation error swallowed) and an out-of-memory
    // error where Dawn would report a failed allocation: the innermost out-of-memory scope.
    real.pushErrorScope('validation');
    const invalid = real.createBuffer({ ...desc, size: real.limits.maxBufferSize + 256 });
    void real.popErrorScope();
    const error = new GPUOutOfMemoryError(`simulated: no memory for ${desc.size} bytes`);
    let scope = null;
    for (let i = scopes.length - 1; i >= 0 && !scope; i--) if (scopes[i]!.filter === 'out-of-memory') scope = scopes[i]!;
    if (scope) scope.error ??= error;
    else uncaptured.push(error);
    return invalid;
  };
  const device = new Proxy(real, {
    get(target, p) {
      if (p === 'limits') return limits;
      if (p === 'createBuffer') return createBuffer;
      if (p === 'pushErrorScope') {
        return (filter: GPUErrorFilter) => {
          scopes.push({ filter, error: null });
          target.pushErrorScope(filter);
        };
      }
      if (p === 'popErrorScope') {
        return async () => {
          const scope = scopes.pop();
          const error = await target.popErrorScope();
          return scope?.error ?? error;
        };
      }
      const v = Reflect.get(target, p, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { ctx: { ...gpu.backend.gpu, device, destroy: () => {} }, uncaptured };
}

/** A backend on a tweaked device (see {@link tweakedContext}), disposed after `fn`. */
async function withBackend<T>(t: Tweaks, tuning: BackendTuning, fn: (b: WebGPUBackend, uncaptured: GPUError[]) => Promise<T>): Promise<T> {
  const { ctx, uncaptured } = tweakedContext(t);
  const backend = WebGPUBackend.fromContext(ctx, { poisonOutputs: true, ...tuning });
  try {
    return await fn(backend, uncaptured);
  } finally {
    backend.dispose();
  }
}

/** Checks that every buffer of `backend` went back to its pool: none is held in use. */
function expectNothingHeld(backend: WebGPUBackend): void {
  backend.pool.trim();
  expect(backend.pool.liveBuffers).toBe(0);
}

const SMALL = { maxBufferSize: 16 * 1024, maxStorageBufferBindingSize: 16 * 1024 };

describe('buffer pool sizes', () => {
  it('never rounds a request past half the largest buffer: the size itself there (a 544 MB request is not 1 GiB)', () => {
    expect(bucketBytes(544_000_000, 2 ** 30)).toBe(544_000_000);
    expect(bucketBytes(2 ** 30 - 100, 2 ** 30)).toBe(2 ** 30 - 100);
    expect(bucketBytes(2 ** 30, 2 ** 30)).toBe(2 ** 30);
    expect(bucketBytes(9000, 16 * 1024)).toBe(9000);
  });

  it('rounds small requests to a power of two and large ones to eight classes a doubling (≤ 12.5 % more)', () => {
    expect(bucketBytes(1, 2 ** 30)).toBe(256);
    expect(bucketBytes(300, 2 ** 30)).toBe(512);
    expect(bucketBytes(2 ** 20, 2 ** 30)).toBe(2 ** 20);
    expect(bucketBytes(2 ** 20 + 1, 2 ** 30)).toBe(2 ** 20 + 2 ** 17);
    expect(bucketBytes(3_000_000, 2 ** 30)).toBe(3 * 2 ** 20);
    const rand = mulberry32(5);
    for (let i = 0; i < 1000; i++) {
      const size = 2 ** 20 + Math.floor(rand() * (2 ** 29 - 2 ** 20));
      const b = bucketBytes(size, 2 ** 30);
      expect(b).toBeGreaterThanOrEqual(size);
      expect(b).toBeLessThanOrEqual(size * 1.125);
      expect(b % 256).toBe(0);
    }
  });

  /** A device that only creates buffers (sizes recorded) and keeps error scopes; buffers above `capacity` fail. */
  function fakeDevice(capacity = Infinity) {
    const scopes: (GPUError | null)[] = [];
    const created: { label: string; size: number; destroyed: boolean }[] = [];
    const device = {
      limits: { maxBufferSize: 2 ** 30 },
      pushErrorScope: () => scopes.push(null),
      popErrorScope: async () => scopes.pop() ?? null,
      createBuffer(desc: GPUBufferDescriptor) {
        if (desc.size > capacity) scopes[scopes.length - 2] ??= new GPUOutOfMemoryError(`no memory for ${desc.size} bytes`);
        const b = {
          label: desc.label ?? '',
          size: desc.size,
          usage: desc.usage,
          destroyed: false,
          destroy() {
            this.destroyed = true;
          },
        };
        created.push(b);
        return b;
      },
    };
    return { device: device as unknown as GPUDevice, created };
  }

  it('allocates exactly the size near the limit, through the pool', async () => {
    const { device, created } = fakeDevice();
    const pool = new BufferPool(device);
    const [b] = await pool.acquireAll([{ label: 'y0', size: 544_000_000, usage: 0x80 }], 'a test');
    expect(b!.size).toBe(544_000_000);
    expect(created.map((c) => c.size)).toEqual([544_000_000]);
    pool.release(b!);
    pool.destroy();
  });

  it('reports a failed allocation as a DeviceError naming the buffer, its bytes and the call, and keeps nothing', async () => {
    // The fake device's out-of-memory error lands in the scope the pool pushed before creating.
    const { device, created } = fakeDevice(1 << 20);
    const pool = new BufferPool(device);
    const [kept] = await pool.acquireAll([{ label: 'w0', size: 1000, usage: 0x80 }], 'a first call');
    pool.release(kept!);
    expect(pool.freeBytes).toBe(1024);
    const err = await pool
      .acquireAll(
        [
          { label: 'w0', size: 1000, usage: 0x80 },
          { label: 'x', size: 100, usage: 0x80 },
          { label: 'y0', size: 3_000_000, usage: 0x80 },
        ],
        'the 1-layer RNN stack',
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as Error).message).toMatch(
      /^out of GPU memory: the y0 buffer of 3,000,000 bytes \(3,145,728 with the pool's rounding\) for the 1-layer RNN stack could not be created/,
    );
    // The reused buffer went back to the pool, the created ones were destroyed.
    expect(pool.freeBytes).toBe(1024);
    expect(pool.liveBuffers).toBe(1);
    expect(created.filter((c) => !c.destroyed).map((c) => c.label)).toEqual(['w0']);
    pool.destroy();
  });
});

describe('batch chunk sizes', () => {
  /** A program whose buffers grow by `perSequence` bytes a sequence (plus `fixed`), read back where named. */
  const program =
    (perSequence: Record<string, number>, read: string[], fixed: Record<string, number> = {}) =>
    (n: number): ProgramFootprint => {
      const buffers = new Map(Object.entries(perSequence).map(([k, v]) => [k, v * n + (fixed[k] ?? 0)]));
      for (const [k, v] of Object.entries(fixed)) if (!buffers.has(k)) buffers.set(k, v);
      const readback = read.reduce((s, k) => s + buffers.get(k)!, 0);
      return { what: 'a test program', buffers, readback, total: [...buffers.values()].reduce((a, b) => a + b, readback) };
    };
  const device = (o: Partial<ChunkLimits> = {}): ChunkLimits => ({
    bindingBytes: 2 ** 30,
    readbackBytes: 2 ** 30,
    chunkBytes: Infinity,
    macsPerSubmission: Infinity,
    minSequences: MIN_CHUNK_SEQUENCES,
    ...o,
  });
  // The issue's case: H = 32, T = 5, no head. Y is 640 bytes a sequence, Y_h 128: one binding holds
  // 1.67M sequences, but the readback of both only 1.39M.
  const noHead = program({ x: 20, w: 0, y0: 640, final0: 128, init0: 128 }, ['y0', 'final0'], { w: 4480 });

  it('sizes chunks by the combined readback as well as every binding (H=32, T=5, B=1.5M)', () => {
    const n = planChunk(1_500_000, 1, noHead, device(), { steps: 5, macsPerStep: 1056 });
    expect(noHead(n).readback).toBeLessThanOrEqual(2 ** 30);
    expect(Math.ceil(1_500_000 / n)).toBe(2); // evened out: two chunks of 750,000
    expect(n).toBe(750_000);
  });

  it('keeps a chunk near the memory target and every chunk alike, so time is linear in B', () => {
    const limits = device({ chunkBytes: 128 * 2 ** 20, macsPerSubmission: MACS_PER_SUBMISSION });
    for (const B of [1_000_000, 10_000_000]) {
      const n = planChunk(B, 1, noHead, limits, { steps: 5, macsPerStep: 1056 });
      expect(noHead(n).total).toBeLessThanOrEqual(128 * 2 ** 20);
      expect(n).toBeGreaterThan(0.9 * Math.floor((128 * 2 ** 20) / noHead(1).total)); // not needlessly small
      expect(B - (Math.ceil(B / n) - 1) * n).toBeGreaterThan(0.9 * n); // the last chunk is about as large
    }
  });

  it(`keeps ${MIN_SEGMENT_STEPS} steps of a recurrent layer in one submission, but never fewer than ${MIN_CHUNK_SEQUENCES} sequences`, () => {
    const tiny = program({ x: 4, y0: 4 }, ['y0']);
    const lstm32 = 4 * 32 * 33; // multiply-adds of a step of LSTM H=32, I=1
    const n = planChunk(10_000_000, 1, tiny, device({ macsPerSubmission: MACS_PER_SUBMISSION }), {
      steps: MIN_SEGMENT_STEPS,
      macsPerStep: lstm32,
    });
    expect(n * MIN_SEGMENT_STEPS * lstm32).toBeLessThanOrEqual(MACS_PER_SUBMISSION);
    expect(n).toBeGreaterThan(0.9 * (MACS_PER_SUBMISSION / (MIN_SEGMENT_STEPS * lstm32)));
    const lstm1024 = 4 * 1024 * 1025;
    expect(planChunk(10_000_000, 1, tiny, device({ macsPerSubmission: MACS_PER_SUBMISSION }), { steps: 16, macsPerStep: lstm1024 })).toBe(
      MIN_CHUNK_SEQUENCES,
    );
  });

  it('takes whole models, treats a size the kernels refuse as not fitting, and names the buffer when one unit does not fit', () => {
    // Per-series models of 10 sequences; beyond 3 models the (say) packed weights pass a limit.
    const measure = (n: number) => {
      if (n > 30) throw new DeviceError('packed weights too large');
      return program({ y0: 100 }, ['y0'])(n);
    };
    expect(planChunk(100, 10, measure, device(), { steps: 1, macsPerStep: 1 })).toBe(20);
    expect(() => planChunk(100, 10, program({ y0: 100 }, ['y0']), device({ bindingBytes: 999 }), { steps: 1, macsPerStep: 1 })).toThrow(
      /a test program cannot run on one model's 10 sequences: its y0 buffer needs 1000 bytes, more than this device binds at once \(999\)/,
    );
  });
});

interface StackCase {
  options: TorchRecurrentOptions & { cell: CellType; inputSize: number; hiddenSize: number };
  B: number;
  T: number;
}

describe('WebGPU batches beyond one buffer, on a device with 16 KiB buffers', () => {
  const cases: StackCase[] = [
    // No head: Y and Y_h are read back together; each fits a buffer long after both together do.
    { options: { cell: 'rnn', inputSize: 1, hiddenSize: 8 }, B: 300, T: 5 },
    // A head, and two steps: the final states (read back with the head's output) outgrow Y.
    { options: { cell: 'lstm', inputSize: 2, hiddenSize: 6, numLayers: 3, outputSize: 1 }, B: 700, T: 2 },
    { options: { cell: 'gru', inputSize: 1, hiddenSize: 5, bidirectional: true }, B: 130, T: 7 },
  ];
  cases.forEach((c, i) => {
    const name = `${c.options.cell} H=${c.options.hiddenSize}${c.options.outputSize ? ' + head' : ''} B=${c.B} T=${c.T}`;
    it(`splits ${name} and matches one program and the float64 reference`, async () => {
      const model = RecurrentNet.create(c.options, { seed: 40 + i });
      const x = tensor(uniformArray(mulberry32(50 + i), c.B * c.T * c.options.inputSize, -1, 1), [c.B, c.T, c.options.inputSize]);
      const want = await model.forward(x, { backend: cpuBackend });
      const whole = await model.forward(x, { backend: gpu.backend });
      await withBackend({ limits: SMALL }, {}, async (small) => {
        const got = await model.forward(x, { backend: small });
        expectClose(got.output.data, want.output.data, FLOAT32_TOLERANCE, `${name} output`, want.output.shape);
        expectClose(got.hn.data, want.hn.data, FLOAT32_TOLERANCE, `${name} hn`, want.hn.shape);
        // Sequences never interact: the chunks compute exactly what one program does.
        expect(Array.from(got.output.data)).toEqual(Array.from(whole.output.data));
        expect(Array.from(got.hn.data)).toEqual(Array.from(whole.hn.data));
        expectNothingHeld(small);
      });
    });
  });

  it('splits an ElmanRNN batch (y, hn and the state, all outputs or the last, with h0) and matches one program and the reference', async () => {
    const config = { inputSize: 3, hiddenSize: 8, outputSize: 2, numLayers: 2 };
    const model = new ElmanRNN(config, { seed: 3 });
    const [B, T] = [300, 5];
    const rand = mulberry32(4);
    const x = tensor(uniformArray(rand, B * T * 3, -1, 1), [B, T, 3]);
    const h0 = tensor(uniformArray(rand, 2 * B * 8, -0.5, 0.5), [2, B, 8]);
    await withBackend({ limits: SMALL }, {}, async (small) => {
      for (const outputs of ['all', 'last'] as const) {
        const want = await model.forward(x, { backend: cpuBackend, outputs, h0 });
        const whole = await model.forward(x, { backend: gpu.backend, outputs, h0 });
        const got = await model.forward(x, { backend: small, outputs, h0 });
        expect(got.output.shape).toEqual(want.output.shape);
        expectClose(got.output.data, want.output.data, FLOAT32_TOLERANCE, `outputs=${outputs} y`, want.output.shape);
        expectClose(got.hn.data, want.hn.data, FLOAT32_TOLERANCE, `outputs=${outputs} hn`, want.hn.shape);
        expect(Array.from(got.output.data)).toEqual(Array.from(whole.output.data));
        expect(Array.from(got.hn.data)).toEqual(Array.from(whole.hn.data));
      }
      expectNothingHeld(small);
    });
  });
});

describe('WebGPU out of memory (simulated)', () => {
  const model = RecurrentNet.create({ cell: 'rnn', inputSize: 1, hiddenSize: 8 }, { seed: 9 });
  const [B, T] = [4000, 5]; // one chunk by every limit: Y is 640,000 bytes
  const x = tensor(uniformArray(mulberry32(10), B * T, -1, 1), [B, T, 1]);

  it('retries a chunk the device has no memory for at half its size: the batch still runs, nothing leaks', async () => {
    const want = await model.forward(x, { backend: cpuBackend });
    await withBackend({ capacity: 400_000 }, {}, async (tight, uncaptured) => {
      const got = await model.forward(x, { backend: tight });
      expectClose(got.output.data, want.output.data, FLOAT32_TOLERANCE, 'output', want.output.shape);
      expectClose(got.hn.data, want.hn.data, FLOAT32_TOLERANCE, 'hn', want.hn.shape);
      expect(uncaptured).toEqual([]);
      expectNothingHeld(tight);
    });
  });

  it('reports memory too small for one sequence as a DeviceError naming the buffer, its bytes and the call; nothing leaks', async () => {
    await withBackend({ capacity: 200 }, {}, async (tight, uncaptured) => {
      const err = await model.forward(x, { backend: tight }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeviceError);
      expect((err as Error).message).toMatch(
        /^out of GPU memory: the x buffer of 20 bytes \(256 with the pool's rounding\) for the 1-layer RNN stack could not be created/,
      );
      expect(uncaptured).toEqual([]);
      expectNothingHeld(tight);
    });
  });
});

describe('training out of memory (simulated)', () => {
  it('reports training buffers the device has no memory for as a DeviceError when the trainer is created; nothing is left', async () => {
    const net = RecurrentNet.create({ cell: 'lstm', inputSize: 1, hiddenSize: 16, outputSize: 1 }, { seed: 3 });
    // LSTM H=16: 1,216 parameters a block of 4,864 bytes; the forward buffers of a step stay smaller.
    await withBackend({ capacity: 4096 }, {}, async (tight, uncaptured) => {
      const create = Trainer.create(net, { backend: tight, loss: { kind: 'mse' }, optimizer: { kind: 'adam', lr: 1e-2 }, batchSize: 4 });
      await expect(create).rejects.toThrow(DeviceError);
      await expect(
        Trainer.create(net, { backend: tight, loss: { kind: 'mse' }, optimizer: { kind: 'adam', lr: 1e-2 }, batchSize: 4 }),
      ).rejects.toThrow(
        /^out of GPU memory: the training buffers \(parameters, gradients and optimizer state of 1 model\(s\)\) could not be created: simulated: no memory for \d+ bytes/,
      );
      expect(uncaptured).toEqual([]);
      expectNothingHeld(tight);
    });
  });
});

describe('sizes validated against what can be held (hiddenSize 65,536)', () => {
  it('refuses a model with more parameters than a typed array holds with a ConfigError, on either backend', async () => {
    const make = () => new ElmanRNN({ inputSize: 1, hiddenSize: 65_536, outputSize: 1 });
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(
      /Elman network .* would have 4,295,229,441 parameters \(rnn\.weight_hh_l0 \[65536, 65536\] alone 4,294,967,296\), more than webrnn holds/,
    );
    expect(() => RecurrentNet.create({ cell: 'lstm', inputSize: 1, hiddenSize: 32_768 })).toThrow(ConfigError);
    expect(() => RecurrentNet.create({ cell: 'gru', inputSize: 1, hiddenSize: 40_000, bidirectional: true })).toThrow(
      /more than webrnn holds/,
    );
    expect(MAX_PARAMETERS).toBe(2 ** 32);
  });

  it('refuses weights beyond the device binding limit with a DeviceError before any GPU work; the CPU runs them', async () => {
    const elman = new ElmanRNN({ inputSize: 1, hiddenSize: 64, outputSize: 1 }, { seed: 1 }); // 17 KB of weights
    const lstm = RecurrentNet.create({ cell: 'lstm', inputSize: 1, hiddenSize: 32, outputSize: 1 }, { seed: 2 });
    const x = tensor(uniformArray(mulberry32(3), 2 * 3, -1, 1), [2, 3, 1]);
    await withBackend({}, { maxBindingBytes: 8192 }, async (narrow) => {
      for (const run of [() => elman.forward(x, { backend: narrow }), () => lstm.forward(x, { backend: narrow })]) {
        const err = await run().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DeviceError);
        expect((err as Error).message).toMatch(/the weights buffer needs \d+ bytes, more than this device binds at once \(8192\)/);
      }
      expect(narrow.pool.liveBuffers).toBe(0);
    });
    expect((await elman.forward(x, { backend: cpuBackend })).output.data.every(Number.isFinite)).toBe(true);
  });
});

describe('results beyond one typed array', () => {
  it('are a ShapeError before any work, on both backends, not a RangeError after it', async () => {
    // No head, H = 1024, T = 1: B = 4.2M sequences give 4.3e9 output values (> 2^32). The shared
    // checks (src/rnn/spec.ts) refuse it for the CPU reference too, which threw a RangeError.
    const model = RecurrentNet.create({ cell: 'rnn', inputSize: 1, hiddenSize: 1024 }, { seed: 1 });
    const B = 4_200_000;
    const live = gpu.backend.pool.liveBuffers;
    for (const backend of [gpu.backend, cpuBackend]) {
      const err = await model.forward(tensor(new Float32Array(B), [B, 1, 1]), { backend }).catch((e: unknown) => e);
      expect(err, backend.name).toBeInstanceOf(ShapeError);
      expect((err as Error).message).toMatch(
        /^Y would hold 4300800000 values, more than one typed array holds \(4294967296\); split the batch/,
      );
    }
    expect(gpu.backend.pool.liveBuffers).toBe(live);
    // The Elman network's output and a head's output are checked alike.
    const elman = new ElmanRNN({ inputSize: 1, hiddenSize: 1, outputSize: 1100 });
    await expect(elman.forward(tensor(new Float32Array(4_000_000), [4_000_000, 1, 1]), { backend: cpuBackend })).rejects.toThrow(
      /^the output would hold 4400000000 values/,
    );
  });
});

describe('the shared device', () => {
  it('reported no uncaptured WebGPU error', () => {
    expect(gpu.uncaptured).toEqual([]);
  });
});
