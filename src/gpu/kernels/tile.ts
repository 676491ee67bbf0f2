import { DeviceError } from '../../errors.ts';
import { workgroupGrid } from '../grid.ts';

/**
 * The one tile planner of the tiled kernels, forward (shaders/forward/recurrent_tile.wgsl) and
 * backward (shaders/backward/recurrent_backward_tile.wgsl): a workgroup owns one direction and a
 * tile of 4·GROUPS sequences of one model, invocation (group, unit) working on four sequences at
 * once; each group keeps `bytesPerGroup` of workgroup memory (its state, or its gate gradients), and
 * R (H² vec4s) is staged beside the tile when it fits.
 */

/** The device limits a tile shape depends on. */
export type TileLimits = Pick<
  GPUSupportedLimits,
  'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX' | 'maxComputeWorkgroupStorageSize' | 'maxComputeWorkgroupsPerDimension'
>;

/** What a tile is made of. */
export interface TileNeeds {
  hidden: number;
  /** Workgroup memory one group of four sequences takes. */
  bytesPerGroup: number;
  /** Invocations per workgroup the tile aims at (a power of two). */
  invocations: number;
}

/** A tile shape: groups per workgroup, whether R is staged beside the tile, and the grid over `batch`. */
export interface TileShape {
  groups: number;
  rShared: boolean;
  grid: [number, number];
}

function largestPowerOfTwoAtMost(n: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, n)));
}

/** Invocations one workgroup may have on this device. */
export function maxInvocations(limits: TileLimits): number {
  return Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
}

/** Whether one group fits a workgroup: a unit per invocation, its memory within the device's. */
export function tileFits(n: TileNeeds, limits: TileLimits): boolean {
  return n.hidden <= maxInvocations(limits) && n.bytesPerGroup <= limits.maxComputeWorkgroupStorageSize;
}

/** The DeviceError of a forced tiled kernel that does not fit (`kernel`: "the tiled recurrent kernel"). */
export function tileError(kernel: string, n: TileNeeds, limits: TileLimits): DeviceError {
  return new DeviceError(
    `${kernel} needs hidden_size ≤ ${maxInvocations(limits)} and ${n.bytesPerGroup} bytes of workgroup memory; ` +
      `this device allows ${limits.maxComputeWorkgroupStorageSize}`,
  );
}

/**
 * The tile for `batch` sequences in `directions` directions, `models` per-series models of
 * batch / models sequences each (tiles never mix two): about `invocations` invocations (groups =
 * invocations / H, a power of two), but no more groups than a model's sequences fill and than the
 * workgroup memory holds.
 */
export function tileShape(n: TileNeeds, batch: number, directions: number, models: number, limits: TileLimits): TileShape {
  const H = n.hidden;
  const perModel = batch / models;
  const groups = Math.min(
    largestPowerOfTwoAtMost(Math.min(n.invocations, maxInvocations(limits)) / H),
    2 ** Math.ceil(Math.log2(Math.ceil(perModel / 4))),
    largestPowerOfTwoAtMost(limits.maxComputeWorkgroupStorageSize / n.bytesPerGroup),
  );
  const rShared = groups * n.bytesPerGroup + H * H * 16 <= limits.maxComputeWorkgroupStorageSize;
  const tiles = models * Math.ceil(perModel / (4 * groups));
  return { groups, rShared, grid: workgroupGrid(directions * tiles, 1, limits.maxComputeWorkgroupsPerDimension) };
}
