import source from '../../../../shaders/backward/grad_contract.wgsl?raw';
import { workgroupGrid } from '../../grid.ts';
import { defineKernel } from '../../kernel.ts';
import { dispatch, type Dispatch } from '../../program.ts';

/**
 * `grad_contract` (shaders/backward/grad_contract.wgsl): out[c, z, p, q] = Σ_r A[c, z, r, p]·B[c, z, r, q] over
 * the rows r of chunk c, every operand addressed by strides (in floats) into a named buffer. Every
 * parameter gradient and dX of the backward passes is one of these (see
 * src/gpu/kernels/backward/layer-gradients.ts and src/gpu/programs/gradients.ts); sums over many rows are split into
 * partial sums per chunk of rows, then summed by the same kernel ({@link rowReduction}), so each
 * output is a fixed-order sum: deterministic, no float atomics.
 */

/** An input operand: X[c, z, r, i] = buffer[offset + c·chunk + z·z + r·row + i·col]. */
export interface Operand {
  buffer: string;
  offset?: number;
  chunk?: number;
  z?: number;
  row: number;
  col: number;
}

/** The output: out[c, z, p, q] = buffer[offset + c·chunk + z·z + p·p + q·q]. */
export interface Output {
  buffer: string;
  offset?: number;
  chunk?: number;
  z?: number;
  p: number;
  q: number;
}

/** One contraction: P × Q outputs per (chunk, z), summed over `rows` rows in chunks of `rowsPerChunk`. */
export interface Contraction {
  a: Operand;
  b: Operand;
  out: Output;
  p: number;
  q: number;
  rows: number;
  /** Default: all rows in one chunk. */
  rowsPerChunk?: number;
  /** Independent products side by side (the directions); default 1. */
  zs?: number;
}

/** The staged entry point (`main`) and the direct one (`main_direct`). */
const staged = defineKernel('grad_contract', source, ['a', 'b', 'out']);
const direct = defineKernel('grad_contract', source, ['a', 'b', 'out'], 'main_direct');

const WORKGROUP_SIZE = 64;

/** Workgroup memory `main` may take for its staged rows: WebGPU's default limit, so any device runs it. */
const STAGING_BYTES = 16384;

/** A buffer holding the single value 1: the B operand, with every stride 0, of a plain row sum. */
export const ONES_BUFFER = 'ones';
export const ONES_DATA = new Float32Array([1]);
export const ones: Operand = { buffer: ONES_BUFFER, row: 0, col: 0 };

/**
 * Workgroups the partial sums of a row reduction aim at: enough to fill a GPU's cores (an H100 has
 * 132 multiprocessors), while the partial sums stay few next to the rows they replace.
 */
const TARGET_WORKGROUPS = 256;

/**
 * Up to this many columns the direct entry point runs (a single block along q, so each value of B is
 * loaded once per block of p); beyond, the staged one. `node scripts/vite-run.mjs bench/kernels.ts
 * --contractions` (bench/RESULTS.md, "Kernel choices") times both on a GRU H = 24, I = 4 layer's
 * gradients: dR (Q = 24) is about 3× faster staged, dW (Q = 4) as fast either way.
 */
const DIRECT_MAX_Q = 4;

const pow2ceil = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * Below this many rows per chunk the direct entry point runs whatever Q: `main` stages TILE_R rows
 * at a time (8–32), so a chunk of a few rows (the head's dX: one row, the output features) would
 * be mostly zeros and barriers: `node scripts/vite-run.mjs bench/kernels.ts --contractions` times a
 * head's dX (one row, P = 98,304, Q = 8) about 9× faster direct.
 */
const DIRECT_MAX_ROWS = 8;

/**
 * `main`'s workgroup shape: at most 64 invocations of 4 × 4 outputs, WG_P × WG_Q shaped after the
 * output (halving the larger side while too many). It is never grown past what the output needs:
 * a 1 × 8 head gradient in a 4 × 256 tile (64 invocations along q) did 128 times the work needed
 * in the training step of `node scripts/vite-run.mjs bench/app-scale.ts` (B = 4096); a small
 * workgroup costs a GPU idle lanes only in these small products.
 */
function workgroupShape(P: number, Q: number): [number, number] {
  let wp = Math.min(WORKGROUP_SIZE, pow2ceil(Math.ceil(P / 4)));
  let wq = Math.min(WORKGROUP_SIZE, pow2ceil(Math.ceil(Q / 4)));
  while (wp * wq > WORKGROUP_SIZE) {
    if (wp >= wq) wp /= 2;
    else wq /= 2;
  }
  return [wp, wq];
}

/** How one contraction is laid over the grid: the entry point, its constants and its work items per (c, z). */
function layout(P: number, Q: number, rows: number, forced?: 'main' | 'main_direct') {
  if (forced === 'main_direct' || (!forced && (Q <= DIRECT_MAX_Q || rows < DIRECT_MAX_ROWS))) {
    const qBlock = Q === 1 ? 1 : 4;
    return {
      kernel: direct,
      constants: { WORKGROUP_SIZE, Q_BLOCK: qBlock } as Record<string, number>,
      blocksP: Math.ceil(P / (16 / qBlock)),
      blocksQ: Math.ceil(Q / qBlock),
      perWorkgroup: WORKGROUP_SIZE,
    };
  }
  const [wp, wq] = workgroupShape(P, Q);
  const tileR = Math.min(32, 2 ** Math.floor(Math.log2(STAGING_BYTES / ((wp + wq) * 16))));
  return {
    kernel: staged,
    constants: { WORKGROUP_SIZE: wp * wq, WG_Q: wq, TILE_R: tileR } as Record<string, number>,
    blocksP: Math.ceil(P / (4 * wp)),
    blocksQ: Math.ceil(Q / (4 * wq)),
    perWorkgroup: 1,
  };
}

/**
 * Whether a contraction runs transposed (A and B swapped, out[q, p]): when Q is too wide for the
 * direct entry point but P is not, the transposed product runs direct (the head's dWeight, P = the
 * output features, Q = H) instead of staging a tile for a handful of outputs.
 */
function transposed(P: number, Q: number): boolean {
  return Q > DIRECT_MAX_Q && P <= DIRECT_MAX_Q;
}

/** Workgroups per (chunk, z) of a contraction with P × Q outputs. */
function workgroupsPerProduct(P: number, Q: number): number {
  const l = transposed(P, Q) ? layout(Q, P, Infinity) : layout(P, Q, Infinity);
  return Math.ceil((l.blocksP * l.blocksQ) / l.perWorkgroup);
}

/**
 * The dispatch of one contraction. `entryPoint` forces one (benchmarks comparing the two; default:
 * chosen by shape as above).
 */
export function contractionDispatch(given: Contraction, maxWorkgroupsPerDimension: number, entryPoint?: 'main' | 'main_direct'): Dispatch {
  // out[p, q] = Σ A[r, p]·B[r, q] is out[q, p] = Σ B[r, q]·A[r, p]: the same sums, other strides.
  const c = transposed(given.p, given.q)
    ? { ...given, a: given.b, b: given.a, p: given.q, q: given.p, out: { ...given.out, p: given.out.q, q: given.out.p } }
    : given;
  const zs = c.zs ?? 1;
  const rowsPerChunk = c.rowsPerChunk ?? c.rows;
  const chunks = Math.ceil(c.rows / rowsPerChunk);
  const l = layout(c.p, c.q, rowsPerChunk, entryPoint);
  // main: one item per workgroup (a tile); main_direct: one per invocation (a block).
  const items = chunks * zs * l.blocksP * l.blocksQ;
  const { a, b, out } = c;
  return dispatch(l.kernel, {
    constants: l.constants,
    uniforms: {
      p_size: c.p,
      q_size: c.q,
      rows_per_chunk: rowsPerChunk,
      rows_total: c.rows,
      zs,
      blocks_p: l.blocksP,
      blocks_q: l.blocksQ,
      items,
      a_off: a.offset ?? 0,
      a_chunk: a.chunk ?? rowsPerChunk * a.row,
      a_z: a.z ?? 0,
      a_row: a.row,
      a_col: a.col,
      b_off: b.offset ?? 0,
      b_chunk: b.chunk ?? rowsPerChunk * b.row,
      b_z: b.z ?? 0,
      b_row: b.row,
      b_col: b.col,
      o_off: out.offset ?? 0,
      o_chunk: out.chunk ?? 0,
      o_z: out.z ?? 0,
      o_p: out.p,
      o_q: out.q,
    },
    bind: { a: a.buffer, b: b.buffer, out: out.buffer },
    grid: workgroupGrid(items, l.perWorkgroup, maxWorkgroupsPerDimension),
  });
}

/**
 * Sequences per chunk of a row reduction over `sequences` sequences: about TARGET_WORKGROUPS
 * workgroups in all, and partial sums within `maxPartialFloats` (the binding limit). With `models`
 * per-series models (sequences / models each, summed apart) a chunk never spans two models: it is a
 * divisor of a model's sequences.
 */
export function sequencesPerChunk(c: Pick<Contraction, 'p' | 'q' | 'zs'>, sequences: number, maxPartialFloats: number, models = 1): number {
  const zs = c.zs ?? 1;
  const perModel = sequences / models;
  const perChunk = zs * workgroupsPerProduct(c.p, c.q);
  const byWork = Math.ceil(TARGET_WORKGROUPS / (models * perChunk));
  const byBinding = Math.floor(maxPartialFloats / (models * zs * c.p * c.q));
  const chunks = Math.max(1, Math.min(perModel, byWork, byBinding));
  if (models === 1) return Math.ceil(perModel / chunks);
  let split = chunks;
  while (perModel % split !== 0) split--;
  return perModel / split;
}

/**
 * A sum over rows as partial sums per chunk of `perChunk` sequences (`steps` rows each) into
 * `partials`, then one more contraction summing the chunks (rows = chunks, B = ones) into `c.out`,
 * which must hold each (p, q) block contiguously (out.p = Q, out.q = 1). One dispatch when a single
 * chunk holds every row. Per-series models (`models` > 1, `c.rows` / `models` rows each, `perChunk`
 * dividing a model's sequences): each model's rows are summed apart into its own output, model m's
 * at `outStride`·m after c.out's. Returns the dispatches and the floats `partials` needs.
 */
export function rowReduction(
  c: Omit<Contraction, 'rowsPerChunk'>,
  steps: number,
  perChunk: number,
  partials: string,
  maxWorkgroupsPerDimension: number,
  models = 1,
  outStride = 0,
): { dispatches: Dispatch[]; partialFloats: number } {
  const zs = c.zs ?? 1;
  const rowsPerModel = c.rows / models;
  const rowsPerChunk = Math.min(perChunk * steps, rowsPerModel);
  const chunks = Math.ceil(c.rows / rowsPerChunk);
  if (models > 1 && rowsPerModel % rowsPerChunk !== 0) throw new Error('rowReduction: a chunk must not span two models');
  if (chunks === models) {
    return {
      dispatches: [contractionDispatch({ ...c, rowsPerChunk, out: { ...c.out, chunk: outStride } }, maxWorkgroupsPerDimension)],
      partialFloats: 0,
    };
  }
  if (c.out.p !== c.q || c.out.q !== 1) throw new Error('rowReduction: the output must hold each (p, q) block contiguously');
  const block = c.p * c.q;
  const perModelChunks = chunks / models;
  const partial = contractionDispatch(
    { ...c, rowsPerChunk, out: { buffer: partials, chunk: zs * block, z: block, p: c.q, q: 1 } },
    maxWorkgroupsPerDimension,
  );
  const sum = contractionDispatch(
    {
      a: { buffer: partials, z: block, row: zs * block, col: 1 },
      b: ones,
      out: { buffer: c.out.buffer, offset: c.out.offset ?? 0, chunk: outStride, z: c.out.z ?? 0, p: 1, q: 0 },
      p: block,
      q: 1,
      rows: chunks,
      rowsPerChunk: perModelChunks,
      zs,
    },
    maxWorkgroupsPerDimension,
  );
  return { dispatches: [partial, sum], partialFloats: chunks * zs * block };
}
