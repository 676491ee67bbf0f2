import { describe, expect, it } from 'vitest';
import { isDawnPump, pumpPolicy, pumpStats } from '../src/gpu/dawn-pump.ts';
import { acquireGpu } from '../src/gpu/device.ts';

// Dawn's event pump in Node (src/gpu/dawn-pump.ts): it spins only at the start of a wait.

describe("Dawn's event pump", () => {
  it('runs at once for the first SPIN_MS of a wait, then on a timer, and starts over after a gap', () => {
    let t = 0;
    const policy = pumpPolicy(() => t, 2, 5);
    const at = (ms: number) => {
      t = ms;
      return policy();
    };
    expect([at(0), at(0.5), at(1.9), at(2), at(3.1), at(4.2)]).toEqual(['immediate', 'immediate', 'immediate', 'timer', 'timer', 'timer']);
    // 20 ms without a callback: the next one belongs to a new wait.
    expect([at(24.2), at(25), at(26.3)]).toEqual(['immediate', 'immediate', 'timer']);
  });

  it('recognises only native callbacks without a name', () => {
    expect(isDawnPump(() => {})).toBe(false);
    expect(isDawnPump(Math.max)).toBe(false);
    expect(isDawnPump(null)).toBe(false);
  });

  it("puts Dawn's own callbacks on a timer during a long wait (the Node adapter installs it)", async () => {
    const gpu = await acquireGpu({ log: false });
    try {
      const { device } = gpu;
      const before = { ...pumpStats };
      const bytes = 64 << 20;
      const src = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      const dst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
      // A wait long enough to outlast the spin (a 64 MiB copy on a software adapter takes tens of ms).
      for (let k = 0; k < 20 && pumpStats.timer === before.timer; k++) {
        const encoder = device.createCommandEncoder();
        encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
        device.queue.submit([encoder.finish()]);
        await dst.mapAsync(GPUMapMode.READ);
        dst.unmap();
      }
      expect(pumpStats.immediate).toBeGreaterThan(before.immediate);
      expect(pumpStats.timer).toBeGreaterThan(before.timer);
      src.destroy();
      dst.destroy();
    } finally {
      gpu.destroy();
    }
  });
});
