import { ATTRIBUTE_TYPES } from './attributes.ts';
import { encodeModelProto, type AttributeProtoJson, type ModelProtoJson, type NodeProtoJson, type ValueInfoProtoJson } from './proto.ts';
import { dataTypeCode, tensorToProto, type OnnxDataType, type OnnxTensor } from './tensor.ts';

/**
 * Builds small ONNX models in memory: the tests' way to exercise one operator, or to make a
 * deliberately broken model, without a Python round trip.
 */

const utf8 = new TextEncoder();

/** Attribute protos by type: `attribute.ints('perm', [1, 0])`. */
export const attribute = {
  int: (name: string, v: number | bigint): AttributeProtoJson => ({ name, type: ATTRIBUTE_TYPES.INT, i: String(v) }),
  ints: (name: string, v: readonly (number | bigint)[]): AttributeProtoJson => ({ name, type: ATTRIBUTE_TYPES.INTS, ints: v.map(String) }),
  float: (name: string, v: number): AttributeProtoJson => ({ name, type: ATTRIBUTE_TYPES.FLOAT, f: v }),
  floats: (name: string, v: readonly number[]): AttributeProtoJson => ({ name, type: ATTRIBUTE_TYPES.FLOATS, floats: [...v] }),
  string: (name: string, v: string): AttributeProtoJson => ({ name, type: ATTRIBUTE_TYPES.STRING, s: utf8.encode(v) }),
  strings: (name: string, v: readonly string[]): AttributeProtoJson => ({
    name,
    type: ATTRIBUTE_TYPES.STRINGS,
    strings: v.map((s) => utf8.encode(s)),
  }),
  tensor: (name: string, t: OnnxTensor): AttributeProtoJson => ({ name, type: ATTRIBUTE_TYPES.TENSOR, t: tensorToProto(t) }),
};

/** A declared graph input or output; dims null (or absent) for an unknown shape. */
export interface ValueSpec {
  name: string;
  type: OnnxDataType;
  dims?: readonly (number | string)[] | null;
}

export interface ModelSpec {
  nodes: NodeProtoJson[];
  inputs?: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: Record<string, OnnxTensor>;
  /** ai.onnx opset version (default 17). */
  opset?: number;
}

function valueInfo(v: ValueSpec): ValueInfoProtoJson {
  const shape = v.dims ? { dim: v.dims.map((d) => (typeof d === 'number' ? { dim_value: String(d) } : { dim_param: d })) } : undefined;
  return { name: v.name, type: { tensor_type: { elem_type: dataTypeCode(v.type), ...(shape ? { shape } : {}) } } };
}

/** The ModelProto object for a spec (edit it further, then {@link encodeModelProto}). */
export function modelProto(spec: ModelSpec): ModelProtoJson {
  return {
    ir_version: '8',
    producer_name: 'webrnn',
    opset_import: [{ domain: '', version: String(spec.opset ?? 17) }],
    graph: {
      name: 'graph',
      node: spec.nodes,
      input: (spec.inputs ?? []).map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: Object.entries(spec.initializers ?? {}).map(([name, t]) => tensorToProto(t, name)),
    },
  };
}

/** The bytes of a `.onnx` file for a spec. */
export function buildModel(spec: ModelSpec): Uint8Array {
  return encodeModelProto(modelProto(spec));
}
