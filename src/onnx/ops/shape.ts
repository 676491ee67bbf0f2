import { ModelError, ShapeError } from '../../errors.ts';
import { allocate, elementCount, elements, formatDims, int64Vector, toIndices, take, type OnnxTensor } from '../tensor.ts';
import { broadcastDims, broadcastOffsets } from './broadcast.ts';
import { input, normalizeAxis, optionalInput, type OpContext, type OpDef } from './op.ts';

/**
 * Operators that change a tensor's shape but not its elements (Reshape, Flatten, Squeeze,
 * Unsqueeze), read it (Shape), or make tensors from shapes (Expand, ConstantOfShape, Constant).
 */

/** The same elements under new dims. */
function withDims(t: OnnxTensor, dims: readonly number[]): OnnxTensor {
  return { type: t.type, dims: [...dims], data: t.data };
}

/** Squeeze's and Unsqueeze's axes: an attribute before opset 13, the optional input 1 from 13 on. */
function axesOf(ctx: OpContext): number[] | null {
  const fromInput = optionalInput(ctx, 1);
  if (fromInput) return toIndices(fromInput, `${ctx.label} axes`);
  return ctx.attrs.ints('axes');
}

/** A shape given as a 1-D integer tensor (Reshape, Expand, ConstantOfShape). */
function shapeInput(ctx: OpContext, i: number): number[] {
  const t = input(ctx, i, 'shape');
  if (t.dims.length !== 1) throw new ShapeError(`${ctx.label}: shape must be 1-D, got dims ${formatDims(t.dims)}`);
  return toIndices(t, `${ctx.label} shape`);
}

function nonNegative(ctx: OpContext, dims: number[]): number[] {
  if (dims.some((d) => d < 0)) throw new ShapeError(`${ctx.label}: shape ${formatDims(dims)} has a negative dimension`);
  return dims;
}

/** Reshape: 0 copies the input's dimension (unless allowzero), −1 is inferred from the rest. */
function reshapeDims(ctx: OpContext, from: readonly number[], shape: readonly number[]): number[] {
  const allowZero = ctx.attrs.flag('allowzero', false);
  const dims = shape.map((d, k) => {
    if (d === 0 && !allowZero) {
      if (k >= from.length) throw new ShapeError(`${ctx.label}: shape ${formatDims(shape)} copies dimension ${k} of ${formatDims(from)}`);
      return from[k]!;
    }
    return d;
  });
  const inferred = dims.flatMap((d, k) => (d === -1 ? [k] : []));
  if (inferred.length > 1 || dims.some((d) => d < -1)) {
    throw new ShapeError(`${ctx.label}: invalid shape ${formatDims(shape)}`);
  }
  const known = dims.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const total = elementCount(from);
  if (inferred.length === 1) {
    if (known === 0 || total % known !== 0) {
      throw new ShapeError(`${ctx.label}: cannot reshape ${formatDims(from)} to ${formatDims(shape)}`);
    }
    dims[inferred[0]!] = total / known;
  }
  if (elementCount(dims) !== total) throw new ShapeError(`${ctx.label}: cannot reshape ${formatDims(from)} to ${formatDims(shape)}`);
  return dims;
}

/** Constant's value from whichever of its attributes is set (exactly one must be). */
function constantValue(ctx: OpContext): OnnxTensor {
  const a = ctx.attrs;
  const set = a.names();
  if (set.length !== 1) throw new ModelError(`${ctx.label} needs exactly one value attribute, got ${set.join(', ') || 'none'}`);
  const tensor = a.tensor('value');
  if (tensor) return tensor;
  const f = a.float('value_float', null);
  if (f !== null) return { type: 'float32', dims: [], data: Float32Array.of(f) };
  const fs = a.floats('value_floats');
  if (fs) return { type: 'float32', dims: [fs.length], data: Float32Array.from(fs) };
  const i = a.int('value_int', null);
  if (i !== null) return { type: 'int64', dims: [], data: BigInt64Array.of(BigInt(i)) };
  const is = a.ints('value_ints');
  if (is) return int64Vector(is);
  throw a.error(set[0]!, 'is not supported (webrnn holds no string or sparse tensors)');
}

export const SHAPE_OPS: Record<string, OpDef> = {
  Shape: {
    attributes: ['start', 'end'],
    run(ctx) {
      const x = input(ctx, 0, 'data');
      const r = x.dims.length;
      const clampAxis = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
      const start = clampAxis(ctx.attrs.int('start', 0));
      const end = clampAxis(ctx.attrs.int('end', r));
      return [int64Vector(x.dims.slice(start, Math.max(start, end)))];
    },
  },

  Reshape: {
    attributes: ['allowzero'],
    run(ctx) {
      const x = input(ctx, 0, 'data');
      return [withDims(x, reshapeDims(ctx, x.dims, shapeInput(ctx, 1)))];
    },
  },

  Flatten: {
    attributes: ['axis'],
    run(ctx) {
      const x = input(ctx, 0, 'input');
      const axis = normalizeAxis(ctx, ctx.attrs.int('axis', 1), x.dims.length, true);
      return [withDims(x, [elementCount(x.dims.slice(0, axis)), elementCount(x.dims.slice(axis))])];
    },
  },

  Squeeze: {
    attributes: ['axes'],
    run(ctx) {
      const x = input(ctx, 0, 'data');
      const r = x.dims.length;
      const axes = axesOf(ctx)?.map((a) => normalizeAxis(ctx, a, r)) ?? x.dims.flatMap((d, k) => (d === 1 ? [k] : []));
      for (const a of axes) {
        if (x.dims[a] !== 1) throw new ShapeError(`${ctx.label}: cannot squeeze axis ${a} of ${formatDims(x.dims)}`);
      }
      return [
        withDims(
          x,
          x.dims.filter((_, k) => !axes.includes(k)),
        ),
      ];
    },
  },

  Unsqueeze: {
    attributes: ['axes'],
    run(ctx) {
      const x = input(ctx, 0, 'data');
      const given = axesOf(ctx);
      if (!given) throw new ModelError(`${ctx.label} needs axes`);
      const rank = x.dims.length + given.length;
      const axes = given.map((a) => normalizeAxis(ctx, a, rank));
      if (new Set(axes).size !== axes.length) throw new ModelError(`${ctx.label}: repeated axis in [${given.join(', ')}]`);
      const rest = [...x.dims];
      const dims = Array.from({ length: rank }, (_, k) => (axes.includes(k) ? 1 : rest.shift()!));
      return [withDims(x, dims)];
    },
  },

  Expand: {
    attributes: [],
    run(ctx) {
      const x = input(ctx, 0, 'input');
      const dims = broadcastDims(ctx.label, [x.dims, nonNegative(ctx, shapeInput(ctx, 1))]);
      return [take(x, dims, broadcastOffsets(dims, x.dims))];
    },
  },

  ConstantOfShape: {
    attributes: ['value'],
    run(ctx) {
      const dims = nonNegative(ctx, shapeInput(ctx, 0));
      const value = ctx.attrs.tensor('value') ?? { type: 'float32', dims: [1], data: new Float32Array(1) };
      if (value.data.length !== 1) throw ctx.attrs.error('value', `must hold one element, got ${value.data.length}`);
      const data = allocate(value.type, dims);
      const out = elements(data);
      for (let i = 0; i < out.length; i++) out[i] = value.data[0]!;
      return [{ type: value.type, dims, data }];
    },
  },

  Constant: {
    attributes: ['value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings', 'sparse_value'],
    run: (ctx) => [constantValue(ctx)],
  },
};
