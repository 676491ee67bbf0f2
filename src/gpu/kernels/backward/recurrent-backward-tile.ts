import common from '../../../../shaders/backward/recurrent_backward_common.wgsl?raw';
import tile from '../../../../shaders/backward/recurrent_backward_tile.wgsl?raw';
import { defineKernel } from '../../kernel.ts';
import { recurrentSource } from '../forward/recurrent-common.ts';
import type { TileNeeds, TileShape } from '../tile.ts';

/**
 * `recurrent_backward_tile` (shaders/backward/recurrent_backward_tile.wgsl): the tiled forward
 * kernel's transpose, a workgroup per direction and tile of 4·GROUPS sequences sharing Rᵀ·dA.
 */
export const recurrentBackwardTile = defineKernel('recurrent_backward_tile', recurrentSource(common, tile), [
  'fwd',
  'weights',
  'lens',
  'dstate_in',
  'dg',
  'dstate_out',
  'dy',
]);

/** The tiled backward kernel aims at about this many invocations per workgroup (as the forward). */
const TILE_INVOCATIONS = 128;

/** The tile of hidden size `H` and `G` gates: per group the gate gradients in two parities. */
export function backwardTile(H: number, G: number): TileNeeds {
  return { hidden: H, bytesPerGroup: 2 * G * H * 16, invocations: TILE_INVOCATIONS };
}

/** The kernel's constants for a tile shape. */
export function backwardTileConstants(H: number, G: number, shape: TileShape): Record<string, number> {
  return {
    GROUPS: shape.groups,
    WORKGROUP_SIZE: shape.groups * H,
    R_SHARED: shape.rShared ? 1 : 0,
    DA_TILE: 2 * G * shape.groups * H,
    R_TILE: shape.rShared ? H * H : 1,
  };
}
