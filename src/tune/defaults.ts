import { ConfigError } from '../errors.ts';
import { defaultTuneStore } from './stores.ts';
import { TUNE_MODES, type TuneMode, type TuneStore } from './tuner.ts';

/**
 * The tuning a WebGPU backend does when its options name none: the mode from
 * {@link setTuneDefaults}, else (Node only) the environment variable `WEBRNN_TUNE`
 * (`off`, `quick` or `full`), else `'quick'`; the store from {@link setTuneDefaults}, else
 * src/tune/stores.ts `defaultTuneStore` (IndexedDB in a browser, the cache file in Node).
 *
 * The test suite sets `{ mode: 'off', store: memory }` in its setup file
 * (test/helpers/tune-off.ts), and `WEBRNN_TUNE=off` with an empty cache folder for the processes
 * the tests start, so every backend a test creates plans by the cost model and never reads the
 * developer's cache: results do not depend on what was tuned before. The tuner's own tests pass
 * `tune` and `tuneStore` explicitly.
 */

/** The environment variable that sets the default tuning mode in Node. */
export const TUNE_ENV = 'WEBRNN_TUNE';

/** What {@link setTuneDefaults} sets. */
export interface TuneDefaults {
  /** The mode of backends whose options name none. */
  mode?: TuneMode;
  /** Makes the store of backends whose options name none. */
  store?: () => TuneStore;
}

let defaults: TuneDefaults = {};

/** Process-wide defaults for backends created without `tune` / `tuneStore` (see the module comment). */
export function setTuneDefaults(d: TuneDefaults): void {
  if (d.mode !== undefined) checkTuneMode(d.mode, 'the default tune mode');
  defaults = { ...d };
}

/** Throws a ConfigError unless `mode` is one of {@link TUNE_MODES}. */
export function checkTuneMode(mode: unknown, what = 'tune'): asserts mode is TuneMode {
  if (!(TUNE_MODES as readonly unknown[]).includes(mode))
    throw new ConfigError(`${what} must be one of ${TUNE_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
}

/** The mode of a backend whose options name none. */
export function defaultTuneMode(): TuneMode {
  if (defaults.mode) return defaults.mode;
  // `process` only exists in Node (and bundlers' shims); browsers have no environment to read.
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[TUNE_ENV];
  if (env) {
    checkTuneMode(env, TUNE_ENV);
    return env;
  }
  return 'quick';
}

/** The store of a backend whose options name none. */
export function defaultBackendTuneStore(): TuneStore {
  return defaults.store ? defaults.store() : defaultTuneStore();
}
