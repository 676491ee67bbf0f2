import { afterAll, describe, expect, it } from 'vitest';
import { defaultTuneStore, IndexedDbTuneStore } from '../src/tune/stores.ts';

// The tuner's browser store: IndexedDB (Chromium).

describe('IndexedDbTuneStore', () => {
  const name = `webrnn-tune-test-${Date.now()}`;
  const store = new IndexedDbTuneStore(name);
  afterAll(async () => {
    await store.close();
    indexedDB.deleteDatabase(name);
  });

  it('is the default store in a browser, and keeps choices across instances', async () => {
    expect(defaultTuneStore()).toBeInstanceOf(IndexedDbTuneStore);
    const entry = {
      choice: 'tile/256',
      timesMs: { 'tile/256': 0.8, sequential: 2.5 },
      mode: 'full' as const,
      at: '2026-12-05T00:00:00.000Z',
    };
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', entry);
    const other = new IndexedDbTuneStore(name);
    expect(await other.get('k')).toEqual(entry);
    await other.close();
  });
});
