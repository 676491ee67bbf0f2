import fc from 'fast-check';
import {
  decodeModelProto,
  decodeTensorProto,
  encodeModelProto,
  encodeTensorProto,
  type ModelProtoJson,
  type TensorProtoJson,
} from '../../../src/onnx/proto.ts';
import type { SeedKind } from './seeds.ts';

/**
 * Mutations of valid model files: byte-level ones that know nothing of the format (flip, set,
 * truncate, insert, delete, duplicate a range) and structured ones that decode the file, change one
 * field to a value from a pool of troublemakers and encode it again (safetensors header JSON and
 * float data, ONNX protobuf fields, saved-forecaster metadata). A mutation is plain data, so
 * fast-check shrinks it, and applying it is deterministic.
 */

export type Mutation =
  | { op: 'set'; at: number; value: number }
  | { op: 'xor'; at: number; bit: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'delete'; at: number; length: number }
  | { op: 'duplicate'; at: number; length: number }
  | { op: 'header'; path: number; key: number; value: number }
  | { op: 'header-length'; delta: number }
  | { op: 'float'; at: number; value: number }
  | { op: 'proto'; target: number; field: number; value: number }
  | { op: 'options'; key: number; value: number };

/**
 * JSON values that break assumptions: wrong types, negative, fractional, huge, empty. The huge
 * integers are 2³³ and up, never 2³¹, 10⁹ or 65,536: as a horizon or hidden size those are valid,
 * and the weights they size (2³² elements and below) would be allocated and filled, taking the
 * machine down with the case (see test/fuzz/api/pool.ts).
 */
export const JSON_POOL: readonly unknown[] = [
  -1,
  0,
  1,
  2,
  3,
  1.5,
  65537,
  2 ** 33,
  2 ** 53,
  1e300,
  -1e300,
  '3',
  'F32',
  'F16',
  'BF16',
  'F64',
  'I64',
  'U8',
  'BOOL',
  'F8',
  '',
  'x',
  null,
  true,
  [],
  {},
  [0],
  [1, 2],
  [2, 3, 4],
  [0, 8],
  [0, 1e9],
  [-1, 4],
  [1.5, 2],
  ['a'],
  { a: 1 },
  'lstm',
  'gru',
  'rnn',
  'relu',
  'tanh',
  'direct',
  'recursive',
  'standard',
  'minmax',
  'robust',
  'none',
  'sideways',
  ['temp'],
  ['nope'],
];

/** Float values written over an element of a tensor's data. */
export const FLOAT_POOL: readonly number[] = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e38, 1e30, 1e-45, -0, 0, 1e20, 65504, 1e6];

/** Keys of a saved forecaster's options (the metadata's `options` JSON). */
export const OPTION_KEYS = [
  'horizon',
  'inputSize',
  'season',
  'cell',
  'hiddenSize',
  'numLayers',
  'nonlinearity',
  'scaling',
  'strategy',
  'perSeries',
  'exog',
  'seed',
  'ids',
];

const byteMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ op: fc.constant('xor' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
);

const structured: Record<SeedKind, fc.Arbitrary<Mutation>> = {
  safetensors: fc.oneof(
    fc.record({ op: fc.constant('header' as const), path: fc.nat(), key: fc.nat(), value: fc.nat(JSON_POOL.length - 1) }),
    fc.record({ op: fc.constant('header-length' as const), delta: fc.integer({ min: -16, max: 16 }) }),
    fc.record({ op: fc.constant('float' as const), at: fc.nat(), value: fc.nat(FLOAT_POOL.length - 1) }),
  ),
  forecaster: fc.oneof(
    fc.record({ op: fc.constant('options' as const), key: fc.nat(OPTION_KEYS.length - 1), value: fc.nat(JSON_POOL.length - 1) }),
    fc.record({ op: fc.constant('header' as const), path: fc.nat(), key: fc.nat(), value: fc.nat(JSON_POOL.length - 1) }),
    fc.record({ op: fc.constant('float' as const), at: fc.nat(), value: fc.nat(FLOAT_POOL.length - 1) }),
  ),
  onnx: fc.record({ op: fc.constant('proto' as const), target: fc.nat(), field: fc.nat(), value: fc.nat(JSON_POOL.length - 1) }),
  pb: fc.oneof(
    fc.record({ op: fc.constant('proto' as const), target: fc.nat(), field: fc.nat(), value: fc.nat(JSON_POOL.length - 1) }),
    fc.record({ op: fc.constant('float' as const), at: fc.nat(), value: fc.nat(FLOAT_POOL.length - 1) }),
  ),
};

/**
 * One to three mutations, byte-level or structured for the seed's format; structured ones twice as
 * often, since most byte-level ones stop the file at the loader's first check.
 */
export function mutations(kind: SeedKind): fc.Arbitrary<Mutation[]> {
  return fc.array(fc.oneof({ weight: 1, arbitrary: byteMutation }, { weight: 2, arbitrary: structured[kind] }), {
    minLength: 1,
    maxLength: 3,
  });
}

// ---- safetensors ------------------------------------------------------------------------------

interface Parsed {
  header: Record<string, any>;
  data: Uint8Array;
}

/** The header JSON and data region of a safetensors file, or null when it is no longer one. */
function splitSafetensors(bytes: Uint8Array): Parsed | null {
  if (bytes.length < 8) return null;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  if (8 + n > bytes.length) return null;
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    return header && typeof header === 'object' && !Array.isArray(header) ? { header, data: bytes.subarray(8 + n) } : null;
  } catch {
    return null;
  }
}

function joinSafetensors(header: unknown, data: Uint8Array, delta = 0): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, text.length + delta)), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

/** The header's mutable places: [object, key] pairs, entries and their fields and array items. */
function places(root: Record<string, any>): Array<[any, string | number]> {
  const out: Array<[any, string | number]> = [];
  const walk = (o: any) => {
    if (o === null || typeof o !== 'object') return;
    for (const k of Array.isArray(o) ? o.keys() : Object.keys(o)) {
      out.push([o, k]);
      walk(o[k]);
    }
  };
  walk(root);
  return out;
}

function mutateHeader(p: Parsed, m: Extract<Mutation, { op: 'header' }>): Uint8Array {
  const where = places(p.header);
  if (where.length === 0) return joinSafetensors(p.header, p.data);
  const [obj, key] = where[m.path % where.length]!;
  const value = structuredClone(JSON_POOL[m.value]);
  // Now and then rename an entry instead of changing its value.
  if (!Array.isArray(obj) && m.key % 5 === 0) {
    const name =
      typeof value === 'string'
        ? `${key}${value}`
        : m.key % 2
          ? '__metadata__'
          : String(key).replace(/\d/, (d) => String((Number(d) + 1) % 10));
    const v = obj[key];
    delete obj[key];
    obj[name] = v;
  } else {
    obj[key] = value;
  }
  return joinSafetensors(p.header, p.data);
}

/** Writes a pool value over one element of a float32 tensor in the data region (F32 data is 4-aligned). */
function mutateFloat(bytes: Uint8Array, dataStart: number, m: Extract<Mutation, { op: 'float' }>): Uint8Array {
  const out = bytes.slice();
  const count = Math.floor((out.length - dataStart) / 4);
  if (count === 0) return out;
  new DataView(out.buffer).setFloat32(dataStart + 4 * (m.at % count), FLOAT_POOL[m.value]!, true);
  return out;
}

function mutateOptions(p: Parsed, m: Extract<Mutation, { op: 'options' }>): Uint8Array {
  const meta = p.header.__metadata__;
  if (!meta || typeof meta !== 'object') return joinSafetensors(p.header, p.data);
  const key = OPTION_KEYS[m.key]!;
  const value = JSON_POOL[m.value];
  if (key === 'ids') {
    meta.ids = m.value % 3 === 0 ? String(value) : JSON.stringify(value);
  } else {
    let options: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(meta.options);
      if (parsed !== null && typeof parsed === 'object') options = parsed;
    } catch {
      // Already broken by an earlier mutation: rebuild from nothing.
    }
    if (value === null && m.value % 2 === 0) delete options[key];
    else options[key] = value;
    meta.options = JSON.stringify(options);
  }
  return joinSafetensors(p.header, p.data);
}

// ---- ONNX protobuf ----------------------------------------------------------------------------

/** Decoded proto objects the mutation can reach, with the scalar and list fields to change. */
function protoTargets(root: any): Array<[any, string]> {
  const out: Array<[any, string]> = [];
  const walk = (o: any, depth: number) => {
    if (o === null || typeof o !== 'object' || o instanceof Uint8Array || depth > 8) return;
    for (const k of Object.keys(o)) {
      out.push([o, k]);
      walk(o[k], depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/** A pool value fitted to the field it replaces, so that the message still encodes. */
function protoValue(old: unknown, v: unknown, field: number): unknown {
  if (old instanceof Uint8Array) {
    // raw_data: cut, extend, or overwrite a float with a pool value.
    if (field % 3 === 0) return old.subarray(0, Math.max(0, old.length - 1 - (field % 7)));
    if (field % 3 === 1) return Uint8Array.from([...old, 0, 0, 0x80, 0x7f]);
    const copy = old.slice();
    if (copy.length >= 4)
      new DataView(copy.buffer).setFloat32(4 * (field % Math.floor(copy.length / 4)), FLOAT_POOL[field % FLOAT_POOL.length]!, true);
    return copy;
  }
  if (typeof old === 'string') {
    // int64 fields are decimal strings; names and op types are text.
    if (/^-?\d+$/.test(old))
      return typeof v === 'number' && Number.isFinite(v)
        ? BigInt(Math.trunc(Math.min(Math.max(v, -(2 ** 62)), 2 ** 62))).toString()
        : String((field % 5) - 1);
    return typeof v === 'string' ? v || ['LSTM', 'GRU', 'RNN', 'Add', 'MatMul', 'Foo', 'X', 'Y', 'W'][field % 9]! : `${old}${field % 3}`;
  }
  if (typeof old === 'number')
    return typeof v === 'number' && Number.isFinite(v)
      ? Number.isInteger(old)
        ? Math.trunc(Math.min(Math.max(v, -(2 ** 31)), 2 ** 31 - 1))
        : v
      : FLOAT_POOL[field % FLOAT_POOL.length];
  if (Array.isArray(old)) {
    if (field % 4 === 0) return old.slice(0, -1);
    if (field % 4 === 1) return [...old, ...old.slice(0, 1)];
    if (field % 4 === 2) return [];
    return old.map((x) => protoValue(x, v, field + 1));
  }
  return old;
}

function mutateProto(bytes: Uint8Array, kind: 'onnx' | 'pb', m: Extract<Mutation, { op: 'proto' }>): Uint8Array {
  let decoded: ModelProtoJson | TensorProtoJson;
  try {
    decoded = kind === 'onnx' ? decodeModelProto(bytes) : decodeTensorProto(bytes);
  } catch {
    return bytes;
  }
  const targets = protoTargets(decoded);
  if (targets.length === 0) return bytes;
  const [obj, key] = targets[m.target % targets.length]!;
  const old = obj[key];
  obj[key] = m.field % 11 === 0 ? undefined : protoValue(old, JSON_POOL[m.value], m.field);
  try {
    return kind === 'onnx' ? encodeModelProto(decoded as ModelProtoJson) : encodeTensorProto(decoded as TensorProtoJson);
  } catch {
    // A value protobufjs cannot encode into that field: the file stays as it was.
    return bytes;
  }
}

/** Writes a pool value over one float32 element of a `.pb` tensor's raw_data. */
function mutatePbFloat(bytes: Uint8Array, m: Extract<Mutation, { op: 'float' }>): Uint8Array {
  try {
    const t = decodeTensorProto(bytes);
    const raw = t.raw_data;
    if (!raw || raw.length < 4) return bytes;
    const copy = raw.slice();
    new DataView(copy.buffer).setFloat32(4 * (m.at % Math.floor(copy.length / 4)), FLOAT_POOL[m.value]!, true);
    return encodeTensorProto({ ...t, raw_data: copy });
  } catch {
    return bytes;
  }
}

// ---- applying ---------------------------------------------------------------------------------

/** The seed's bytes with every mutation applied in order (byte positions taken modulo the length). */
export function applyMutations(seed: Uint8Array, kind: SeedKind, list: readonly Mutation[]): Uint8Array {
  let bytes = seed;
  for (const m of list) {
    const n = bytes.length;
    const at =
      n === 0
        ? 0
        : m.op === 'set' || m.op === 'xor' || m.op === 'truncate' || m.op === 'insert' || m.op === 'delete' || m.op === 'duplicate'
          ? m.at % (n + (m.op === 'insert' ? 1 : 0))
          : 0;
    switch (m.op) {
      case 'set':
      case 'xor': {
        if (n === 0) break;
        bytes = bytes.slice();
        bytes[at] = m.op === 'set' ? m.value : bytes[at]! ^ (1 << m.bit);
        break;
      }
      case 'truncate':
        bytes = bytes.slice(0, at);
        break;
      case 'insert':
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + m.length)]);
        break;
      case 'duplicate':
        bytes = Uint8Array.from([
          ...bytes.subarray(0, at + m.length),
          ...bytes.subarray(at, at + m.length),
          ...bytes.subarray(at + m.length),
        ]);
        break;
      case 'header':
      case 'header-length':
      case 'options': {
        const p = splitSafetensors(bytes);
        if (!p) break;
        if (m.op === 'header') bytes = mutateHeader(p, m);
        else if (m.op === 'options') bytes = mutateOptions(p, m);
        else bytes = joinSafetensors(p.header, p.data, m.delta);
        break;
      }
      case 'float': {
        if (kind === 'pb') {
          bytes = mutatePbFloat(bytes, m);
          break;
        }
        const p = splitSafetensors(bytes);
        if (p) bytes = mutateFloat(bytes, bytes.length - p.data.length, m);
        break;
      }
      case 'proto':
        if (kind === 'onnx' || kind === 'pb') bytes = mutateProto(bytes, kind, m);
        break;
    }
  }
  return bytes;
}
