import type { DeviceError } from '../errors.ts';
import type { Kernel } from './kernel.ts';

/**
 * The program model: everything one call does on the GPU is a {@link Program}, named buffers and
 * {@link Dispatch}es in order. Builders (src/gpu/programs/) only describe work; one executor
 * (src/gpu/executor.ts) checks sizes, takes buffers from the pool, builds and caches pipelines,
 * writes uniforms, binds, dispatches, reads back and gives every buffer back.
 */

/**
 * A buffer of a program: uploaded from `data`, or `bytes` long (absent inputs: `data: null`, a
 * 4-byte placeholder the kernels never read); read back when `read`. `external`: a buffer the
 * caller owns and keeps on the device across programs (a training loop's parameters, gradients,
 * optimizer state), bound as it is from byte `offset` (default 0; a multiple of the device's
 * minStorageBufferOffsetAlignment), `bytes` long (default: its size): never uploaded, poisoned,
 * pooled or released by the executor. It needs the `storage` usage of src/gpu/usage.ts.
 */
export interface ProgramBuffer {
  data?: Float32Array | Uint32Array | null;
  bytes?: number;
  read?: boolean;
  external?: GPUBuffer;
  offset?: number;
  /**
   * The buffer holds f16 values, two per 32-bit word (src/util/f16.ts): read back, it comes as
   * float32, `bytes / 2` values (f16 storage's y; its uploads are packed by the builder).
   */
  f16?: boolean;
}

/** A buffer copy after a dispatch: all of `from` into `to`, or its first `bytes`. */
export type Copy = [from: string, to: string] | [from: string, to: string, bytes: number];

/** One dispatch of a kernel. */
export interface Dispatch {
  kernel: Kernel;
  /** Override constants: part of the pipeline's cache key. */
  constants: Readonly<Record<string, number>>;
  /** The program buffer bound to each of the kernel's bindings, by binding name. */
  bind: Readonly<Record<string, string>>;
  /** The kernel's uniform struct, by field name (see src/gpu/kernel.ts encodeUniforms). */
  uniforms: Readonly<Record<string, number>>;
  grid: [number, number];
  /** Copies after the dispatch (the state carried into the next time segment). */
  copies?: Copy[];
  /** End the submission after this dispatch (time segments: no submission runs too long). */
  submit?: boolean;
}

/** A dispatch of `kernel`, its bindings typed by the kernel's binding names. */
export function dispatch<B extends string>(
  kernel: Kernel<B>,
  d: {
    bind: Readonly<Record<B, string>>;
    uniforms?: Readonly<Record<string, number>>;
    constants?: Readonly<Record<string, number>>;
    grid: [number, number];
  },
): Dispatch {
  return { kernel, constants: d.constants ?? {}, bind: d.bind, uniforms: d.uniforms ?? {}, grid: d.grid };
}

/** Everything one call does on the GPU; read-back buffers come back in the order they are listed. */
export interface Program {
  /** What the program computes, for messages ("the LSTM layer"). */
  what: string;
  buffers: Record<string, ProgramBuffer>;
  dispatches: Dispatch[];
}

/** Options of {@link ProgramRunner.runProgram}. */
export interface RunOptions {
  /**
   * Submit without waiting: no buffer may be marked `read` (results stay in `external` buffers, read
   * later by a program that waits), the program's own buffers go back to the pool as soon as it is
   * submitted (the queue runs later uploads into them after this work), and the WebGPU error check
   * of the program is appended to this list, as a promise of the {@link DeviceError} it would have
   * thrown (or null), for the caller to await when it next reads results. Nothing waits for the GPU,
   * so a loop of programs keeps it busy. Not with timing (a timed program waits).
   */
  deferred?: Promise<DeviceError | null>[];
}

/** What runs programs on a device: the executor, and the backend that owns one. */
export interface ProgramRunner {
  readonly device: GPUDevice;
  /** Runs a program; resolves to the read-back buffers by name (nothing with `deferred`). */
  runProgram(program: Program, options?: RunOptions): Promise<Record<string, Float32Array>>;
}

/** The bytes of a program buffer as the executor allocates or binds it. */
export function programBufferBytes(b: ProgramBuffer): number {
  return b.data?.byteLength ?? b.bytes ?? (b.external ? b.external.size - (b.offset ?? 0) : 4);
}
