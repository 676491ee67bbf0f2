import { describe, expect, it } from 'vitest';
import { acquireGpu, DAWN_FLAGS_ENV, dawnFlagsFrom, ENGINE_LIMITS, OPTIONAL_FEATURES, WEBGPU_DEFAULT_LIMITS } from '../src/gpu/device.ts';

// Device acquisition options. Runs in Node (Dawn) and in Chromium.

describe('acquireGpu', () => {
  it('requests the features asked for that the adapter has, and skips the others', async () => {
    const lines: string[] = [];
    const gpu = await acquireGpu({ log: (l) => lines.push(l), features: ['timestamp-query', 'shader-f16', 'float32-filterable'] });
    try {
      expect(lines).toHaveLength(1);
      for (const f of ['timestamp-query', 'shader-f16', 'float32-filterable'] as const) {
        expect(gpu.device.features.has(f)).toBe(gpu.adapter.features.has(f));
      }
    } finally {
      gpu.destroy();
    }
  });

  it('requests the optional features (subgroups, shader-f16, timestamp-query) the adapter has by default, and reports them', async () => {
    const gpu = await acquireGpu({ log: false });
    try {
      for (const f of OPTIONAL_FEATURES) expect(gpu.device.features.has(f)).toBe(gpu.adapter.features.has(f));
      expect(gpu.features).toEqual([...gpu.device.features].sort());
      // Nothing beyond them (and the core features every device has) is requested unasked.
      expect(gpu.device.features.has('float32-filterable')).toBe(false);
    } finally {
      gpu.destroy();
    }
  });

  it("asks for the adapter's own limits, not WebGPU's defaults", async () => {
    const gpu = await acquireGpu({ log: false });
    try {
      for (const name of ENGINE_LIMITS) expect(gpu.device.limits[name], name).toBe(gpu.adapter.limits[name]);
      // The software adapters here offer more than the defaults, so the request is seen to matter.
      expect(gpu.device.limits.maxComputeWorkgroupStorageSize).toBeGreaterThan(WEBGPU_DEFAULT_LIMITS.maxComputeWorkgroupStorageSize);
    } finally {
      gpu.destroy();
    }
  });
});

describe('dawnFlagsFrom', () => {
  it('takes the option first, else the comma-separated environment variable, else none', () => {
    expect(dawnFlagsFrom(['a=b'], { [DAWN_FLAGS_ENV]: 'c=d' })).toEqual(['a=b']);
    expect(dawnFlagsFrom(undefined, { [DAWN_FLAGS_ENV]: ' enable-dawn-features=x , disable-dawn-features=y,' })).toEqual([
      'enable-dawn-features=x',
      'disable-dawn-features=y',
    ]);
    expect(dawnFlagsFrom(undefined, {})).toEqual([]);
  });
});
