import type { Backend } from '../backends/backend.ts';
import { ConfigError } from '../errors.ts';
import type { CellType } from '../rnn/spec.ts';
import { mulberry32, uniformArray } from '../util/rng.ts';
import { floatTensors, readSafetensors, writeSafetensors } from '../io/safetensors.ts';
import type { FloatArray, Tensor } from '../tensor.ts';
import {
  checkRecurrentForwardArgs,
  swapLeadingAxes,
  type RecurrentForwardOptions,
  type RecurrentForwardResult,
} from './recurrent-forward.ts';
import { layersToTorch, torchToLayers, type LoweredModule } from './torch-lowering.ts';
import {
  checkTorchStateDict,
  resolveTorchModule,
  torchDirections,
  torchParamSpecs,
  type TorchRecurrentConfig,
  type TorchRecurrentOptions,
} from './torch-modules.ts';

/** Options of {@link RecurrentNet.forward}: where to run, plus h0, c0 and lengths. */
export interface RecurrentRunOptions extends RecurrentForwardOptions {
  /** `cpuBackend` (the float64 reference) or a `WebGPUBackend`. */
  backend: Backend;
}

/**
 * A PyTorch `nn.RNN`, `nn.LSTM` or `nn.GRU` (any layers, one or two directions), optionally followed
 * by an `nn.Linear` head at every step, loaded from its state dict and run on a webrnn backend with
 * PyTorch's semantics. Each layer runs as one ONNX-semantics layer (src/rnn/spec.ts) on the backend.
 *
 * ```ts
 * const model = RecurrentNet.fromSafetensors(bytes);       // names and shapes say what it is
 * console.log(model.description);                          // nn.LSTM(input_size=3, …) + nn.Linear(10, 1)
 * const { output, hn, cn } = await model.forward(tensor(x, [B, T, 3]), { backend: gpu });
 * ```
 */
export class RecurrentNet {
  /** The module's options, stated or inferred, with every default filled in. */
  readonly config: TorchRecurrentConfig;
  /** The module as PyTorch constructor code, e.g. `nn.GRU(input_size=2, hidden_size=4, batch_first=True)`. */
  readonly description: string;
  /** What was assumed rather than read from the weights (empty when nothing was). */
  readonly notes: readonly string[];
  private readonly lowered: LoweredModule;

  private constructor(config: TorchRecurrentConfig, description: string, notes: readonly string[], lowered: LoweredModule) {
    this.config = config;
    this.description = description;
    this.notes = notes;
    this.lowered = lowered;
  }

  /**
   * Loads a PyTorch state dict (`{ name: { data, shape } }`, e.g. `model.state_dict()` saved by the
   * caller). With `options.cell` the module is the one stated and every tensor is checked against it;
   * without, it is inferred from the names and shapes (see {@link description} and {@link notes}).
   * Throws {@link ConfigError} for bad or unsupported options (proj_size > 0) and {@link WeightError}
   * naming a missing, unexpected, mis-shaped or non-finite tensor.
   */
  static fromStateDict(sd: Record<string, Tensor>, options: TorchRecurrentOptions = {}): RecurrentNet {
    const { config, description, notes } = resolveTorchModule(sd, options);
    const params = checkTorchStateDict(config, sd);
    return new RecurrentNet(config, description, notes, torchToLayers(config, params));
  }

  /**
   * A new module with PyTorch's default initialisation (every recurrent weight and bias uniform in
   * ±1/√hidden_size; the head's weight and bias uniform in ±1/√in_features), drawn from a seeded
   * generator so the weights are reproducible. `options.cell`, `inputSize` and `hiddenSize` are
   * required; the parameters are named under `options.prefix` (default: the cell's name, e.g.
   * `lstm.weight_ih_l0`) and the head under `headPrefix` (default `head`).
   */
  static create(options: TorchRecurrentOptions & { cell: CellType }, init: { seed?: number } = {}): RecurrentNet {
    const seed = init.seed ?? 0;
    if (!Number.isInteger(seed)) throw new ConfigError(`seed must be an integer, got ${seed}`);
    const stated = { ...options, prefix: options.prefix ?? options.cell };
    const { config } = resolveTorchModule({}, stated);
    const rand = mulberry32(seed);
    const sd: Record<string, Tensor> = {};
    for (const { name, shape } of torchParamSpecs(config)) {
      const isHead = config.headPrefix !== null && name.startsWith(`${config.headPrefix}.`);
      const bound = 1 / Math.sqrt(isHead ? config.hiddenSize * torchDirections(config) : config.hiddenSize);
      sd[name] = {
        data: uniformArray(
          rand,
          shape.reduce((a, b) => a * b, 1),
          -bound,
          bound,
        ),
        shape,
      };
    }
    return RecurrentNet.fromStateDict(sd, stated);
  }

  /**
   * Loads a state dict saved as safetensors (F32, F64, F16 or BF16); see {@link fromStateDict}.
   * A corrupt file is a {@link ModelError}.
   */
  static fromSafetensors(bytes: Uint8Array | ArrayBuffer, options: TorchRecurrentOptions = {}): RecurrentNet {
    return RecurrentNet.fromStateDict(floatTensors(readSafetensors(bytes)), options);
  }

  /** The weights as a PyTorch state dict (original names and gate order, float32), in PyTorch's order. */
  stateDict(): Record<string, Tensor<Float32Array>> {
    const params = layersToTorch(this.config, this.lowered);
    const out: Record<string, Tensor<Float32Array>> = {};
    for (const spec of torchParamSpecs(this.config)) out[spec.name] = { data: params[spec.name]!, shape: [...spec.shape] };
    return out;
  }

  /** The state dict as a safetensors file (F32), which `safetensors.torch.load_file` reads. */
  toSafetensors(metadata?: Record<string, string>): Uint8Array {
    return writeSafetensors(this.stateDict(), metadata);
  }

  /**
   * The same module with other weights: `lowered` shaped like {@link layers} (what training
   * produces). Every tensor is checked through the PyTorch state dict it maps to ({@link WeightError}).
   */
  withLayers(lowered: LoweredModule): RecurrentNet {
    const params = layersToTorch(this.config, lowered);
    const sd: Record<string, Tensor> = {};
    for (const spec of torchParamSpecs(this.config))
      sd[spec.name] = { data: params[spec.name] ?? new Float32Array(0), shape: [...spec.shape] };
    return new RecurrentNet(this.config, this.description, this.notes, torchToLayers(this.config, checkTorchStateDict(this.config, sd)));
  }

  /** A copy of the lowered layers (ONNX layout and gate order, batch-major specs) and head. */
  layers(): LoweredModule {
    return {
      layers: this.lowered.layers.map(({ spec, weights }) => ({
        spec,
        weights: { W: weights.W.slice(), R: weights.R.slice(), B: weights.B?.slice() ?? null, P: weights.P?.slice() ?? null },
      })),
      head: this.lowered.head && {
        ...this.lowered.head,
        weight: this.lowered.head.weight.slice(),
        bias: this.lowered.head.bias?.slice() ?? null,
      },
    };
  }

  /**
   * Runs every sequence of `input` through every layer, as PyTorch's `module(input, h_0)` (or
   * `(h_0, c_0)`) does, then the head at every step. Input `[B, T, I]` (batch-first, the default) or
   * `[T, B, I]`; see {@link RecurrentForwardResult} for the outputs. Everything is validated before
   * any backend call ({@link ShapeError}); the whole stack and the head run on the backend in one go
   * (on the GPU without intermediate readbacks).
   */
  async forward(input: Tensor, options: RecurrentRunOptions): Promise<RecurrentForwardResult> {
    const backend = options?.backend;
    if (!backend || typeof backend.recurrentStack !== 'function') {
      throw new ConfigError('forward needs { backend }: cpuBackend or a WebGPUBackend');
    }
    const args = checkRecurrentForwardArgs(this.config, input, options);
    const { batch: B, steps: T } = args;
    const { hiddenSize: H, numLayers: L } = this.config;
    const D = torchDirections(this.config);
    const perLayer = D * B * H;
    // PyTorch's [L·D, B, H] state, layer k's slice [D, B, H] ↔ ONNX batch-major [B, D, H].
    const initial = (state: FloatArray | null, k: number) =>
      state && swapLeadingAxes(state.subarray(k * perLayer, (k + 1) * perLayer), D, B, H);

    const layers = this.lowered.layers;
    const out = await backend.recurrentStack(this.lowered, {
      X: args.x,
      batch: B,
      steps: T,
      sequenceLens: args.lengths,
      initialH: layers.map((_, k) => initial(args.h0, k)),
      initialC: layers.map((_, k) => initial(args.c0, k)),
    });
    const State = out.Y.constructor as new (n: number) => FloatArray;
    const hn = new State(L * perLayer);
    out.Y_h.forEach((h, k) => hn.set(swapLeadingAxes(h, B, D, H), k * perLayer));
    const cn = out.Y_c && new State(L * perLayer);
    out.Y_c?.forEach((c, k) => cn!.set(swapLeadingAxes(c, B, D, H), k * perLayer));

    const head = this.lowered.head;
    const features = head ? head.outputSize : D * H;
    const y = out.Y;
    const stateShape = [L * D, B, H];
    return {
      output: this.config.batchFirst
        ? { data: y, shape: [B, T, features] }
        : { data: swapLeadingAxes(y, B, T, features), shape: [T, B, features] },
      hn: { data: hn, shape: stateShape },
      cn: cn && { data: cn, shape: [...stateShape] },
    };
  }
}
