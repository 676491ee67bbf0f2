import { ConfigError, DeviceError, ShapeError } from '../errors.ts';
import { packLayerWeights, packedFloats } from '../gpu/kernels/forward/recurrent-common.ts';
import { packHead } from '../gpu/kernels/head/linear-head.ts';
import { inverseCounts, lossDispatch } from '../gpu/kernels/training/loss.ts';
import { optimizerDispatches, type ParamBuffer } from '../gpu/kernels/training/optimizer.ts';
import { segmentSumPasses } from '../gpu/kernels/training/segment-sum.ts';
import type { Dispatch, Program, ProgramBuffer, ProgramRunner } from '../gpu/program.ts';
import { gradFloatsPerSequence, gradientProgram, modelStride, type GradProgramContext } from '../gpu/programs/gradients.ts';
import { BUFFER_USAGE } from '../gpu/usage.ts';
import { numDirections } from '../rnn/spec.ts';
import type { FloatArray } from '../tensor.ts';
import { gatherSamples, type Samples } from './data.ts';
import type { EngineSetup, StackStates, StepResult, TrainEngine } from './engine.ts';
import { learningRateAt, optimizerSlots, type OptimizerState } from './optim.ts';
import { flattenParams, paramCount, paramSlots, unflattenParams } from './params.ts';

/**
 * Steps whose losses one loss log holds ({@link GpuTrainEngine.maxQueuedSteps}): the most steps
 * queued between two readbacks. Two logs alternate, so steps are queued into one while the other
 * is read back.
 */
export const LOSS_LOG_STEPS = 256;
/** Sequences per model per program when evaluating, at least. */
const EVAL_CHUNK = 512;
/**
 * Sequences per program when evaluating, all models together, where a model's share passes
 * {@link EVAL_CHUNK}: a global model's validation set of 66,000 windows is 17 programs, not 129.
 */
const EVAL_SEQUENCES = 4096;

/** One packed parameter block of a model (a layer's W | R | B | P, or the head's weight | bias). */
interface Block {
  name: string;
  /** Floats of the packed block, and of its trained prefix. */
  floats: number;
  trained: number;
  /** Where the trained prefix sits in the flat parameters (src/train/params.ts order). */
  offset: number;
  /** Floats from one model's block to the next's in a page (src/gpu/programs/gradients.ts modelStride). */
  stride: number;
}

/** Models [first, first + count) of page `page`: what one program trains. */
interface ModelGroup {
  page: number;
  first: number;
  count: number;
}

/**
 * The WebGPU training engine: every model's parameters, gradients and optimizer state live on the
 * device for the whole run, and one optimizer step is one GPU program: the gradient program of
 * src/gpu/programs/gradients.ts, its forward half, the loss, its backward half, the update:
 *
 *   forward with saving → head → loss and d loss / d out (shaders/training/loss.wgsl) → head backward →
 *   each layer's backward → parameter gradients → per-model squared norms (with norm clipping) →
 *   the optimizer update of every parameter buffer (shaders/training/optimizer.wgsl)
 *
 * Only the batch goes up and only the loss (and the final states, for truncated BPTT) comes back.
 * Parameters are the kernels' packed buffers: per layer W | R | B | P, the head's weight | bias; the
 * trained part of each is a prefix (a module without biases does not train the B block), which is
 * also the order of src/train/params.ts, so flat parameters and optimizer buffers map onto them
 * block by block. The loss is the setup's, over all steps (the trainer folds a `last h` selection
 * into the mask).
 *
 * Per-series models train in the same dispatches: each parameter, gradient and optimizer buffer
 * holds the blocks of many models side by side (model m's at m·stride), the batch's group m feeds
 * model m, and every kernel of the program picks each sequence's model (gradients.ts), so a step
 * of S models is one program, not S. Only when one program's largest binding would pass the
 * device's limit are the models split into groups of programs (models × batch × steps × what a
 * sequence keeps); the buffers are pages of as many models as one binding holds, and a group binds
 * its range of a page at an offset.
 *
 * The engine needs no backend: a {@link ProgramRunner} (its device, and the executor that runs its
 * programs) and the context its gradient programs are planned in.
 */
export class GpuTrainEngine implements TrainEngine {
  readonly models: number;
  private readonly setup: EngineSetup;
  private readonly made: GPUBuffer[] = [];
  /** Per page of {@link pageModels} models: its parameter, gradient and optimizer buffers by program name. */
  private readonly pages: Record<string, GPUBuffer>[];
  private readonly pageModels: number;
  private readonly blocks: Block[];
  private steps: number;
  private disposed = false;
  /** The two loss logs (created on first use): `LOSS_LOG_STEPS` steps × models floats each. */
  private readonly logs: GPUBuffer[] = [];
  /** The log queued steps write into, and how many steps it holds. */
  private log = 0;
  private queued = 0;
  /** The error checks of the queued steps' programs (the runner's `deferred`). */
  private checks: Promise<DeviceError | null>[] = [];
  readonly maxQueuedSteps = LOSS_LOG_STEPS;

  /**
   * The engine, its parameter, gradient and optimizer buffers created (and the weights uploaded)
   * inside error scopes: a failed allocation is a {@link DeviceError} here, not an invalid buffer
   * that every later step trips over.
   */
  static async create(runner: ProgramRunner, context: GradProgramContext, setup: EngineSetup): Promise<GpuTrainEngine> {
    const device = runner.device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let engine: GpuTrainEngine | null = null;
    let failure: unknown = null;
    try {
      engine = new GpuTrainEngine(runner, context, setup);
    } catch (err) {
      failure = err;
    }
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    const error = oom ?? validation;
    if (error) {
      engine?.dispose();
      throw new DeviceError(
        `${oom ? 'out of GPU memory: ' : ''}the training buffers (parameters, gradients and optimizer state of ${setup.models} model(s)) could not be created: ${error.message}`,
      );
    }
    if (failure) throw failure;
    return engine!;
  }

  private constructor(
    private readonly runner: ProgramRunner,
    private readonly context: GradProgramContext,
    setup: EngineSetup,
  ) {
    const stack = setup.stack;
    if (!stack.head) throw new ConfigError('GPU training needs a model with a head (nn.Linear) to take the loss on');
    if (stack.layers.some(({ spec, weights }) => spec.layout !== 1 || weights.P !== null)) {
      throw new ConfigError('GPU training takes batch-major stacks without peepholes (what PyTorch modules lower to)');
    }
    this.setup = setup;
    const S = setup.models;
    this.models = S;
    this.steps = setup.optimizerState?.[0]?.step ?? 0;
    // The packed blocks, in src/train/params.ts order, with the length of their trained prefix.
    const slots = paramSlots(stack);
    let offset = 0;
    this.blocks = stack.layers.map(({ spec, weights }, k) => {
      const trained = weights.W.length + weights.R.length + (weights.B?.length ?? 0);
      const floats = packedFloats(spec);
      const block = { name: `w${k}`, floats, trained, offset, stride: modelStride(floats, S) };
      offset += trained;
      return block;
    });
    const head = stack.head;
    const headTrained = head.weight.length + (head.bias?.length ?? 0);
    const headFloats = head.outputSize * (head.inputSize + 1);
    this.blocks.push({ name: 'head', floats: headFloats, trained: headTrained, offset, stride: modelStride(headFloats, S) });
    if (offset + headTrained !== slots.reduce((n, s) => n + s.length, 0)) throw new Error('packed blocks do not cover the parameters');

    const limit = context.maxBindingBytes;
    this.pageModels = Math.max(1, Math.min(S, Math.floor(limit / (4 * Math.max(...this.blocks.map((b) => b.stride))))));
    const device = runner.device;
    this.pages = Array.from({ length: Math.ceil(S / this.pageModels) }, (_, p) => {
      const count = this.modelsOfPage(p);
      const own: Record<string, GPUBuffer> = {};
      for (const b of this.blocks) {
        for (const prefix of ['', 'grad ', 'm ', 'v ']) own[prefix + b.name] = this.create(device, prefix + b.name, count * b.stride);
      }
      return own;
    });
    const start = Float32Array.from(flattenParams(stack));
    for (let s = 0; s < S; s++) this.upload(s, '', setup.initial?.[s] ?? start);
    setup.optimizerState?.forEach((state, s) => {
      const slotsOf = optimizerSlots(setup.optimization.optimizer);
      const names: Record<string, string> = { momentum_buffer: 'm ', exp_avg: 'm ', exp_avg_sq: 'v ' };
      for (const slot of slotsOf) this.upload(s, names[slot]!, state.buffers.params![slot]!);
    });
  }

  /** Models page p holds: {@link pageModels}, fewer in the last page. */
  private modelsOfPage(p: number): number {
    return Math.min(this.pageModels, this.models - p * this.pageModels);
  }

  private create(device: GPUDevice, label: string, floats: number): GPUBuffer {
    const b = device.createBuffer({ label: `train ${label}`, size: 4 * Math.max(1, floats), usage: BUFFER_USAGE.storage });
    this.made.push(b);
    return b;
  }

  /** Writes flat values (params.ts order) into model s's blocks named `${prefix}${block}`. */
  private upload(s: number, prefix: string, flat: FloatArray): void {
    const stack = this.setup.stack;
    const values = unflattenParams(stack, flat);
    const packed = [...values.layers.map(({ spec, weights }) => packLayerWeights(spec, weights)), packHead(values.head!)];
    const page = this.pages[Math.floor(s / this.pageModels)]!;
    const at = s % this.pageModels;
    this.blocks.forEach((b, k) => this.runner.device.queue.writeBuffer(page[prefix + b.name]!, 4 * at * b.stride, packed[k]!));
  }

  /**
   * Every model's blocks named `${prefix}${block}`, read back as flat values in params.ts order: a
   * readback per page and block (each within one buffer's size).
   */
  private async download(prefix: string): Promise<Float32Array[]> {
    const flats = Array.from({ length: this.models }, () => new Float32Array(paramCount(this.setup.stack)));
    for (const [p, page] of this.pages.entries()) {
      for (const b of this.blocks) {
        const out = await this.runner.runProgram({
          what: 'reading training buffers',
          buffers: { [b.name]: { external: page[prefix + b.name]!, read: true } },
          dispatches: [],
        });
        const values = out[b.name]!;
        for (let at = 0; at < this.modelsOfPage(p); at++) {
          flats[p * this.pageModels + at]!.set(values.subarray(at * b.stride, at * b.stride + b.trained), b.offset);
        }
      }
    }
    return flats;
  }

  /** Floats the training program's largest binding takes per sequence of `steps` steps. */
  private perSequenceFloats(steps: number): number {
    const { layers, head } = this.setup.stack;
    return gradFloatsPerSequence({
      layers: layers.map(({ spec }) => ({ spec, peepholes: false, hasH0: false, hasC0: false, hasDh: false, hasDc: false })),
      head,
      steps,
      hasLens: false,
    });
  }

  /**
   * The programs' groups of models for `perModel` sequences of `steps` steps per model: all of a
   * page's models in one program while its largest binding fits the device, else as many as fit.
   */
  private groups(perModel: number, steps: number): ModelGroup[] {
    const perSequence = this.perSequenceFloats(steps);
    const fit = Math.max(1, Math.floor(this.context.maxBindingBytes / (4 * perSequence * perModel)));
    const groups: ModelGroup[] = [];
    this.pages.forEach((_, page) => {
      const end = Math.min(this.models, (page + 1) * this.pageModels);
      for (let first = page * this.pageModels; first < end; first += fit) groups.push({ page, first, count: Math.min(fit, end - first) });
    });
    return groups;
  }

  /** Block `name` (with its prefix) of the group's models: their range of the page's buffer. */
  private slab(g: ModelGroup, prefix: string, b: Block): ProgramBuffer {
    const at = g.first - g.page * this.pageModels;
    return { external: this.pages[g.page]![prefix + b.name]!, offset: 4 * at * b.stride, bytes: 4 * g.count * b.stride };
  }

  /**
   * The training program of a group of models on its part of the batch (`part`: the group's samples,
   * grouped by model; `init`: their initial states per layer), with the update when `update`, else
   * the forward pass and the loss only (see the class comment).
   */
  private program(g: ModelGroup, part: Samples, init: StackStates | null, lr: number, update: boolean): Program {
    const stack = this.setup.stack;
    const L = stack.layers.length;
    const { count: n, steps: T } = part;
    const M = g.count;
    const head = stack.head!;
    const program = gradientProgram(
      {
        layers: stack.layers.map(({ spec }, k) => ({
          spec,
          peepholes: false,
          hasH0: !!init?.h[k],
          hasC0: !!init?.c[k],
          hasDh: false,
          hasDc: false,
        })),
        head,
        batch: n,
        steps: T,
        hasLens: false,
        models: M,
        inputGrad: false,
      },
      this.context,
    );
    const maxGrid = this.runner.device.limits.maxComputeWorkgroupsPerDimension;
    const buffers: Record<string, ProgramBuffer> = program.buffers;
    for (const b of this.blocks) {
      buffers[b.name] = this.slab(g, '', b);
      buffers[b.name === 'head' ? 'headgrads' : `grads${b.name.slice(1)}`] = this.slab(g, 'grad ', b);
    }
    buffers.x = { data: part.x };
    stack.layers.forEach(({ spec }, k) => {
      const h = init?.h[k] ?? null;
      const c = init?.c[k] ?? null;
      if (!h && !c) return;
      const floats = n * numDirections(spec) * spec.hiddenSize;
      const both = new Float32Array((spec.cell === 'lstm' ? 2 : 1) * floats);
      if (h) both.set(h, 0);
      if (c) both.set(c, floats);
      buffers[`init${k}`] = { data: both };
    });
    for (let k = 0; k < L; k++) buffers[`final${k}`]!.read = true;

    // The loss between the forward half (which ends with the head writing `out`) and the backward
    // half: each model's mean over its own sequences.
    const O = head.outputSize;
    buffers.target = { data: part.y };
    buffers.mask = { data: part.mask ?? new Float32Array(1) };
    buffers.invN = { data: inverseCounts(n, T, O, 0, M, part.mask) };
    buffers.term = { bytes: 4 * n * T * O };
    buffers.loss = { bytes: 4 * M, read: true };
    const sums = segmentSumPasses('term', 'loss', { segments: M, length: (n / M) * T * O }, false, maxGrid);
    for (const [name, floats] of Object.entries(sums.scratch)) buffers[name] = { bytes: 4 * floats };
    const loss: Dispatch[] = [
      lossDispatch(
        this.setup.loss,
        { y: 'out', target: 'target', mask: 'mask', invN: 'invN', dy: 'dout', term: 'term' },
        { batch: n, steps: T, outputs: O, first: 0, perModel: n / M, hasMask: part.mask !== null },
        maxGrid,
      ),
      ...sums.dispatches,
    ];
    if (!update) {
      // Evaluation: the forward pass and the loss only.
      return { what: 'the training loss', buffers, dispatches: [...program.forward, ...loss] };
    }
    const params: ParamBuffer[] = this.blocks.map((b) => ({
      p: b.name,
      g: b.name === 'head' ? 'headgrads' : `grads${b.name.slice(1)}`,
      m: `m ${b.name}`,
      v: `v ${b.name}`,
      trained: b.trained,
      stride: b.stride,
    }));
    for (const b of this.blocks) {
      buffers[`m ${b.name}`] = this.slab(g, 'm ', b);
      buffers[`v ${b.name}`] = this.slab(g, 'v ', b);
    }
    buffers.sumsq = { bytes: 4 * this.blocks.length * M };
    const update_ = optimizerDispatches(this.setup.optimization, params, 'sumsq', M, this.steps, lr, maxGrid);
    for (const [name, floats] of Object.entries(update_.scratch))
      buffers[name] = { bytes: Math.max(buffers[name]?.bytes ?? 0, 4 * floats) };
    return { what: 'a training step', buffers, dispatches: [...program.forward, ...loss, ...program.backward, ...update_.dispatches] };
  }

  private checkUsable(): void {
    if (this.disposed) throw new ConfigError('this training engine was disposed');
  }

  /**
   * Runs the program of every group of models on its part of `batch` (grouped by model) and
   * gathers each model's loss and the final states.
   */
  private async run(
    batch: Samples,
    states: StackStates | null,
    lr: number,
    update: boolean,
    deferred: { log: GPUBuffer; slot: number } | null = null,
  ) {
    this.checkUsable();
    const per = batch.count / this.models;
    if (!Number.isInteger(per)) throw new ShapeError(`a batch of ${batch.count} does not split into ${this.models} models`);
    const { steps: T, inputSize: I, outputSize: O } = batch;
    const layers = this.setup.stack.layers;
    const loss = new Float64Array(this.models);
    const width = layers.map(({ spec }) => numDirections(spec) * spec.hiddenSize);
    const h = width.map((w) => new Float32Array(batch.count * w));
    const c = layers.map(({ spec }, k) => (spec.cell === 'lstm' ? new Float32Array(batch.count * width[k]!) : null));
    for (const g of this.groups(per, T)) {
      const [s0, s1] = [g.first * per, (g.first + g.count) * per];
      const rows = (a: FloatArray | null | undefined, w: number) => (a ? a.subarray(s0 * w, s1 * w) : null);
      const part: Samples = {
        ...batch,
        count: s1 - s0,
        series: g.count,
        x: batch.x.subarray(s0 * T * I, s1 * T * I),
        y: batch.y.subarray(s0 * T * O, s1 * T * O),
        mask: rows(batch.mask, T) as Float32Array | null,
      };
      const init = states && { h: states.h.map((a, k) => rows(a, width[k]!)), c: states.c.map((a, k) => rows(a, width[k]!)) };
      const program = this.program(g, part, init, lr, update);
      if (deferred) {
        // Nothing comes back: the loss is copied into its place in the log after the last
        // dispatch, the final states (zero-state steps need none) stay behind.
        for (let k = 0; k < layers.length; k++) program.buffers[`final${k}`]!.read = false;
        program.buffers.loss!.read = false;
        program.buffers.log = { external: deferred.log, offset: 4 * (deferred.slot * this.models + g.first), bytes: 4 * g.count };
        const last = program.dispatches.at(-1)!;
        program.dispatches[program.dispatches.length - 1] = { ...last, copies: [...(last.copies ?? []), ['loss', 'log', 4 * g.count]] };
        await this.runner.runProgram(program, { deferred: this.checks });
        continue;
      }
      const out = await this.runner.runProgram(program);
      loss.set(out.loss!, g.first);
      layers.forEach(({ spec }, k) => {
        const final = out[`final${k}`]!;
        const floats = (s1 - s0) * width[k]!;
        h[k]!.set(final.subarray(0, floats), s0 * width[k]!);
        if (spec.cell === 'lstm') c[k]!.set(final.subarray(floats, 2 * floats), s0 * width[k]!);
      });
    }
    return { loss, states: { h, c } };
  }

  async step(batch: Samples, states: StackStates | null): Promise<StepResult> {
    const o = this.setup.optimization;
    const lr = learningRateAt(o.schedule, o.optimizer.lr, this.steps);
    const r = await this.run(batch, states, lr, true);
    this.steps++;
    return { loss: r.loss, lr, states: r.states };
  }

  /**
   * {@link step} from zero states without waiting for it: the program is submitted and its loss
   * copied into the current loss log at the next slot (see {@link takeLosses}).
   */
  async queueStep(batch: Samples): Promise<number> {
    this.checkUsable();
    if (this.queued >= LOSS_LOG_STEPS)
      throw new ConfigError(`${LOSS_LOG_STEPS} steps are queued: read their losses (takeLosses) before queueing more`);
    const o = this.setup.optimization;
    const lr = learningRateAt(o.schedule, o.optimizer.lr, this.steps);
    this.logs[this.log] ??= this.create(this.runner.device, `loss log ${this.log}`, LOSS_LOG_STEPS * this.models);
    const slot = this.queued++;
    await this.run(batch, null, lr, true, { log: this.logs[this.log]!, slot });
    this.steps++;
    return lr;
  }

  /**
   * The losses of the steps queued since the last call: the log they were written to is read back
   * (one readback for all of them) while later steps go to the other log.
   */
  takeLosses(): Promise<Float64Array[]> {
    const n = this.queued;
    const log = this.logs[this.log];
    const checks = this.checks;
    this.queued = 0;
    this.log ^= 1;
    this.checks = [];
    return (async () => {
      const failure = (await Promise.all(checks)).find((e) => e !== null);
      if (failure) throw failure;
      if (n === 0 || !log) return [];
      this.checkUsable();
      const M = this.models;
      const out = await this.runner.runProgram({
        what: 'reading the training losses',
        buffers: { log: { external: log, bytes: 4 * n * M, read: true } },
        dispatches: [],
      });
      const values = out.log!;
      return Array.from({ length: n }, (_, k) => Float64Array.from(values.subarray(k * M, (k + 1) * M)));
    })();
  }

  async advance(batch: Samples, states: StackStates | null): Promise<StackStates> {
    return (await this.run(batch, states, 0, false)).states;
  }

  /**
   * Each model's loss on `samples`, in programs of at most {@link EVAL_CHUNK} sequences per model (a
   * validation set can be far larger than a batch): each chunk's mean weighted by the elements it
   * counts.
   */
  async evaluate(samples: Samples): Promise<Float64Array> {
    this.checkUsable();
    const S = this.models;
    const per = samples.count / S;
    const { steps: T, outputSize: O } = samples;
    const sum = new Float64Array(S);
    const total = new Float64Array(S);
    // Never more per model than one binding of the program holds (the forward's saved states).
    const perSequence = 4 * this.perSequenceFloats(T);
    const chunk = Math.max(
      1,
      Math.min(Math.max(EVAL_CHUNK, Math.floor(EVAL_SEQUENCES / S)), Math.floor(this.context.maxBindingBytes / perSequence)),
    );
    for (let k0 = 0; k0 < per; k0 += chunk) {
      const size = Math.min(chunk, per - k0);
      const rows = Array.from({ length: S * size }, (_, i) => Math.floor(i / size) * per + k0 + (i % size));
      const part = gatherSamples(samples, rows, S);
      const { loss } = await this.run(part, null, 0, false);
      for (let s = 0; s < S; s++) {
        let count = size * T * O;
        if (part.mask) {
          count = 0;
          for (let i = s * size * T; i < (s + 1) * size * T; i++) count += part.mask[i]! * O;
        }
        sum[s]! += loss[s]! * count;
        total[s]! += count;
      }
    }
    return sum.map((v, s) => (total[s] === 0 ? 0 : v / total[s]!));
  }

  async params(): Promise<Float32Array[]> {
    this.checkUsable();
    return this.download('');
  }

  async setParams(params: readonly FloatArray[]): Promise<void> {
    this.checkUsable();
    params.forEach((p, s) => this.upload(s, '', p));
  }

  async optimizerState(): Promise<OptimizerState[]> {
    this.checkUsable();
    const slots = optimizerSlots(this.setup.optimization.optimizer);
    const prefix: Record<string, string> = { momentum_buffer: 'm ', exp_avg: 'm ', exp_avg_sq: 'v ' };
    const bySlot = await Promise.all(slots.map((slot) => this.download(prefix[slot]!)));
    return Array.from({ length: this.models }, (_, s) => ({
      step: this.steps,
      buffers: { params: Object.fromEntries(slots.map((slot, k) => [slot, bySlot[k]![s]!])) },
    }));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.made) b.destroy();
  }
}
