// Setup file of both test projects: backends the tests create without tuning options plan the
// forward kernel by the cost model (tune 'off') from an empty store in memory, so no test times
// kernels at first use or reads the developer's tune cache (src/tune/defaults.ts). The tuner's own
// tests (test/tuner*.test.ts, test/tune-*.test.ts, test/cli-tune.test.ts) pass their options.
import { setTuneDefaults, TUNE_ENV } from '../../src/tune/defaults.ts';
import { MemoryTuneStore } from '../../src/tune/tuner.ts';

setTuneDefaults({ mode: 'off', store: () => new MemoryTuneStore() });

// Node processes the tests start (the CLI, the packaged examples) read the environment instead:
// tuning off, and a cache folder that does not exist (tuning off never writes one).
const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
if (env && typeof window === 'undefined') {
  env[TUNE_ENV] = 'off';
  env.WEBRNN_CACHE_DIR = '/nonexistent/webrnn-test-cache';
}
