import type { Backend } from '../../src/backends/backend.ts';
import { cpuBackend } from '../../src/backends/cpu.ts';
import { DeviceError, NumericError } from '../../src/errors.ts';
import { compare, FLOAT32_TOLERANCE, type Tolerance } from '../../src/util/compare.ts';
import { attempt, ensure, ensureFinite, InvariantFailure, type Outcome, type Tally } from './harness.ts';

/**
 * The float64 reference and WebGPU side by side, for the properties that run on both: a call runs
 * on the reference and (when a GPU is given) on WebGPU; the two must agree on refusing it, and where
 * both give results, WebGPU's must match the reference's within the tolerance the GPU tests use
 * (src/util/compare.ts). WebGPU may refuse more than the reference in two ways: what exceeds its
 * limits (DeviceError), and a computation whose float32 intermediates overflow where float64's do
 * not (NumericError: e.g. a head's partial sums past 3.4e38 that cancel to a finite result).
 */

export const CPU_MS = 15_000;
export const GPU_MS = 60_000;

/** What each backend gave for one call. */
export interface Run<T> {
  cpu: Outcome<T>;
  gpu: Outcome<T> | null;
}

/** Runs `call` on the reference and (when given) on the GPU; untyped errors, hangs and disagreements fail the case. */
export async function onBoth<T>(
  what: string,
  call: (b: Backend) => T | Promise<T>,
  gpu: Backend | null,
  tally: Tally,
): Promise<Run<Awaited<T>>> {
  const cpu = await attempt(`${what} on the float64 reference`, () => call(cpuBackend), CPU_MS);
  tally.outcome(cpu, `${what}: `);
  if (!gpu) return { cpu, gpu: null };
  const g = await attempt(`${what} on WebGPU`, () => call(gpu), GPU_MS);
  if (cpu.ok && !g.ok && !(g.error instanceof DeviceError || g.error instanceof NumericError)) {
    throw new InvariantFailure(`${what}: the float64 reference gave a result but WebGPU refused with ${g.error.name}: ${g.error.message}`);
  }
  if (!cpu.ok && g.ok) {
    throw new InvariantFailure(
      `${what}: WebGPU gave a result but the float64 reference refused with ${cpu.error.name}: ${cpu.error.message}`,
    );
  }
  if (!g.ok) tally.add(`${what}: WebGPU ${g.error.name}`);
  return { cpu, gpu: g };
}

/** Both finite, and WebGPU's within `tol` of the reference's (the first bad index named). */
export function sameAsReference(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol: Tolerance = FLOAT32_TOLERANCE): void {
  ensureFinite(want, `${what} (float64 reference)`);
  ensureFinite(got, `${what} (WebGPU)`);
  const r = compare(got, want, tol);
  ensure(r.ok, () => `${what}: WebGPU differs from the float64 reference: ${r.message}`);
}
