import { DeviceError } from '../../../errors.ts';
import { GATES, numDirections, type RecurrentLayerSpec } from '../../../rnn/spec.ts';
import { workgroupGrid } from '../../grid.ts';
import type { Kernel } from '../../kernel.ts';
import { maxInvocations, tileError, tileFits, tileShape, type TileLimits } from '../tile.ts';
import { layerConstants, RECURRENT_WORKGROUP_SIZE, type Storage } from './recurrent-common.ts';
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
import { planSubgroup, recurrentSubgroup, type SubgroupSizes } from './recurrent-subgroup.ts';
import { planStepwise, type StepwisePlan } from './recurrent-stepwise.ts';
import { forwardTile, forwardTileConstants, recurrentTile, TILE_INVOCATIONS } from './recurrent-tile.ts';
import { planWide, recurrentWide, type WideTraits } from './recurrent-wide.ts';

export { SMALL_HIDDEN_MAX } from './recurrent-small.ts';

/**
 * Which kernel runs one ONNX-style RNN/GRU/LSTM layer (all T steps of a time segment in one dispatch
 * each way). Every forward kernel is one entry of {@link FORWARD_KERNELS}: its variants (tile
 * shapes…), its plan for a shape on a device (or why it does not fit), and a cost-model estimate.
 * {@link forwardCandidates} lists every (kernel, variant) that fits a layer, in the cost model's
 * order; `auto` runs the autotuner's choice among them where the backend tunes (src/tune/forward.ts),
 * else the cost model's first, and forcing a kernel runs its best-ranked variant that fits (a
 * DeviceError when none does). The cost model holds the thresholds that were measured by benchmarks
 * in the repository, every variant validated against the float64 reference before it is timed
 * (bench/harness.ts); bench/RESULTS.md holds the runs:
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
 *   "Kernel choices"). Its variants are tile shapes ({@link TILE_SHAPES} invocations per workgroup);
 *   the model prefers {@link TILE_INVOCATIONS}, the tuner times the others; the GPU kit's kernel
 *   sweep times them all (`node scripts/vite-run.mjs bench/kit.ts --sections kernels`).
 * - `sequential` (shaders/forward/recurrent_sequential.wgsl), the fallback for H beyond the
 *   workgroup size limit: one invocation per (direction, sequence), its state in storage scratch.
 * - `lanes` (shaders/forward/recurrent_lanes.wgsl): a workgroup of one model's sequences reads every
 *   weight at one address (one load for all lanes), from a copy packed in the order a step reads it.
 *   The model ranks it first for H ≥ {@link LANES_HIDDEN_MIN} on adapters that run invocations as
 *   the SIMD lanes of a CPU core (Mesa's llvmpipe: {@link adapterTraits}; on lavapipe `npm run bench
 *   -- --only "B=1024 T=64" --contenders webrnn-webgpu --kernel tile` against the default,
 *   RESULTS.md, "Standard workloads on lavapipe"), and last everywhere else: on a GPU it is
 *   unmeasured, and on SwiftShader a prototype lost to the tiled kernel while `bench/kernels.ts
 *   --layers` found it faster on a loaded machine. The tuner times it where it fits. Inference only.
 * - `subgroup` (shaders/forward/recurrent_subgroup.wgsl): a team of subgroup lanes holds the state
 *   of four sequences in registers and shares it with subgroupShuffle instead of workgroup memory
 *   and barriers; needs `subgroups` and H ≤ 4 × the adapter's smallest subgroup
 *   (src/gpu/kernels/forward/recurrent-subgroup.ts). Unmeasured on a GPU (on SwiftShader's 4-wide
 *   subgroups 1.4–2.2× slower than the tiled kernel: `bench/kernels.ts --layers --kernels
 *   tile,subgroup`), so the model ranks it behind the others: the tuner times it. Inference only.
 * - `wide` (shaders/forward/recurrent_wide.wgsl, src/gpu/kernels/forward/recurrent-wide.ts): the
 *   tiled kernel with 4·V sequences per invocation (V = 1, 2, 4: each loaded weight feeds 4·V
 *   multiply-adds per gate) and R in registers, workgroup memory or storage, its tiles sized to
 *   fill a big GPU (two workgroups per multiprocessor of an H200). Its variants are V × placement
 *   × tile size (`wide/v4-registers`, …; `wide` alone: the fill rules choose). Unmeasured on a GPU
 *   (on SwiftShader its best variants 0.55–1.5× the tiled kernel's time: `bench/kernels.ts
 *   --wide`), so ranked behind the others: the tuner times it. Inference only.
 * - `stepwise` (shaders/forward/recurrent_step.wgsl, src/gpu/kernels/forward/recurrent-stepwise.ts):
 *   cuDNN's per-step layout for large H at large B: an input GEMM (x·Wᵀ for every step of a time
 *   segment) up front, then one dispatch per step, a GEMM over sequences × units with the cell
 *   update fused, all in one command buffer. One model only; for H ≥ {@link STEPWISE_HIDDEN_MIN}.
 *   Unmeasured on a GPU (on SwiftShader 1.5–2.7× the tiled kernel's time at H = 128–256:
 *   `bench/kernels.ts --stepwise`), so ranked behind the others: the tuner times it.
 *   Inference only.
 */

/** On a {@link KernelTraits.simdLanes} adapter, the cost model ranks the lanes kernel first from this hidden size. */
export const LANES_HIDDEN_MIN = 32;

/** The tile shapes (invocations per workgroup) the tiled kernel's variants aim at. */
export const TILE_SHAPES: readonly number[] = [16, 32, 64, 128, 256, 512, 1024];

/** The device limits the choice of kernel depends on. */
export type KernelLimits = TileLimits;

/** The forward kernels (one per entry of `FORWARD_KERNELS` in src/gpu/kernels/forward/plan.ts); a plan's `kernel`. */
export type ForwardKernelName = 'small' | 'tile' | 'sequential' | 'lanes' | 'subgroup' | 'wide' | 'stepwise';

/** Which kernel runs a layer: chosen (`'auto'`, the default), or forced (tests, benchmarks). */
export type RecurrentKernelChoice = 'auto' | ForwardKernelName | `${ForwardKernelName}/${string}`;

/**
 * Whether `choice` names a forward kernel (`'tile'`) or one of its variants by the candidate name
 * the tuner stores and `webrnn tune` prints (`'tile/256'`), or is `'auto'`; what a backend's
 * `recurrentKernel` option takes.
 */
export function isRecurrentKernelChoice(choice: unknown): choice is RecurrentKernelChoice {
  if (choice === 'auto') return true;
  if (typeof choice !== 'string') return false;
  const kernel = choice.split('/')[0];
  return FORWARD_KERNELS.some((k) => k.name === kernel);
}

/**
 * What the adapter is like, as far as the choice of kernel goes (see {@link adapterTraits}).
 * `simdLanes`: it runs a workgroup's invocations as the SIMD lanes of a CPU core and loads a value
 * at a workgroup-uniform address once for all lanes (Mesa's llvmpipe), so `recurrent_lanes` wins.
 */
export interface KernelTraits extends WideTraits {
  simdLanes?: boolean;
  /**
   * The most bytes one binding may hold (default: unbounded): the lanes kernel does not fit when its
   * packed copy of the weights would not, and forcing it then is a DeviceError.
   */
  maxBindingBytes?: number;
  /**
   * The tile shape: invocations per workgroup the tiled kernel aims at (a power of two). Its tiles
   * hold 4 · tileInvocations / H sequences, bounded by the batch and the workgroup memory as always.
   * Given, it is the tiled kernel's only variant (benchmarks that sweep tile shapes); else the
   * variants are {@link TILE_SHAPES}.
   */
  tileInvocations?: number;
  /** The device has `subgroups`, of these sizes (src/gpu/kernels/forward/recurrent-subgroup.ts); absent: not granted. */
  subgroups?: SubgroupSizes;
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
  kernel: ForwardKernelName;
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
  /** How the kernel stores x, weights and y (src/gpu/kernels/forward/f16-storage.ts); absent: f32. */
  storage?: Storage;
  /** The step-wise layer's kernels (src/gpu/kernels/forward/recurrent-stepwise.ts; `pipeline` is then its step); absent for the others. */
  stepwise?: StepwisePlan;
}

/**
 * One layer call as the planners see it. `models` > 1: per-series models, `batch` / `models`
 * sequences each with weights of their own (every kernel picks a sequence's model; the tiled
 * kernel's workgroups never mix two models, and the head is fused into the small kernel for one
 * model only). `headOutputs`: the outputs of a head that follows this layer (0: none).
 */
export interface LayerPlanContext {
  spec: RecurrentLayerSpec;
  batch: number;
  limits: KernelLimits;
  headOutputs: number;
  models: number;
  traits: KernelTraits;
}

/** Why a kernel (variant) cannot run a layer on this device: the message of forcing it. */
export interface Unfit {
  unfit: string;
}

/** One variant of a forward kernel; `name` is the candidate's (`small`, `tile/128`), stored by the tuner. */
export interface ForwardVariant {
  name: string;
}

/**
 * A forward kernel as the choice sees it. Adding a kernel is one entry in {@link FORWARD_KERNELS}
 * (and its name in {@link ForwardKernelName}): src/gpu/README.md says how.
 */
export interface ForwardKernel<V extends ForwardVariant = ForwardVariant> {
  readonly name: ForwardKernelName;
  /** The kernels its plans dispatch: their WGSL is hashed into the tuner's cache key. */
  readonly kernels: readonly Kernel[];
  /** The shapes worth trying for `ctx` (at least one). */
  variants(ctx: LayerPlanContext): V[];
  /** The plan of `variant` for `ctx`, or why it does not fit this device or shape. */
  plan(ctx: LayerPlanContext, variant: V): RecurrentLayerPlan | Unfit;
  /**
   * The cost model: a relative cost of one step of the batch (lower is better; only the order
   * matters): the step's multiply-adds times a factor per kernel and shape. With the tuner off
   * (or before it runs) the lowest estimate that fits is what `auto` runs.
   */
  estimate(ctx: LayerPlanContext, variant: V): number;
}

/** Whether a plan attempt failed. */
export function isUnfit(p: RecurrentLayerPlan | Unfit): p is Unfit {
  return 'unfit' in p;
}

/** The multiply-adds of one step of the layer over the batch: what every estimate scales. */
function stepWork({ spec, batch }: LayerPlanContext): number {
  return numDirections(spec) * batch * GATES[spec.cell] * spec.hiddenSize * (spec.inputSize + spec.hiddenSize);
}

/**
 * The cost model's factors (relative cost of a multiply-add on each kernel). They encode the
 * measured choices above: small below everything where it fits; the tiled kernel next, its
 * preferred shape first; the lanes kernel first on SIMD-lane adapters from LANES_HIDDEN_MIN, else
 * behind the sequential fallback (unmeasured there). Kernels not yet measured on a GPU (subgroup,
 * wide, stepwise) rank behind the sequential fallback too: `auto` without the tuner runs what it ran
 * before they came, and the tuner times each of them ('quick' times every kernel's best variant).
 */
const COST = {
  small: 0.5,
  tile: 1,
  tileShapeStep: 0.05,
  lanesSimd: 0.25,
  sequential: 4,
  subgroup: 5,
  wide: 5.1,
  stepwise: 5.2,
  lanesElsewhere: 8,
} as const;

const none = { scratchBytes: 0, pack: null, bindsHead: false, fusedHead: false };

const smallKernel: ForwardKernel = {
  name: 'small',
  kernels: [recurrentSmall],
  variants: () => [{ name: 'small' }],
  plan({ spec: s, batch, limits, headOutputs, models }) {
    const H = s.hiddenSize;
    if (H > SMALL_HIDDEN_MAX) return { unfit: `the small recurrent kernel takes hidden_size ≤ ${SMALL_HIDDEN_MAX}, got ${H}` };
    const D = numDirections(s);
    // A head after a one-direction batch-major layer runs in the same kernel: y_t goes straight to
    // the head instead of through memory (for H ≤ 4 the head's pass costs as much as the layer's).
    const fusedHead = headOutputs > 0 && D === 1 && s.layout === 1 && models === 1;
    return {
      ...none,
      kernel: 'small',
      pipeline: {
        kernel: recurrentSmall,
        constants: { WORKGROUP_SIZE: RECURRENT_WORKGROUP_SIZE, HEAD_OUT: fusedHead ? headOutputs : 0, ...layerConstants(s) },
        grid: workgroupGrid(D * batch, RECURRENT_WORKGROUP_SIZE, limits.maxComputeWorkgroupsPerDimension),
      },
      bindsHead: true,
      fusedHead,
    };
  },
  estimate: (ctx) => COST.small * stepWork(ctx),
};

/** A tile shape: invocations per workgroup. */
interface TileVariant extends ForwardVariant {
  invocations: number;
}

const tileKernel: ForwardKernel<TileVariant> = {
  name: 'tile',
  kernels: [recurrentTile],
  variants({ limits, traits }) {
    const shapes = traits.tileInvocations ? [traits.tileInvocations] : TILE_SHAPES.filter((t) => t <= maxInvocations(limits));
    return shapes.map((invocations) => ({ name: `tile/${invocations}`, invocations }));
  },
  plan({ spec: s, batch, limits, models }, { invocations }) {
    const H = s.hiddenSize;
    const tile = forwardTile(H, invocations);
    if (!tileFits(tile, limits)) return { unfit: tileError('the tiled recurrent kernel', tile, limits).message };
    const shape = tileShape(tile, batch, numDirections(s), models, limits);
    return {
      ...none,
      kernel: 'tile',
      pipeline: { kernel: recurrentTile, constants: { ...forwardTileConstants(H, shape), ...layerConstants(s) }, grid: shape.grid },
    };
  },
  estimate(ctx, { invocations }) {
    const preferred = ctx.traits.tileInvocations ?? TILE_INVOCATIONS;
    return (COST.tile + COST.tileShapeStep * Math.abs(Math.log2(invocations / preferred))) * stepWork(ctx);
  },
};

const sequentialKernel: ForwardKernel = {
  name: 'sequential',
  kernels: [recurrentSequential],
  variants: () => [{ name: 'sequential' }],
  plan({ spec: s, batch, limits }) {
    const D = numDirections(s);
    return {
      ...none,
      kernel: 'sequential',
      pipeline: {
        kernel: recurrentSequential,
        constants: { WORKGROUP_SIZE: RECURRENT_WORKGROUP_SIZE, ...layerConstants(s) },
        grid: workgroupGrid(D * batch, RECURRENT_WORKGROUP_SIZE, limits.maxComputeWorkgroupsPerDimension),
      },
      scratchBytes: sequentialScratchBytes(s.hiddenSize, D * batch),
    };
  },
  estimate: (ctx) => COST.sequential * stepWork(ctx),
};

const lanesKernel: ForwardKernel = {
  name: 'lanes',
  kernels: [recurrentLanes, recurrentLanesPack],
  variants: () => [{ name: 'lanes' }],
  plan({ spec: s, batch, limits, models, traits }) {
    const H = s.hiddenSize;
    const D = numDirections(s);
    const maxGrid = limits.maxComputeWorkgroupsPerDimension;
    const lanes = lanesLayout(s, limits, maxInvocations(limits));
    if (!lanes) {
      return {
        unfit:
          `the lanes recurrent kernel needs ${LANES_WORKGROUP_MIN * lanesBytesPerSequence(s)} bytes of workgroup memory for hidden_size ${H}; ` +
          `this device allows ${limits.maxComputeWorkgroupStorageSize}`,
      };
    }
    const packedBytes = 16 * models * D * lanes.perDirection;
    if (packedBytes > (traits.maxBindingBytes ?? Infinity)) {
      return {
        unfit:
          `the lanes recurrent kernel's packed weights need ${packedBytes} bytes, more than this device binds at once (${traits.maxBindingBytes}); ` +
          (models > 1 ? 'run fewer models at once, or ' : '') +
          "let the kernel be chosen by shape ('auto')",
      };
    }
    const constants = { ...lanesConstants(lanes), ...layerConstants(s) };
    const tiles = models * Math.ceil(batch / models / lanes.workgroupSize);
    return {
      ...none,
      kernel: 'lanes',
      pipeline: { kernel: recurrentLanes, constants, grid: workgroupGrid(D * tiles, 1, maxGrid) },
      scratchBytes: packedBytes,
      pack: { kernel: recurrentLanesPack, constants, grid: workgroupGrid(packedBytes / 16, LANES_PACK_WORKGROUP, maxGrid) },
    };
  },
  estimate: (ctx) =>
    (ctx.traits.simdLanes && ctx.spec.hiddenSize >= LANES_HIDDEN_MIN ? COST.lanesSimd : COST.lanesElsewhere) * stepWork(ctx),
};

const subgroupKernel: ForwardKernel = {
  name: 'subgroup',
  kernels: [recurrentSubgroup],
  variants: () => [{ name: 'subgroup' }],
  plan({ spec, batch, limits, models, traits }) {
    const pipeline = planSubgroup(spec, batch, limits, models, traits.subgroups);
    if (typeof pipeline === 'string') return { unfit: `the subgroup recurrent kernel ${pipeline}` };
    return { ...none, kernel: 'subgroup', pipeline };
  },
  estimate: (ctx) => COST.subgroup * stepWork(ctx),
};

interface WideVariant extends ForwardVariant {
  traits: WideTraits;
}

/** A wide variant's name: `wide/v4-registers`, with `-t128` where its tile size is set. */
function wideName(t: WideTraits): string {
  return `wide/v${t.wideVectors}-${t.wideR}${t.tileInvocations ? `-t${t.tileInvocations}` : ''}`;
}

const wideKernel: ForwardKernel<WideVariant> = {
  name: 'wide',
  kernels: [recurrentWide],
  variants({ traits }) {
    // `wide`: the shape rules choose (or the knobs the traits set); then every vectors × placement,
    // the tile sized by the fill rule and at the tiled kernel's size. The same names at every batch
    // (a name forced at one batch must exist at another): those that do not fit plan as unfit, and
    // forwardCandidates drops variants that plan the same pipeline as a better-ranked one.
    const ruled: WideVariant = { name: 'wide', traits: {} };
    if (traits.wideVectors || traits.wideR) return [ruled];
    const all: WideTraits[] = [];
    for (const tileInvocations of [undefined, TILE_INVOCATIONS])
      for (const wideVectors of [1, 2, 4] as const)
        for (const wideR of ['registers', 'workgroup', 'storage'] as const)
          all.push({ wideVectors, wideR, ...(tileInvocations ? { tileInvocations } : {}) });
    return [ruled, ...all.map((t) => ({ name: wideName(t), traits: t }))];
  },
  plan({ spec, batch, limits, models, traits }, variant) {
    const plan = planWide(spec, batch, limits, models, { ...traits, ...variant.traits });
    return typeof plan === 'string' ? { unfit: plan } : plan;
  },
  // The rules' pick first; the explicit variants after it, in their order.
  estimate: (ctx, variant) => (COST.wide + (variant.name === 'wide' ? 0 : 0.01)) * stepWork(ctx),
};

/** The step-wise layer is for wide layers: below this hidden size a step's GEMM is too small to fill a GPU. */
export const STEPWISE_HIDDEN_MIN = 128;

const stepwiseKernel: ForwardKernel = {
  name: 'stepwise',
  kernels: [],
  variants: () => [{ name: 'stepwise' }],
  plan({ spec, batch, limits, models }) {
    if (spec.hiddenSize < STEPWISE_HIDDEN_MIN) {
      return {
        unfit: `the step-wise kernel is for hidden_size ≥ ${STEPWISE_HIDDEN_MIN} (below that a step's GEMM cannot fill a GPU), got ${spec.hiddenSize}`,
      };
    }
    const stepwise = planStepwise(spec, batch, limits, models);
    if (typeof stepwise === 'string') return { unfit: stepwise };
    return { ...none, kernel: 'stepwise', pipeline: { ...stepwise.stages[0]!, grid: stepwise.stepGrid }, stepwise };
  },
  estimate: (ctx) => COST.stepwise * stepWork(ctx),
};

/**
 * Every forward kernel, one entry each. A new kernel is one more entry here (and its name in
 * {@link ForwardKernelName}); {@link forwardCandidates}, forcing it, the tuner, its cache key and the
 * GPU kit's kernel sweep all follow from the entry.
 */
export const FORWARD_KERNELS: readonly ForwardKernel[] = [
  smallKernel,
  tileKernel,
  sequentialKernel,
  lanesKernel,
  subgroupKernel,
  wideKernel,
  stepwiseKernel,
] as ForwardKernel[];

/** One way to run a layer: a kernel, a variant, its plan and the cost model's estimate. */
export interface ForwardCandidate {
  /** The variant's name (`small`, `tile/128`): what the tuner stores. */
  name: string;
  kernel: ForwardKernel;
  variant: ForwardVariant;
  plan: RecurrentLayerPlan;
  estimate: number;
}

/** A candidate's plan again for another batch (the tuner times capped batches); null when it no longer fits. */
export function replanCandidate(candidate: ForwardCandidate, ctx: LayerPlanContext): RecurrentLayerPlan | null {
  const plan = candidate.kernel.plan(ctx, candidate.variant);
  return isUnfit(plan) ? null : plan;
}

/**
 * Every (kernel, variant) that runs `ctx` on this device, in the cost model's order (estimate
 * ascending, ties in registry order); a variant that plans the same pipeline as a better-ranked one
 * (a tile shape the batch or the memory bounds to another's) is left out. `kernels`: only these
 * kernels (default all).
 */
export function forwardCandidates(ctx: LayerPlanContext, kernels: readonly ForwardKernel[] = FORWARD_KERNELS): ForwardCandidate[] {
  const all: ForwardCandidate[] = [];
  for (const kernel of kernels) {
    for (const variant of kernel.variants(ctx)) {
      const plan = kernel.plan(ctx, variant);
      if (!isUnfit(plan)) all.push({ name: variant.name, kernel, variant, plan, estimate: kernel.estimate(ctx, variant) });
    }
  }
  const seen = new Set<string>();
  return all
    .map((c, i) => ({ c, i }))
    .sort((a, b) => a.c.estimate - b.c.estimate || a.i - b.i)
    .map(({ c }) => c)
    .filter((c) => {
      const key = `${c.kernel.name} ${JSON.stringify(c.plan.pipeline.constants)}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/**
 * The plan of the candidate named `name` (`tile/128`: a name {@link forwardCandidates} gave) for
 * `ctx`; null when no kernel has that variant or it does not fit `ctx` (a batch chunk of another size).
 */
export function planCandidate(ctx: LayerPlanContext, name: string): RecurrentLayerPlan | null {
  for (const kernel of FORWARD_KERNELS) {
    const variant = kernel.variants(ctx).find((v) => v.name === name);
    if (!variant) continue;
    const plan = kernel.plan(ctx, variant);
    return isUnfit(plan) ? null : plan;
  }
  return null;
}

/** The registry entry of `name`. */
export function forwardKernel(name: ForwardKernelName): ForwardKernel {
  const k = FORWARD_KERNELS.find((e) => e.name === name);
  if (!k) throw new Error(`no forward kernel ${name}`);
  return k;
}

/**
 * The plan of `ctx` on `choice`: `'auto'` the cost model's first candidate (the backend's tuner
 * passes its choice through {@link forwardCandidates} itself), a kernel's name that kernel's
 * best-ranked variant that fits, or a DeviceError saying why it does not fit.
 */
export function planLayer(ctx: LayerPlanContext, choice: RecurrentKernelChoice = 'auto'): RecurrentLayerPlan {
  if (choice === 'auto') {
    const best = forwardCandidates(ctx)[0];
    // The sequential kernel fits every shape, so there is always a candidate.
    if (!best) throw new DeviceError(`no recurrent kernel runs hidden_size ${ctx.spec.hiddenSize} on this device`);
    return best.plan;
  }
  if (choice.includes('/')) {
    // One variant, by its candidate name.
    const [name] = choice.split('/') as [ForwardKernelName];
    const kernel = forwardKernel(name);
    const variant = kernel.variants(ctx).find((v) => v.name === choice);
    if (!variant) {
      const names = kernel.variants(ctx).map((v) => v.name);
      throw new DeviceError(`the ${name} recurrent kernel has no variant ${choice} for this layer (it has ${names.join(', ')})`);
    }
    const plan = kernel.plan(ctx, variant);
    if (isUnfit(plan)) throw new DeviceError(plan.unfit);
    return plan;
  }
  const kernel = forwardKernel(choice as ForwardKernelName);
  const ranked = kernel
    .variants(ctx)
    .map((variant) => ({ variant, estimate: kernel.estimate(ctx, variant) }))
    .sort((a, b) => a.estimate - b.estimate);
  let first: Unfit | null = null;
  for (const { variant } of ranked) {
    const plan = kernel.plan(ctx, variant);
    if (!isUnfit(plan)) return plan;
    first ??= plan;
  }
  throw new DeviceError(first?.unfit ?? `the ${choice} recurrent kernel has no variant for this device`);
}

/** {@link planLayer} with positional arguments (the form the tests and the training planner use). */
export function planRecurrentLayer(
  spec: RecurrentLayerSpec,
  batch: number,
  limits: KernelLimits,
  choice: RecurrentKernelChoice = 'auto',
  headOutputs = 0,
  models = 1,
  traits: KernelTraits = {},
): RecurrentLayerPlan {
  return planLayer({ spec, batch, limits, headOutputs, models, traits }, choice);
}
