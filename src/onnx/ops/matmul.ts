import { ShapeError } from '../../errors.ts';
import { allocate, elementCount, formatDims, type OnnxTensor } from '../tensor.ts';
import { broadcastDims, broadcastOffsets } from './broadcast.ts';
import { expectSameType, expectType, input, optionalInput, type OpContext, type OpDef } from './op.ts';

/** Matrix products (nn.Linear exports as Gemm on 2-D input and MatMul + Add otherwise), in float64. */

const FLOATS = ['float32', 'float64'] as const;

/**
 * MatMul with numpy semantics: the last two axes are matrices, leading axes broadcast; a 1-D A is a
 * row [1, K] and a 1-D B a column [K, 1], whose unit axis is dropped from the result.
 */
function matmul(ctx: OpContext): OnnxTensor {
  const a = input(ctx, 0, 'A');
  const b = input(ctx, 1, 'B');
  expectSameType(ctx, [a, b]);
  expectType(ctx, a, 'A', FLOATS);
  if (a.dims.length === 0 || b.dims.length === 0) throw new ShapeError(`${ctx.label}: MatMul needs at least 1-D inputs`);
  const ad = a.dims.length === 1 ? [1, a.dims[0]!] : a.dims;
  const bd = b.dims.length === 1 ? [b.dims[0]!, 1] : b.dims;
  const [M, K] = ad.slice(-2) as [number, number];
  const [K2, N] = bd.slice(-2) as [number, number];
  if (K !== K2) throw new ShapeError(`${ctx.label}: cannot multiply ${formatDims(a.dims)} by ${formatDims(b.dims)}`);
  const aBatch = ad.slice(0, -2);
  const bBatch = bd.slice(0, -2);
  const batch = broadcastDims(ctx.label, [aBatch, bBatch]);
  const aAt = broadcastOffsets(batch, aBatch);
  const bAt = broadcastOffsets(batch, bBatch);
  const dims = [...batch, ...(a.dims.length === 1 ? [] : [M]), ...(b.dims.length === 1 ? [] : [N])];
  const out = allocate(a.type, dims) as Float32Array | Float64Array;
  const [x, y] = [a.data as Float32Array | Float64Array, b.data as Float32Array | Float64Array];
  for (let s = 0; s < elementCount(batch); s++) {
    const xBase = aAt[s]! * M * K;
    const yBase = bAt[s]! * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += x[xBase + i * K + k]! * y[yBase + k * N + j]!;
        out[(s * M + i) * N + j] = sum;
      }
    }
  }
  return { type: a.type, dims, data: out };
}

/** Gemm: Y = alpha · op(A) · op(B) + beta · C, op transposing when transA / transB; C broadcasts to [M, N]. */
function gemm(ctx: OpContext): OnnxTensor {
  const a = input(ctx, 0, 'A');
  const b = input(ctx, 1, 'B');
  const c = optionalInput(ctx, 2);
  expectSameType(ctx, c ? [a, b, c] : [a, b]);
  expectType(ctx, a, 'A', FLOATS);
  if (a.dims.length !== 2 || b.dims.length !== 2) {
    throw new ShapeError(`${ctx.label}: Gemm needs 2-D A and B, got ${formatDims(a.dims)} and ${formatDims(b.dims)}`);
  }
  const transA = ctx.attrs.flag('transA', false);
  const transB = ctx.attrs.flag('transB', false);
  const alpha = ctx.attrs.float('alpha', 1);
  const beta = ctx.attrs.float('beta', 1);
  const [M, K] = transA ? [a.dims[1]!, a.dims[0]!] : [a.dims[0]!, a.dims[1]!];
  const [K2, N] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
  if (K !== K2)
    throw new ShapeError(
      `${ctx.label}: cannot multiply ${formatDims(a.dims)} by ${formatDims(b.dims)} (transA ${+transA}, transB ${+transB})`,
    );
  const A = (i: number, k: number) => a.data[transA ? k * M + i : i * K + k] as number;
  const B = (k: number, j: number) => b.data[transB ? j * K + k : k * N + j] as number;
  if (c && broadcastDims(ctx.label, [c.dims, [M, N]]).some((d, k) => d !== [M, N][k])) {
    throw new ShapeError(`${ctx.label}: C ${formatDims(c.dims)} does not broadcast to [${M}, ${N}]`);
  }
  const cAt = c ? broadcastOffsets([M, N], c.dims) : null;
  const out = allocate(a.type, [M, N]) as Float32Array | Float64Array;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += A(i, k) * B(k, j);
      out[i * N + j] = alpha * sum + (c && cAt ? beta * (c.data[cAt[i * N + j]!] as number) : 0);
    }
  }
  return { type: a.type, dims: [M, N], data: out };
}

export const MATMUL_OPS: Record<string, OpDef> = {
  MatMul: { attributes: [], run: (ctx) => [matmul(ctx)] },
  Gemm: { attributes: ['alpha', 'beta', 'transA', 'transB'], run: (ctx) => [gemm(ctx)] },
};
