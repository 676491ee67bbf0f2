import step from '../../../../shaders/forward/recurrent_step.wgsl?raw';
import stepCommon from '../../../../shaders/forward/recurrent_step_common.wgsl?raw';
import input from '../../../../shaders/forward/recurrent_step_input.wgsl?raw';
import { GATES, numDirections, type RecurrentLayerSpec } from '../../../rnn/spec.ts';
import { workgroupGrid } from '../../grid.ts';
import { defineKernel, type Kernel } from '../../kernel.ts';
import { maxInvocations, type TileLimits } from '../tile.ts';
import { layerConstants, recurrentSource } from './recurrent-common.ts';

/**
 * The step-wise layer, cuDNN's standard per-step layout, for hidden sizes too large for one
 * workgroup to hold a tile's recurrent work well: a time segment's input part x·W for all its steps
 * as one GEMM up front (`recurrent_step_input`), then one dispatch per step (`recurrent_step`, two
 * for GRU with linear_before_reset = 0) whose GEMM over (sequences × units) has the cell update fused
 * in, h double-buffered in the `state` scratch binding. Every step's uniforms sit in the program's
 * one uniform buffer (src/gpu/executor.ts), so a segment's steps are one command buffer.
 * Inference only; one model (per-series models are small networks: the other kernels' case).
 */

/** `recurrent_step_input` (shaders/forward/recurrent_step_input.wgsl): XW of a segment's steps. */
export const recurrentStepInput = defineKernel('recurrent_step_input', recurrentStepSource(input), ['x', 'weights', 'state']);

/** `recurrent_step` (shaders/forward/recurrent_step.wgsl): one step (or GRU stage) of every sequence. */
export const recurrentStep = defineKernel('recurrent_step', recurrentStepSource(step), [
  'weights',
  'lens',
  'init',
  'y',
  'final_state',
  'state',
]);

/** recurrent_common.wgsl (as every recurrent kernel), the two kernels' shared part, then `body`. */
function recurrentStepSource(body: string): string {
  return recurrentSource(stepCommon, body);
}

/** Invocations of both kernels' workgroups (fixed in their WGSL). */
export const STEPWISE_WORKGROUP = 256;
/** Sequences × units of a step kernel workgroup's tile, and rows × columns of the input GEMM's. */
const STEP_TILE = { sequences: 64, units: 32 };
const INPUT_TILE = { rows: 64, columns: 64 };
/** Workgroup memory of the step kernel (bytes), the larger of the two: its h tile (64 × 16 floats) and R tile (16 × 32 vec4). */
const STEPWISE_WORKGROUP_BYTES = 4 * 64 * 16 + 16 * 16 * 32;

/** The layer constants the input GEMM reads (shaders/forward/recurrent_step_input.wgsl). */
const INPUT_CONSTANTS = ['INPUT_SIZE', 'HIDDEN_SIZE', 'CELL', 'NUM_DIRECTIONS', 'LAYOUT', 'LINEAR_BEFORE_RESET'];

function pick(constants: Record<string, number>, names: readonly string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, constants[n]!]));
}

/** What the step-wise layer dispatches (see {@link planStepwise}). */
export interface StepwisePlan {
  /** The input GEMM's and the step's constants (the layer's, and the step's stage). */
  input: { kernel: Kernel; constants: Record<string, number> };
  /** The step dispatches: one per stage (two for GRU with linear_before_reset = 0), each of `grid`. */
  stages: { kernel: Kernel; constants: Record<string, number> }[];
  stepGrid: [number, number];
  /** The input GEMM's grid over a segment of `steps` steps. */
  inputGrid(steps: number): [number, number];
  /** Bytes of the `state` binding for segments of `steps` steps (see recurrent_step_common.wgsl). */
  scratchBytes(steps: number): number;
}

/**
 * The step-wise layer's plan for `batch` sequences of `models` model(s), or why it does not take
 * the layer (a reason, for a DeviceError when forced and for the autotuner to skip it).
 */
export function planStepwise(s: RecurrentLayerSpec, batch: number, limits: TileLimits, models = 1): StepwisePlan | string {
  if (models > 1) return 'the step-wise kernel runs one model (per-series models are small networks: the tiled kernels take them)';
  if (maxInvocations(limits) < STEPWISE_WORKGROUP) return `the step-wise kernel needs ${STEPWISE_WORKGROUP} invocations per workgroup`;
  if (limits.maxComputeWorkgroupStorageSize < STEPWISE_WORKGROUP_BYTES)
    return `the step-wise kernel needs ${STEPWISE_WORKGROUP_BYTES} bytes of workgroup memory`;
  const D = numDirections(s);
  const H = s.hiddenSize;
  const GH = GATES[s.cell] * H;
  const maxGrid = limits.maxComputeWorkgroupsPerDimension;
  const spec = layerConstants(s);
  const twoStage = s.cell === 'gru' && !s.linearBeforeReset;
  const tiles = (n: number, per: number) => Math.ceil(n / per);
  return {
    // The GEMM reads only the shape constants: layers that differ in activations or clip share it.
    input: { kernel: recurrentStepInput, constants: pick(spec, INPUT_CONSTANTS) },
    stages: (twoStage ? [1, 2] : [0]).map((stage) => ({ kernel: recurrentStep, constants: { ...spec, STAGE: stage } })),
    stepGrid: workgroupGrid(D * tiles(batch, STEP_TILE.sequences) * tiles(H, STEP_TILE.units), 1, maxGrid),
    inputGrid: (steps) => workgroupGrid(D * tiles(steps * batch, INPUT_TILE.rows) * tiles(GH, INPUT_TILE.columns), 1, maxGrid),
    scratchBytes: (steps) => 4 * D * batch * ((twoStage ? 5 : 3) * H + steps * GH),
  };
}

/**
 * Floating-point operations of one step of the step-wise layer over `batch` sequences (both
 * directions; a multiply-add is 2): the input GEMM's share (2·B·G·H·I) and the step's GEMM
 * (2·B·G·H·H), the numbers to set against the adapter's matmul rate (bench/ceilings.ts).
 */
export function stepwiseFlopsPerStep(s: RecurrentLayerSpec, batch: number): { input: number; recurrent: number } {
  const per = 2 * batch * numDirections(s) * GATES[s.cell] * s.hiddenSize;
  return { input: per * s.inputSize, recurrent: per * s.hiddenSize };
}
