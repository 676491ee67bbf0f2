import { accuracyInput, syntheticInput, type ForecastJob } from './forecast-job.ts';

/**
 * The GPU run kit's `forecast` section (issue 18; bench/forecast-job.ts times each job per phase):
 *
 *   network    100,000 series of the app's generator (120 points, season 12), horizon 12, read from a
 *              wide CSV: fit and forecast with the networks alone (`combine: []`), the part of the
 *              job that runs on the GPU
 *   real       the accuracy benchmark's 61 real series (13 datasets, each at its M4 horizon and
 *              season): backtest, fit and forecast with the forecaster's defaults
 *   full       2,000 synthetic series: backtest, fit and forecast with the forecaster's defaults (the
 *              networks combined with ETS and Theta, every baseline in the backtest's table)
 *
 * The baselines run on a pool of one thread per core (bench/baseline-pool.ts). The full job is not
 * run at 100,000: automatic ETS costs about 50–100 ms a series on one core (bench/RESULTS.md), and
 * the job fits it three times per series (the held-out members, the backtest, the final forecast):
 * about 4 hours of CPU at that scale, minutes even on 16 threads. Its baselines phase at 2,000 gives
 * the cost per series to scale by.
 */
export function forecastPlan(quick: boolean): ForecastJob[] {
  if (quick) {
    const small = { ensemble: 2, hiddenSize: 8 };
    return [
      {
        name: 'network',
        input: syntheticInput(64, 120, 12),
        steps: 'fit+forecast',
        options: { ...small, combine: [] },
        fit: { epochs: 1 },
      },
      { name: 'real', input: accuracyInput(['stocks']), steps: 'backtest+fit+forecast', options: small, fit: { epochs: 1 } },
      { name: 'full', input: syntheticInput(8, 120, 12), steps: 'backtest+fit+forecast', options: small, fit: { epochs: 1 } },
    ];
  }
  return [
    { name: 'network', input: syntheticInput(100_000, 120, 12), steps: 'fit+forecast', options: { combine: [] } },
    { name: 'real', input: accuracyInput(), steps: 'backtest+fit+forecast' },
    { name: 'full', input: syntheticInput(2_000, 120, 12), steps: 'backtest+fit+forecast' },
  ];
}
