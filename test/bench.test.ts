import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Contender } from '../bench/contender.ts';
import { contenderSet, type ContenderSet } from '../bench/contenders.ts';
import { extrapolate, probeSizes, runHarness, tableRows, type BenchRecord, type Budget } from '../bench/harness.ts';
import { MODELS, type Workload } from '../bench/workloads.ts';
import { FLOAT32_TOLERANCE } from '../src/util/compare.ts';

// The benchmark harness on tiny workloads: webrnn and the CPU reference validate and time; a wrong
// contender is reported failed and not timed; the reference budget falls back to webrnn's output.

const tiny = (name: string, batch = 8, steps = 4): Workload => ({ name, ...MODELS[name]!, batch, steps });
const FAST: Partial<Budget> = { minRuns: 3, maxRuns: 3, cellMs: 0, warmupMs: 0 };

/** Returns zeros of the right shape: passes no validation. */
const zeros: Contender = {
  name: 'zeros',
  available: async () => true,
  prepare: async (w) => ({ run: async () => new Float32Array(w.batch * w.steps * w.outputSize), dispose() {} }),
  dispose() {},
};

let set: ContenderSet;
beforeAll(async () => {
  set = contenderSet('node');
});
afterAll(async () => {
  for (const c of set.all) await c.dispose();
});

const byName = (records: BenchRecord[], name: string) => records.filter((r) => r.contender === name);

describe('bench harness', () => {
  it('validates and times webrnn and the CPU reference; reports a wrong contender failed', async () => {
    const workloads = [tiny('elman-relu-h32'), tiny('lstm-h32'), tiny('gru-h24-i4')];
    const contenders = [set.reference, zeros, set.webrnn];
    const records = await runHarness({ workloads, contenders, reference: set.reference, adapter: null, budget: FAST });
    expect(records).toHaveLength(9);
    for (const name of ['webrnn-webgpu', 'cpu-reference']) {
      for (const r of byName(records, name)) {
        expect(r.status, `${r.workload} ${name}: ${r.message}`).toBe('ok');
        expect(r).toMatchObject({ batch: 8, steps: 4, validatedAgainst: expect.stringMatching(/cpu-reference/) });
        expect(r.medianMs).toBeGreaterThan(0);
        expect(r.runsMs).toHaveLength(3);
        expect(r.gflops).toBeGreaterThan(0);
        expect(r.maxAbsError).toBeLessThan(FLOAT32_TOLERANCE.atol + FLOAT32_TOLERANCE.rtol);
      }
    }
    // webrnn is the baseline: first in each workload, ratio 1.
    expect(records[0]!.contender).toBe('webrnn-webgpu');
    expect(byName(records, 'webrnn-webgpu').every((r) => r.ratioToWebrnn === 1)).toBe(true);
    for (const r of byName(records, 'zeros')) {
      expect(r.status).toBe('failed');
      expect(r.message).toMatch(/elements differ/);
      expect(r.medianMs).toBeNull();
      expect(r.runsMs).toEqual([]);
    }
    expect(tableRows(records)).toHaveLength(10);
  });

  it('checks the rest of a batch against webrnn when the reference budget covers only its first sequences', async () => {
    const records = await runHarness({
      workloads: [tiny('elman-relu-h1', 64, 4)],
      contenders: [set.webrnn, set.reference, zeros],
      reference: set.reference,
      adapter: null,
      budget: { ...FAST, referenceMs: 0 },
    });
    const [webrnn, reference, wrong] = records;
    expect(webrnn).toMatchObject({ status: 'ok', validatedAgainst: expect.stringMatching(/^cpu-reference on 8 of 64 sequences/) });
    expect(reference).toMatchObject({ status: 'ok', validatedAgainst: 'cpu-reference on 8 of 64 sequences; webrnn-webgpu on all' });
    expect(wrong).toMatchObject({ status: 'failed', validatedAgainst: expect.stringMatching(/on 8 of 64/) });
  });

  it('skips workloads over the host-memory budget and reports unavailable contenders', async () => {
    const absent: Contender = { ...zeros, name: 'absent', available: async () => 'not installed' };
    const records = await runHarness({
      workloads: [tiny('elman-relu-h1'), tiny('lstm-h128', 1_000_000, 64)],
      contenders: [set.webrnn, absent],
      reference: set.reference,
      adapter: null,
      budget: FAST,
    });
    expect(records.map((r) => r.status)).toEqual([
      'ok',
      'unavailable: not installed',
      expect.stringMatching(/^unavailable: needs about \d+\.\d GiB of host memory/),
      expect.stringMatching(/^unavailable: needs about/),
    ]);
  });

  it('probes a peer on the first sequences and skips it when a full run would pass the run limit', async () => {
    // The reference's outputs after `msPerSequence` ms a sequence: valid, and as slow as asked in
    // proportion to the batch. (Not webrnn beside it: its times on a software adapter swing with
    // the machine's load, and this test is about the harness's estimate, not about webrnn.)
    const delayed = (name: string, msPerSequence: number): Contender => ({
      name,
      available: async () => true,
      prepare: async (w, model, x) => {
        const out = await set.reference.prepare(w, model, x);
        return {
          run: async () => (await new Promise((r) => setTimeout(r, w.batch * msPerSequence)), out.run()),
          dispose: () => out.dispose(),
        };
      },
      dispose() {},
    });
    const slow = delayed('slow', 1);
    const records = await runHarness({
      workloads: [tiny('elman-relu-h1', 16, 4), tiny('elman-relu-h1', 512, 4)],
      contenders: [delayed('quick', 0), slow],
      reference: set.reference,
      adapter: null,
      budget: { ...FAST, runLimitMs: 300 }, // slow needs 512 ms at B = 512; quick none
    });
    expect(records.map((r) => [r.batch, r.contender, r.status.replace(/about .*/, '…')])).toEqual([
      [16, 'quick', 'ok'],
      [16, 'slow', 'ok'],
      [512, 'quick', 'ok'],
      [512, 'slow', 'unavailable: a run would take …'],
    ]);
    // Too small to probe: the validating run itself is the guard.
    const [over] = await runHarness({
      workloads: [tiny('elman-relu-h1', 8, 4)],
      contenders: [slow],
      reference: set.reference,
      adapter: null,
      budget: { ...FAST, runLimitMs: 4 },
    });
    expect(over).toMatchObject({
      status: expect.stringMatching(/^unavailable: its validated run took/),
      runsMs: [],
      validatedAgainst: 'cpu-reference',
    });

    // A later call estimates from the earlier records it is given, without probing.
    const earlier = { ...records[1]!, batch: 512, flops: records[1]!.flops * 32, medianMs: 1_000 };
    const log: string[] = [];
    const again = await runHarness({
      workloads: [tiny('elman-relu-h1', 512, 4)],
      contenders: [slow],
      reference: set.reference,
      adapter: null,
      budget: { ...FAST, runLimitMs: 100 },
      earlier: [earlier],
      log: (line) => log.push(line),
    });
    expect(again[0]!.status).toBe('unavailable: a run would take about 1.0 s here (limit 0.1 s)');
    expect(log.join('\n')).not.toMatch(/probing/);
  });

  it('estimates a run from earlier ones: in proportion below the largest, along the last two beyond', () => {
    expect(probeSizes(8)).toEqual([]);
    expect(probeSizes(100)).toEqual([8, 64]);
    expect(probeSizes(1024)).toEqual([8, 64, 256]);
    expect(extrapolate([[100, 10]], 300)).toBe(30);
    expect(
      extrapolate(
        [
          [100, 10],
          [1000, 20],
        ],
        500,
      ),
    ).toBe(10);
    // A flat start (per-call overhead) extends as a line: 10 ms + 10 ms per 900 FLOPs.
    expect(
      extrapolate(
        [
          [100, 10],
          [1000, 20],
        ],
        1900,
      ),
    ).toBeCloseTo(30);
    // Slower on fewer FLOPs (noise or a different kernel): no faster than the largest run.
    expect(
      extrapolate(
        [
          [100, 50],
          [1000, 20],
        ],
        2000,
      ),
    ).toBe(20);
  });
});
