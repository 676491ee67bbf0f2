import { startBaselinePool as startPool } from '../src/forecast/baselines/node-pool.ts';
import type { BaselinePool } from '../src/forecast/baselines/pool.ts';

/**
 * The benchmarks' baseline pool: the library's (src/forecast/baselines/node-pool.ts) with `threads`
 * worker threads. In the GPU run kit its thread script is baseline-worker.mjs beside kit.mjs
 * (bench/baseline-worker.ts bundled by scripts/gpu-kit.mjs), which the library's pool finds there.
 */
export type { BaselinePool };

export function startBaselinePool(threads: number): Promise<BaselinePool> {
  return startPool({ threads });
}
