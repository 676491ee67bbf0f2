import type { Contender } from '../contender.ts';

/**
 * What every peer library's contender shares: the settings it ran with (for the results table), the
 * runtime it is in, and how it reports a missing package or backend.
 */

/** Settings a run used, for the record: library version, execution provider or backend, threads, adapter. */
export type PeerSettings = Record<string, string | number | boolean>;

/** A {@link Contender} for another library, which also says how it ran. */
export interface PeerContender extends Contender {
  /** What it ran with (filled in by `available()` and `prepare()`; threads are those actually in use). */
  settings(): PeerSettings;
}

export type Runtime = 'node' | 'browser';

export function currentRuntime(): Runtime {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string' ? 'node' : 'browser';
}

/** Logical cores: `navigator.hardwareConcurrency` in a browser, `os.availableParallelism()` in Node. */
export async function hardwareThreads(): Promise<number> {
  if (currentRuntime() === 'node') {
    const os = 'node:os'; // a variable, so that bundlers for the browser leave it alone
    const { availableParallelism } = (await import(/* @vite-ignore */ os)) as typeof import('node:os');
    return availableParallelism();
  }
  return globalThis.navigator?.hardwareConcurrency ?? 1;
}

/** The message of an error (or the value itself), for `available()`'s reasons. */
export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `available()` of a contender that only runs in one runtime: true there, the reason elsewhere. */
export function onlyIn(runtime: Runtime, why: string): true | string {
  return currentRuntime() === runtime ? true : `runs in ${runtime === 'node' ? 'Node' : 'a browser'} only (${why})`;
}

/**
 * A contender's one-time setup (import the library, pick its backend), shared by `available()` and
 * `prepare()`. A failed setup is forgotten, so the next call tries again and gives its reason.
 */
export class LazySetup<T extends { settings: PeerSettings }> {
  private ready: Promise<T> | null = null;
  private last: PeerSettings = {};

  constructor(private readonly setup: () => Promise<T>) {}

  load(): Promise<T> {
    return (this.ready ??= this.setup().then(
      (s) => ((this.last = s.settings), s),
      (err: unknown) => {
        this.ready = null;
        throw err;
      },
    ));
  }

  /** True once set up; else the reason it could not be. */
  async available(): Promise<true | string> {
    try {
      await this.load();
      return true;
    } catch (err) {
      return reasonOf(err);
    }
  }

  /** The settings of the last successful setup. */
  settings(): PeerSettings {
    return this.last;
  }

  /** Forgets the setup; resolves to it if it had succeeded, so the caller can release it. */
  async reset(): Promise<T | null> {
    const ready = this.ready;
    this.ready = null;
    return ready && ready.catch(() => null);
  }
}
