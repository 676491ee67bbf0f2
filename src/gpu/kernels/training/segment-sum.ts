import source from '../../../../shaders/training/segment_sum.wgsl?raw';
import { workgroupGrid } from '../../grid.ts';
import { defineKernel } from '../../kernel.ts';
import { dispatch, type Dispatch } from '../../program.ts';

/**
 * `segment_sum` (shaders/training/segment_sum.wgsl): sums of runs of values, each pass leaving one
 * partial sum per chunk of 2048 values: the loss per model, the squared gradient norms for clipping.
 * With S models (per-series mode) every buffer holds S consecutive blocks.
 */
export const segmentSum = defineKernel('segment_sum', source, ['src', 'dst']);

/** Invocations per workgroup of the training kernels. */
export const TRAINING_WORKGROUP = 256;
/** Values one segment-sum workgroup adds up (256 invocations × 8). */
const SUM_ITEMS = 8;
const SUM_CHUNK = TRAINING_WORKGROUP * SUM_ITEMS;

/** Where segment sums come from: `segments` runs of `length` values, run s starting at s·`stride` (default `length`). */
export interface Segments {
  segments: number;
  length: number;
  stride?: number;
}

/**
 * The passes that add up the segments of `src` into `dst` at float `dstOffset` (`segments` floats),
 * squaring the values first when `square` (a norm): each pass leaves one partial sum per chunk of
 * 2048 values, the next adds those, until one per segment is left. The partial sums go through
 * scratch buffers `${dst} partial k`; `scratch` lists their sizes in floats.
 */
export function segmentSumPasses(
  src: string,
  dst: string,
  seg: Segments,
  square: boolean,
  maxPerDimension: number,
  dstOffset = 0,
): { dispatches: Dispatch[]; scratch: Record<string, number> } {
  const dispatches: Dispatch[] = [];
  const scratch: Record<string, number> = {};
  const { segments } = seg;
  let from = src;
  let length = seg.length;
  let stride = seg.stride ?? seg.length;
  for (let k = 0; ; k++) {
    const chunks = Math.ceil(length / SUM_CHUNK);
    const last = chunks === 1;
    const to = last ? dst : `${dst} partial ${k}`;
    if (!last) scratch[to] = segments * chunks;
    dispatches.push(
      dispatch(segmentSum, {
        constants: { WORKGROUP_SIZE: TRAINING_WORKGROUP, ITEMS: SUM_ITEMS, SQUARE: k === 0 && square ? 1 : 0 },
        uniforms: { seg_len: length, chunks, segments, stride, dst_offset: last ? dstOffset : 0 },
        bind: { src: from, dst: to },
        grid: workgroupGrid(segments * chunks, 1, maxPerDimension),
      }),
    );
    if (last) break;
    from = to;
    length = chunks;
    stride = chunks;
  }
  return { dispatches, scratch };
}
