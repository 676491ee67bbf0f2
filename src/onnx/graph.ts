import type { Backend } from '../backends/backend.ts';
import { DeviceError, ModelError, NumericError, ShapeError, WeightError } from '../errors.ts';
import { checkFiniteInput, firstOutside } from '../util/finite.ts';
import { NodeAttributes } from './attributes.ts';
import { operator, type OpDef } from './ops/index.ts';
import { decodeModelProto, type GraphProtoJson, type NodeProtoJson, type ValueInfoProtoJson } from './proto.ts';
import { dataTypeOf, formatDims, int64ToNumber, onnxTensor, tensorFromProto, type OnnxDataType, type OnnxTensor } from './tensor.ts';

/** The ai.onnx opset versions webrnn reads (RNN/GRU/LSTM as of opset 7; layout from 14). */
export const MIN_OPSET = 7;
export const MAX_OPSET = 21;

/** A graph input or output as the model declares it. */
export interface OnnxValueInfo {
  readonly name: string;
  readonly type: OnnxDataType;
  /** Per dimension: its size, the name of a symbolic dimension ("batch"), or null when unknown; null when even the rank is unknown. */
  readonly dims: readonly (number | string | null)[] | null;
}

export interface OnnxRunOptions {
  /** Where RNN, GRU and LSTM nodes run: `cpuBackend` or a `WebGPUBackend`. Other operators run on the CPU. */
  backend: Backend;
}

/** One node, checked at load time. */
interface PreparedNode {
  label: string;
  op: OpDef;
  inputs: string[];
  outputs: string[];
  attrs: NodeAttributes;
}

/** The name of a node for messages: `LSTM node "lstm_1"`, or `LSTM node #3` when unnamed. */
function nodeLabel(n: NodeProtoJson, index: number): string {
  return `${n.op_type || '(no op_type)'} node ${n.name ? JSON.stringify(n.name) : `#${index}`}`;
}

function valueInfo(v: ValueInfoProtoJson, what: string): OnnxValueInfo {
  const name = v.name ?? '';
  const tt = v.type?.tensor_type;
  if (!tt) throw new ModelError(`${what} ${JSON.stringify(name)} is not a tensor (sequences, maps and optionals are not supported)`);
  const type = dataTypeOf(tt.elem_type, `${what} ${JSON.stringify(name)}`);
  const dims = tt.shape
    ? (tt.shape.dim ?? []).map((d) =>
        d.dim_value !== undefined ? int64ToNumber(d.dim_value, `${what} ${name} dims`) : (d.dim_param ?? null),
      )
    : null;
  return { name, type, dims };
}

/** The model's ai.onnx opset version; {@link ModelError} when absent or outside what webrnn reads. */
function defaultOpset(imports: readonly { domain?: string; version?: string }[]): number {
  const entry = imports.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) throw new ModelError('the model imports no ai.onnx opset (opset_import lists none for the default domain)');
  const version = int64ToNumber(entry.version, 'opset version');
  if (version < MIN_OPSET || version > MAX_OPSET) {
    throw new ModelError(`ai.onnx opset ${version} is not supported (webrnn reads opsets ${MIN_OPSET}–${MAX_OPSET})`);
  }
  return version;
}

/** Checks each node's domain, operator, attributes and inputs in graph order. */
function prepareNodes(graph: GraphProtoJson, available: Set<string>): PreparedNode[] {
  return (graph.node ?? []).map((n, index) => {
    const label = nodeLabel(n, index);
    if (n.domain && n.domain !== 'ai.onnx')
      throw new ModelError(`${label}: domain ${JSON.stringify(n.domain)} is not supported (ai.onnx only)`);
    const op = operator(n.op_type ?? '');
    if (!op) throw new ModelError(`${label}: operator ${JSON.stringify(n.op_type ?? '')} is not supported`);
    const attrs = new NodeAttributes(label, n.attribute ?? []);
    for (const name of attrs.names()) {
      if (!op.attributes.includes(name))
        throw new ModelError(`${label}: attribute ${JSON.stringify(name)} is not supported by ${n.op_type}`);
    }
    const inputs = n.input ?? [];
    for (const name of inputs) {
      if (name !== '' && !available.has(name)) {
        throw new ModelError(`${label} reads ${JSON.stringify(name)}, which no graph input, initializer or earlier node provides`);
      }
    }
    const outputs = n.output ?? [];
    for (const name of outputs) {
      if (name === '') continue;
      if (available.has(name)) throw new ModelError(`${label} writes ${JSON.stringify(name)}, which is already defined`);
      available.add(name);
    }
    return { label, op, inputs, outputs, attrs };
  });
}

/**
 * {@link ShapeError} unless the feed fits the declared input (type, rank, static dims) and, for a
 * float input, holds only finite values within float32's range (webrnn's one policy for inputs,
 * src/util/finite.ts: the recurrent nodes compute in float32 on the GPU).
 */
function checkFeed(info: OnnxValueInfo, t: OnnxTensor): void {
  const what = `input ${JSON.stringify(info.name)}`;
  if (!t || typeof t !== 'object') throw new ShapeError(`${what} must be an OnnxTensor`);
  onnxTensor(t.type, t.dims, t.data);
  if (t.type !== info.type) throw new ShapeError(`${what} must be ${info.type}, got ${t.type}`);
  if (info.dims) {
    const bad = t.dims.length !== info.dims.length || info.dims.some((d, k) => typeof d === 'number' && d !== t.dims[k]);
    if (bad) throw new ShapeError(`${what} must have dims ${formatDims(info.dims)}, got ${formatDims(t.dims)}`);
  }
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) checkFiniteInput(what, t.data, t.dims);
}

/** The index of a NaN or ±Infinity in a float tensor's data, or −1 (integer tensors have none). */
function firstNonFinite(t: OnnxTensor): number {
  return t.data instanceof Float32Array || t.data instanceof Float64Array ? firstOutside(t.data, Number.MAX_VALUE) : -1;
}

/**
 * {@link WeightError} for a float initializer holding NaN or ±Infinity: parameters must be finite,
 * as the recurrent layers' own checks require of W, R, B and P (src/rnn/spec.ts); an infinite head
 * weight would otherwise reach the outputs unremarked.
 */
function checkInitializer(name: string, t: OnnxTensor): void {
  const i = firstNonFinite(t);
  if (i >= 0) throw new WeightError(`initializer ${JSON.stringify(name)} holds a non-finite value (${t.data[i]}) at index ${i}`);
}

/**
 * Re-throws an operator's error with the node named: shape and weight errors keep their class,
 * device errors pass through, anything else becomes a {@link ModelError}.
 */
function inNode(label: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const named = message.includes(label) ? message : `${label}: ${message}`;
  if (err instanceof DeviceError) return err;
  if (err instanceof ShapeError) return new ShapeError(named);
  if (err instanceof WeightError) return new WeightError(named);
  if (err instanceof ModelError && named === message) return err;
  return new ModelError(named, { cause: err });
}

/**
 * An ONNX model ready to run: the graph's nodes in the order the file lists them (ONNX requires a
 * topological order), with every operator, attribute and value reference checked at load time.
 */
export class OnnxModel {
  /** The inputs a caller feeds (graph inputs without an initializer), in graph order. */
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** The ai.onnx opset version the model imports. */
  readonly opset: number;
  private readonly nodes: PreparedNode[];
  private readonly initializers: ReadonlyMap<string, OnnxTensor>;

  constructor(bytes: Uint8Array) {
    if (bytes.length === 0) throw new ModelError('the model file is empty');
    const model = decodeModelProto(bytes);
    const graph = model.graph;
    if (!graph) throw new ModelError('the model has no graph (not an ONNX model, or a truncated one)');
    this.opset = defaultOpset(model.opset_import ?? []);
    if (graph.sparse_initializer?.length) throw new ModelError('sparse initializers are not supported');
    const initializers = new Map<string, OnnxTensor>();
    for (const t of graph.initializer ?? []) {
      const tensor = tensorFromProto(t, `initializer ${JSON.stringify(t.name ?? '')}`);
      checkInitializer(t.name ?? '', tensor);
      initializers.set(t.name ?? '', tensor);
    }
    this.initializers = initializers;
    // Before IR version 4 initializers were listed among the inputs too; they are not fed.
    this.inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map((v) => valueInfo(v, 'graph input'));
    const available = new Set([...initializers.keys(), ...this.inputs.map((i) => i.name)]);
    this.nodes = prepareNodes(graph, available);
    this.outputs = (graph.output ?? []).map((v) => valueInfo(v, 'graph output'));
    for (const o of this.outputs) {
      if (!available.has(o.name)) throw new ModelError(`graph output ${JSON.stringify(o.name)} is produced by no node`);
    }
  }

  /**
   * Runs the graph on `feeds` (one tensor per entry of {@link inputs}, by name) and resolves to the
   * graph outputs by name. {@link ShapeError} for missing, unknown or mis-shaped feeds, and for float
   * feeds holding NaN, ±Infinity or values beyond float32; errors inside a node name the node; a
   * float output that holds NaN or ±Infinity (the CPU operators overflowed float32) is a
   * {@link NumericError} naming the output, never returned.
   */
  async run(feeds: Record<string, OnnxTensor>, options: OnnxRunOptions): Promise<Record<string, OnnxTensor>> {
    const values = this.checkFeeds(feeds);
    for (const node of this.nodes) {
      const args = node.inputs.map((name) => (name === '' ? null : values.get(name)!));
      let results: (OnnxTensor | null)[];
      try {
        results = await node.op.run({
          label: node.label,
          inputs: args,
          attrs: node.attrs,
          outputs: node.outputs,
          opset: this.opset,
          backend: options.backend,
        });
      } catch (err) {
        throw inNode(node.label, err);
      }
      node.outputs.forEach((name, i) => {
        if (name === '') return;
        const t = results[i];
        if (!t) throw new ModelError(`${node.label} does not produce output ${i} (${JSON.stringify(name)})`);
        values.set(name, t);
      });
    }
    for (const o of this.outputs) {
      const t = values.get(o.name)!;
      const i = firstNonFinite(t);
      if (i >= 0) {
        throw new NumericError(
          `output ${JSON.stringify(o.name)} holds a non-finite value (${t.data[i]}) at index ${i} computed from finite inputs and weights: the graph overflows float32 (scale the inputs or weights down)`,
        );
      }
    }
    return Object.fromEntries(this.outputs.map((o) => [o.name, values.get(o.name)!]));
  }

  /** The initializers plus the checked feeds. */
  private checkFeeds(feeds: Record<string, OnnxTensor>): Map<string, OnnxTensor> {
    const missing = this.inputs.filter((i) => !Object.hasOwn(feeds, i.name)).map((i) => JSON.stringify(i.name));
    if (missing.length) throw new ShapeError(`missing input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    const known = new Set(this.inputs.map((i) => i.name));
    const unknown = Object.keys(feeds).filter((name) => !known.has(name));
    if (unknown.length) {
      throw new ShapeError(
        `unknown input ${JSON.stringify(unknown[0])}; the model's inputs are ${[...known].map((n) => JSON.stringify(n)).join(', ')}`,
      );
    }
    const values = new Map(this.initializers);
    for (const info of this.inputs) {
      checkFeed(info, feeds[info.name]!);
      values.set(info.name, feeds[info.name]!);
    }
    return values;
  }
}

/**
 * Loads a `.onnx` file's bytes. {@link ModelError} for bytes that are not a model (empty, truncated,
 * corrupt), an opset or domain webrnn does not read, an unsupported operator or attribute, or a node
 * that reads a value nothing defines.
 */
export function loadOnnxModel(bytes: Uint8Array): OnnxModel {
  return new OnnxModel(bytes);
}
