import common from '../../../shaders/recurrent_common.wgsl?raw';
import lanes from '../../../shaders/recurrent_lanes.wgsl?raw';
import sequential from '../../../shaders/recurrent_layer.wgsl?raw';
import small from '../../../shaders/recurrent_small.wgsl?raw';
import tiled from '../../../shaders/recurrent_tile.wgsl?raw';
import { activationCode } from '../../rnn/activations.ts';
import { GATES, numDirections, type RecurrentLayerSpec, type RecurrentLayerWeights } from '../../rnn/spec.ts';
import type { PipelineSpec } from '../pipelines.ts';

import { DeviceError } from '../../errors.ts';
import { workgroupGrid } from '../grid.ts';

/**
 * Descriptors of the three kernels of one ONNX-style RNN/GRU/LSTM layer (all T steps in one dispatch
 * each way), and the choice between them by shape:
 *
 * - `recurrent_small` (shaders/recurrent_small.wgsl) for H ≤ {@link SMALL_HIDDEN_MAX}: one invocation
 *   per (direction, sequence) with everything in registers (h and c as vec4 over units, each gate's
 *   R and first four columns of W as mat4x4, loaded once). A step is too little work to share across
 *   a workgroup, so the tile's barriers would only cost. After a one-direction batch-major layer the
 *   stack's nn.Linear head runs inside it (no pass over Y). Measured on SwiftShader (B=65,536, T=64,
 *   Elman ReLU H=1 + Linear(1, 1), median of 5, throwaway script): the layer alone 74–92 ms against
 *   298 ms tiled and 320 ms sequential; the whole module 84 ms against 448 ms (tiled layer + head
 *   kernel), 5.3×.
 * - `recurrent_tile` (shaders/recurrent_tile.wgsl), whenever H fits one workgroup: a workgroup per
 *   direction and tile of 4·GROUPS sequences, invocation (group, unit) computing every gate of its
 *   unit for four sequences at once (vec4), the tile's h in workgroup memory and R beside it when it
 *   fits. The matrix-vector work of a step is shared by the workgroup instead of repeated per
 *   sequence, and the state never touches storage memory. Measured on SwiftShader (B=1024, T=64,
 *   one layer, `scratch` timing of backend.recurrentLayer, median of 5): LSTM H=32 712 ms against
 *   1650 ms for the sequential kernel (2.3×), GRU H=24 I=4 486 against 1035 ms (2.1×), Elman ReLU
 *   H=32 468 against 625 ms (1.3×); a stripped LSTM-only prototype reached 484 ms with R in
 *   workgroup memory and 594 ms with R read from storage.
 * - `recurrent_layer` (shaders/recurrent_layer.wgsl), the fallback for H beyond the workgroup size
 *   limit: one invocation per (direction, sequence), its state in a storage scratch buffer.
 * - `recurrent_lanes` (shaders/recurrent_lanes.wgsl), for H ≥ {@link LANES_HIDDEN_MIN} on adapters
 *   that run invocations as the SIMD lanes of a CPU core (Mesa's llvmpipe: {@link adapterTraits}):
 *   one invocation per sequence, a workgroup of one model's sequences reading every weight at the
 *   same address (one load broadcast to all lanes; the tiled kernel's per-unit weight reads are one
 *   load per lane there), from a copy packed as vec4s over four units in the order a step reads
 *   them. Measured on lavapipe (Mesa 25.0, 2 cores; B=1024, I=1, median of 3 GPU-timestamped calls
 *   of backend.recurrentLayer, a throwaway timing script, 2026-12-01), lanes against tiled: T=64
 *   LSTM H=128 1300 against 2609 ms, Elman ReLU H=32 74 against 100; T=16 Elman/LSTM/GRU H=64 31/88/90
 *   against 100/218/226 ms; at H=16 even (4.9/10.3/14.9 against 7.1/9.7/14.3) and at H=8 the tiled
 *   kernel wins (2.6/2.5/4.5 against 3.9/8.8/6.3). On SwiftShader, which loads per lane whatever
 *   the address, it lost to the tiled kernel (a prototype: LSTM H=128 14.9 s against 11.6 s), so
 *   `auto` never picks it there or on a GPU, where it is unmeasured. Inference only.
 *
 * All prepend shaders/recurrent_common.wgsl (override constants, bindings 0–6, activations).
 */

/** Hidden sizes up to this run on the register kernel (`recurrent_small`). */
export const SMALL_HIDDEN_MAX = 4;

/** Invocations per workgroup of the sequential kernel. */
export const RECURRENT_WORKGROUP_SIZE = 64;

/** The tiled kernel aims at about this many invocations per workgroup (unless {@link KernelTraits.tileInvocations} says otherwise). */
export const TILE_INVOCATIONS = 128;

/** Bytes of the `Params` uniform: twelve u32. */
export const RECURRENT_PARAMS_BYTES = 48;

/** Working-memory slots per (direction, sequence) and unit: h twice, c, z, r·h. */
export const RECURRENT_STATE_SLOTS = 5;

/** The device limits the choice of kernel depends on. */
export type KernelLimits = Pick<
  GPUSupportedLimits,
  'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX' | 'maxComputeWorkgroupStorageSize' | 'maxComputeWorkgroupsPerDimension'
>;

/** Which kernel runs a layer: chosen by shape (`'auto'`, the default), or forced (tests, benchmarks). */
export type RecurrentKernelChoice = 'auto' | 'small' | 'tile' | 'sequential' | 'lanes';

/**
 * What the adapter is like, as far as the choice of kernel goes (see {@link adapterTraits}).
 * `simdLanes`: it runs a workgroup's invocations as the SIMD lanes of a CPU core and loads a value
 * at a workgroup-uniform address once for all lanes (Mesa's llvmpipe), so `recurrent_lanes` wins.
 */
export interface KernelTraits {
  simdLanes?: boolean;
  /**
   * The most bytes one binding may hold (default: unbounded): `auto` passes over the lanes kernel
   * when its packed copy of the weights would not fit, and forcing it then is a DeviceError.
   */
  maxBindingBytes?: number;
  /**
   * The tile shape: invocations per workgroup the tiled kernel aims at (a power of two; default
   * {@link TILE_INVOCATIONS}). Its tiles hold 4 · tileInvocations / H sequences, bounded by the batch
   * and the workgroup memory as always. For benchmarks that sweep tile shapes.
   */
  tileInvocations?: number;
}

/** The traits of an adapter, from what it reports about itself. */
export function adapterTraits(info: { vendor: string; architecture: string; description: string; device: string }): KernelTraits {
  return { simdLanes: /llvmpipe/i.test(`${info.description} ${info.device} ${info.architecture}`) };
}

/** What one layer call dispatches: the pipeline, its grid and the scratch buffers it needs. */
export interface RecurrentLayerPlan {
  kernel: 'small' | 'tile' | 'sequential' | 'lanes';
  pipeline: PipelineSpec;
  grid: [number, number];
  /**
   * The scratch buffer the kernel binds after its six buffers (the sequential kernel's state), or
   * the lanes kernel's packed weights, which it binds in place of W | R | B | P.
   */
  scratch: [name: string, bytes: number][];
  /**
   * The lanes kernel: a dispatch before the layer's that packs W | R | B | P (its binding 1) into
   * the scratch buffer (binding 2), with the same params as the layer's first dispatch.
   */
  pack: { pipeline: PipelineSpec; grid: [number, number] } | null;
  /** The small kernel's binding 7: the fused head's weights, or a placeholder when not fused. */
  bindsHead: boolean;
  /** The stack's head runs inside this layer's kernel (its y is then the head's output). */
  fusedHead: boolean;
}

function largestPowerOfTwoAtMost(n: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, n)));
}

/**
 * Picks the kernel and its shape for one call. Sizes of the tile: about {@link TILE_INVOCATIONS}
 * invocations (GROUPS = 128/H groups of 4 sequences, a power of two), but no more groups than a
 * model's sequences fill; R is staged in workgroup memory when it fits beside the h tile.
 * `models` > 1: per-series models, `batch` / `models` sequences each with weights of their own
 * (every kernel picks a sequence's model; the tiled kernel's workgroups never mix two models, and
 * the head is fused into the small kernel for one model only).
 */
export function planRecurrentLayer(
  s: RecurrentLayerSpec,
  batch: number,
  limits: KernelLimits,
  choice: RecurrentKernelChoice = 'auto',
  headOutputs = 0,
  models = 1,
  traits: KernelTraits = {},
): RecurrentLayerPlan {
  const D = numDirections(s);
  const H = s.hiddenSize;
  const maxInvocations = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  if (choice === 'small' && H > SMALL_HIDDEN_MAX) {
    throw new DeviceError(`the small recurrent kernel takes hidden_size ≤ ${SMALL_HIDDEN_MAX}, got ${H}`);
  }
  if (choice === 'small' || (choice === 'auto' && H <= SMALL_HIDDEN_MAX)) {
    // A head after a one-direction batch-major layer runs in the same kernel: y_t goes straight to
    // the head instead of through memory (for H ≤ 4 the head's pass costs as much as the layer's).
    const fusedHead = headOutputs > 0 && D === 1 && s.layout === 1 && models === 1;
    return {
      kernel: 'small',
      pipeline: layerPipeline(s, 'recurrent_small', small, { WORKGROUP_SIZE: RECURRENT_WORKGROUP_SIZE, HEAD_OUT: fusedHead ? headOutputs : 0 }),
      grid: workgroupGrid(D * batch, RECURRENT_WORKGROUP_SIZE, limits.maxComputeWorkgroupsPerDimension),
      scratch: [],
      pack: null,
      bindsHead: true,
      fusedHead,
    };
  }
  const lanesShape = lanesLayout(s, limits, maxInvocations);
  if (choice === 'lanes' && !lanesShape) {
    throw new DeviceError(
      `the lanes recurrent kernel needs ${LANES_WORKGROUP_MIN * lanesBytesPerSequence(s)} bytes of workgroup memory for hidden_size ${H}; ` +
        `this device allows ${limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  const packedBytes = lanesShape ? 16 * models * D * lanesShape.perDirection : 0;
  const packedFits = packedBytes <= (traits.maxBindingBytes ?? Infinity);
  if (choice === 'lanes' && !packedFits) {
    throw new DeviceError(
      `the lanes recurrent kernel's packed weights need ${packedBytes} bytes, more than this device binds at once (${traits.maxBindingBytes}); ` +
        (models > 1 ? 'run fewer models at once, or ' : '') + "let the kernel be chosen by shape ('auto')",
    );
  }
  if (lanesShape && packedFits && (choice === 'lanes' || (choice === 'auto' && traits.simdLanes && H >= LANES_HIDDEN_MIN))) {
    const { workgroupSize, quads, slots } = lanesShape;
    const constants = { WORKGROUP_SIZE: workgroupSize, QUADS: quads, STATE_SLOTS: slots, STATE_TILE: slots * 4 * quads * workgroupSize };
    const pipeline = layerPipeline(s, 'recurrent_lanes', lanes, constants);
    const vectors = packedBytes / 16;
    const tiles = models * Math.ceil(batch / models / workgroupSize);
    return {
      kernel: 'lanes',
      pipeline,
      grid: workgroupGrid(D * tiles, 1, limits.maxComputeWorkgroupsPerDimension),
      scratch: [['packed weights', 16 * vectors]],
      pack: { pipeline: { ...pipeline, entryPoint: 'pack' }, grid: workgroupGrid(vectors, LANES_PACK_WORKGROUP, limits.maxComputeWorkgroupsPerDimension) },
      bindsHead: false,
      fusedHead: false,
    };
  }
  const tileBytes = 3 * H * 16;
  const tileFits = H <= maxInvocations && tileBytes <= limits.maxComputeWorkgroupStorageSize;
  if (choice === 'tile' && !tileFits) {
    throw new DeviceError(
      `the tiled recurrent kernel needs hidden_size ≤ ${maxInvocations} and ${tileBytes} bytes of workgroup memory; ` +
        `this device allows ${limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  if (tileFits && choice !== 'sequential') {
    const perModel = batch / models;
    const groups = Math.min(
      largestPowerOfTwoAtMost(Math.min(traits.tileInvocations ?? TILE_INVOCATIONS, maxInvocations) / H),
      2 ** Math.ceil(Math.log2(Math.ceil(perModel / 4))),
      largestPowerOfTwoAtMost(limits.maxComputeWorkgroupStorageSize / tileBytes),
    );
    const hTile = 3 * groups * H;
    const rShared = hTile * 16 + H * H * 16 <= limits.maxComputeWorkgroupStorageSize;
    const tiles = models * Math.ceil(perModel / (4 * groups));
    return {
      kernel: 'tile',
      pipeline: layerPipeline(s, 'recurrent_tile', tiled, {
        GROUPS: groups,
        WORKGROUP_SIZE: groups * H,
        R_SHARED: rShared ? 1 : 0,
        H_TILE: hTile,
        R_TILE: rShared ? H * H : 1,
      }),
      grid: workgroupGrid(D * tiles, 1, limits.maxComputeWorkgroupsPerDimension),
      scratch: [],
      pack: null,
      bindsHead: false,
      fusedHead: false,
    };
  }
  return {
    kernel: 'sequential',
    pipeline: layerPipeline(s, 'recurrent_layer', sequential, { WORKGROUP_SIZE: RECURRENT_WORKGROUP_SIZE }),
    grid: workgroupGrid(D * batch, RECURRENT_WORKGROUP_SIZE, limits.maxComputeWorkgroupsPerDimension),
    scratch: [['state [5,H,D·B]', RECURRENT_STATE_SLOTS * H * D * batch * 4]],
    pack: null,
    bindsHead: false,
    fusedHead: false,
  };
}

/** On a {@link KernelTraits.simdLanes} adapter, `auto` picks the lanes kernel from this hidden size. */
export const LANES_HIDDEN_MIN = 32;

/** The lanes kernel takes up to this many sequences per workgroup (two of llvmpipe's 8-lane vectors). */
export const LANES_WORKGROUP_MAX = 16;

/** …and needs room in workgroup memory for at least this many. */
export const LANES_WORKGROUP_MIN = 4;

/** Invocations per workgroup of the lanes kernel's `pack` entry point (fixed in the shader). */
const LANES_PACK_WORKGROUP = 64;

/** Bytes of workgroup memory per sequence of the lanes kernel: its state slots, vec4s over units. */
function lanesBytesPerSequence(s: RecurrentLayerSpec): number {
  return 16 * lanesSlots(s) * Math.ceil(s.hiddenSize / 4);
}

function lanesSlots(s: RecurrentLayerSpec): number {
  if (s.cell === 'lstm') return 3;
  return s.cell === 'gru' && !s.linearBeforeReset ? 4 : 2;
}

/**
 * The lanes kernel's shape (shaders/recurrent_lanes.wgsl): sequences per workgroup (the most, up to
 * {@link LANES_WORKGROUP_MAX}, whose states fit in workgroup memory), quads of units, state slots and
 * packed vec4s per direction; null when not even {@link LANES_WORKGROUP_MIN} sequences fit.
 */
function lanesLayout(s: RecurrentLayerSpec, limits: KernelLimits, maxInvocations: number) {
  const perLane = lanesBytesPerSequence(s);
  const workgroupSize = largestPowerOfTwoAtMost(Math.min(LANES_WORKGROUP_MAX, maxInvocations, limits.maxComputeWorkgroupStorageSize / perLane));
  if (workgroupSize < LANES_WORKGROUP_MIN || workgroupSize * perLane > limits.maxComputeWorkgroupStorageSize) return null;
  const G = GATES[s.cell];
  const quads = Math.ceil(s.hiddenSize / 4);
  return { workgroupSize, quads, slots: lanesSlots(s), perDirection: quads * (G * 4 * quads + G * s.inputSize + G + 4) };
}

/** A kernel's pipeline for a layer spec; everything but batch and steps is an override constant. */
export function layerPipeline(s: RecurrentLayerSpec, name: string, source: string, kernelConstants: Record<string, number>): PipelineSpec {
  const D = numDirections(s);
  const per = s.activations.length / D;
  const constants: Record<string, number> = {
    ...kernelConstants,
    INPUT_SIZE: s.inputSize,
    HIDDEN_SIZE: s.hiddenSize,
    CELL: { rnn: 0, gru: 1, lstm: 2 }[s.cell],
    NUM_DIRECTIONS: D,
    REVERSE: s.direction === 'reverse' ? 1 : 0,
    LAYOUT: s.layout,
    CLIP: s.clip ?? 0,
    LINEAR_BEFORE_RESET: s.linearBeforeReset ? 1 : 0,
    INPUT_FORGET: s.inputForget ? 1 : 0,
  };
  const roles = ['F', 'G', 'H'];
  for (let d = 0; d < D; d++) {
    for (let k = 0; k < per; k++) {
      const a = s.activations[d * per + k]!;
      constants[`ACT_${roles[k]}${d}`] = activationCode(a.name);
      constants[`ALPHA_${roles[k]}${d}`] = a.alpha;
      constants[`BETA_${roles[k]}${d}`] = a.beta;
    }
  }
  return { name, code: `${common}\n${source}`, constants };
}

/** Packs W | R | B | P (absent B and P as zeros) into the kernel's single weight buffer. */
export function packLayerWeights(s: RecurrentLayerSpec, w: RecurrentLayerWeights): Float32Array {
  const D = numDirections(s);
  const GH = GATES[s.cell] * s.hiddenSize;
  const sizes = [w.W.length, w.R.length, D * 2 * GH, D * 3 * s.hiddenSize];
  const packed = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  packed.set(w.W, 0);
  packed.set(w.R, sizes[0]!);
  if (w.B) packed.set(w.B, sizes[0]! + sizes[1]!);
  if (w.P) packed.set(w.P, sizes[0]! + sizes[1]! + sizes[2]!);
  return packed;
}

/**
 * T steps in time segments of at most `maxSteps` (one submission each): as few segments as that
 * allows, of about equal length (64 steps at 31 a dispatch: 22 + 22 + 20, not 31 + 31 + 2), since
 * every segment is one more pass over the state and the kernels' cost is per step.
 */
export function timeSegments(T: number, maxSteps: number): { segment: number; segments: number } {
  const segments = Math.ceil(T / Math.max(1, Math.min(T, maxSteps)));
  return { segment: Math.ceil(T / segments), segments };
}

/** What the params uniform of one dispatch holds (see `Params` in shaders/recurrent_common.wgsl). */
export interface RecurrentParams {
  batch: number;
  /** Steps of this dispatch's time segment. */
  steps: number;
  /** Steps of the whole sequence (the layout's stride). */
  totalSteps: number;
  hasH0: boolean;
  hasC0: boolean;
  hasLens: boolean;
  /** First global step of the segment, per direction (forward's, reverse's). */
  offsets: [number, number];
  /** Per-series models: sequences per model (default: the batch, one model). */
  modelBatch?: number;
  /** Per-series models: floats from one model's packed weights to the next's. */
  weightStride?: number;
}

/** The params uniform for one dispatch. */
export function recurrentParams(p: RecurrentParams): Uint32Array {
  const out = new Uint32Array(RECURRENT_PARAMS_BYTES / 4);
  out.set([
    p.batch, p.steps, p.hasH0 ? 1 : 0, p.hasC0 ? 1 : 0, p.hasLens ? 1 : 0, p.totalSteps, p.offsets[0], p.offsets[1],
    p.modelBatch ?? p.batch, p.weightStride ?? 0,
  ]);
  return out;
}
