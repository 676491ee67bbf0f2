import { numDirections, type RecurrentLayerInputs, type RecurrentLayerOutputs, type RecurrentLayerSpec } from '../../rnn/spec.ts';
import type { FloatArray } from '../../tensor.ts';
import { storedInput, storedOutput } from '../kernels/forward/f16-storage.ts';
import type { RecurrentLayerPlan } from '../kernels/forward/plan.ts';
import type { Dispatch, Program } from '../program.ts';
import { asFloat32, BatchRows, batchSlice } from '../rows.ts';
import { segmentDispatches } from './segments.ts';
import { stepwiseDispatches } from './stepwise.ts';

/**
 * One recurrent layer as a program: its kernel (src/gpu/kernels/forward/plan.ts) over every time
 * segment (src/gpu/programs/segments.ts). {@link layerDispatches} is also what a stack runs per
 * layer, in inference and, with a training plan, in the training program's forward pass.
 */

/** The program buffers a layer's kernel binds, by role. */
export interface LayerNames {
  x: string;
  weights: string;
  lens: string;
  /** Initial states (h then c); receives each segment's final state when T is split. */
  init: string;
  y: string;
  /** Final states (h then c). */
  final: string;
  /** The scratch buffer: the sequential kernel's state, the lanes kernel's packed weights, the step-wise kernel's state and XW. */
  state: string;
  /** The small kernel's head binding: the fused head, or a placeholder. */
  head: string;
}

/** The dispatches of one layer and what its buffers need. */
export interface LayerDispatches {
  dispatches: Dispatch[];
  /** T is split into more than one segment (the init buffer must then exist, to carry the state). */
  segmented: boolean;
  /** Floats of the initial and final states: (LSTM: 2 ×) D·B·H. */
  stateFloats: number;
  /** Bytes of the scratch buffer the kernel binds (0: none). */
  scratchBytes: number;
  bindsHead: boolean;
  fusedHead: boolean;
}

/** A layer's kernel bindings: each binding the kernel names, from the buffer playing that role. */
function layerBindings(plan: RecurrentLayerPlan, n: LayerNames): Record<string, string> {
  // The lanes kernel reads its packed copy of the weights (in the scratch buffer) in their place.
  const roles: Record<string, string> = {
    x: n.x,
    weights: n.weights,
    packed: n.state,
    lens: n.lens,
    init: n.init,
    y: n.y,
    final_state: n.final,
    state: n.state,
    head: n.head,
  };
  return Object.fromEntries(plan.pipeline.kernel.bindings.map((b) => [b, roles[b]!]));
}

/**
 * The dispatches of one layer over `B` sequences of `T` steps on `plan`'s kernel: T in segments of
 * at most `maxSteps` steps, the final state carried into the initial state between segments; the
 * lanes kernel's weight packing first.
 */
export function layerDispatches(
  plan: RecurrentLayerPlan,
  spec: RecurrentLayerSpec,
  B: number,
  T: number,
  names: LayerNames,
  given: { h: boolean; c: boolean; lens: boolean },
  maxSteps: number,
  models = { count: 1, weightStride: 0 },
): LayerDispatches {
  const stateFloats = (spec.cell === 'lstm' ? 2 : 1) * numDirections(spec) * B * spec.hiddenSize;
  if (plan.stepwise) {
    const stepwise = stepwiseDispatches(plan.stepwise, spec, B, T, names, given, maxSteps);
    return { ...stepwise, segmented: false, stateFloats, bindsHead: false, fusedHead: false };
  }
  const dispatches = segmentDispatches({
    spec,
    planned: plan.pipeline,
    bind: layerBindings(plan, names),
    batch: B,
    steps: T,
    maxSteps,
    given,
    pass: 'forward',
    models,
    carry: [names.final, names.init],
  });
  if (plan.pack) {
    const { kernel, constants, grid } = plan.pack;
    dispatches.unshift({
      kernel,
      constants,
      grid,
      uniforms: dispatches[0]!.uniforms,
      bind: { pack_source: names.weights, pack_target: names.state },
    });
  }
  return {
    dispatches,
    segmented: dispatches.some((d) => d.copies),
    stateFloats,
    scratchBytes: plan.scratchBytes,
    bindsHead: plan.bindsHead,
    fusedHead: plan.fusedHead,
  };
}

/**
 * The program of one layer call over a batch chunk (`inputs`: the chunk's rows), reading back `Y`
 * and `Y_h|Y_c` (Y_h then, for LSTM, Y_c). `packed`: the layer's packed weights, or with `models`
 * (per-series models, see layerDispatches) each model's, `weightStride` floats apart.
 */
export function layerProgram(
  plan: RecurrentLayerPlan,
  spec: RecurrentLayerSpec,
  packed: Float32Array,
  inputs: RecurrentLayerInputs,
  maxSteps: number,
  models = { count: 1, weightStride: 0 },
): Program {
  const { batch: B, steps: T, sequenceLens, initialH, initialC } = inputs;
  const D = numDirections(spec);
  const H = spec.hiddenSize;
  const stateCount = D * B * H;
  // initial_h then initial_c in one binding (storage buffers per stage are scarce); with several
  // segments it also receives each segment's final state.
  let init: Float32Array | null = null;
  if (initialH || initialC) {
    init = new Float32Array(spec.cell === 'lstm' ? 2 * stateCount : stateCount);
    if (initialH) init.set(initialH, 0);
    if (initialC) init.set(initialC, stateCount);
  }
  const names = {
    x: 'X',
    weights: 'W|R|B|P',
    lens: 'sequence_lens',
    init: 'initial_h|initial_c',
    y: 'Y',
    final: 'Y_h|Y_c',
    state: 'state',
    head: 'head',
  };
  const layer = layerDispatches(
    plan,
    spec,
    B,
    T,
    names,
    { h: initialH !== null, c: initialC !== null, lens: sequenceLens !== null },
    maxSteps,
    models,
  );
  return {
    what: `the ${spec.cell.toUpperCase()} layer`,
    buffers: {
      X: storedInput(plan.storage, asFloat32(inputs.X)),
      'W|R|B|P': storedInput(plan.storage, packed),
      sequence_lens: { data: sequenceLens && Uint32Array.from(sequenceLens) },
      'initial_h|initial_c': { data: layer.segmented ? (init ?? new Float32Array(layer.stateFloats)) : init },
      Y: { ...storedOutput(plan.storage, T * D * B * H), read: true },
      'Y_h|Y_c': { bytes: 4 * layer.stateFloats, read: true },
      ...(layer.scratchBytes ? { state: { bytes: layer.scratchBytes } } : {}),
      ...(layer.bindsHead ? { head: { data: null } } : {}),
    },
    dispatches: layer.dispatches,
  };
}

/**
 * Sequences b0 … b1−1 of a layer call's inputs: layout 0 keeps the batch in the middle of [T, B, I]
 * and [D, B, H], layout 1 puts it first (the inputs themselves, as float32, for the whole batch).
 */
export function layerInputRows(spec: RecurrentLayerSpec, inputs: RecurrentLayerInputs, b0: number, b1: number): RecurrentLayerInputs {
  const { batch: B, steps: T } = inputs;
  const D = numDirections(spec);
  const rows = (a: FloatArray | null, outer: number, perStep: number) =>
    a &&
    (b1 - b0 === B
      ? asFloat32(a)
      : spec.layout === 0
        ? batchSlice(a, outer, B, perStep, b0, b1)
        : batchSlice(a, 1, B, outer * perStep, b0, b1));
  return {
    X: rows(inputs.X, T, spec.inputSize)!,
    batch: b1 - b0,
    steps: T,
    sequenceLens: inputs.sequenceLens?.subarray(b0, b1) ?? null,
    initialH: rows(inputs.initialH, D, spec.hiddenSize),
    initialC: rows(inputs.initialC, D, spec.hiddenSize),
  };
}

/**
 * A layer call's outputs gathered from its chunks' programs ({@link layerProgram}'s `Y` and
 * `Y_h|Y_c`), the inverse of {@link layerInputRows}: layout 0 keeps the batch in the middle
 * ([T, D, B, H], [D, B, H]), layout 1 puts it first.
 */
export class LayerOutputRows {
  private readonly Y: BatchRows;
  private readonly Yh: BatchRows;
  private readonly Yc: BatchRows | null;

  constructor(
    private readonly spec: RecurrentLayerSpec,
    B: number,
    T: number,
  ) {
    const D = numDirections(spec);
    const rows = (perStep: number, steps: number, what: string) =>
      spec.layout === 0 ? new BatchRows(B, perStep, what, steps) : new BatchRows(B, steps * perStep, what);
    this.Y = rows(spec.hiddenSize, T * D, 'Y');
    this.Yh = rows(spec.hiddenSize, D, 'Y_h');
    this.Yc = spec.cell === 'lstm' ? rows(spec.hiddenSize, D, 'Y_c') : null;
  }

  /** The results of the program of sequences b0 … b1−1. */
  put(out: Record<string, Float32Array>, b0: number, b1: number): void {
    this.Y.put(out.Y!, b0, b1);
    // Y_h then, for LSTM, Y_c, each [D, n, H] (layout 0) or [n, D, H] (layout 1).
    const final = out['Y_h|Y_c']!;
    const states = numDirections(this.spec) * (b1 - b0) * this.spec.hiddenSize;
    this.Yh.put(final.subarray(0, states), b0, b1);
    this.Yc?.put(final.subarray(states), b0, b1);
  }

  /** The call's outputs, once every chunk has been put. */
  get result(): RecurrentLayerOutputs<Float32Array> {
    return { Y: this.Y.result, Y_h: this.Yh.result, Y_c: this.Yc?.result ?? null };
  }
}
