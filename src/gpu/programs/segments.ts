import { GATES, numDirections, type RecurrentLayerSpec } from '../../rnn/spec.ts';
import { MACS_PER_SUBMISSION } from '../chunks.ts';
import { recurrentUniforms } from '../kernels/forward/recurrent-common.ts';
import type { PlannedKernel } from '../kernels/forward/plan.ts';
import type { Copy, Dispatch } from '../program.ts';

/**
 * The one time-segment loop of the recurrent kernels, forward and backward. A layer's T steps run
 * in segments of at most a few steps per dispatch (one submission each, so none runs long enough
 * for a watchdog to reset the device), the state carried from one segment to the next on the device
 * (copied from the kernel's final-state binding into its initial-state binding). The forward pass
 * walks the forward direction's segments first to last and the reverse direction's last to first;
 * the backward pass the other way round.
 */

/**
 * T steps in segments of at most `maxSteps`: as few segments as that allows, of about equal length
 * (64 steps at 31 a dispatch: 22 + 22 + 20, not 31 + 31 + 2), since every segment is one more pass
 * over the state and the kernels' cost is per step.
 */
export function timeSegments(T: number, maxSteps: number): { segment: number; segments: number } {
  const segments = Math.ceil(T / Math.max(1, Math.min(T, maxSteps)));
  return { segment: Math.ceil(T / segments), segments };
}

/**
 * Steps per dispatch of a layer over `batch` sequences: as many as keep one submission under
 * MACS_PER_SUBMISSION multiply-adds (src/gpu/chunks.ts), or `override` (tests).
 */
export function stepsPerDispatch(spec: RecurrentLayerSpec, batch: number, override?: number): number {
  if (override !== undefined) return override;
  const perStep = batch * numDirections(spec) * GATES[spec.cell] * spec.hiddenSize * (spec.inputSize + spec.hiddenSize);
  return Math.max(1, Math.floor(MACS_PER_SUBMISSION / perStep));
}

/**
 * The first global step of time segment k (of `segments` of `segment` steps) per direction, in the
 * order a pass walks them. A single reverse direction is direction 0 and takes the reverse
 * direction's offset.
 */
export function segmentOffsets(
  s: RecurrentLayerSpec,
  k: number,
  segments: number,
  segment: number,
  pass: 'forward' | 'backward',
): [number, number] {
  const early = k * segment;
  const late = (segments - 1 - k) * segment;
  const [forward, reverse] = pass === 'forward' ? [early, late] : [late, early];
  return s.direction === 'reverse' ? [reverse, reverse] : [forward, reverse];
}

/** One layer kernel over the time segments of a batch: see {@link segmentDispatches}. */
export interface SegmentedPass {
  spec: RecurrentLayerSpec;
  planned: PlannedKernel;
  bind: Record<string, string>;
  batch: number;
  steps: number;
  /** Most steps per dispatch ({@link stepsPerDispatch}). */
  maxSteps: number;
  /** The initial states (or carried gradients) given to the first segment, and sequence lengths. */
  given: { h: boolean; c: boolean; lens: boolean };
  pass: 'forward' | 'backward';
  /** Per-series models: how many, and floats from one model's weights to the next's. */
  models: { count: number; weightStride: number };
  /** The state carried between segments: [final-state buffer, initial-state buffer]. */
  carry: [from: string, to: string];
  /** End the submission after the last segment too (the backward pass: one submission per segment). */
  submitLast?: boolean;
}

/** The dispatches of one layer kernel over all T steps, a segment each (see the module comment). */
export function segmentDispatches(p: SegmentedPass): Dispatch[] {
  const { segment, segments } = timeSegments(p.steps, p.maxSteps);
  return Array.from({ length: segments }, (_, k): Dispatch => {
    const last = k === segments - 1;
    const carried = k > 0;
    const copies: Copy[] = [p.carry];
    return {
      kernel: p.planned.kernel,
      constants: p.planned.constants,
      bind: p.bind,
      uniforms: recurrentUniforms({
        batch: p.batch,
        steps: segment,
        totalSteps: p.steps,
        hasH0: p.given.h || carried,
        hasC0: p.given.c || carried,
        hasLens: p.given.lens,
        offsets: segmentOffsets(p.spec, k, segments, segment, p.pass),
        modelBatch: p.batch / p.models.count,
        weightStride: p.models.weightStride,
      }),
      grid: p.planned.grid,
      ...(last ? (p.submitLast ? { submit: true } : {}) : { copies, submit: true }),
    };
  });
}
