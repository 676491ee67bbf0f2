// Setup file of both test projects: backends the tests create without tuning options plan the
// forward kernel by the cost model (tune 'off') from an empty store in memory, so no test times
// kernels at first use or reads the developer's tune cache (src/tune/defaults.ts). The tuner's own
// tests (test/tuner*.test.ts, test/tune-*.test.ts, test/cli-tune.test.ts) pass their options.
import { setTuneDefaults } from '../../src/tune/defaults.ts';
import { MemoryTuneStore } from '../../src/tune/tuner.ts';

setTuneDefaults({ mode: 'off', store: () => new MemoryTuneStore() });
