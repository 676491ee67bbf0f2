import type { GpuProgram, ProgramBuffer, ProgramDispatch, WebGPUBackend } from '../backends/webgpu.ts';
import { ConfigError, ShapeError } from '../errors.ts';
import { ONES_BUFFER, ONES_DATA } from '../gpu/kernels/grad-contract.ts';
import { packLayerWeights } from '../gpu/kernels/recurrent-layer.ts';
import { packHead } from '../gpu/kernels/linear-head.ts';
import { packedFloats, stackGradProgram, type GradProgramContext } from '../gpu/kernels/stack-grad.ts';
import { inverseCounts, lossDispatch, optimizerDispatches, segmentSumPasses, type ParamBuffer } from '../gpu/kernels/train-ops.ts';
import { numDirections } from '../rnn/spec.ts';
import type { FloatArray } from '../tensor.ts';
import { gatherSamples, type Samples } from './data.ts';
import type { EngineSetup, StackStates, StepResult, TrainEngine } from './engine.ts';
import { learningRateAt, optimizerSlots, type OptimizerState } from './optim.ts';
import { flattenParams, paramCount, paramSlots, unflattenParams } from './params.ts';

const STORAGE = 0x80;
/** Sequences per program when evaluating. */
const EVAL_CHUNK = 512;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;

/**
 * The WebGPU training engine: every model's parameters, gradients and optimizer state live on the
 * device for the whole run, and one optimizer step is one GPU program (src/gpu/kernels/stack-grad.ts
 * with the loss and the update spliced in):
 *
 *   forward with saving → head → loss and d loss / d out (shaders/loss.wgsl) → head backward →
 *   each layer's backward → parameter gradients → per-model squared norms (with norm clipping) →
 *   the optimizer update of every parameter buffer (shaders/optimizer.wgsl)
 *
 * Only the batch goes up and only the loss (and the final states, for truncated BPTT) comes back.
 * Parameters are the kernels' packed buffers: per layer W | R | B | P, the head's weight | bias; the
 * trained part of each is a prefix (a module without biases does not train the B block), which is
 * also the order of src/train/params.ts, so flat parameters and optimizer buffers map onto them
 * block by block. The loss is the setup's, over all steps (the trainer folds a `last h` selection
 * into the mask). Per-series models each get their own buffers and program; the models of one step
 * are submitted one after another.
 */
export class GpuTrainEngine implements TrainEngine {
  readonly models: number;
  private readonly setup: EngineSetup;
  private readonly backend: WebGPUBackend;
  private readonly made: GPUBuffer[] = [];
  /** Per model: its parameter, gradient and optimizer buffers by program name. */
  private readonly buffers: Record<string, GPUBuffer>[];
  private readonly blocks: Array<{ name: string; floats: number; trained: number; offset: number }>;
  private steps: number;
  private disposed = false;

  constructor(backend: WebGPUBackend, setup: EngineSetup) {
    const stack = setup.stack;
    if (!stack.head) throw new ConfigError('GPU training needs a model with a head (nn.Linear) to take the loss on');
    if (stack.layers.some(({ spec, weights }) => spec.layout !== 1 || weights.P !== null)) {
      throw new ConfigError('GPU training takes batch-major stacks without peepholes (what PyTorch modules lower to)');
    }
    this.backend = backend;
    this.setup = setup;
    this.models = setup.models;
    this.steps = setup.optimizerState?.[0]?.step ?? 0;
    // The packed blocks, in src/train/params.ts order, with the length of their trained prefix.
    const slots = paramSlots(stack);
    let offset = 0;
    this.blocks = stack.layers.map(({ spec, weights }, k) => {
      const trained = weights.W.length + weights.R.length + (weights.B?.length ?? 0);
      const block = { name: `w${k}`, floats: packedFloats(spec), trained, offset };
      offset += trained;
      return block;
    });
    const head = stack.head;
    const headTrained = head.weight.length + (head.bias?.length ?? 0);
    this.blocks.push({ name: 'head', floats: head.outputSize * (head.inputSize + 1), trained: headTrained, offset });
    if (offset + headTrained !== slots.reduce((n, s) => n + s.length, 0)) throw new Error('packed blocks do not cover the parameters');

    const device = backend.device;
    this.buffers = Array.from({ length: setup.models }, () => {
      const own: Record<string, GPUBuffer> = {};
      for (const b of this.blocks) {
        for (const prefix of ['', 'grad ', 'm ', 'v ']) own[prefix + b.name] = this.create(device, prefix + b.name, b.floats);
      }
      own.sumsq = this.create(device, 'sumsq', this.blocks.length);
      return own;
    });
    const start = Float32Array.from(flattenParams(stack));
    for (let s = 0; s < setup.models; s++) this.upload(s, '', setup.initial?.[s] ?? start);
    setup.optimizerState?.forEach((state, s) => {
      const slotsOf = optimizerSlots(setup.optimization.optimizer);
      const names: Record<string, string> = { momentum_buffer: 'm ', exp_avg: 'm ', exp_avg_sq: 'v ' };
      for (const slot of slotsOf) this.upload(s, names[slot]!, state.buffers.params![slot]!);
    });
  }

  private create(device: GPUDevice, label: string, floats: number): GPUBuffer {
    const b = device.createBuffer({ label: `train ${label}`, size: 4 * Math.max(1, floats), usage: STORAGE | COPY_SRC | COPY_DST });
    this.made.push(b);
    return b;
  }

  /** Writes flat values (params.ts order) into model s's blocks named `${prefix}${block}`. */
  private upload(s: number, prefix: string, flat: FloatArray): void {
    const stack = this.setup.stack;
    const values = unflattenParams(stack, flat);
    const packed = [...values.layers.map(({ spec, weights }) => packLayerWeights(spec, weights)), packHead(values.head!)];
    this.blocks.forEach((b, k) => this.backend.device.queue.writeBuffer(this.buffers[s]![prefix + b.name]!, 0, packed[k]!));
  }

  /** Model s's blocks named `${prefix}${block}`, read back as flat values in params.ts order. */
  private async download(s: number, prefix: string): Promise<Float32Array> {
    const blocks = this.blocks.map((b) => [prefix + b.name, { external: this.buffers[s]![prefix + b.name]!, read: true }] as const);
    const out = await this.backend.runProgram({ what: 'reading training buffers', buffers: Object.fromEntries(blocks), dispatches: [] });
    const flat = new Float32Array(paramCount(this.setup.stack));
    this.blocks.forEach((b) => flat.set(out[prefix + b.name]!.subarray(0, b.trained), b.offset));
    return flat;
  }

  private context(): GradProgramContext {
    return this.backend.gradProgramContext();
  }

  /** One model's training program on its group of the batch (see the class comment). */
  private program(s: number, part: Samples, states: StackStates | null, s0: number, lr: number, update: boolean): GpuProgram {
    const stack = this.setup.stack;
    const L = stack.layers.length;
    const { count: n, steps: T } = part;
    const head = stack.head!;
    const rows = (a: FloatArray | null) => {
      if (!a) return null;
      const width = a.length / (n * this.models);
      return Float32Array.from(a.subarray(s0 * width, (s0 + n) * width));
    };
    const init = stack.layers.map((_, k) => ({ h: rows(states?.h[k] ?? null), c: rows(states?.c[k] ?? null) }));
    const program = stackGradProgram(
      {
        layers: stack.layers.map(({ spec }, k) => ({ spec, peepholes: false, hasH0: !!init[k]!.h, hasC0: !!init[k]!.c, hasDh: false, hasDc: false })),
        head,
        batch: n,
        steps: T,
        hasLens: false,
      },
      this.context(),
    );
    const maxGrid = this.backend.device.limits.maxComputeWorkgroupsPerDimension;
    const buffers: Record<string, ProgramBuffer> = {};
    for (const [name, { bytes, zeros }] of Object.entries(program.buffers)) buffers[name] = zeros ? { data: new Float32Array(bytes / 4) } : { bytes };
    const own = this.buffers[s]!;
    for (const b of this.blocks) {
      buffers[b.name] = { external: own[b.name]! };
      buffers[b.name === 'head' ? 'headgrads' : `grads${b.name.slice(1)}`] = { external: own[`grad ${b.name}`]! };
    }
    buffers.x = { data: part.x };
    buffers[ONES_BUFFER] = { data: ONES_DATA };
    init.forEach(({ h, c }, k) => {
      if (!h && !c) return;
      const spec = stack.layers[k]!.spec;
      const floats = n * numDirections(spec) * spec.hiddenSize;
      const both = new Float32Array((spec.cell === 'lstm' ? 2 : 1) * floats);
      if (h) both.set(h, 0);
      if (c) both.set(c, floats);
      buffers[`init${k}`] = { data: both };
    });
    for (let k = 0; k < L; k++) buffers[`final${k}`]!.read = true;

    // The loss right after the head's forward dispatch (the one that writes `out`).
    const O = head.outputSize;
    buffers.target = { data: part.y };
    buffers.mask = { data: part.mask ?? new Float32Array(1) };
    buffers.invN = { data: inverseCounts(n, T, O, 0, 1, part.mask) };
    buffers.term = { bytes: 4 * n * T * O };
    buffers.loss = { bytes: 4, read: true };
    const sums = segmentSumPasses('term', 'loss', { segments: 1, length: n * T * O }, false, maxGrid);
    for (const [name, floats] of Object.entries(sums.scratch)) buffers[name] = { bytes: 4 * floats };
    const loss: ProgramDispatch[] = [
      lossDispatch(this.setup.loss, { y: 'out', target: 'target', mask: 'mask', invN: 'invN', dy: 'dout', term: 'term' },
        { batch: n, steps: T, outputs: O, first: 0, perModel: n, hasMask: part.mask !== null }, maxGrid),
      ...sums.dispatches,
    ];
    const at = program.dispatches.findIndex((d) => d.bind.at(-1) === 'out' && d.bind.includes('head'));
    const dispatches: ProgramDispatch[] = [...program.dispatches.slice(0, at + 1), ...loss, ...program.dispatches.slice(at + 1)];
    if (!update) {
      // Evaluation: the forward pass and the loss only.
      return { what: 'the training loss', buffers, dispatches: dispatches.slice(0, at + 1 + loss.length) };
    }
    const params: ParamBuffer[] = this.blocks.map((b) => ({
      p: b.name, g: b.name === 'head' ? 'headgrads' : `grads${b.name.slice(1)}`, m: `m ${b.name}`, v: `v ${b.name}`, trained: b.trained, stride: b.floats,
    }));
    for (const b of this.blocks) {
      buffers[`m ${b.name}`] = { external: own[`m ${b.name}`]! };
      buffers[`v ${b.name}`] = { external: own[`v ${b.name}`]! };
    }
    buffers.sumsq = { external: own.sumsq! };
    const update_ = optimizerDispatches(this.setup.optimization, params, 'sumsq', 1, this.steps, lr, maxGrid);
    for (const [name, floats] of Object.entries(update_.scratch)) buffers[name] = { bytes: Math.max(buffers[name]?.bytes ?? 0, 4 * floats) };
    return { what: 'a training step', buffers, dispatches: [...dispatches, ...update_.dispatches] };
  }

  private checkUsable(): void {
    if (this.disposed) throw new ConfigError('this training engine was disposed');
  }

  /** Runs `make`'s program per model on its group of the batch and gathers losses and final states. */
  private async perModel(batch: Samples, make: (s: number, part: Samples, s0: number) => GpuProgram) {
    this.checkUsable();
    const per = batch.count / this.models;
    if (!Number.isInteger(per)) throw new ShapeError(`a batch of ${batch.count} does not split into ${this.models} models`);
    const L = this.setup.stack.layers.length;
    const loss = new Float64Array(this.models);
    const h: Float32Array[][] = Array.from({ length: L }, () => []);
    const c: Float32Array[][] = Array.from({ length: L }, () => []);
    for (let s = 0; s < this.models; s++) {
      const part = this.models === 1 ? batch : gatherSamples(batch, Array.from({ length: per }, (_, k) => s * per + k), 1);
      const out = await this.backend.runProgram(make(s, part, s * per));
      loss[s] = out.loss![0]!;
      this.setup.stack.layers.forEach(({ spec }, k) => {
        const final = out[`final${k}`]!;
        const floats = per * numDirections(spec) * spec.hiddenSize;
        h[k]!.push(final.slice(0, floats));
        if (spec.cell === 'lstm') c[k]!.push(final.slice(floats, 2 * floats));
      });
    }
    const join = (parts: Float32Array[]) => {
      const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
      return all;
    };
    return { loss, states: { h: h.map(join), c: c.map((parts) => (parts.length ? join(parts) : null)) } };
  }

  async step(batch: Samples, states: StackStates | null): Promise<StepResult> {
    const o = this.setup.optimization;
    const lr = learningRateAt(o.schedule, o.optimizer.lr, this.steps);
    const r = await this.perModel(batch, (s, part, s0) => this.program(s, part, states, s0, lr, true));
    this.steps++;
    return { loss: r.loss, lr, states: r.states };
  }

  async advance(batch: Samples, states: StackStates | null): Promise<StackStates> {
    return (await this.perModel(batch, (s, part, s0) => this.program(s, part, states, s0, 0, false))).states;
  }

  /**
   * Each model's loss on `samples`, in programs of at most {@link EVAL_CHUNK} sequences (a validation
   * set can be far larger than a batch): each chunk's mean weighted by the elements it counts.
   */
  async evaluate(samples: Samples): Promise<Float64Array> {
    this.checkUsable();
    const per = samples.count / this.models;
    const { steps: T, outputSize: O } = samples;
    const loss = new Float64Array(this.models);
    for (let s = 0; s < this.models; s++) {
      let sum = 0;
      let total = 0;
      for (let k0 = 0; k0 < per; k0 += EVAL_CHUNK) {
        const rows = Array.from({ length: Math.min(EVAL_CHUNK, per - k0) }, (_, i) => s * per + k0 + i);
        const part = gatherSamples(samples, rows, 1);
        const count = part.mask ? part.mask.reduce((a, b) => a + b, 0) * O : part.count * T * O;
        if (count === 0) continue;
        const out = await this.backend.runProgram(this.program(s, part, null, 0, 0, false));
        sum += out.loss![0]! * count;
        total += count;
      }
      loss[s] = total === 0 ? 0 : sum / total;
    }
    return loss;
  }

  async params(): Promise<Float32Array[]> {
    this.checkUsable();
    return Promise.all(Array.from({ length: this.models }, (_, s) => this.download(s, '')));
  }

  async setParams(params: readonly FloatArray[]): Promise<void> {
    this.checkUsable();
    params.forEach((p, s) => this.upload(s, '', p));
  }

  async optimizerState(): Promise<OptimizerState[]> {
    this.checkUsable();
    const slots = optimizerSlots(this.setup.optimization.optimizer);
    const prefix: Record<string, string> = { momentum_buffer: 'm ', exp_avg: 'm ', exp_avg_sq: 'v ' };
    return Promise.all(
      Array.from({ length: this.models }, async (_, s) => {
        const buffers: Record<string, Float32Array> = {};
        for (const slot of slots) buffers[slot] = await this.download(s, prefix[slot]!);
        return { step: this.steps, buffers: { params: buffers } };
      }),
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.made) b.destroy();
  }
}
