import type { Backend } from '../../backends/backend.ts';
import { ModelError } from '../../errors.ts';
import type { NodeAttributes } from '../attributes.ts';
import type { OnnxDataType, OnnxTensor } from '../tensor.ts';

/** What an operator sees of one node when it runs. */
export interface OpContext {
  /** The node for messages: `LSTM node "lstm_1"` or `Gather node #3`. */
  readonly label: string;
  /** The node's inputs in order; null where the name is empty (an omitted optional input). */
  readonly inputs: readonly (OnnxTensor | null)[];
  readonly attrs: NodeAttributes;
  /** Output names in order; '' for an output the node leaves out. */
  readonly outputs: readonly string[];
  /** The model's ai.onnx opset version (some operators change form across versions). */
  readonly opset: number;
  readonly backend: Backend;
}

/** One operator: the attributes it accepts, and how it computes its outputs. */
export interface OpDef {
  /** Every attribute name the operator understands; any other is refused at load time. */
  readonly attributes: readonly string[];
  /** The outputs in order; null for an optional output not produced. */
  run(ctx: OpContext): (OnnxTensor | null)[] | Promise<(OnnxTensor | null)[]>;
}

/** Input `i` (called `name` in the operator spec); {@link ModelError} when the node omits it. */
export function input(ctx: OpContext, i: number, name: string): OnnxTensor {
  const t = ctx.inputs[i];
  if (!t) throw new ModelError(`${ctx.label} needs input ${i} (${name})`);
  return t;
}

/** Input `i` when given, else null. */
export function optionalInput(ctx: OpContext, i: number): OnnxTensor | null {
  return ctx.inputs[i] ?? null;
}

/** {@link ModelError} unless `t` has one of `types`. */
export function expectType(ctx: OpContext, t: OnnxTensor, name: string, types: readonly OnnxDataType[]): void {
  if (!types.includes(t.type)) {
    throw new ModelError(`${ctx.label}: ${name} must be ${types.join(' or ')}, got ${t.type}`);
  }
}

/** {@link ModelError} unless every tensor has the same type (ONNX's type constraint T). */
export function expectSameType(ctx: OpContext, tensors: readonly OnnxTensor[]): void {
  const types = new Set(tensors.map((t) => t.type));
  if (types.size > 1) throw new ModelError(`${ctx.label}: inputs must share one type, got ${[...types].join(' and ')}`);
}

/** An axis in [−rank, rank) (or [−rank, rank] with `inclusive`) made non-negative; {@link ModelError} otherwise. */
export function normalizeAxis(ctx: OpContext, axis: number, rank: number, inclusive = false): number {
  const hi = inclusive ? rank : rank - 1;
  if (!Number.isInteger(axis) || axis < -rank || axis > hi) {
    throw new ModelError(`${ctx.label}: axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}
