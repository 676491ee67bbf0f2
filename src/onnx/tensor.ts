import { ModelError, ShapeError } from '../errors.ts';
import { decodeTensorProto, encodeTensorProto, type TensorProtoJson } from './proto.ts';

/**
 * The tensors an ONNX graph passes between its nodes: dense, row-major (last dimension contiguous),
 * with ONNX's element types. int64 is held exactly in a BigInt64Array; bool as 0/1 bytes.
 */
export type OnnxDataType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'int64' | 'bool';

export type OnnxData = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | BigInt64Array;

export interface OnnxTensor {
  readonly type: OnnxDataType;
  readonly dims: readonly number[];
  readonly data: OnnxData;
}

interface DataTypeInfo {
  /** TensorProto.DataType enum value. */
  code: number;
  /** Bytes per element in raw_data. */
  bytes: number;
  array: new (n: number) => OnnxData;
}

const DATA_TYPES: Record<OnnxDataType, DataTypeInfo> = {
  float32: { code: 1, bytes: 4, array: Float32Array },
  uint8: { code: 2, bytes: 1, array: Uint8Array },
  int8: { code: 3, bytes: 1, array: Int8Array },
  uint16: { code: 4, bytes: 2, array: Uint16Array },
  int16: { code: 5, bytes: 2, array: Int16Array },
  int32: { code: 6, bytes: 4, array: Int32Array },
  int64: { code: 7, bytes: 8, array: BigInt64Array },
  bool: { code: 9, bytes: 1, array: Uint8Array },
  float64: { code: 11, bytes: 8, array: Float64Array },
};

/** ONNX element types webrnn does not hold, for error messages. */
const UNSUPPORTED_TYPES: Record<number, string> = {
  0: 'UNDEFINED',
  8: 'string',
  10: 'float16',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
};

/**
 * The largest tensor an op may create (elements). Shapes come from the model file, so an op such as
 * Expand or ConstantOfShape is refused before it tries to allocate something absurd.
 */
export const MAX_ELEMENTS = 2 ** 28;

/** The type of a TensorProto.DataType code; {@link ModelError} naming `what` when unsupported. */
export function dataTypeOf(code: number | undefined, what: string): OnnxDataType {
  for (const [name, info] of Object.entries(DATA_TYPES)) {
    if (info.code === code) return name as OnnxDataType;
  }
  const name = code === undefined ? 'missing' : (UNSUPPORTED_TYPES[code] ?? `unknown (${code})`);
  throw new ModelError(`${what}: element type ${name} is not supported (float32, float64, int8/16/32/64, uint8/16, bool)`);
}

/** The TensorProto.DataType code of a type. */
export function dataTypeCode(type: OnnxDataType): number {
  return DATA_TYPES[type].code;
}

export function isFloatType(type: OnnxDataType): type is 'float32' | 'float64' {
  return type === 'float32' || type === 'float64';
}

/** Number of elements a shape holds. */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

export function formatDims(dims: readonly (number | string | null)[]): string {
  return `[${dims.map((d) => d ?? '?').join(', ')}]`;
}

/** A zero-filled array for a tensor of `dims`; {@link ShapeError} beyond {@link MAX_ELEMENTS}. */
export function allocate(type: OnnxDataType, dims: readonly number[]): OnnxData {
  return new DATA_TYPES[type].array(checkedCount(dims));
}

/** The element count of `dims`; {@link ShapeError} beyond {@link MAX_ELEMENTS}. */
function checkedCount(dims: readonly number[]): number {
  const n = elementCount(dims);
  if (!(n <= MAX_ELEMENTS)) {
    throw new ShapeError(`a tensor of shape ${formatDims(dims)} would hold ${n} elements, more than webrnn allows (${MAX_ELEMENTS})`);
  }
  return n;
}

/**
 * Builds a tensor after checking that dims are non-negative integers and that the data's array type
 * and length fit; {@link ShapeError} otherwise (this is what user-given feeds go through).
 */
export function onnxTensor(type: OnnxDataType, dims: readonly number[], data: OnnxData): OnnxTensor {
  const info = DATA_TYPES[type];
  if (!info) throw new ShapeError(`unknown tensor type ${JSON.stringify(type)}`);
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ShapeError(`tensor dims ${formatDims(dims)} must be non-negative integers`);
  }
  if (!(data instanceof info.array)) {
    throw new ShapeError(`a ${type} tensor needs a ${info.array.name}, got ${data?.constructor?.name ?? typeof data}`);
  }
  if (data.length !== elementCount(dims)) {
    throw new ShapeError(`tensor data has ${data.length} elements but dims ${formatDims(dims)} need ${elementCount(dims)}`);
  }
  return { type, dims: [...dims], data };
}

/** Parses an int64 carried as a decimal string; {@link ModelError} when it does not fit a safe integer. */
export function int64ToNumber(s: string | number | undefined, what: string): number {
  const v = Number(s ?? 0);
  if (!Number.isSafeInteger(v)) throw new ModelError(`${what}: int64 value ${String(s)} is beyond ±2^53 (overflow)`);
  return v;
}

function protoDims(p: TensorProtoJson, what: string): number[] {
  return (p.dims ?? []).map((d) => {
    const v = int64ToNumber(d, `${what} dims`);
    if (v < 0) throw new ModelError(`${what}: negative dimension ${v}`);
    return v;
  });
}

/** Reads `n` little-endian elements of `type` from raw_data. */
function fromRawData(type: OnnxDataType, raw: Uint8Array, n: number, what: string): OnnxData {
  const size = DATA_TYPES[type].bytes;
  if (raw.length !== n * size) {
    throw new ModelError(`${what}: raw_data holds ${raw.length} bytes but ${n} ${type} elements need ${n * size}`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new DATA_TYPES[type].array(n);
  for (let i = 0; i < n; i++) {
    const at = i * size;
    switch (type) {
      case 'float32':
        out[i] = view.getFloat32(at, true);
        break;
      case 'float64':
        out[i] = view.getFloat64(at, true);
        break;
      case 'int8':
        out[i] = view.getInt8(at);
        break;
      case 'uint8':
        out[i] = view.getUint8(at);
        break;
      case 'bool':
        out[i] = view.getUint8(at) !== 0 ? 1 : 0;
        break;
      case 'int16':
        out[i] = view.getInt16(at, true);
        break;
      case 'uint16':
        out[i] = view.getUint16(at, true);
        break;
      case 'int32':
        out[i] = view.getInt32(at, true);
        break;
      case 'int64':
        out[i] = view.getBigInt64(at, true);
        break;
    }
  }
  return out;
}

/** Reads the typed `*_data` field that holds `type` (float_data, double_data, int32_data, int64_data). */
function fromTypedField(type: OnnxDataType, p: TensorProtoJson, n: number, what: string): OnnxData {
  const [field, values]: [string, readonly (number | string)[]] =
    type === 'float32'
      ? ['float_data', p.float_data ?? []]
      : type === 'float64'
        ? ['double_data', p.double_data ?? []]
        : type === 'int64'
          ? ['int64_data', p.int64_data ?? []]
          : ['int32_data', p.int32_data ?? []];
  if (values.length !== n) throw new ModelError(`${what}: ${field} holds ${values.length} values but dims need ${n}`);
  const out = new DATA_TYPES[type].array(n);
  for (let i = 0; i < n; i++) {
    if (out instanceof BigInt64Array) out[i] = BigInt(values[i]!);
    else out[i] = type === 'bool' ? (Number(values[i]) !== 0 ? 1 : 0) : Number(values[i]);
  }
  return out;
}

/**
 * Converts a decoded TensorProto into an {@link OnnxTensor}. Data comes from raw_data (little-endian)
 * when present, else from the typed field. External data, segments and unsupported element types
 * are {@link ModelError}s naming `what`, as is a data length that does not match the dims.
 */
export function tensorFromProto(p: TensorProtoJson, what: string): OnnxTensor {
  if (p.data_location === 1 || (p.external_data?.length ?? 0) > 0) {
    const location = p.external_data?.find((e) => e.key === 'location')?.value;
    throw new ModelError(
      `${what} keeps its data in an external file${location ? ` (${location})` : ''}; webrnn reads self-contained models only`,
    );
  }
  if (p.segment) throw new ModelError(`${what} is a segment of a larger tensor, which webrnn does not read`);
  const type = dataTypeOf(p.data_type, what);
  const dims = protoDims(p, what);
  const n = elementCount(dims);
  if (!Number.isSafeInteger(n)) throw new ModelError(`${what}: dims ${formatDims(dims)} hold too many elements`);
  const data = p.raw_data && p.raw_data.length > 0 ? fromRawData(type, p.raw_data, n, what) : fromTypedField(type, p, n, what);
  return { type, dims, data };
}

/** Decodes a serialized TensorProto (e.g. an ONNX test's `input_0.pb`) into a tensor. */
export function decodeTensor(bytes: Uint8Array, what = 'the tensor file'): OnnxTensor {
  return tensorFromProto(decodeTensorProto(bytes, what), what);
}

/** A tensor as a TensorProto object with raw_data (assumes a little-endian host, as every JavaScript platform in use is). */
export function tensorToProto(t: OnnxTensor, name = ''): TensorProtoJson {
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
  return { name, dims: t.dims.map(String), data_type: dataTypeCode(t.type), raw_data: raw };
}

/** Serializes a tensor as a TensorProto (the format of an ONNX test's `input_0.pb`). */
export function encodeTensor(t: OnnxTensor, name = ''): Uint8Array {
  return encodeTensorProto(tensorToProto(t, name));
}

/** The elements as float64 numbers (int64 through Number(), exact up to 2^53). */
export function toNumbers(t: OnnxTensor): Float64Array {
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(t.data[i]!);
  return out;
}

/**
 * An integer tensor's values as numbers, for shapes, axes and indices; {@link ModelError} naming
 * `what` for a non-integer type or a value beyond ±2^53. With `clamp`, huge values (Slice's
 * INT64_MAX for "to the end") become ±MAX_SAFE_INTEGER instead.
 */
export function toIndices(t: OnnxTensor, what: string, clamp = false): number[] {
  if (t.type !== 'int64' && t.type !== 'int32') throw new ModelError(`${what} must be int64 or int32, got ${t.type}`);
  return Array.from(elements(t.data) as ArrayLike<number | bigint>, (v) => {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return n;
    if (clamp) return n > 0 ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER;
    throw new ModelError(`${what}: int64 value ${String(v)} is beyond ±2^53 (overflow)`);
  });
}

/** A tensor of `dims` whose element `i` is `values[i]` converted to `type` (bool: ≠ 0). */
export function fromNumbers(type: OnnxDataType, dims: readonly number[], values: ArrayLike<number>): OnnxTensor {
  const data = allocate(type, dims);
  for (let i = 0; i < data.length; i++) {
    const v = values[i]!;
    if (data instanceof BigInt64Array) {
      if (!Number.isFinite(v)) throw new ModelError(`cannot convert ${v} to int64`);
      data[i] = BigInt(Math.trunc(v));
    } else {
      data[i] = type === 'bool' ? (v !== 0 ? 1 : 0) : v;
    }
  }
  return { type, dims: [...dims], data };
}

/** A 1-D int64 tensor, as Shape returns. */
export function int64Vector(values: readonly number[]): OnnxTensor {
  return { type: 'int64', dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) };
}

/** Elements of either kind (number or bigint), for code that copies between arrays of one type. */
export type Elements = { [i: number]: number | bigint; readonly length: number };

/**
 * Views the data as {@link Elements}. Copies through it are only correct between arrays of the same
 * {@link OnnxDataType}, which every caller checks first.
 */
export function elements(data: OnnxData): Elements {
  return data as unknown as Elements;
}

/** A new tensor of `dims` whose element `i` is `t`'s element `offsets[i]`: every data-movement op. */
export function take(t: OnnxTensor, dims: readonly number[], offsets: ArrayLike<number>): OnnxTensor {
  const data = allocate(t.type, dims);
  const src = elements(t.data);
  const dst = elements(data);
  for (let i = 0; i < offsets.length; i++) dst[i] = src[offsets[i]!]!;
  return { type: t.type, dims: [...dims], data };
}

/** Row-major strides of a shape. */
export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let stride = 1;
  for (let k = dims.length - 1; k >= 0; k--) {
    s[k] = stride;
    stride *= dims[k]!;
  }
  return s;
}

/**
 * For each element of an output of `dims` (row-major), the offset `base + Σ index[k]·strides[k]` in
 * the source: broadcasting (stride 0), transposing (permuted strides) and slicing (scaled strides).
 */
export function stridedOffsets(dims: readonly number[], strides: readonly number[], base = 0): Int32Array {
  const n = checkedCount(dims);
  const offsets = new Int32Array(n);
  const index = new Array<number>(dims.length).fill(0);
  let at = base;
  for (let i = 0; i < n; i++) {
    offsets[i] = at;
    for (let k = dims.length - 1; k >= 0; k--) {
      index[k]!++;
      at += strides[k]!;
      if (index[k]! < dims[k]!) break;
      at -= strides[k]! * dims[k]!;
      index[k] = 0;
    }
  }
  return offsets;
}
