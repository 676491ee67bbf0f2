import lanes from '../../../../shaders/forward/recurrent_lanes.wgsl?raw';
import { GATES, type RecurrentLayerSpec } from '../../../rnn/spec.ts';
import { defineKernel } from '../../kernel.ts';
import type { TileLimits } from '../tile.ts';
import { recurrentSource } from './recurrent-common.ts';

/**
 * `recurrent_lanes` (shaders/forward/recurrent_lanes.wgsl): one invocation per sequence, a workgroup
 * of one model's sequences reading every weight at the same address, from a copy packed by the
 * `pack` entry point as vec4s over four units. Inference only.
 */
const source = recurrentSource(lanes);
export const recurrentLanes = defineKernel('recurrent_lanes', source, ['x', 'packed', 'lens', 'init', 'y', 'final_state']);
export const recurrentLanesPack = defineKernel('recurrent_lanes', source, ['pack_source', 'pack_target'], 'pack');

/** The lanes kernel takes up to this many sequences per workgroup (two of llvmpipe's 8-lane vectors). */
export const LANES_WORKGROUP_MAX = 16;

/** …and needs room in workgroup memory for at least this many. */
export const LANES_WORKGROUP_MIN = 4;

/** Invocations per workgroup of the `pack` entry point (fixed in the shader). */
export const LANES_PACK_WORKGROUP = 64;

/** Bytes of workgroup memory per sequence: its state slots, vec4s over units. */
export function lanesBytesPerSequence(s: RecurrentLayerSpec): number {
  return 16 * lanesSlots(s) * Math.ceil(s.hiddenSize / 4);
}

function lanesSlots(s: RecurrentLayerSpec): number {
  if (s.cell === 'lstm') return 3;
  return s.cell === 'gru' && !s.linearBeforeReset ? 4 : 2;
}

function largestPowerOfTwoAtMost(n: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, n)));
}

/** The lanes kernel's shape: sequences per workgroup, quads of units, state slots, packed vec4s per direction. */
export interface LanesLayout {
  workgroupSize: number;
  quads: number;
  slots: number;
  perDirection: number;
}

/**
 * The shape for a layer: the most sequences per workgroup, up to {@link LANES_WORKGROUP_MAX}, whose
 * states fit in workgroup memory; null when not even {@link LANES_WORKGROUP_MIN} fit.
 */
export function lanesLayout(s: RecurrentLayerSpec, limits: TileLimits, maxInvocations: number): LanesLayout | null {
  const perLane = lanesBytesPerSequence(s);
  const workgroupSize = largestPowerOfTwoAtMost(
    Math.min(LANES_WORKGROUP_MAX, maxInvocations, limits.maxComputeWorkgroupStorageSize / perLane),
  );
  if (workgroupSize < LANES_WORKGROUP_MIN || workgroupSize * perLane > limits.maxComputeWorkgroupStorageSize) return null;
  const G = GATES[s.cell];
  const quads = Math.ceil(s.hiddenSize / 4);
  return { workgroupSize, quads, slots: lanesSlots(s), perDirection: quads * (G * 4 * quads + G * s.inputSize + G + 4) };
}

/** The kernel's constants for a layout. */
export function lanesConstants(l: LanesLayout): Record<string, number> {
  return { WORKGROUP_SIZE: l.workgroupSize, QUADS: l.quads, STATE_SLOTS: l.slots, STATE_TILE: l.slots * 4 * l.quads * l.workgroupSize };
}
