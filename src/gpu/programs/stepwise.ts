import { numDirections, type RecurrentLayerSpec } from '../../rnn/spec.ts';
import { recurrentUniforms } from '../kernels/forward/recurrent-common.ts';
import type { StepwisePlan } from '../kernels/forward/recurrent-stepwise.ts';
import type { Dispatch } from '../program.ts';
import { segmentOffsets, timeSegments } from './segments.ts';

/**
 * The step-wise layer's time loop (src/gpu/kernels/forward/recurrent-stepwise.ts): per time segment
 * the input GEMM over the segment's steps, then one dispatch per step (per stage), the state kept in
 * the `state` binding from step to step and from segment to segment, one submission per segment.
 * Each dispatch's uniforms are its own (the local step, h's parity, first and last step), all in the
 * program's one uniform buffer, so nothing is written between the steps of a command buffer.
 */

/** Flags of a step dispatch (shaders/forward/recurrent_step.wgsl `step_flags`). */
function stepFlags(n: number, first: boolean, last: boolean): number {
  return (n & 1) | (first ? 2 : 0) | (last ? 4 : 0);
}

/** The dispatches of one layer over `B` sequences of `T` steps on the step-wise kernels, segments of at most `maxSteps`. */
export function stepwiseDispatches(
  plan: StepwisePlan,
  spec: RecurrentLayerSpec,
  B: number,
  T: number,
  names: Readonly<Record<'x' | 'weights' | 'lens' | 'init' | 'y' | 'final' | 'state', string>>,
  given: { h: boolean; c: boolean; lens: boolean },
  maxSteps: number,
): { dispatches: Dispatch[]; scratchBytes: number } {
  const { segment, segments } = timeSegments(T, maxSteps);
  const dispatches: Dispatch[] = [];
  const inputBind = { x: names.x, weights: names.weights, state: names.state };
  const stepBind = { weights: names.weights, lens: names.lens, init: names.init, y: names.y, final_state: names.final, state: names.state };
  let n = 0; // steps dispatched so far: h's parity
  for (let k = 0; k < segments; k++) {
    const offsets = segmentOffsets(spec, k, segments, segment, 'forward');
    const common = {
      batch: B,
      steps: segment,
      totalSteps: T,
      hasH0: given.h,
      hasC0: given.c,
      hasLens: given.lens,
      offsets,
    };
    dispatches.push({ ...plan.input, bind: inputBind, uniforms: recurrentUniforms(common), grid: plan.inputGrid(segment) });
    // The directions' segments may differ in length (the last one is short): as many steps as the longer.
    const steps = Math.max(...offsets.slice(0, numDirections(spec)).map((o) => Math.min(segment, T - o)));
    for (let step = 0; step < steps; step++, n++) {
      const flags = stepFlags(n, n === 0, k === segments - 1 && step === steps - 1);
      for (const stage of plan.stages) {
        dispatches.push({
          ...stage,
          bind: stepBind,
          uniforms: recurrentUniforms({ ...common, step, stepFlags: flags }),
          grid: plan.stepGrid,
        });
      }
    }
    if (k < segments - 1) dispatches.at(-1)!.submit = true;
  }
  return { dispatches, scratchBytes: plan.scratchBytes(segment) };
}
