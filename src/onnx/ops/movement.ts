import { ModelError, ShapeError } from '../../errors.ts';
import { allocate, elementCount, elements, formatDims, stridedOffsets, stridesOf, take, toIndices, type OnnxTensor } from '../tensor.ts';
import { expectSameType, input, normalizeAxis, optionalInput, type OpContext, type OpDef } from './op.ts';

/** Operators that move elements: Transpose, Gather, Slice, Concat. */

function transpose(ctx: OpContext): OnnxTensor {
  const x = input(ctx, 0, 'data');
  const r = x.dims.length;
  const perm = ctx.attrs.ints('perm') ?? x.dims.map((_, k) => r - 1 - k);
  if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, k) => p !== k)) {
    throw ctx.attrs.error('perm', `[${perm.join(', ')}] is not a permutation of the ${r} axes`);
  }
  const strides = stridesOf(x.dims);
  const dims = perm.map((p) => x.dims[p]!);
  return take(
    x,
    dims,
    stridedOffsets(
      dims,
      perm.map((p) => strides[p]!),
    ),
  );
}

/** Gather: out = data[:axis] + indices.dims + data[axis+1:]; negative indices count from the end. */
function gather(ctx: OpContext): OnnxTensor {
  const x = input(ctx, 0, 'data');
  const indices = input(ctx, 1, 'indices');
  const axis = normalizeAxis(ctx, ctx.attrs.int('axis', 0), x.dims.length);
  const n = x.dims[axis]!;
  const idx = toIndices(indices, `${ctx.label} indices`).map((i) => {
    if (i < -n || i >= n) throw new ShapeError(`${ctx.label}: index ${i} is out of range for axis ${axis} of ${formatDims(x.dims)}`);
    return i < 0 ? i + n : i;
  });
  const outer = elementCount(x.dims.slice(0, axis));
  const inner = elementCount(x.dims.slice(axis + 1));
  const dims = [...x.dims.slice(0, axis), ...indices.dims, ...x.dims.slice(axis + 1)];
  const offsets = new Int32Array(elementCount(dims));
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const i of idx) {
      for (let k = 0; k < inner; k++) offsets[at++] = (o * n + i) * inner + k;
    }
  }
  return take(x, dims, offsets);
}

/** Slice's starts, ends, axes and steps: attributes before opset 10, inputs 1–4 from 10 on. */
function sliceArgs(ctx: OpContext, rank: number): { starts: number[]; ends: number[]; axes: number[]; steps: number[] } {
  const fromInputs = ctx.inputs.length > 1;
  const read = (i: number, name: string) => {
    if (!fromInputs) return ctx.attrs.ints(name, true);
    const t = optionalInput(ctx, i);
    return t ? toIndices(t, `${ctx.label} ${name}`, true) : null;
  };
  const starts = read(1, 'starts');
  const ends = read(2, 'ends');
  if (!starts || !ends) throw new ModelError(`${ctx.label} needs starts and ends`);
  const axes = read(3, 'axes') ?? starts.map((_, k) => k);
  const steps = read(4, 'steps') ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw new ModelError(`${ctx.label}: starts, ends, axes and steps differ in length`);
  }
  if (steps.includes(0)) throw new ModelError(`${ctx.label}: a step is 0`);
  return { starts, ends, axes: axes.map((a) => normalizeAxis(ctx, a, rank)), steps };
}

/** Slice as the operator spec defines it, clamping starts and ends per axis (negative steps too). */
function slice(ctx: OpContext): OnnxTensor {
  const x = input(ctx, 0, 'data');
  const { starts, ends, axes, steps } = sliceArgs(ctx, x.dims.length);
  const inStrides = stridesOf(x.dims);
  const dims = [...x.dims];
  const strides = [...inStrides];
  let base = 0;
  axes.forEach((axis, k) => {
    const n = x.dims[axis]!;
    const step = steps[k]!;
    const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v < 0 ? v + n : v));
    const start = step > 0 ? clamp(starts[k]!, 0, n) : clamp(starts[k]!, 0, n - 1);
    const end = step > 0 ? clamp(ends[k]!, 0, n) : clamp(ends[k]!, -1, n - 1);
    dims[axis] = Math.max(0, Math.ceil((end - start) / step));
    strides[axis] = inStrides[axis]! * step;
    base += start * inStrides[axis]!;
  });
  return take(x, dims, stridedOffsets(dims, strides, base));
}

function concat(ctx: OpContext): OnnxTensor {
  const parts = ctx.inputs.filter((t): t is OnnxTensor => t !== null);
  if (parts.length === 0) throw new ModelError(`${ctx.label} has no inputs`);
  expectSameType(ctx, parts);
  const first = parts[0]!;
  const axisAttr = ctx.attrs.int('axis', null);
  if (axisAttr === null) throw new ModelError(`${ctx.label} needs attribute axis`);
  const axis = normalizeAxis(ctx, axisAttr, first.dims.length);
  for (const t of parts) {
    if (t.dims.length !== first.dims.length || t.dims.some((d, k) => k !== axis && d !== first.dims[k])) {
      throw new ShapeError(`${ctx.label}: cannot concatenate ${parts.map((p) => formatDims(p.dims)).join(', ')} on axis ${axis}`);
    }
  }
  const dims = [...first.dims];
  dims[axis] = parts.reduce((n, t) => n + t.dims[axis]!, 0);
  const outer = elementCount(first.dims.slice(0, axis));
  const data = allocate(first.type, dims);
  const out = elements(data);
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const t of parts) {
      const chunk = t.data.length / Math.max(outer, 1);
      const src = elements(t.data);
      for (let k = 0; k < chunk; k++) out[at++] = src[o * chunk + k]!;
    }
  }
  return { type: first.type, dims, data };
}

export const MOVEMENT_OPS: Record<string, OpDef> = {
  Transpose: { attributes: ['perm'], run: (ctx) => [transpose(ctx)] },
  Gather: { attributes: ['axis'], run: (ctx) => [gather(ctx)] },
  Slice: { attributes: ['starts', 'ends', 'axes'], run: (ctx) => [slice(ctx)] },
  Concat: { attributes: ['axis'], run: (ctx) => [concat(ctx)] },
};
