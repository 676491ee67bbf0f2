import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../src/errors.ts';
import { epochBatches, gatherSamples, permutation, samples, seriesWindows, splitValidation, trainingRandom } from '../src/train/data.ts';

// The trainer's data side (src/train/data.ts): windows of series, seeded mini-batches, validation
// split, per-series grouping, and typed errors for bad input.

describe('training data', () => {
  it('cuts next-value windows out of each series', () => {
    const d = seriesWindows(
      [
        [1, 2, 3, 4, 5],
        [10, 20, 30],
      ],
      2,
    );
    // Series 1: [1,2]→[2,3], [2,3]→[3,4], [3,4]→[4,5]; series 2: [10,20]→[20,30].
    expect(d.count).toBe(4);
    expect(Array.from(d.x)).toEqual([1, 2, 2, 3, 3, 4, 10, 20]);
    expect(Array.from(d.y)).toEqual([2, 3, 3, 4, 4, 5, 20, 30]);
    const strided = seriesWindows([[1, 2, 3, 4, 5, 6]], 2, { stride: 2 });
    expect(Array.from(strided.x)).toEqual([1, 2, 3, 4]);
    expect(Array.from(strided.y)).toEqual([2, 3, 4, 5]);
  });

  it('shuffles with its seed: the same seed the same batches, every sample once per epoch', () => {
    const d = seriesWindows([Array.from({ length: 40 }, (_, i) => i)], 3);
    const a = epochBatches(d, 8, trainingRandom(7));
    const b = epochBatches(d, 8, trainingRandom(7));
    const c = epochBatches(d, 8, trainingRandom(8));
    expect(a.map((x) => Array.from(x))).toEqual(b.map((x) => Array.from(x)));
    expect(a.map((x) => Array.from(x))).not.toEqual(c.map((x) => Array.from(x)));
    // 40 values give 37 windows of 3 + 1.
    expect(a.map((x) => x.length)).toEqual([8, 8, 8, 8, 5]);
    expect(a.flatMap((x) => Array.from(x)).sort((p, q) => p - q)).toEqual(Array.from({ length: 37 }, (_, i) => i));
  });

  it('gives each series in per-series mode the batches it would get alone', () => {
    const s1 = Array.from({ length: 30 }, (_, i) => Math.sin(i));
    const s2 = Array.from({ length: 30 }, (_, i) => Math.cos(i));
    const both = seriesWindows([s1, s2], 4, { perSeries: true });
    const alone = seriesWindows([s2], 4);
    const per = both.count / 2;
    const batchesBoth = epochBatches(both, 5, trainingRandom(3));
    const batchesAlone = epochBatches(alone, 5, trainingRandom(3));
    expect(batchesBoth.length).toBe(batchesAlone.length);
    batchesBoth.forEach((batch, k) => {
      const size = batch.length / 2;
      const second = gatherSamples(both, batch.subarray(size), 1);
      const own = gatherSamples(alone, batchesAlone[k]!, 1);
      expect(Array.from(batch.subarray(size), (i) => i - per)).toEqual(Array.from(batchesAlone[k]!));
      expect(second.x).toEqual(own.x);
      expect(second.y).toEqual(own.y);
    });
  });

  it('holds out the latest windows of each series for validation', () => {
    const d = seriesWindows([Array.from({ length: 12 }, (_, i) => i), Array.from({ length: 12 }, (_, i) => 100 + i)], 2, {
      perSeries: true,
    });
    const { train, validation } = splitValidation(d, 0.2);
    // 10 windows a series: 2 held out each, the last ones.
    expect(train.count).toBe(16);
    expect(validation!.count).toBe(4);
    expect(validation!.series).toBe(2);
    expect(Array.from(validation!.x)).toEqual([8, 9, 9, 10, 108, 109, 109, 110]);
    expect(splitValidation(d, 0).validation).toBeNull();
  });

  it('is a permutation', () => {
    const p = permutation(100, trainingRandom(1));
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('rejects bad input with typed errors', () => {
    const ok = { x: new Float32Array(6), y: new Float32Array(6), count: 2, steps: 3, inputSize: 1, outputSize: 1 };
    expect(() => samples({ ...ok, x: new Float32Array(5) })).toThrow(new ShapeError('x has 5 values but shape [2, 3, 1] needs 6'));
    expect(() => samples({ ...ok, y: Float32Array.from([0, 0, NaN, 0, 0, 0]) })).toThrow(/y holds a non-finite value \(NaN\) at index 2/);
    expect(() => samples({ ...ok, mask: Float32Array.from([1, 1, 0.5, 1, 1, 1]) })).toThrow(
      /mask must hold only 0 and 1, got 0.5 at \[0, 2\]/,
    );
    expect(() => samples({ ...ok, series: 3 })).toThrow(ShapeError);
    expect(() => samples({ ...ok, steps: 0 })).toThrow(ConfigError);
    expect(() => seriesWindows([[1, 2]], 2)).toThrow(/no series is longer than a window of 2 \+ 1 values/);
    expect(() =>
      seriesWindows(
        [
          [1, 2, 3, 4],
          [1, 2, 3, 4, 5],
        ],
        2,
        { perSeries: true },
      ),
    ).toThrow(/same number of windows/);
    expect(() => splitValidation(samples(ok), 1)).toThrow(ConfigError);
    expect(() => splitValidation(samples(ok), 0.9)).toThrow(/leaves no training sample/);
    expect(() => epochBatches(samples(ok), 0, trainingRandom(1))).toThrow(ConfigError);
  });
});
