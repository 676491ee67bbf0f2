import { DeviceError } from '../../../errors.ts';
import { numDirections, type RecurrentLayerSpec } from '../../../rnn/spec.ts';
import { workgroupGrid } from '../../grid.ts';
import type { Kernel } from '../../kernel.ts';
import { maxInvocations, tileError, tileFits, tileShape, type TileLimits } from '../tile.ts';
import { layerConstants, RECURRENT_WORKGROUP_SIZE } from './recurrent-common.ts';
import {
  LANES_PACK_WORKGROUP,
  LANES_WORKGROUP_MIN,
  lanesBytesPerSequence,
  lanesConstants,
  lanesLayout,
  recurrentLanes,
  recurrentLanesPack,
} from './recurrent-lanes.ts';
import { recurrentSequential, sequentialScratchBytes } from './recurrent-sequential.ts';
import { recurrentSmall, SMALL_HIDDEN_MAX } from './recurrent-small.ts';
import { planStepwise, type StepwisePlan } from './recurrent-stepwise.ts';
import { forwardTile, forwardTileConstants, recurrentTile, TILE_INVOCATIONS } from './recurrent-tile.ts';

export { SMALL_HIDDEN_MAX } from './recurrent-small.ts';

/**
 * Which kernel runs one ONNX-style RNN/GRU/LSTM layer (all T steps of a time segment in one dispatch
 * each way), chosen by shape and adapter. Each choice was measured by a benchmark in the repository,
 * every variant validated against the float64 reference before it is timed (bench/harness.ts);
 * bench/RESULTS.md holds the runs:
 *
 * - `small` (shaders/forward/recurrent_small.wgsl) for H ≤ {@link SMALL_HIDDEN_MAX}: one invocation
 *   per (direction, sequence), everything in registers; a step is too little work to share across a
 *   workgroup, so the tile's barriers would only cost. After a one-direction batch-major layer the
 *   stack's nn.Linear head runs inside it. `node scripts/vite-run.mjs bench/kernels.ts --layers`
 *   (one layer on each kernel; RESULTS.md, "Kernel choices"); on whole models `npm run bench --
 *   --only elman-relu-h1 --contenders webrnn-webgpu --kernel small` against `--kernel tile`.
 * - `tile` (shaders/forward/recurrent_tile.wgsl) whenever H fits one workgroup: a workgroup per
 *   direction and tile of sequences, the step's matrix-vector work shared by the workgroup, the state
 *   in workgroup memory and R beside it when it fits (src/gpu/kernels/tile.ts). `node
 *   scripts/vite-run.mjs bench/kernels.ts --layers` against the sequential kernel (RESULTS.md,
 *   "Kernel choices"); tile shapes on a GPU: the GPU kit's kernel sweep (`node
 *   scripts/vite-run.mjs bench/kit.ts --sections kernels`).
 * - `sequential` (shaders/forward/recurrent_sequential.wgsl), the fallback for H beyond the
 *   workgroup size limit: one invocation per (direction, sequence), its state in storage scratch.
 * - `lanes` (shaders/forward/recurrent_lanes.wgsl) for H ≥ {@link LANES_HIDDEN_MIN} on adapters that
 *   run invocations as the SIMD lanes of a CPU core (Mesa's llvmpipe: {@link adapterTraits}): a
 *   workgroup of one model's sequences reads every weight at one address (one load for all lanes),
 *   from a copy packed in the order a step reads it. On lavapipe `npm run bench -- --only "B=1024
 *   T=64" --contenders webrnn-webgpu --kernel tile` against the default (RESULTS.md, "Standard
 *   workloads on lavapipe"). `auto` picks it on llvmpipe only: on a GPU it is unmeasured, and on
 *   SwiftShader a prototype lost to the tiled kernel but `bench/kernels.ts --layers` (RESULTS.md,
 *   "Kernel choices") found it faster on a loaded machine: a choice for the autotuner (src/tune)
 *   to make per adapter, left as it was here. Inference only.
 * - `stepwise` (shaders/forward/recurrent_step.wgsl, src/gpu/kernels/forward/recurrent-stepwise.ts),
 *   forced only: cuDNN's per-step layout for large H at large B, an input GEMM per time segment and
 *   one dispatch per step. Unmeasured on a GPU: a candidate for the autotuner, not for `auto`.
 */

/** On a {@link KernelTraits.simdLanes} adapter, `auto` picks the lanes kernel from this hidden size. */
export const LANES_HIDDEN_MIN = 32;

/** The device limits the choice of kernel depends on. */
export type KernelLimits = TileLimits;

/** Which kernel runs a layer: chosen by shape (`'auto'`, the default), or forced (tests, benchmarks). */
export type RecurrentKernelChoice = 'auto' | 'small' | 'tile' | 'sequential' | 'lanes' | 'stepwise';

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
   * 128). Its tiles hold 4 · tileInvocations / H sequences, bounded by the batch and the workgroup
   * memory as always. For benchmarks that sweep tile shapes.
   */
  tileInvocations?: number;
}

/** The traits of an adapter, from what it reports about itself. */
export function adapterTraits(info: { vendor: string; architecture: string; description: string; device: string }): KernelTraits {
  return { simdLanes: /llvmpipe/i.test(`${info.description} ${info.device} ${info.architecture}`) };
}

/** A kernel, its constants and its grid: what one dispatch of a plan runs. */
export interface PlannedKernel {
  kernel: Kernel;
  constants: Record<string, number>;
  grid: [number, number];
}

/** What one layer call dispatches. */
export interface RecurrentLayerPlan {
  /** The choice (its shader: shaders/forward/recurrent_{kernel}.wgsl). */
  kernel: 'small' | 'tile' | 'sequential' | 'lanes' | 'stepwise';
  /** What each of the layer's dispatches runs. */
  pipeline: PlannedKernel;
  /**
   * Bytes of the kernel's scratch binding: the sequential kernel's state, or the lanes kernel's
   * packed weights (which it binds as `packed`, in place of the weights); 0 for none.
   */
  scratchBytes: number;
  /** The lanes kernel: a dispatch before the layer's that packs the weights into the scratch buffer. */
  pack: PlannedKernel | null;
  /** The small kernel binds `head`: the fused head's weights, or a placeholder when not fused. */
  bindsHead: boolean;
  /** The stack's head runs inside this layer's kernel (its y is then the head's output). */
  fusedHead: boolean;
  /** The step-wise layer's kernels (src/gpu/kernels/forward/recurrent-stepwise.ts; `pipeline` is then its step). */
  stepwise: StepwisePlan | null;
}

/**
 * Picks the kernel and its shape for one call. `models` > 1: per-series models, `batch` / `models`
 * sequences each with weights of their own (every kernel picks a sequence's model; the tiled kernel's
 * workgroups never mix two models, and the head is fused into the small kernel for one model only).
 * `headOutputs`: the outputs of a head that follows this layer (0: none).
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
  const spec = layerConstants(s);
  const maxGrid = limits.maxComputeWorkgroupsPerDimension;
  const none = { scratchBytes: 0, pack: null, bindsHead: false, fusedHead: false, stepwise: null };
  if (choice === 'stepwise') {
    const stepwise = planStepwise(s, batch, limits, models);
    if (typeof stepwise === 'string') throw new DeviceError(stepwise);
    const pipeline = { ...stepwise.stages[0]!, grid: stepwise.stepGrid };
    return { ...none, kernel: 'stepwise', pipeline, stepwise };
  }
  if (choice === 'small' && H > SMALL_HIDDEN_MAX) {
    throw new DeviceError(`the small recurrent kernel takes hidden_size ≤ ${SMALL_HIDDEN_MAX}, got ${H}`);
  }
  if (choice === 'small' || (choice === 'auto' && H <= SMALL_HIDDEN_MAX)) {
    // A head after a one-direction batch-major layer runs in the same kernel: y_t goes straight to
    // the head instead of through memory (for H ≤ 4 the head's pass costs as much as the layer's).
    const fusedHead = headOutputs > 0 && D === 1 && s.layout === 1 && models === 1;
    return {
      ...none,
      kernel: 'small',
      pipeline: {
        kernel: recurrentSmall,
        constants: { WORKGROUP_SIZE: RECURRENT_WORKGROUP_SIZE, HEAD_OUT: fusedHead ? headOutputs : 0, ...spec },
        grid: workgroupGrid(D * batch, RECURRENT_WORKGROUP_SIZE, maxGrid),
      },
      bindsHead: true,
      fusedHead,
    };
  }
  const lanes = lanesLayout(s, limits, maxInvocations(limits));
  if (choice === 'lanes' && !lanes) {
    throw new DeviceError(
      `the lanes recurrent kernel needs ${LANES_WORKGROUP_MIN * lanesBytesPerSequence(s)} bytes of workgroup memory for hidden_size ${H}; ` +
        `this device allows ${limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  const packedBytes = lanes ? 16 * models * D * lanes.perDirection : 0;
  const packedFits = packedBytes <= (traits.maxBindingBytes ?? Infinity);
  if (choice === 'lanes' && !packedFits) {
    throw new DeviceError(
      `the lanes recurrent kernel's packed weights need ${packedBytes} bytes, more than this device binds at once (${traits.maxBindingBytes}); ` +
        (models > 1 ? 'run fewer models at once, or ' : '') +
        "let the kernel be chosen by shape ('auto')",
    );
  }
  if (lanes && packedFits && (choice === 'lanes' || (choice === 'auto' && traits.simdLanes && H >= LANES_HIDDEN_MIN))) {
    const constants = { ...lanesConstants(lanes), ...spec };
    const tiles = models * Math.ceil(batch / models / lanes.workgroupSize);
    return {
      ...none,
      kernel: 'lanes',
      pipeline: { kernel: recurrentLanes, constants, grid: workgroupGrid(D * tiles, 1, maxGrid) },
      scratchBytes: packedBytes,
      pack: { kernel: recurrentLanesPack, constants, grid: workgroupGrid(packedBytes / 16, LANES_PACK_WORKGROUP, maxGrid) },
    };
  }
  const tile = forwardTile(H, traits.tileInvocations ?? TILE_INVOCATIONS);
  const fits = tileFits(tile, limits);
  if (choice === 'tile' && !fits) throw tileError('the tiled recurrent kernel', tile, limits);
  if (fits && choice !== 'sequential') {
    const shape = tileShape(tile, batch, D, models, limits);
    return {
      ...none,
      kernel: 'tile',
      pipeline: { kernel: recurrentTile, constants: { ...forwardTileConstants(H, shape), ...spec }, grid: shape.grid },
    };
  }
  return {
    ...none,
    kernel: 'sequential',
    pipeline: {
      kernel: recurrentSequential,
      constants: { WORKGROUP_SIZE: RECURRENT_WORKGROUP_SIZE, ...spec },
      grid: workgroupGrid(D * batch, RECURRENT_WORKGROUP_SIZE, maxGrid),
    },
    scratchBytes: sequentialScratchBytes(H, D * batch),
  };
}
