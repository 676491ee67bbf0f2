import { ELEMENTWISE_OPS } from './elementwise.ts';
import { MATMUL_OPS } from './matmul.ts';
import { MOVEMENT_OPS } from './movement.ts';
import type { OpDef } from './op.ts';
import { RECURRENT_OPS } from './recurrent.ts';
import { SHAPE_OPS } from './shape.ts';

export type { OpContext, OpDef } from './op.ts';

/**
 * Every operator webrnn runs, by ONNX op_type (domain ai.onnx): RNN, GRU and LSTM on the backend;
 * the small operators PyTorch's exporter places around them (and around nn.Linear) on the CPU.
 */
export const OPERATORS: Readonly<Record<string, OpDef>> = {
  ...RECURRENT_OPS,
  ...ELEMENTWISE_OPS,
  ...SHAPE_OPS,
  ...MOVEMENT_OPS,
  ...MATMUL_OPS,
};

/** The operator for an op_type, or null when webrnn does not run it. */
export function operator(opType: string): OpDef | null {
  return Object.hasOwn(OPERATORS, opType) ? OPERATORS[opType]! : null;
}
