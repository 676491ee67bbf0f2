import { checkResultLength } from '../tensor.ts';
import { DeviceError, ShapeError } from '../errors.ts';
import { programBufferBytes, type Program } from './program.ts';

/**
 * How many sequences of a batch one GPU program (a "chunk") takes. Every chunk must fit the device:
 * each binding within the binding limit, all read-back buffers together within one buffer (they are
 * copied into one readback buffer). Within those hard limits a chunk also stays near a memory target
 * (so memory stays bounded and every chunk of a large batch is alike: time grows linearly with B)
 * and keeps enough steps per submission (a recurrent layer splits T into segments to keep each
 * submission short; segments of one or two steps cost several times as much per step).
 *
 * Sizes are measured on the programs themselves: a program of u and of 2u sequences (u: the unit, a
 * sequence or one per-series model's sequences) give each buffer's bytes per sequence; the size
 * found is then checked on the program of that size and halved until it fits (a buffer shared by
 * layers, sized by the largest, may grow faster beyond the first sizes).
 */

/**
 * Multiply-adds one submission may hold before a recurrent layer is split into time segments. About
 * a second of work for the tiled kernel on a software adapter and a few milliseconds on a discrete
 * GPU: far from the seconds after which browsers and drivers reset a device that does not answer.
 */
export const MACS_PER_SUBMISSION = 2 ** 31;

/**
 * Batch chunks keep at least this many steps of a recurrent layer in one submission where they can
 * (see {@link MIN_CHUNK_SEQUENCES}): a larger chunk would split T into shorter segments, each one
 * more pass over the state and the weights. On SwiftShader's tiled kernel a 2-step segment costs
 * about three times as much per step as a 5-step one: before chunks were bounded, one chunk of
 * 800k Elman H=32 sequences (T = 5, three segments) took 3.1× the CPU time per sequence of
 * B ≤ 400k (one segment), LSTM 4.1× at 400k (bench/big-batch.ts; bench/RESULTS.md, "Big batches").
 */
export const MIN_SEGMENT_STEPS = 16;

/**
 * Bytes one batch chunk aims to allocate at most, its buffers and readback together: memory stays
 * bounded whatever B, chunks of a large batch are all alike (time linear in B), and the pool keeps
 * a chunk's buffers for the next (it retains 256 MiB).
 */
export const CHUNK_BYTES = 128 * 2 ** 20;

/** Sequences a chunk keeps whatever the targets above say, where the device's limits allow: enough to fill a GPU. */
export const MIN_CHUNK_SEQUENCES = 4096;

/** What a chunk may take. Byte counts are per device; see {@link planChunk}. */
export interface ChunkLimits {
  /** Most bytes one binding may hold (hard). */
  bindingBytes: number;
  /** Most bytes the read-back buffers of one chunk may hold together (hard: one buffer). */
  readbackBytes: number;
  /** Bytes a chunk should allocate at most, buffers and readback together (a target). */
  chunkBytes: number;
  /** Multiply-adds one submission should hold at most (a target; see {@link MACS_PER_SUBMISSION}). */
  macsPerSubmission: number;
  /** Sequences a chunk keeps even when the targets ask for fewer (enough to fill a GPU). */
  minSequences: number;
}

/** The work of one sequence: the targets keep `steps` steps of it within one submission. */
export interface ChunkWork {
  /** Steps one submission should hold: all of T for a kernel that cannot split it, else min(T, a floor). */
  steps: number;
  /** Multiply-adds of one step of one sequence, in the costliest dispatch (layer). */
  macsPerStep: number;
}

/** The bytes a program binds, reads back and allocates. */
export interface ProgramFootprint {
  /** The program's `what`, for messages. */
  what: string;
  /** Bytes of each buffer the program allocates (external buffers are the caller's and not counted). */
  buffers: Map<string, number>;
  /** Bytes of all read-back buffers together. */
  readback: number;
  /** Every allocated buffer and the readback together. */
  total: number;
}

/** What a program allocates: see {@link ProgramFootprint}. */
export function footprint(program: Pick<Program, 'what' | 'buffers'>): ProgramFootprint {
  const buffers = new Map<string, number>();
  let readback = 0;
  for (const [name, b] of Object.entries(program.buffers)) {
    const bytes = programBufferBytes(b);
    if (b.read) readback += bytes;
    if (!b.external) buffers.set(name, bytes);
  }
  let total = readback;
  for (const bytes of buffers.values()) total += bytes;
  return { what: program.what, buffers, readback, total };
}

/** The first hard limit a footprint breaks, as a sentence, or null when it fits. */
function overLimit(f: ProgramFootprint, limits: ChunkLimits): string | null {
  for (const [name, bytes] of f.buffers) {
    if (bytes > limits.bindingBytes)
      return `its ${name} buffer needs ${bytes} bytes, more than this device binds at once (${limits.bindingBytes})`;
  }
  if (f.readback > limits.readbackBytes) {
    return `it reads back ${f.readback} bytes, more than one buffer holds on this device (${limits.readbackBytes})`;
  }
  return null;
}

/** The largest n (in sequences, from n1) for which a + slope·(n − n1) ≤ limit; Infinity when it never grows. */
function largestWithin(limit: number, atN1: number, slope: number, n1: number): number {
  if (slope <= 0) return Infinity;
  return n1 + Math.floor((limit - atN1) / slope);
}

/**
 * Sequences per chunk of a batch of `batch` (a multiple of `unit`, itself a multiple of `unit`):
 * within every hard limit, then within the targets but not below `minSequences`, then evened out
 * over the chunks the batch needs (equal chunks reuse the same pooled buffers). `measure(n)` gives
 * the footprint of the program over n sequences; it may throw a {@link DeviceError} for a size the
 * device cannot take (a kernel whose per-chunk weights pass a limit), which counts as not fitting.
 * Throws a DeviceError naming the buffer (or the measure's own) when not even one unit fits.
 */
export function planChunk(
  batch: number,
  unit: number,
  measure: (n: number) => ProgramFootprint,
  limits: ChunkLimits,
  work: ChunkWork,
): number {
  const f1 = measure(unit);
  const over = overLimit(f1, limits);
  if (over) throw new DeviceError(`${f1.what} cannot run on ${unit === 1 ? 'one sequence' : `one model's ${unit} sequences`}: ${over}`);
  if (batch <= unit) return batch;
  // The footprint of n sequences when it fits, else null.
  const fitting = (n: number): ProgramFootprint | null => {
    try {
      const f = measure(n);
      return overLimit(f, limits) === null ? f : null;
    } catch (err) {
      if (err instanceof DeviceError) return null;
      throw err;
    }
  };

  const n1 = unit;
  const n2 = 2 * unit;
  let hard = Infinity;
  let target = Infinity;
  const f2 = fitting(n2);
  if (f2) {
    const slope = (a: number, b: number) => (b - a) / (n2 - n1);
    hard = largestWithin(limits.readbackBytes, f1.readback, slope(f1.readback, f2.readback), n1);
    for (const [name, bytes] of f2.buffers) {
      const at1 = f1.buffers.get(name) ?? 0;
      hard = Math.min(hard, largestWithin(limits.bindingBytes, at1, slope(at1, bytes), n1));
    }
    target = largestWithin(limits.chunkBytes, f1.total, slope(f1.total, f2.total), n1);
  } else {
    hard = n1;
  }
  const byWork = Math.floor(limits.macsPerSubmission / (work.steps * work.macsPerStep));
  target = Math.max(limits.minSequences, Math.min(target, byWork));
  let n = Math.min(batch, hard, target);
  n = Math.max(unit, Math.floor(n / unit) * unit);

  // Evened out: ⌈B / n⌉ chunks of about B / chunks sequences each.
  const chunks = Math.ceil(batch / n);
  n = Math.min(n, Math.ceil(batch / chunks / unit) * unit);

  // Checked on the program itself, halved until it fits.
  while (n > unit && !fitting(n)) n = Math.max(unit, Math.floor(n / 2 / unit) * unit);
  return n;
}

/**
 * A float32 result array of `length` elements for `what`, or a {@link ShapeError} when no typed
 * array can hold it or the engine cannot allocate it (instead of a RangeError after the GPU work).
 */
export function resultArray(length: number, what: string): Float32Array {
  checkResultLength(length, what);
  try {
    return new Float32Array(length);
  } catch (cause) {
    throw new ShapeError(
      `${what} needs ${4 * length} bytes of host memory, which could not be allocated (${(cause as Error).message}); split the batch`,
    );
  }
}
