import { ModelError } from '../../errors.ts';
import { allocate, dataTypeOf, elements, fromNumbers, isFloatType, toNumbers, type OnnxTensor } from '../tensor.ts';
import { broadcastDims, broadcastOffsets } from './broadcast.ts';
import { expectSameType, expectType, input, type OpContext, type OpDef } from './op.ts';

/**
 * Elementwise operators with numpy broadcasting, computed in float64 (or exactly in BigInt for
 * int64) and stored in the inputs' type; integer results truncate toward zero as C does.
 */

const NUMERIC = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'int64'] as const;

/** The broadcast shape of the inputs and each input's offsets into it. */
function broadcastInputs(ctx: OpContext, tensors: readonly OnnxTensor[]): { dims: number[]; offsets: Int32Array[] } {
  const dims = broadcastDims(
    ctx.label,
    tensors.map((t) => t.dims),
  );
  return { dims, offsets: tensors.map((t) => broadcastOffsets(dims, t.dims)) };
}

function binary(num: (a: number, b: number) => number, big: (a: bigint, b: bigint) => bigint): OpDef {
  return {
    attributes: [],
    run(ctx) {
      const a = input(ctx, 0, 'A');
      const b = input(ctx, 1, 'B');
      expectSameType(ctx, [a, b]);
      expectType(ctx, a, 'A', NUMERIC);
      const {
        dims,
        offsets: [ia, ib],
      } = broadcastInputs(ctx, [a, b]);
      const data = allocate(a.type, dims);
      if (data instanceof BigInt64Array) {
        const x = a.data as BigInt64Array;
        const y = b.data as BigInt64Array;
        for (let i = 0; i < data.length; i++) data[i] = big(x[ia![i]!]!, y[ib![i]!]!);
      } else {
        const integer = !isFloatType(a.type);
        for (let i = 0; i < data.length; i++) {
          const v = num(Number(a.data[ia![i]!]), Number(b.data[ib![i]!]));
          if (integer && !Number.isFinite(v)) throw new ModelError(`${ctx.label}: integer division by zero`);
          data[i] = v;
        }
      }
      return [{ type: a.type, dims, data }];
    },
  };
}

function divide(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new ModelError('integer division by zero');
  return a / b;
}

function unary(f: (x: number) => number): OpDef {
  return {
    attributes: [],
    run(ctx) {
      const x = input(ctx, 0, 'X');
      expectType(ctx, x, 'X', ['float32', 'float64']);
      return [fromNumbers(x.type, x.dims, toNumbers(x).map(f))];
    },
  };
}

export const ELEMENTWISE_OPS: Record<string, OpDef> = {
  Add: binary(
    (a, b) => a + b,
    (a, b) => a + b,
  ),
  Sub: binary(
    (a, b) => a - b,
    (a, b) => a - b,
  ),
  Mul: binary(
    (a, b) => a * b,
    (a, b) => a * b,
  ),
  // Integer results are stored through typed arrays, which truncate toward zero.
  Div: binary((a, b) => a / b, divide),
  Relu: unary((x) => (x > 0 ? x : 0)),
  Tanh: unary(Math.tanh),
  Sigmoid: unary((x) => 1 / (1 + Math.exp(-x))),

  Equal: {
    attributes: [],
    run(ctx) {
      const a = input(ctx, 0, 'A');
      const b = input(ctx, 1, 'B');
      expectSameType(ctx, [a, b]);
      const {
        dims,
        offsets: [ia, ib],
      } = broadcastInputs(ctx, [a, b]);
      const data = allocate('bool', dims);
      const x = elements(a.data);
      const y = elements(b.data);
      for (let i = 0; i < data.length; i++) data[i] = x[ia![i]!] === y[ib![i]!] ? 1 : 0;
      return [{ type: 'bool', dims, data }];
    },
  },

  Where: {
    attributes: [],
    run(ctx) {
      const c = input(ctx, 0, 'condition');
      const x = input(ctx, 1, 'X');
      const y = input(ctx, 2, 'Y');
      expectType(ctx, c, 'condition', ['bool']);
      expectSameType(ctx, [x, y]);
      const {
        dims,
        offsets: [ic, ix, iy],
      } = broadcastInputs(ctx, [c, x, y]);
      const data = allocate(x.type, dims);
      const [out, xs, ys] = [elements(data), elements(x.data), elements(y.data)];
      for (let i = 0; i < data.length; i++) out[i] = c.data[ic![i]!] ? xs[ix![i]!]! : ys[iy![i]!]!;
      return [{ type: x.type, dims, data }];
    },
  },

  Identity: {
    attributes: [],
    run: (ctx) => [input(ctx, 0, 'input')],
  },

  Cast: {
    // saturate (opset 19) only concerns float8 targets, which webrnn refuses anyway.
    attributes: ['to', 'saturate'],
    run(ctx) {
      const x = input(ctx, 0, 'input');
      const code = ctx.attrs.int('to', null);
      if (code === null) throw ctx.attrs.error('to', 'is required');
      const to = dataTypeOf(code, `attribute to of ${ctx.label}`);
      if (to === x.type) return [x];
      return [fromNumbers(to, x.dims, toNumbers(x))];
    },
  },
};
