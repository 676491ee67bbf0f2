import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { adapterTraits } from '../src/gpu/kernels/recurrent-layer.ts';

// `webrnn` command, called in-process (bin/webrnn.js runs the same main() from the built bundle).

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, '9.9.9');
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('webrnn CLI', () => {
  it('info names the adapter, says whether it is software, and prints the limits', async () => {
    const r = await run('info');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/vendor\s+\S+/);
    expect(r.out).toMatch(/architecture\s+\S+/);
    expect(r.out).toMatch(/description\s+/);
    expect(r.out).toMatch(/software\s+(yes|no)/);
    expect(r.out).toMatch(/maxStorageBufferBindingSize\s+\d+/);
    expect(r.out).toMatch(/maxComputeWorkgroupsPerDimension\s+\d+/);
    expect(r.out).toMatch(/simd lanes\s+(yes: hidden sizes from 32 run on the lanes kernel|no: hidden sizes above 4 run on the tiled kernel)/);
  });

  it('info --json is machine-readable', async () => {
    const r = await run('info', '--json');
    const report = JSON.parse(r.out);
    expect(typeof report.adapter.isSoftware).toBe('boolean');
    expect(report.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
    expect(report.traits).toEqual({ simdLanes: adapterTraits(report.adapter).simdLanes });
  });

  it('prints usage, version, and rejects unknown commands with exit code 2', async () => {
    expect((await run('help')).out).toMatch(/Usage: webrnn/);
    expect((await run('version')).out).toBe('9.9.9');
    const bad = await run('frobnicate');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown command "frobnicate"/);
    expect((await run('info', '--bogus')).code).toBe(2);
  });
});
