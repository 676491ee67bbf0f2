import protobuf from 'protobufjs';
import schema from './onnx.proto?raw';
import { ModelError } from '../errors.ts';

/**
 * The ONNX protobuf messages, decoded with protobufjs from the schema in `onnx.proto` (imported as
 * text through Vite's `?raw` suffix, so the same code runs in Node and the browser).
 *
 * Messages are handed out as plain objects (`Type.toObject`) with the proto's own field names
 * (`raw_data`, `op_type`, …), int64 fields as decimal strings (exact, parsed where they are used),
 * enums as numbers and bytes as Uint8Array. Absent optional fields are `undefined`. The interfaces
 * below describe the subset of each message that webrnn reads.
 */

export interface TensorProtoJson {
  dims?: string[];
  data_type?: number;
  segment?: object;
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: string[];
  name?: string;
  raw_data?: Uint8Array;
  external_data?: { key?: string; value?: string }[];
  data_location?: number;
  double_data?: number[];
  uint64_data?: string[];
}

export interface AttributeProtoJson {
  name?: string;
  ref_attr_name?: string;
  type?: number;
  f?: number;
  i?: string;
  s?: Uint8Array;
  t?: TensorProtoJson;
  g?: GraphProtoJson;
  floats?: number[];
  ints?: string[];
  strings?: Uint8Array[];
  tensors?: TensorProtoJson[];
}

export interface NodeProtoJson {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProtoJson[];
}

export interface TensorShapeProtoJson {
  dim?: { dim_value?: string; dim_param?: string }[];
}

export interface TypeProtoJson {
  tensor_type?: { elem_type?: number; shape?: TensorShapeProtoJson };
  sequence_type?: object;
  map_type?: object;
  optional_type?: object;
  sparse_tensor_type?: object;
}

export interface ValueInfoProtoJson {
  name?: string;
  type?: TypeProtoJson;
}

export interface GraphProtoJson {
  node?: NodeProtoJson[];
  name?: string;
  initializer?: TensorProtoJson[];
  sparse_initializer?: object[];
  input?: ValueInfoProtoJson[];
  output?: ValueInfoProtoJson[];
  value_info?: ValueInfoProtoJson[];
}

export interface OperatorSetIdProtoJson {
  domain?: string;
  version?: string;
}

export interface ModelProtoJson {
  ir_version?: string;
  opset_import?: OperatorSetIdProtoJson[];
  producer_name?: string;
  producer_version?: string;
  graph?: GraphProtoJson;
}

let root: protobuf.Root | null = null;

/** The parsed schema, built on first use. */
function onnxType(name: 'ModelProto' | 'TensorProto'): protobuf.Type {
  root ??= protobuf.parse(schema, { keepCase: true }).root;
  return root.lookupType(`onnx.${name}`);
}

const AS_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number };

function decode<T>(name: 'ModelProto' | 'TensorProto', bytes: Uint8Array, what: string): T {
  const type = onnxType(name);
  try {
    return type.toObject(type.decode(bytes), AS_OBJECT) as T;
  } catch (err) {
    // protobufjs throws RangeError ("index out of range") for truncated input and Error
    // ("invalid wire type …") for bytes that are not a protobuf message at all.
    const why = err instanceof Error ? err.message : String(err);
    throw new ModelError(`${what} is not a valid ONNX ${name} (truncated or corrupt bytes: ${why})`, { cause: err });
  }
}

/** Decodes a serialized ModelProto (the bytes of a `.onnx` file); {@link ModelError} if it cannot. */
export function decodeModelProto(bytes: Uint8Array): ModelProtoJson {
  return decode<ModelProtoJson>('ModelProto', bytes, 'the model file');
}

/** Decodes a serialized TensorProto (an ONNX test's `input_0.pb`); {@link ModelError} if it cannot. */
export function decodeTensorProto(bytes: Uint8Array, what = 'the tensor file'): TensorProtoJson {
  return decode<TensorProtoJson>('TensorProto', bytes, what);
}

/** Serializes a ModelProto given as a plain object of the shape {@link decodeModelProto} returns. */
export function encodeModelProto(model: ModelProtoJson): Uint8Array {
  const type = onnxType('ModelProto');
  return type.encode(type.fromObject(model)).finish();
}

/** Serializes a TensorProto given as a plain object. */
export function encodeTensorProto(t: TensorProtoJson): Uint8Array {
  const type = onnxType('TensorProto');
  return type.encode(type.fromObject(t)).finish();
}
