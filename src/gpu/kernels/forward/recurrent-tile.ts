import tile from '../../../../shaders/forward/recurrent_tile.wgsl?raw';
import { defineKernel } from '../../kernel.ts';
import type { TileNeeds, TileShape } from '../tile.ts';
import { recurrentSource, storedRecurrentSource, LAYER_BINDINGS } from './recurrent-common.ts';

/**
 * `recurrent_tile` (shaders/forward/recurrent_tile.wgsl): a workgroup per direction and tile of
 * 4·GROUPS sequences, the tile's h in workgroup memory and R beside it when it fits (src/gpu/kernels/tile.ts
 * plans the shape). With SAVE = 1 it is the training forward pass.
 */
export const recurrentTile = defineKernel('recurrent_tile', recurrentSource(tile), LAYER_BINDINGS);

/** `recurrent_tile` with x, weights and y stored as f16 (shaders/forward/storage_f16.wgsl): inference only. */
export const recurrentTileF16 = defineKernel('recurrent_tile (f16 storage)', storedRecurrentSource('f16', tile), recurrentTile.bindings);

/** The tiled kernel aims at about this many invocations per workgroup (unless the backend's `tileInvocations` says otherwise). */
export const TILE_INVOCATIONS = 128;

/** The tile of hidden size `H`: per group h in two parities and r ⊙ h, each a vec4 per unit. */
export function forwardTile(H: number, invocations = TILE_INVOCATIONS): TileNeeds {
  return { hidden: H, bytesPerGroup: 3 * H * 16, invocations };
}

/** The kernel's constants for a tile shape. */
export function forwardTileConstants(H: number, shape: TileShape): Record<string, number> {
  return {
    GROUPS: shape.groups,
    WORKGROUP_SIZE: shape.groups * H,
    R_SHARED: shape.rShared ? 1 : 0,
    H_TILE: 3 * shape.groups * H,
    R_TILE: shape.rShared ? H * H : 1,
  };
}
