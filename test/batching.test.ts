import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.ts';
import { isSoftwareAdapter } from '../src/gpu/device.ts';
import { defaultReadbackEvery, trainSpec } from '../src/train/trainer.ts';
import {
  autoBatchSize,
  BASE_BATCH,
  batchLimits,
  HARDWARE_MAX_BATCH,
  scaledLearningRate,
  SOFTWARE_MAX_BATCH,
} from '../src/train/batching.ts';

describe('autoBatchSize', () => {
  const software = { maxBatch: SOFTWARE_MAX_BATCH };
  const hardware = { maxBatch: HARDWARE_MAX_BATCH };

  it('keeps the base batch for small data', () => {
    expect(autoBatchSize(1_500, software)).toBe(64); // 15 monthly series of ~100 points
    expect(autoBatchSize(12_800, software)).toBe(64); // 200 steps of 64
    expect(autoBatchSize(100, software)).toBe(64);
  });

  it('never takes a batch beyond the data (rounded up to a power of two)', () => {
    expect(autoBatchSize(40, software)).toBe(64);
    expect(autoBatchSize(20, software)).toBe(32);
    expect(autoBatchSize(1, software)).toBe(1);
  });

  it('grows to about 200 steps an epoch, in powers of two, up to the device cap', () => {
    expect(autoBatchSize(50_000, software)).toBe(256); // 250 → 256
    expect(autoBatchSize(660_000, software)).toBe(4096); // the app's 10,000 × 96 set: 3,300 → 4,096
    expect(autoBatchSize(660_000, hardware)).toBe(4096);
    expect(autoBatchSize(10_000_000, software)).toBe(4096);
    expect(autoBatchSize(10_000_000, hardware)).toBe(HARDWARE_MAX_BATCH);
    expect(autoBatchSize(660_000, { maxBatch: 3000 })).toBe(2048); // a cap is rounded down to a power of two
  });

  it('takes its targets from the limits', () => {
    expect(autoBatchSize(660_000, { maxBatch: 1 << 20, targetSteps: 20 })).toBe(32768);
    expect(autoBatchSize(1_000, { maxBatch: 4096, minBatch: 8 })).toBe(8);
  });

  it('refuses sizes that are not positive integers', () => {
    expect(() => autoBatchSize(0, software)).toThrow(ConfigError);
    expect(() => autoBatchSize(10.5, software)).toThrow(ConfigError);
    expect(() => autoBatchSize(10, { maxBatch: 0 })).toThrow(/maxBatch/);
    expect(() => autoBatchSize(10, { maxBatch: 64, targetSteps: -1 })).toThrow(/targetSteps/);
  });
});

describe('batchLimits', () => {
  const device = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 };
  it('caps by the adapter kind and by the windows one binding holds', () => {
    expect(batchLimits(device, { software: true })).toEqual({ maxBatch: SOFTWARE_MAX_BATCH });
    expect(batchLimits(device)).toEqual({ maxBatch: HARDWARE_MAX_BATCH });
    // 128 MiB / 20 KiB a window = 6,553 windows → 4,096
    expect(batchLimits(device, { bytesPerWindow: 20 * 1024 })).toEqual({ maxBatch: 4096 });
    expect(batchLimits(device, { bytesPerWindow: 2 ** 30 })).toEqual({ maxBatch: 1 });
    expect(batchLimits(null)).toEqual({ maxBatch: BASE_BATCH });
  });
});

describe('scaledLearningRate', () => {
  it("scales Adam's rate by the square root of the batch ratio, capped", () => {
    expect(scaledLearningRate(0.02, 64)).toBe(0.02);
    expect(scaledLearningRate(0.02, 256)).toBeCloseTo(0.04, 15);
    expect(scaledLearningRate(0.02, 4096)).toBeCloseTo(0.16, 15);
    expect(scaledLearningRate(0.02, 65536)).toBeCloseTo(0.16, 15); // factor capped at 8
    expect(scaledLearningRate(0.02, 4096, { maxFactor: 4 })).toBeCloseTo(0.08, 15);
  });

  it('scales SGD linearly, from any base batch', () => {
    expect(scaledLearningRate(0.1, 256, { rule: 'linear' })).toBeCloseTo(0.4, 15);
    expect(scaledLearningRate(0.1, 256, { rule: 'linear', baseBatch: 128 })).toBeCloseTo(0.2, 15);
  });

  it('keeps the rate for batches at or below the base', () => {
    expect(scaledLearningRate(0.02, 8)).toBe(0.02);
    expect(scaledLearningRate(0.02, 32, { rule: 'linear' })).toBe(0.02);
  });

  it('refuses bad rates and rules', () => {
    expect(() => scaledLearningRate(0, 64)).toThrow(ConfigError);
    expect(() => scaledLearningRate(Number.NaN, 64)).toThrow(ConfigError);
    expect(() => scaledLearningRate(0.01, 0)).toThrow(ConfigError);
    expect(() => scaledLearningRate(0.01, 64, { maxFactor: 0.5 })).toThrow(/maxFactor/);
    expect(() => scaledLearningRate(0.01, 64, { rule: 'cubic' as 'sqrt' })).toThrow(/rule/);
  });
});

describe('isSoftwareAdapter', () => {
  it('knows the software rasterisers and the fallback flag', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 19.1.7, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', description: 'lavapipe' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'microsoft', architecture: 'warp' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'intel', architecture: 'gen-12lp', isFallbackAdapter: true })).toBe(true);
  });

  it('does not mistake hardware for software', () => {
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'apple', architecture: 'metal-3' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'amd', architecture: 'rdna-3', description: 'Radeon RX 7900', isFallbackAdapter: false })).toBe(
      false,
    );
    expect(isSoftwareAdapter({})).toBe(false);
  });
});

describe('defaultReadbackEvery', () => {
  it('reads the loss back every ~2048 windows, every 4 to 32 steps', () => {
    expect(defaultReadbackEvery(1)).toBe(32);
    expect(defaultReadbackEvery(64)).toBe(32);
    expect(defaultReadbackEvery(256)).toBe(8);
    expect(defaultReadbackEvery(4096)).toBe(4);
    const spec = (o: { batchSize: number; readbackEvery?: number }) =>
      trainSpec({ loss: { kind: 'mse' }, optimizer: { kind: 'adam', lr: 0.01 }, ...o });
    expect(spec({ batchSize: 512 }).readbackEvery).toBe(4);
    expect(spec({ batchSize: 512, readbackEvery: 1 }).readbackEvery).toBe(1);
    expect(() => spec({ batchSize: 64, readbackEvery: 0 })).toThrow(/readbackEvery/);
    expect(() => spec({ batchSize: 0 })).toThrow(/batchSize/);
  });
});
