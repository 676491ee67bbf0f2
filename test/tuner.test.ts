import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.ts';
import { FileTuneStore, tuneCachePath } from '../src/tune/file-store.ts';
import { batchBucket, hashText, tuneKey, type TuneKeyParts } from '../src/tune/key.ts';
import { defaultTuneStore } from '../src/tune/stores.ts';
import { MemoryTuneStore, QUICK_CANDIDATES, rankByModel, Tuner, type Candidate } from '../src/tune/tuner.ts';

// The autotuner (src/tune) with a fake clock: each timed run advances it by the candidate's cost.

const candidates: Candidate<string>[] = [
  { name: 'tile/64', config: 'a', estimate: 3 },
  { name: 'tile/128', config: 'b', estimate: 1 },
  { name: 'sequential', config: 'c', estimate: 5 },
  { name: 'lanes', config: 'd' },
  { name: 'tile/256', config: 'e', estimate: 2 },
];
/** Milliseconds each candidate's run takes on the fake device. */
const cost: Record<string, number> = { 'tile/64': 4, 'tile/128': 9, sequential: 2, lanes: 1, 'tile/256': 6 };

function fakeDevice() {
  let clock = 0;
  const runs: string[] = [];
  return {
    now: () => clock,
    runs,
    time: async (c: Candidate<string>) => {
      runs.push(c.name);
      clock += cost[c.name]!;
      return cost[c.name]!;
    },
  };
}

describe('Tuner', () => {
  it('ranks by the cost model: estimates ascending, those without one last', () => {
    expect(rankByModel(candidates).map((c) => c.name)).toEqual(['tile/128', 'tile/256', 'tile/64', 'sequential', 'lanes']);
  });

  it("'full' times every candidate (warm-up + median of three) and picks the fastest, then answers from the cache", async () => {
    const store = new MemoryTuneStore();
    const dev = fakeDevice();
    const tuner = new Tuner({ mode: 'full', store, now: dev.now, budgetMs: 1e9 });
    const first = await tuner.choose('k', candidates, dev.time);
    expect(first.source).toBe('tuned');
    expect(first.candidate.name).toBe('lanes');
    expect(first.timesMs).toEqual(cost);
    expect(dev.runs).toHaveLength(4 * candidates.length);
    expect(store.entries.get('k')).toMatchObject({ choice: 'lanes', mode: 'full', timesMs: cost });
    const again = await tuner.choose('k', candidates, dev.time);
    // From the cache: the times of the run that chose it.
    expect(again).toEqual({ candidate: candidates[3], source: 'cache', timesMs: cost });
    expect(dev.runs).toHaveLength(4 * candidates.length);
  });

  it("'quick' times only the cost model's best three, once each after a warm-up", async () => {
    const dev = fakeDevice();
    const choice = await new Tuner({ mode: 'quick', store: new MemoryTuneStore(), now: dev.now, budgetMs: 1e9 }).choose(
      'k',
      candidates,
      dev.time,
    );
    expect(Object.keys(choice.timesMs)).toEqual(['tile/128', 'tile/256', 'tile/64'].slice(0, QUICK_CANDIDATES));
    expect(choice.candidate.name).toBe('tile/64');
    expect(dev.runs).toEqual(['tile/128', 'tile/128', 'tile/256', 'tile/256', 'tile/64', 'tile/64']);
  });

  it("'quick' times the best of each group (kernel) even where the cost model ranks it low, then the next best up to three", async () => {
    const grouped = candidates.map((c) => ({ ...c, group: c.name.split('/')[0] }));
    const dev = fakeDevice();
    const choice = await new Tuner({ mode: 'quick', store: new MemoryTuneStore(), now: dev.now, budgetMs: 1e9 }).choose(
      'k',
      grouped,
      dev.time,
    );
    // Three groups (tile, sequential, lanes): their leaders, in the model's order; no fill needed.
    expect(Object.keys(choice.timesMs)).toEqual(['tile/128', 'sequential', 'lanes']);
    expect(choice.candidate.name).toBe('lanes');
    // One group: its best, then the next best until three.
    const tiles = grouped.filter((c) => c.group === 'tile');
    const one = await new Tuner({ mode: 'quick', store: new MemoryTuneStore(), now: dev.now, budgetMs: 1e9 }).choose('k', tiles, dev.time);
    expect(Object.keys(one.timesMs)).toEqual(['tile/128', 'tile/256', 'tile/64']);
  });

  it("'full' times each group's best first, so a budget that runs out still leaves every kernel timed once", async () => {
    const grouped = candidates.map((c) => ({ ...c, group: c.name.split('/')[0] }));
    const dev = fakeDevice();
    // The leaders first: tile/128 takes 4 × 9 ms, sequential 4 × 2 (44 spent, under the budget of
    // 45), lanes 4 × 1 (48 spent): tile/256 and tile/64, ranked above the last two, never start.
    const choice = await new Tuner({ mode: 'full', store: new MemoryTuneStore(), now: dev.now, budgetMs: 45 }).choose(
      'k',
      grouped,
      dev.time,
    );
    expect(Object.keys(choice.timesMs)).toEqual(['tile/128', 'sequential', 'lanes']);
    expect(choice.candidate.name).toBe('lanes');
  });

  it('stops starting candidates once the budget is spent, and picks the fastest of those timed', async () => {
    const dev = fakeDevice();
    // tile/128 takes 2 × 9 ms (warm-up + run): 18 ms, under the budget of 20, so tile/256 starts
    // (2 × 6 ms: 30 spent); tile/64 does not.
    const choice = await new Tuner({ mode: 'quick', store: new MemoryTuneStore(), now: dev.now, budgetMs: 20 }).choose(
      'k',
      candidates,
      dev.time,
    );
    expect(Object.keys(choice.timesMs)).toEqual(['tile/128', 'tile/256']);
    expect(choice.candidate.name).toBe('tile/256');
    // Even a budget of zero times one candidate: a measured choice beats a guess.
    const zero = await new Tuner({ mode: 'quick', store: new MemoryTuneStore(), now: fakeDevice().now, budgetMs: 0 }).choose(
      'k',
      candidates,
      fakeDevice().time,
    );
    expect(Object.keys(zero.timesMs)).toEqual(['tile/128']);
  });

  it("'off' never times: the cache if it has the key, else the cost model's pick", async () => {
    const store = new MemoryTuneStore();
    const dev = fakeDevice();
    const off = new Tuner({ mode: 'off', store, now: dev.now });
    expect(await off.choose('k', candidates, dev.time)).toMatchObject({ source: 'model', candidate: { name: 'tile/128' } });
    await store.set('k', { choice: 'sequential', timesMs: {}, mode: 'quick', at: '' });
    expect(await off.choose('k', candidates, dev.time)).toMatchObject({ source: 'cache', candidate: { name: 'sequential' } });
    expect(dev.runs).toEqual([]);
  });

  it('skips a candidate whose run throws, retunes when the cached choice is no longer a candidate, and rejects bad options', async () => {
    const store = new MemoryTuneStore();
    await store.set('k', { choice: 'gone', timesMs: {}, mode: 'full', at: '' });
    const dev = fakeDevice();
    const failing = async (c: Candidate<string>) => {
      if (c.name === 'tile/128') throw new Error('does not fit');
      return dev.time(c);
    };
    const choice = await new Tuner({ mode: 'quick', store, now: dev.now, budgetMs: 1e9 }).choose('k', candidates, failing);
    expect(choice.source).toBe('tuned');
    expect(Object.keys(choice.timesMs)).toEqual(['tile/256', 'tile/64']);
    expect(store.entries.get('k')!.choice).toBe('tile/64');
    await expect(new Tuner({ store }).choose('k', [], dev.time)).rejects.toThrow(ConfigError);
    expect(() => new Tuner({ store, mode: 'fast' as never })).toThrow(/tune must be one of off, quick, full, got fast/);
    expect(() => new Tuner({ store, budgetMs: -1 })).toThrow(ConfigError);
  });
});

describe('tuneKey', () => {
  const parts: TuneKeyParts = {
    adapter: { vendor: 'nvidia', architecture: 'hopper', device: '0x2335', description: 'NVIDIA H200' },
    limits: { maxComputeWorkgroupStorageSize: 49152, maxComputeInvocationsPerWorkgroup: 1024 },
    features: ['timestamp-query', 'subgroups'],
    sources: ['fn main() {}'],
    shape: { cell: 'lstm', H: 32, I: 1 },
    batch: 65_536,
  };

  it('changes with the adapter, the limits, the features, the kernel source and the shape, and not with the order of limits or features', () => {
    const key = tuneKey(parts);
    expect(key).toMatch(/^webrnn-tune\/1 \| adapter=nvidia\/hopper\/0x2335\/NVIDIA H200 \|/);
    for (const changed of [
      { ...parts, adapter: { ...parts.adapter, device: '0x2330' } },
      { ...parts, limits: { ...parts.limits, maxComputeWorkgroupStorageSize: 32768 } },
      { ...parts, features: ['timestamp-query'] },
      { ...parts, sources: ['fn main() { }'] },
      { ...parts, shape: { ...parts.shape, H: 64 } },
      { ...parts, batch: 1_000_000 },
    ]) {
      expect(tuneKey(changed)).not.toBe(key);
    }
    expect(
      tuneKey({
        ...parts,
        features: ['subgroups', 'timestamp-query'],
        limits: { maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupStorageSize: 49152 },
      }),
    ).toBe(key);
    expect(tuneKey({ ...parts, batch: 50_000 })).toBe(key); // same bucket as 65,536
  });

  it('buckets batches by powers of four and hashes text stably', () => {
    expect([1, 2, 4, 5, 16, 17, 65_536, 65_537, 1e9].map(batchBucket)).toEqual([1, 4, 4, 16, 16, 64, 65_536, 262_144, 4 ** 10]);
    expect(hashText('')).toBe('cbf29ce484222325');
    expect(hashText('a')).toBe('af63dc4c8601ec8c'); // FNV-1a 64 test vector
    expect(hashText('fn main() {}')).not.toBe(hashText('fn main() { }'));
  });
});

describe('FileTuneStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webrnn-tune-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps choices in a JSON file across instances, and reads a damaged file as empty', async () => {
    const path = join(dir, 'sub', 'tune.json');
    const entry = { choice: 'tile/128', timesMs: { 'tile/128': 1.5 }, mode: 'quick' as const, at: '2026-12-05T00:00:00.000Z' };
    await new FileTuneStore(path).set('a', entry);
    await new FileTuneStore(path).set('b', { ...entry, choice: 'lanes' });
    expect(await new FileTuneStore(path).get('a')).toEqual(entry);
    expect((await new FileTuneStore(path).get('b'))!.choice).toBe('lanes');
    writeFileSync(path, '{ not json');
    expect(await new FileTuneStore(path).get('a')).toBeUndefined();
    await new FileTuneStore(path).set('c', entry);
    expect(await new FileTuneStore(path).get('c')).toEqual(entry);
  });

  it("lives under WEBRNN_CACHE_DIR, else XDG_CACHE_HOME/webrnn, else ~/.cache/webrnn; Node's default store is the file", () => {
    expect(tuneCachePath({ WEBRNN_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c/tune.json');
    expect(tuneCachePath({ XDG_CACHE_HOME: '/x' })).toBe('/x/webrnn/tune.json');
    expect(tuneCachePath({})).toMatch(/\.cache\/webrnn\/tune\.json$/);
    expect(defaultTuneStore()).toBeInstanceOf(FileTuneStore);
  });
});
