import { ModelError } from '../errors.ts';
import { tensor, type FloatArray, type Tensor } from '../tensor.ts';

/**
 * The safetensors format (Hugging Face; what `safetensors.torch.save_file` writes), read and written
 * with plain Uint8Array and DataView, so it runs in the browser as in Node:
 *
 *   bytes 0…7        N, the header's length, a little-endian u64
 *   bytes 8…8+N      the header, UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, …,
 *                    "__metadata__"?: { key: string value } }
 *   bytes 8+N…end    the data: each tensor row-major, little-endian, at [begin, end) of this region
 *
 * The tensors' byte ranges, sorted by offset, must tile the data region exactly (no gap, no overlap,
 * nothing after the last), and each range must hold shape product × dtype size bytes. The writer
 * follows the reference implementation: tensors sorted by name, the header padded with spaces to a
 * multiple of 8 bytes (so the data starts 8-aligned), `__metadata__` first.
 */

/** The element types of the format. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

/**
 * Decoded elements: F32, F16 and BF16 as Float32Array, F64 as Float64Array, 64-bit integers as
 * BigInt64Array / BigUint64Array, the other integers in their own typed array (BOOL as 0/1 bytes).
 */
export type SafetensorsData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

/** One tensor of a file: its stored dtype, shape and decoded elements. */
export interface SafetensorsEntry {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: SafetensorsData;
}

/** A whole file: the tensors by name and the optional string-to-string metadata. */
export interface SafetensorsFile {
  readonly tensors: Record<string, SafetensorsEntry>;
  readonly metadata: Record<string, string> | null;
}

/** Bytes per element and how to decode `n` elements starting at a byte offset. */
interface DtypeCodec {
  size: number;
  decode(view: DataView, offset: number, n: number): SafetensorsData;
}

/** IEEE 754 half precision: 1 sign, 5 exponent (bias 15), 10 mantissa bits; subnormals when e = 0. */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m === 0 ? sign * Infinity : NaN;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

const bfloat16Scratch = new DataView(new ArrayBuffer(4));

/** bfloat16: the upper 16 bits of a float32, so decoding is a shift. */
export function bfloat16ToNumber(bits: number): number {
  bfloat16Scratch.setUint32(0, (bits & 0xffff) << 16);
  return bfloat16Scratch.getFloat32(0);
}

/** A codec reading each element with one DataView getter (always little-endian). */
function codec<A extends SafetensorsData>(
  size: number,
  Out: new (n: number) => A,
  get: (view: DataView, at: number) => A[number],
): DtypeCodec {
  return {
    size,
    decode(view, offset, n) {
      const out = new Out(n);
      for (let i = 0; i < n; i++) out[i] = get(view, offset + i * size);
      return out;
    },
  };
}

const CODECS: Record<SafetensorsDtype, DtypeCodec> = {
  F64: codec(8, Float64Array, (v, at) => v.getFloat64(at, true)),
  F32: codec(4, Float32Array, (v, at) => v.getFloat32(at, true)),
  F16: codec(2, Float32Array, (v, at) => float16ToNumber(v.getUint16(at, true))),
  BF16: codec(2, Float32Array, (v, at) => bfloat16ToNumber(v.getUint16(at, true))),
  I64: codec(8, BigInt64Array, (v, at) => v.getBigInt64(at, true)),
  U64: codec(8, BigUint64Array, (v, at) => v.getBigUint64(at, true)),
  I32: codec(4, Int32Array, (v, at) => v.getInt32(at, true)),
  U32: codec(4, Uint32Array, (v, at) => v.getUint32(at, true)),
  I16: codec(2, Int16Array, (v, at) => v.getInt16(at, true)),
  U16: codec(2, Uint16Array, (v, at) => v.getUint16(at, true)),
  I8: codec(1, Int8Array, (v, at) => v.getInt8(at)),
  U8: codec(1, Uint8Array, (v, at) => v.getUint8(at)),
  BOOL: codec(1, Uint8Array, (v, at) => (v.getUint8(at) === 0 ? 0 : 1)),
};

/** The reference implementation's bound: a larger header is taken as corrupt rather than read. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

function fail(message: string): never {
  throw new ModelError(`safetensors: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Reads and validates the 8-byte length and the JSON header; returns it and where the data starts. */
function readHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (!(bytes instanceof Uint8Array)) fail('expected the file as a Uint8Array or ArrayBuffer');
  if (bytes.length < 8) {
    fail(`the file has ${bytes.length} bytes; it must start with an 8-byte header length (truncated?)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`the header length ${n} is beyond the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  const headerBytes = Number(n);
  if (8 + headerBytes > bytes.length) {
    fail(`the header length ${headerBytes} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerBytes));
  } catch {
    fail('the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(header)) fail('the header must be a JSON object of tensor entries');
  return { header, dataStart: 8 + headerBytes };
}

function readMetadata(value: unknown): Record<string, string> {
  if (!isRecord(value)) fail(`${METADATA_KEY} must be an object of strings, got ${JSON.stringify(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`${METADATA_KEY}.${k} must be a string, got ${JSON.stringify(v)}`);
  }
  return { ...(value as Record<string, string>) };
}

interface EntryInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** Validates one header entry on its own: dtype known, shape and offsets non-negative integers, sizes agree. */
function readEntryInfo(name: string, value: unknown, dataBytes: number): EntryInfo {
  const where = `tensor ${JSON.stringify(name)}`;
  if (!isRecord(value)) fail(`${where}: the entry must be an object { dtype, shape, data_offsets }`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !Object.hasOwn(CODECS, dtype)) {
    fail(`${where}: unknown or unsupported dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(CODECS).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(`${where}: data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes) {
    fail(`${where}: data_offsets [${begin}, ${end}] run past the ${dataBytes}-byte data region (truncated?)`);
  }
  const size = CODECS[dtype as SafetensorsDtype].size;
  let elements = 1;
  for (const d of shape as number[]) elements *= d;
  const want = elements * size;
  if (!Number.isSafeInteger(want) || want !== end - begin) {
    fail(`${where}: shape [${shape.join(', ')}] of ${dtype} needs ${want} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
}

/** The byte ranges, in offset order, must tile [0, dataBytes): no gap, no overlap, nothing left over. */
function checkTiling(entries: EntryInfo[], dataBytes: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let previous = '';
  for (const e of sorted) {
    if (e.begin < at) fail(`tensor ${JSON.stringify(e.name)} at [${e.begin}, ${e.end}] overlaps ${previous}`);
    if (e.begin > at) fail(`bytes [${at}, ${e.begin}) of the data region belong to no tensor (before ${JSON.stringify(e.name)})`);
    at = e.end;
    previous = `tensor ${JSON.stringify(e.name)} ending at ${e.end}`;
  }
  if (at !== dataBytes) fail(`the tensors cover ${at} bytes of data but the file holds ${dataBytes} after the header`);
}

/**
 * Parses a safetensors file. Every inconsistency (truncation, a header that is not a JSON object,
 * an unknown dtype, offsets out of range, overlapping or leaving bytes uncovered, a shape that does
 * not match its byte range, non-string metadata) is a {@link ModelError} saying what is wrong.
 * F16 and BF16 decode to Float32Array exactly; the result shares no memory with `file` (a
 * Uint8Array, e.g. Node's readFileSync, or the ArrayBuffer of a fetch response).
 */
export function readSafetensors(file: Uint8Array | ArrayBuffer): SafetensorsFile {
  const bytes = file instanceof ArrayBuffer ? new Uint8Array(file) : file;
  const { header, dataStart } = readHeader(bytes);
  const dataBytes = bytes.length - dataStart;
  let metadata: Record<string, string> | null = null;
  const infos: EntryInfo[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = readMetadata(value);
    else infos.push(readEntryInfo(name, value, dataBytes));
  }
  checkTiling(infos, dataBytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart, dataBytes);
  const tensors = Object.fromEntries(
    infos.map((e): [string, SafetensorsEntry] => {
      const n = (e.end - e.begin) / CODECS[e.dtype].size;
      return [e.name, { dtype: e.dtype, shape: e.shape, data: CODECS[e.dtype].decode(view, e.begin, n) }];
    }),
  );
  return { tensors, metadata };
}

/**
 * The floating-point tensors of a file as {@link Tensor}s (F64 stays Float64Array, the others are
 * Float32Array). An integer or boolean tensor is a {@link ModelError} naming it: weights are floats.
 */
export function floatTensors(file: SafetensorsFile): Record<string, Tensor> {
  return Object.fromEntries(
    Object.entries(file.tensors).map(([name, e]): [string, Tensor] => {
      if (!(e.data instanceof Float32Array || e.data instanceof Float64Array)) {
        throw new ModelError(
          `safetensors: tensor ${JSON.stringify(name)} holds ${e.dtype} values; expected floating point (F32, F64, F16 or BF16)`,
        );
      }
      return [name, { data: e.data, shape: [...e.shape] }];
    }),
  );
}

/** Orders names by Unicode code point, as the reference implementation's byte-wise UTF-8 sort does. */
function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * Writes tensors as a safetensors file of F32 values (Float64Array data is rounded to float32),
 * laid out as the reference implementation does: names sorted, data in that order, the JSON header
 * compact and padded with spaces to a multiple of 8 bytes, `metadata` (sorted by key) first.
 * Throws {@link ShapeError} for a tensor whose data does not fit its shape and {@link ModelError}
 * for a name or metadata value the format cannot hold.
 */
export function writeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort(compareCodePoints);
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (!isRecord(metadata)) throw new ModelError('safetensors: metadata must be an object of strings');
    const keys = Object.keys(metadata).sort(compareCodePoints);
    for (const k of keys) {
      if (typeof metadata[k] !== 'string') throw new ModelError(`safetensors: metadata ${JSON.stringify(k)} must be a string`);
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  const values: Float32Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) throw new ModelError(`safetensors: ${METADATA_KEY} is reserved and cannot name a tensor`);
    const t: unknown = tensors[name];
    if (!isRecord(t) || !(t.data instanceof Float32Array || t.data instanceof Float64Array) || !Array.isArray(t.shape)) {
      throw new ModelError(`safetensors: ${JSON.stringify(name)} must be a tensor { data: Float32Array | Float64Array, shape }`);
    }
    const checked = tensor(t.data as FloatArray, t.shape as number[]);
    const f32 = checked.data instanceof Float32Array ? checked.data : Float32Array.from(checked.data);
    const end = offset + f32.length * 4;
    parts.push(`${JSON.stringify(name)}:{"dtype":"F32","shape":[${checked.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    values.push(f32);
    offset = end;
  }
  let header = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(header.length / 8) * 8;
  if (padded !== header.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(header);
    header = withSpaces;
  }
  const out = new Uint8Array(8 + header.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const v of values) {
    for (let i = 0; i < v.length; i++, at += 4) view.setFloat32(at, v[i]!, true);
  }
  return out;
}
