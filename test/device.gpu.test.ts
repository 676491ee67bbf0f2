import { describe, expect, it } from 'vitest';
import { acquireGpu } from '../src/gpu/device.ts';

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

  it('requests no optional feature by default', async () => {
    const gpu = await acquireGpu({ log: false });
    try {
      expect(gpu.device.features.has('timestamp-query')).toBe(false);
    } finally {
      gpu.destroy();
    }
  });
});
