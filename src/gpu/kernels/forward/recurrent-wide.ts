import wide from '../../../../shaders/forward/recurrent_wide.wgsl?raw';
import { GATES, numDirections, type RecurrentLayerSpec } from '../../../rnn/spec.ts';
import { workgroupGrid } from '../../grid.ts';
import { defineKernel, type Kernel } from '../../kernel.ts';
import { maxInvocations, type TileLimits } from '../tile.ts';
import { layerConstants, recurrentSource, LAYER_BINDINGS } from './recurrent-common.ts';
import { TILE_INVOCATIONS } from './recurrent-tile.ts';

/**
 * `recurrent_wide` (shaders/forward/recurrent_wide.wgsl): the tiled kernel's persistent tiles, but
 * each invocation works on 4·V sequences (V vec4s) of its hidden unit, so every recurrent weight it
 * loads feeds 4·V multiply-adds per gate, and R is read from registers (small H), workgroup memory
 * or storage. Inference only (the training forward pass is the tiled kernel with SAVE).
 *
 * Its knobs, for the autotuner to time ({@link wideVariants}) and for tests to force
 * ({@link WideTraits}): sequences per invocation, where R lives, invocations per workgroup.
 */
export const recurrentWide = defineKernel('recurrent_wide', recurrentSource(wide), LAYER_BINDINGS);

/** Where the kernel keeps the recurrent weights R (the shader's R_MODE). */
export type WidePlacement = 'storage' | 'workgroup' | 'registers';

/** Sequences per invocation, in vec4s (the shader's VECTORS). */
export type WideVectors = 1 | 2 | 4;

/** R_MODE of each placement. */
const R_MODE: Record<WidePlacement, number> = { storage: 0, workgroup: 1, registers: 2 };

/** Register mode keeps a unit's G·H weights as H vec4s in a private array of this many (the shader's R_REGISTERS_MAX). */
export const WIDE_REGISTERS_HIDDEN_MAX = 32;

/**
 * Registers (32-bit) an invocation may spend on R and its accumulators before the default leaves
 * register mode: an NVIDIA thread has at most 255, and the kernel needs some for indices, lengths and
 * addresses besides.
 */
const REGISTER_BUDGET = 200;

/**
 * Workgroups that fill a big GPU: two per multiprocessor on an NVIDIA H200 (132 SMs), the issue's
 * "at least two workgroups per SM". WebGPU does not say how many multiprocessors an adapter has, so
 * this is a default the tuner can override per adapter ({@link WideTraits.fillWorkgroups}).
 */
export const WIDE_FILL_WORKGROUPS = 264;

/** Invocations in a subgroup (an NVIDIA warp): the least work a workgroup should hold. */
const SUBGROUP = 32;

/**
 * The wide kernel's knobs as planning inputs (fields of src/gpu/kernels/forward/plan.ts
 * `KernelTraits`; the invocations per workgroup are `tileInvocations`, as for the tiled kernel).
 * Each unset knob is chosen by the rules of {@link wideShape}.
 */
export interface WideTraits {
  /** Vec4s of sequences per invocation: 1, 2 or 4 (4, 8 or 16 sequences). */
  wideVectors?: WideVectors;
  /** Where R lives: registers (H ≤ 32), workgroup memory (when it fits) or storage. */
  wideR?: WidePlacement;
  /** Workgroups that fill the adapter (default {@link WIDE_FILL_WORKGROUPS}). */
  fillWorkgroups?: number;
  /** Invocations per workgroup to aim at (a power of two); set, it is taken as given, not shrunk to fill the GPU. */
  tileInvocations?: number;
}

/** A planned shape of the wide kernel. */
export interface WideShape {
  vectors: WideVectors;
  /** Rows of 4·vectors sequences per workgroup (invocations: groups · H). */
  groups: number;
  r: WidePlacement;
  grid: [number, number];
}

const pow2Floor = (n: number) => 2 ** Math.floor(Math.log2(Math.max(1, n)));
const pow2Ceil = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** vec4 slots of h per sequence vector and unit: two parities, and r ⊙ h for GRU without linear_before_reset. */
function stateSlots(s: RecurrentLayerSpec): number {
  return s.cell === 'gru' && !s.linearBeforeReset ? 3 : 2;
}

/** Estimated registers of R (4·H) and the per-vector accumulators, gates, h and c (4·V·(G + 2)). */
export function wideRegisterEstimate(s: RecurrentLayerSpec, vectors: number): number {
  return 4 * s.hiddenSize + 4 * vectors * (GATES[s.cell] + 2);
}

/**
 * The wide kernel's shape for `batch` sequences of `models` per-series models (tiles never mix two),
 * or why it cannot run. Unset knobs are chosen so that a big GPU is filled:
 *
 * - vectors: the most of 4, 2, 1 that still leaves D·tiles·H ≥ fill·32 invocations (the fill target
 *   in whole subgroups), so large batches get the most reuse per load and small ones the most
 *   parallelism;
 * - R: registers when H ≤ {@link WIDE_REGISTERS_HIDDEN_MAX} and {@link wideRegisterEstimate} stays
 *   within the budget, else workgroup memory when R (H² vec4s) fits beside one row of the tile, else
 *   storage;
 * - groups: `tileInvocations` / H (a power of two), at most what a model's sequences fill and the
 *   workgroup memory holds; unless `tileInvocations` was given, halved while the grid has fewer than
 *   `fillWorkgroups` workgroups.
 */
export function wideShape(
  s: RecurrentLayerSpec,
  batch: number,
  models: number,
  limits: TileLimits,
  traits: WideTraits = {},
): WideShape | string {
  const H = s.hiddenSize;
  const D = numDirections(s);
  const memory = limits.maxComputeWorkgroupStorageSize;
  const perModel = batch / models;
  const fill = traits.fillWorkgroups ?? WIDE_FILL_WORKGROUPS;
  if (H > maxInvocations(limits)) return `the wide recurrent kernel needs hidden_size ≤ ${maxInvocations(limits)}, got ${H}`;
  const tiles = (vectors: number, groups: number) => D * models * Math.ceil(perModel / (4 * vectors * groups));
  const vectors = traits.wideVectors ?? ([4, 2, 1] as const).find((v) => v === 1 || tiles(v, 1) * H >= fill * SUBGROUP)!;
  if (![1, 2, 4].includes(vectors)) return `the wide recurrent kernel takes 1, 2 or 4 sequence vectors per invocation, got ${vectors}`;
  const rowBytes = stateSlots(s) * vectors * H * 16;
  const rBytes = H * H * 16;
  const r =
    traits.wideR ??
    (H <= WIDE_REGISTERS_HIDDEN_MAX && wideRegisterEstimate(s, vectors) <= REGISTER_BUDGET
      ? 'registers'
      : rowBytes + rBytes <= memory
        ? 'workgroup'
        : 'storage');
  if (r === 'registers' && H > WIDE_REGISTERS_HIDDEN_MAX) {
    return `the wide recurrent kernel keeps R in registers for hidden_size ≤ ${WIDE_REGISTERS_HIDDEN_MAX}, got ${H}`;
  }
  // R's tile, or the one vec4 it is declared with when unused.
  const shared = r === 'workgroup' ? rBytes : 16;
  if (rowBytes + shared > memory) {
    return `the wide recurrent kernel needs ${rowBytes + shared} bytes of workgroup memory for hidden_size ${H} (${vectors} vectors, R in ${r}); this device allows ${memory}`;
  }
  let groups = Math.min(
    pow2Floor(Math.min(traits.tileInvocations ?? TILE_INVOCATIONS, maxInvocations(limits)) / H),
    pow2Ceil(Math.ceil(perModel / (4 * vectors))),
    pow2Floor((memory - shared) / rowBytes),
  );
  if (traits.tileInvocations === undefined) {
    while (groups > 1 && tiles(vectors, groups) < fill) groups /= 2;
  }
  return { vectors, groups, r, grid: workgroupGrid(tiles(vectors, groups), 1, limits.maxComputeWorkgroupsPerDimension) };
}

/** The kernel's constants for a shape (the layer's own come from layerConstants). */
export function wideConstants(s: RecurrentLayerSpec, shape: WideShape): Record<string, number> {
  const H = s.hiddenSize;
  return {
    VECTORS: shape.vectors,
    GROUPS: shape.groups,
    WORKGROUP_SIZE: shape.groups * H,
    R_MODE: R_MODE[shape.r],
    H_TILE: stateSlots(s) * shape.groups * shape.vectors * H,
    R_TILE: shape.r === 'workgroup' ? H * H : 1,
  };
}

/**
 * The wide kernel's plan for one layer call: src/gpu/kernels/forward/plan.ts's `RecurrentLayerPlan`
 * (spelled out here, as that module imports this one).
 */
export interface WidePlan {
  kernel: 'wide';
  pipeline: { kernel: Kernel; constants: Record<string, number>; grid: [number, number] };
  scratchBytes: 0;
  pack: null;
  bindsHead: false;
  fusedHead: false;
}

/** The wide kernel's plan for one layer call, or why it does not fit (a forced choice throws it as a DeviceError). */
export function planWide(s: RecurrentLayerSpec, batch: number, limits: TileLimits, models = 1, traits: WideTraits = {}): WidePlan | string {
  const shape = wideShape(s, batch, models, limits, traits);
  if (typeof shape === 'string') return shape;
  return {
    kernel: 'wide',
    pipeline: { kernel: recurrentWide, constants: { ...wideConstants(s, shape), ...layerConstants(s) }, grid: shape.grid },
    scratchBytes: 0,
    pack: null,
    bindsHead: false,
    fusedHead: false,
  };
}

/**
 * The variants an autotuner should time for a shape: every sequences-per-invocation and R placement
 * that fits, at each of `invocations` per workgroup (undefined: the fill rule of {@link wideShape}
 * sizes the tile), each as the traits that force it, for planRecurrentLayer(…, 'wide', …, traits).
 * Traits that plan the same pipeline and grid as an earlier one are left out.
 */
export function wideVariants(
  s: RecurrentLayerSpec,
  batch: number,
  limits: TileLimits,
  models = 1,
  invocations: Array<number | undefined> = [undefined],
): WideTraits[] {
  const variants: WideTraits[] = [];
  const seen = new Set<string>();
  for (const tileInvocations of invocations) {
    for (const wideVectors of [1, 2, 4] as const) {
      for (const wideR of ['registers', 'workgroup', 'storage'] as const) {
        const traits: WideTraits = { wideVectors, wideR, ...(tileInvocations ? { tileInvocations } : {}) };
        const shape = wideShape(s, batch, models, limits, traits);
        const key = JSON.stringify(shape);
        if (typeof shape === 'string' || seen.has(key)) continue;
        seen.add(key);
        variants.push(traits);
      }
    }
  }
  return variants;
}
