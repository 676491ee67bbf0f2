import small from '../../../../shaders/forward/recurrent_small.wgsl?raw';
import { defineKernel } from '../../kernel.ts';
import { recurrentSource, LAYER_BINDINGS } from './recurrent-common.ts';

/**
 * `recurrent_small` (shaders/forward/recurrent_small.wgsl): one invocation per (direction, sequence)
 * with everything in registers, for hidden sizes up to {@link SMALL_HIDDEN_MAX}; a one-direction
 * batch-major layer may run the stack's nn.Linear head inside (override HEAD_OUT; `head` is then its
 * weights, else a placeholder).
 */
export const recurrentSmall = defineKernel('recurrent_small', recurrentSource(small), [...LAYER_BINDINGS, 'head']);

/** Hidden sizes up to this run on the register kernel. */
export const SMALL_HIDDEN_MAX = 4;
