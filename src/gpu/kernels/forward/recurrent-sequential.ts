import sequential from '../../../../shaders/forward/recurrent_sequential.wgsl?raw';
import { defineKernel } from '../../kernel.ts';
import { recurrentSource, LAYER_BINDINGS } from './recurrent-common.ts';

/**
 * `recurrent_sequential` (shaders/forward/recurrent_sequential.wgsl): one invocation per
 * (direction, sequence), its state in the storage scratch buffer `state`; the fallback for hidden
 * sizes beyond a workgroup. With SAVE = 1 it is the training forward pass.
 */
export const recurrentSequential = defineKernel('recurrent_sequential', recurrentSource(sequential), [...LAYER_BINDINGS, 'state']);

/** Working-memory slots per (direction, sequence) and unit: h twice, c, z, r·h. */
export const RECURRENT_STATE_SLOTS = 5;

/** Bytes of the scratch binding `state` for `pairs` (direction, sequence) pairs. */
export function sequentialScratchBytes(H: number, pairs: number): number {
  return 4 * RECURRENT_STATE_SLOTS * H * pairs;
}
