import { WeightError } from '../errors.ts';
import { mulberry32 } from '../util/rng.ts';

/**
 * Parameters of an Elman network, named and laid out exactly as PyTorch's state dicts, so weights
 * move between the two without reshuffling:
 *
 *   rnn:     nn.RNN.state_dict()    weight_ih_l{k} [H, I or H], weight_hh_l{k} [H, H],
 *                                   bias_ih_l{k} [H], bias_hh_l{k} [H]      for k = 0 … L-1
 *   readout: nn.Linear.state_dict() weight [O, H], bias [O]
 *
 * All matrices are row-major: weight_ih_l0[j * I + i] multiplies input feature i into unit j.
 */
export interface ElmanStateDict {
  rnn: Record<string, Float32Array>;
  readout: { weight: Float32Array; bias: Float32Array };
}

/**
 * The sizes the parameters depend on (a ResolvedElmanConfig has them; named here so this module
 * does not import the configuration's, which checks a network's size with these specs).
 */
export interface ElmanSizes {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly outputSize: number;
  readonly numLayers: number;
}

/** Name and shape of one parameter tensor. */
export interface ParamSpec {
  readonly group: 'rnn' | 'readout';
  readonly name: string;
  readonly shape: readonly number[];
}

/** Every parameter the configuration needs, in PyTorch's state-dict order. */
export function elmanParamSpecs(c: ElmanSizes): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const H = c.hiddenSize;
  for (let k = 0; k < c.numLayers; k++) {
    const inSize = k === 0 ? c.inputSize : H;
    specs.push({ group: 'rnn', name: `weight_ih_l${k}`, shape: [H, inSize] });
    specs.push({ group: 'rnn', name: `weight_hh_l${k}`, shape: [H, H] });
    specs.push({ group: 'rnn', name: `bias_ih_l${k}`, shape: [H] });
    specs.push({ group: 'rnn', name: `bias_hh_l${k}`, shape: [H] });
  }
  specs.push({ group: 'readout', name: 'weight', shape: [c.outputSize, H] });
  specs.push({ group: 'readout', name: 'bias', shape: [c.outputSize] });
  return specs;
}

function lookup(sd: ElmanStateDict, spec: ParamSpec): unknown {
  const group = (sd as unknown as Record<string, Record<string, unknown> | undefined>)[spec.group];
  return group?.[spec.name];
}

/**
 * Checks a state dict against the configuration and returns a defensive float32 copy. Throws
 * {@link WeightError} for a missing, unexpected, wrongly sized or non-finite tensor, naming it.
 */
export function checkElmanStateDict(c: ElmanSizes, sd: ElmanStateDict): ElmanStateDict {
  if (sd === null || typeof sd !== 'object' || typeof sd.rnn !== 'object' || typeof sd.readout !== 'object') {
    throw new WeightError('weights must be an object { rnn: {...}, readout: { weight, bias } }');
  }
  const specs = elmanParamSpecs(c);
  for (const group of ['rnn', 'readout'] as const) {
    const known = new Set(specs.filter((s) => s.group === group).map((s) => s.name));
    for (const name of Object.keys(sd[group])) {
      if (!known.has(name)) {
        throw new WeightError(
          `unexpected parameter ${group}.${name} for a ${c.numLayers}-layer network ` + `(expected ${[...known].join(', ')})`,
        );
      }
    }
  }
  const out: ElmanStateDict = { rnn: {}, readout: { weight: new Float32Array(), bias: new Float32Array() } };
  for (const spec of specs) {
    const value = lookup(sd, spec);
    const label = `${spec.group}.${spec.name}`;
    const expected = spec.shape.reduce((a, b) => a * b, 1);
    if (value === undefined) throw new WeightError(`missing parameter ${label} [${spec.shape.join(', ')}]`);
    if (!(value instanceof Float32Array || value instanceof Float64Array || Array.isArray(value))) {
      throw new WeightError(`parameter ${label} must be a Float32Array, Float64Array or number[]`);
    }
    if (value.length !== expected) {
      throw new WeightError(`parameter ${label} has ${value.length} values but shape [${spec.shape.join(', ')}] needs ${expected}`);
    }
    const copy = Float32Array.from(value as ArrayLike<number>);
    for (let i = 0; i < copy.length; i++) {
      if (!Number.isFinite(copy[i])) {
        throw new WeightError(`parameter ${label} holds a non-finite value (${copy[i]}) at index ${i}`);
      }
    }
    if (spec.group === 'rnn') out.rnn[spec.name] = copy;
    else out.readout[spec.name as 'weight' | 'bias'] = copy;
  }
  return out;
}

/**
 * PyTorch's default initialisation, seeded: every nn.RNN parameter uniform in ±1/√H, and the
 * nn.Linear readout uniform in ±1/√H (its fan-in is H).
 */
export function initElmanStateDict(c: ElmanSizes, seed = 0): ElmanStateDict {
  const rand = mulberry32(seed);
  const bound = 1 / Math.sqrt(c.hiddenSize);
  const sd: ElmanStateDict = { rnn: {}, readout: { weight: new Float32Array(), bias: new Float32Array() } };
  for (const spec of elmanParamSpecs(c)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = (2 * rand() - 1) * bound;
    if (spec.group === 'rnn') sd.rnn[spec.name] = values;
    else sd.readout[spec.name as 'weight' | 'bias'] = values;
  }
  return sd;
}
