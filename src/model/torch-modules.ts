import { ConfigError, WeightError } from '../errors.ts';
import { GATES, type CellType } from '../rnn/spec.ts';
import type { Tensor } from '../tensor.ts';
import { checkParameterCount, checkSize, type Nonlinearity } from './config.ts';
import { describe, isTensor } from './forward.ts';

/**
 * PyTorch's recurrent modules as webrnn reads their state dicts: `nn.RNN` (tanh or relu),
 * `nn.LSTM` and `nn.GRU`, any number of layers, one or two directions, with or without biases,
 * optionally under a module prefix (`rnn.weight_ih_l0`) and followed by an `nn.Linear` head applied at
 * every step (`head.weight`, `head.bias`). Per layer k and direction (suffix `_reverse` for the
 * second), with G = 1 (RNN), 3 (GRU) or 4 (LSTM) gates stacked in PyTorch's order:
 *
 *   weight_ih_l{k}  [G·H, I_k]    I_0 = input_size, I_k = D·H for k > 0 (both directions' outputs)
 *   weight_hh_l{k}  [G·H, H]
 *   bias_ih_l{k}    [G·H]         bias_hh_l{k} [G·H]          (absent with bias=False)
 *   head: weight [O, D·H], bias [O] (absent with bias=False)
 *
 * A state dict is either checked against options the caller states, or its options are inferred
 * from the names and shapes; either way every tensor is then checked against the options.
 */

/** What the caller may state. With `cell`, the options are taken as given (defaults as PyTorch's). */
export interface TorchRecurrentOptions {
  /** The module class: `'rnn'` (nn.RNN), `'lstm'` (nn.LSTM) or `'gru'` (nn.GRU). Omit to infer. */
  cell?: CellType;
  /** input_size. */
  inputSize?: number;
  /** hidden_size. */
  hiddenSize?: number;
  /** num_layers (default 1). */
  numLayers?: number;
  /** bidirectional (default false). */
  bidirectional?: boolean;
  /** nn.RNN's nonlinearity (default `'tanh'`); it leaves no trace in the weights, so it is never inferred. */
  nonlinearity?: Nonlinearity;
  /** bias (default true). */
  bias?: boolean;
  /** Input and output as `[B, T, …]` (default true, as in webrnn's Elman model) or `[T, B, …]`. */
  batchFirst?: boolean;
  /** nn.LSTM's proj_size: only 0 is supported. */
  projSize?: number;
  /** out_features of the nn.Linear head applied at every step; omit (or null) for no head. */
  outputSize?: number | null;
  /** Whether the head has a bias (default true). */
  headBias?: boolean;
  /** Prefix of the recurrent module's names, e.g. `'lstm'` for `lstm.weight_ih_l0`; `''` for none. Found when omitted. */
  prefix?: string;
  /** Prefix of the head's names, e.g. `'fc'` for `fc.weight`. Found when omitted. */
  headPrefix?: string;
}

/** A recurrent module's options with every default filled in and checked. */
export interface TorchRecurrentConfig {
  readonly cell: CellType;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bidirectional: boolean;
  /** `'tanh'` for LSTM and GRU (the activation of their candidate state). */
  readonly nonlinearity: Nonlinearity;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  /** The head's out_features, or null without a head. */
  readonly outputSize: number | null;
  readonly headBias: boolean;
  /** Prefix of the recurrent tensors' names, without the dot; `''` for a bare module. */
  readonly prefix: string;
  /** Prefix of the head's names (without the dot), or null without a head. */
  readonly headPrefix: string | null;
}

/** Name (with its prefix) and shape of one tensor of the state dict. */
export interface TorchParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A module's configuration and what was assumed to get it. */
export interface ResolvedTorchModule {
  readonly config: TorchRecurrentConfig;
  /** The module as PyTorch code, e.g. `nn.LSTM(input_size=3, hidden_size=5, bidirectional=True) + nn.Linear(10, 1)`. */
  readonly description: string;
  /** What could not be read from the weights and was assumed (e.g. the RNN's nonlinearity). */
  readonly notes: readonly string[];
}

const RECURRENT_NAME = /^(?:(.+)\.)?(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$/;
const MODULE_CLASS: Record<CellType, string> = { rnn: 'nn.RNN', lstm: 'nn.LSTM', gru: 'nn.GRU' };
const MAX_LAYERS = 256;
const CELL_OF_GATES: Record<number, CellType> = { 1: 'rnn', 3: 'gru', 4: 'lstm' };

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/** Number of directions, D. */
export function torchDirections(c: Pick<TorchRecurrentConfig, 'bidirectional'>): number {
  return c.bidirectional ? 2 : 1;
}

/** Names of one layer's and direction's tensors, with the module prefix. */
export function torchLayerNames(prefix: string, layer: number, direction: number): { ih: string; hh: string; bih: string; bhh: string } {
  const suffix = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
  return {
    ih: join(prefix, `weight_ih${suffix}`),
    hh: join(prefix, `weight_hh${suffix}`),
    bih: join(prefix, `bias_ih${suffix}`),
    bhh: join(prefix, `bias_hh${suffix}`),
  };
}

/** Names of the head's weight and bias, with its prefix. */
export function torchHeadNames(headPrefix: string): { weight: string; bias: string } {
  return { weight: join(headPrefix, 'weight'), bias: join(headPrefix, 'bias') };
}

/** Every tensor the configuration has, in PyTorch's state-dict order (layer, direction, ih, hh, biases; head last). */
export function torchParamSpecs(c: TorchRecurrentConfig): TorchParamSpec[] {
  const H = c.hiddenSize;
  const D = torchDirections(c);
  const GH = GATES[c.cell] * H;
  const specs: TorchParamSpec[] = [];
  for (let k = 0; k < c.numLayers; k++) {
    for (let d = 0; d < D; d++) {
      const names = torchLayerNames(c.prefix, k, d);
      specs.push({ name: names.ih, shape: [GH, k === 0 ? c.inputSize : D * H] });
      specs.push({ name: names.hh, shape: [GH, H] });
      if (c.bias) {
        specs.push({ name: names.bih, shape: [GH] });
        specs.push({ name: names.bhh, shape: [GH] });
      }
    }
  }
  if (c.outputSize !== null && c.headPrefix !== null) {
    const names = torchHeadNames(c.headPrefix);
    specs.push({ name: names.weight, shape: [c.outputSize, D * H] });
    if (c.headBias) specs.push({ name: names.bias, shape: [c.outputSize] });
  }
  return specs;
}

/** The module as PyTorch constructor code, arguments other than PyTorch's defaults only. */
export function describeTorchModule(c: TorchRecurrentConfig): string {
  const args = [`input_size=${c.inputSize}`, `hidden_size=${c.hiddenSize}`];
  if (c.numLayers !== 1) args.push(`num_layers=${c.numLayers}`);
  if (c.cell === 'rnn' && c.nonlinearity !== 'tanh') args.push(`nonlinearity='${c.nonlinearity}'`);
  if (!c.bias) args.push('bias=False');
  if (c.batchFirst) args.push('batch_first=True');
  if (c.bidirectional) args.push('bidirectional=True');
  let text = `${MODULE_CLASS[c.cell]}(${args.join(', ')})`;
  if (c.outputSize !== null) {
    text += ` + nn.Linear(${torchDirections(c) * c.hiddenSize}, ${c.outputSize}${c.headBias ? '' : ', bias=False'})`;
  }
  return text;
}

/** The distinct prefixes under which recurrent names (weight_ih_l0, …) appear. */
function recurrentPrefixes(names: readonly string[]): string[] {
  const found = new Set<string>();
  for (const name of names) {
    const m = RECURRENT_NAME.exec(name);
    if (m) found.add(m[1] ?? '');
  }
  return [...found];
}

function isUnder(name: string, prefix: string): boolean {
  return prefix === '' || name.startsWith(`${prefix}.`);
}

/** The recurrent module's prefix: the one given, the only one present, or '' when none is. */
function findPrefix(sd: Record<string, Tensor>, given: string | undefined, required: boolean): string {
  if (given !== undefined) {
    if (typeof given !== 'string') throw new ConfigError(`prefix must be a string, got ${String(given)}`);
    return given.replace(/\.$/, '');
  }
  const prefixes = recurrentPrefixes(Object.keys(sd));
  if (prefixes.length > 1) {
    throw new WeightError(
      `the state dict holds recurrent weights under ${prefixes.map((p) => JSON.stringify(p)).join(', ')}: ` +
        'pass { prefix } to pick one module',
    );
  }
  if (prefixes.length === 0 && required) {
    throw new WeightError(
      'no recurrent weights found: expected PyTorch names like weight_ih_l0 (nn.RNN, nn.LSTM or nn.GRU), ' +
        `possibly under a prefix like rnn.weight_ih_l0; got ${Object.keys(sd).slice(0, 8).join(', ') || 'no tensors'}`,
    );
  }
  return prefixes[0] ?? '';
}

/**
 * The head's prefix: the one given, else that of the only `<prefix>.weight` or `<prefix>.bias`
 * outside the recurrent module; null when there is none.
 */
function findHeadPrefix(sd: Record<string, Tensor>, prefix: string, given: string | undefined): string | null {
  if (given !== undefined) {
    if (typeof given !== 'string' || given === '')
      throw new ConfigError(`headPrefix must be a non-empty string, got ${JSON.stringify(given)}`);
    return given.replace(/\.$/, '');
  }
  const candidates = new Set<string>();
  for (const name of Object.keys(sd)) {
    const m = /^(.+)\.(weight|bias)$/.exec(name);
    if (m && !(isUnder(name, prefix) && RECURRENT_NAME.test(name))) candidates.add(m[1]!);
  }
  if (candidates.size > 1) {
    throw new WeightError(
      `more than one candidate nn.Linear head (${[...candidates].map((c) => `${c}.weight`).join(', ')}): pass { headPrefix }`,
    );
  }
  return [...candidates][0] ?? null;
}

function checkFlag(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`${name} must be true or false, got ${String(v)}`);
  return v;
}

function checkNonlinearity(cell: CellType, v: unknown): Nonlinearity {
  if (v === undefined) return 'tanh';
  if (cell !== 'rnn') throw new ConfigError(`nonlinearity applies to nn.RNN only, not ${MODULE_CLASS[cell]}`);
  if (v !== 'tanh' && v !== 'relu') throw new ConfigError(`unknown nonlinearity ${JSON.stringify(v)}: expected tanh or relu`);
  return v;
}

function checkProjSize(cell: CellType, v: unknown): void {
  if (v === undefined || v === 0) return;
  if (cell !== 'lstm') throw new ConfigError(`proj_size applies to nn.LSTM only, not ${MODULE_CLASS[cell]}`);
  throw new ConfigError(`nn.LSTM with proj_size=${String(v)} is not supported (only proj_size=0)`);
}

/** Options the caller stated, checked and completed with PyTorch's defaults. */
function statedConfig(sd: Record<string, Tensor>, o: TorchRecurrentOptions): TorchRecurrentConfig {
  const cell = o.cell!;
  if (!Object.hasOwn(MODULE_CLASS, cell)) throw new ConfigError(`unknown cell ${JSON.stringify(cell)}: expected rnn, lstm or gru`);
  checkProjSize(cell, o.projSize);
  const prefix = findPrefix(sd, o.prefix, false);
  const outputSize = o.outputSize === undefined || o.outputSize === null ? null : checkSize('outputSize', o.outputSize);
  return {
    cell,
    inputSize: checkSize('inputSize', o.inputSize),
    hiddenSize: checkSize('hiddenSize', o.hiddenSize, 1 << 16),
    numLayers: checkSize('numLayers', o.numLayers ?? 1, MAX_LAYERS),
    bidirectional: checkFlag('bidirectional', o.bidirectional, false),
    nonlinearity: checkNonlinearity(cell, o.nonlinearity),
    bias: checkFlag('bias', o.bias, true),
    batchFirst: checkFlag('batchFirst', o.batchFirst, true),
    outputSize,
    headBias: outputSize !== null && checkFlag('headBias', o.headBias, true),
    prefix,
    headPrefix: outputSize === null ? null : (findHeadPrefix(sd, prefix, o.headPrefix) ?? 'head'),
  };
}

/** A rank-2 tensor's shape, or a {@link WeightError} naming it. */
function matrixShape(sd: Record<string, Tensor>, name: string): [number, number] {
  const t = sd[name];
  if (t === undefined) throw new WeightError(`missing tensor ${name}, needed to infer the module's sizes`);
  if (!Array.isArray(t?.shape) || t.shape.length !== 2) {
    throw new WeightError(`tensor ${name} must be a matrix, got shape ${Array.isArray(t?.shape) ? describe(t.shape) : String(t?.shape)}`);
  }
  return t.shape as [number, number];
}

/** Options read off the names and shapes; the caller's non-structural options (nonlinearity, batchFirst, prefixes) apply. */
function inferredConfig(sd: Record<string, Tensor>, o: TorchRecurrentOptions, notes: string[]): TorchRecurrentConfig {
  const structural = ['inputSize', 'hiddenSize', 'numLayers', 'bidirectional', 'bias', 'outputSize', 'headBias', 'projSize'] as const;
  const stated = structural.filter((k) => o[k] !== undefined);
  if (stated.length > 0) {
    throw new ConfigError(
      `${stated.join(', ')} given without cell: state the module with cell (and inputSize, hiddenSize), or leave the sizes out to infer them`,
    );
  }
  const prefix = findPrefix(sd, o.prefix, true);
  const [ihRows, inputSize] = matrixShape(sd, join(prefix, 'weight_ih_l0'));
  const [hhRows, hiddenSize] = matrixShape(sd, join(prefix, 'weight_hh_l0'));
  const gates = hhRows / hiddenSize;
  const cell = CELL_OF_GATES[gates];
  if (cell === undefined || ihRows !== hhRows || inputSize < 1) {
    throw new WeightError(
      `${join(prefix, 'weight_hh_l0')} has shape [${hhRows}, ${hiddenSize}] and ${join(prefix, 'weight_ih_l0')} [${ihRows}, ${inputSize}]: ` +
        'the rows must be 1, 3 or 4 times hidden_size (nn.RNN, nn.GRU, nn.LSTM) in both, and input_size at least 1',
    );
  }
  let numLayers = 0;
  let bidirectional = false;
  for (const n of Object.keys(sd)) {
    const m = RECURRENT_NAME.exec(n);
    if (!m || (m[1] ?? '') !== prefix) continue;
    if (Number(m[3]) >= MAX_LAYERS) throw new WeightError(`tensor ${n} names layer ${m[3]}; at most ${MAX_LAYERS} layers are supported`);
    numLayers = Math.max(numLayers, Number(m[3]) + 1);
    if (m[4]) bidirectional = true;
  }
  if (cell === 'rnn' && o.nonlinearity === undefined) {
    notes.push("nn.RNN's nonlinearity leaves no trace in the weights: assumed tanh (pass { nonlinearity: 'relu' } for ReLU)");
  }
  const headPrefix = findHeadPrefix(sd, prefix, o.headPrefix);
  return {
    cell,
    inputSize,
    hiddenSize,
    numLayers,
    bidirectional,
    nonlinearity: checkNonlinearity(cell, o.nonlinearity),
    bias: Object.hasOwn(sd, join(prefix, 'bias_ih_l0')),
    batchFirst: checkFlag('batchFirst', o.batchFirst, true),
    outputSize: headPrefix === null ? null : matrixShape(sd, join(headPrefix, 'weight'))[0],
    headBias: headPrefix !== null && Object.hasOwn(sd, join(headPrefix, 'bias')),
    prefix,
    headPrefix,
  };
}

/**
 * The module a state dict holds. With `options.cell` the options are the caller's (PyTorch's
 * defaults fill the rest); without, they are inferred from the names and shapes (G = rows of
 * weight_hh_l0 / its columns gives the class; nn.RNN's nonlinearity defaults to tanh, and `notes`
 * says so). Then every tensor is checked: see {@link checkTorchStateDict}.
 */
export function resolveTorchModule(sd: Record<string, Tensor>, options: TorchRecurrentOptions = {}): ResolvedTorchModule {
  if (sd === null || typeof sd !== 'object') throw new WeightError('the state dict must be an object { name: tensor }');
  if (options === null || typeof options !== 'object') throw new ConfigError('options must be an object');
  const projection = Object.keys(sd).find((n) => RECURRENT_NAME.exec(n)?.[2] === 'weight_hr');
  if (projection !== undefined) {
    throw new ConfigError(`${projection} is an LSTM projection: nn.LSTM with proj_size > 0 is not supported`);
  }
  const notes: string[] = [];
  const config = options.cell !== undefined ? statedConfig(sd, options) : inferredConfig(sd, options, notes);
  const description = describeTorchModule(config);
  checkParameterCount(description, torchParamSpecs(config));
  return { config, description, notes };
}

/**
 * Checks every tensor of the state dict against the configuration and returns float32 copies by
 * name. A {@link WeightError} names the first missing tensor, the first whose shape differs
 * (expected and actual), the first holding a non-finite value, or the first unexpected name.
 */
export function checkTorchStateDict(c: TorchRecurrentConfig, sd: Record<string, Tensor>): Record<string, Float32Array> {
  const module = describeTorchModule(c);
  const specs = torchParamSpecs(c);
  const out: Record<string, Float32Array> = {};
  for (const spec of specs) {
    const t = sd[spec.name];
    if (t === undefined) throw new WeightError(`missing tensor ${spec.name} ${describe(spec.shape)} of ${module}`);
    if (!isTensor(t)) {
      throw new WeightError(`tensor ${spec.name} must be { data: Float32Array | Float64Array, shape }`);
    }
    if (t.shape.length !== spec.shape.length || t.shape.some((v, i) => v !== spec.shape[i])) {
      throw new WeightError(`tensor ${spec.name} has shape ${describe(t.shape)}, expected ${describe(spec.shape)} for ${module}`);
    }
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n)
      throw new WeightError(`tensor ${spec.name} has ${t.data.length} values but shape ${describe(spec.shape)} needs ${n}`);
    const copy = Float32Array.from(t.data);
    for (let i = 0; i < copy.length; i++) {
      if (!Number.isFinite(copy[i])) throw new WeightError(`tensor ${spec.name} holds a non-finite value (${copy[i]}) at index ${i}`);
    }
    out[spec.name] = copy;
  }
  const expected = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(sd)) {
    if (expected.has(name)) continue;
    const hint = c.outputSize === null && !RECURRENT_NAME.test(name) ? ' (an nn.Linear head? pass outputSize)' : '';
    throw new WeightError(`unexpected tensor ${name}: ${module} has no such parameter${hint}`);
  }
  return out;
}
