import { ShapeError } from '../../errors.ts';
import { formatDims, stridedOffsets, stridesOf } from '../tensor.ts';

/**
 * numpy broadcasting (ONNX "multidirectional broadcasting"): shapes are aligned on their last
 * dimension; each dimension pair must be equal or one of them 1. {@link ShapeError} naming `label`.
 */
export function broadcastDims(label: string, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + k] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) {
        throw new ShapeError(`${label}: shapes ${shapes.map(formatDims).join(', ')} do not broadcast`);
      }
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** For each element of the broadcast shape `outDims`, its offset in a tensor of `inDims`. */
export function broadcastOffsets(outDims: readonly number[], inDims: readonly number[]): Int32Array {
  const inStrides = stridesOf(inDims);
  const shift = outDims.length - inDims.length;
  const strides = outDims.map((_, k) => {
    const d = inDims[k - shift];
    return d === undefined || d === 1 ? 0 : inStrides[k - shift]!;
  });
  return stridedOffsets(outDims, strides);
}
