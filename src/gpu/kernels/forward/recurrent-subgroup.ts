import subgroup from '../../../../shaders/forward/recurrent_subgroup.wgsl?raw';
import { numDirections, type RecurrentLayerSpec } from '../../../rnn/spec.ts';
import { workgroupGrid } from '../../grid.ts';
import { defineKernel, type Kernel } from '../../kernel.ts';
import { maxInvocations, type TileLimits } from '../tile.ts';
import { layerConstants, recurrentSource, LAYER_BINDINGS } from './recurrent-common.ts';

/** WGSL wants its `enable` directives before any declaration: the shared part is prepended, so they move up. */
const ENABLE = /^enable [\w, ]+;[ \t]*$/gm;

function directivesFirst(source: string): string {
  return [...(source.match(ENABLE) ?? []), source.replace(ENABLE, '')].join('\n');
}

/**
 * `recurrent_subgroup` (shaders/forward/recurrent_subgroup.wgsl): the hidden state of four sequences
 * in the registers of a team of lanes of one subgroup, each step's h_{t−1}·Rᵀ read from the other
 * lanes with subgroupShuffle instead of workgroup memory and a barrier. Needs the `subgroups`
 * feature. Inference only.
 */
export const recurrentSubgroup = defineKernel('recurrent_subgroup', directivesFirst(recurrentSource(subgroup)), LAYER_BINDINGS);

/** Hidden units one lane holds at most (the WGSL's UNITS_MAX: its registers are sized by it). */
export const SUBGROUP_UNITS_MAX = 4;

/** Invocations per workgroup the kernel aims at (more teams share one staging of R). */
export const SUBGROUP_INVOCATIONS = 128;

/** The subgroup sizes an adapter may run: WebGPU's bounds, where the adapter does not say. */
export interface SubgroupSizes {
  minSize: number;
  maxSize: number;
}

/**
 * The sizes `info` reports (GPUAdapterInfo's subgroupMinSize and subgroupMaxSize), else WebGPU's
 * bounds of 4 and 128: the kernel is planned for the smallest and the largest a dispatch may get.
 */
export function subgroupSizes(info: { subgroupMinSize?: number; subgroupMaxSize?: number }): SubgroupSizes {
  return { minSize: info.subgroupMinSize || 4, maxSize: info.subgroupMaxSize || 128 };
}

function powerOfTwoAtLeast(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

/** What the layer's dispatches run: src/gpu/kernels/forward/plan.ts makes it the plan's `pipeline`. */
export interface SubgroupPipeline {
  kernel: Kernel;
  constants: Record<string, number>;
  grid: [number, number];
}

/**
 * The subgroup kernel for `batch` sequences (of `models` per-series models) on a device with
 * subgroups of `sizes` (undefined: not granted), or why it cannot run there: the device lacks `subgroups`, or H needs more than {@link SUBGROUP_UNITS_MAX} units a lane
 * on the smallest subgroup the adapter may run, or the workgroup it needs is too large.
 *
 * A team has TEAM = min(subgroupMinSize, H rounded up to a power of two) lanes, so it fits any
 * subgroup the adapter runs and divides it; each lane holds ⌈H / TEAM⌉ units. The workgroup holds
 * at least subgroupMaxSize invocations (a multiple of every size a dispatch may get, so its
 * subgroups are full) and otherwise about {@link SUBGROUP_INVOCATIONS}, no more teams than a model's
 * sequences fill.
 */
export function planSubgroup(
  s: RecurrentLayerSpec,
  batch: number,
  limits: TileLimits,
  models: number,
  sizes: SubgroupSizes | undefined,
): SubgroupPipeline | string {
  if (!sizes) return "needs the 'subgroups' feature, which this device was not granted";
  const H = s.hiddenSize;
  const team = Math.min(sizes.minSize, powerOfTwoAtLeast(H));
  const units = Math.ceil(H / team);
  if (units > SUBGROUP_UNITS_MAX) {
    return (
      `takes hidden_size ≤ ${SUBGROUP_UNITS_MAX * sizes.minSize} on this adapter ` +
      `(${SUBGROUP_UNITS_MAX} units a lane, subgroups of at least ${sizes.minSize}), got ${H}`
    );
  }
  const perModel = batch / models;
  const wanted = Math.min(SUBGROUP_INVOCATIONS / team, powerOfTwoAtLeast(Math.ceil(perModel / 4)));
  const teams = Math.max(wanted, Math.ceil(sizes.maxSize / team), 1);
  const invocations = teams * team;
  if (invocations > maxInvocations(limits)) {
    return `needs workgroups of ${invocations} invocations (subgroups of up to ${sizes.maxSize}); this device allows ${maxInvocations(limits)}`;
  }
  const rShared = H * H * 16 + 8 <= limits.maxComputeWorkgroupStorageSize;
  const tiles = models * Math.ceil(perModel / (4 * teams));
  return {
    kernel: recurrentSubgroup,
    constants: {
      TEAM: team,
      UNITS: units,
      TEAMS: teams,
      WORKGROUP_SIZE: invocations,
      R_SHARED: rShared ? 1 : 0,
      R_TILE: rShared ? H * H : 1,
      ...layerConstants(s),
    },
    grid: workgroupGrid(numDirections(s) * tiles, 1, limits.maxComputeWorkgroupsPerDimension),
  };
}
