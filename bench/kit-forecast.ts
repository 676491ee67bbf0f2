import { accuracyInput, syntheticInput, type ForecastJob } from './forecast-job.ts';

/**
 * The GPU run kit's `forecast` section (issue 18; bench/forecast-job.ts times each job per phase):
 *
 *   real       the accuracy benchmark's 61 real series (13 datasets, each at its M4 horizon and
 *              season): backtest, fit and forecast with the forecaster's defaults
 *   network    100,000 series of the app's generator (120 points, season 12), horizon 12, read from a
 *              wide CSV: fit and forecast with the networks alone (`combine: []`), the part of the
 *              job that runs on the GPU
 *   full       10,000 such series: backtest, fit and forecast with the forecaster's defaults (the
 *              networks combined with ETS and Theta, every baseline in the backtest's table)
 *
 * The full job is not run at 100,000: automatic ETS costs about 50–100 ms a series on one core
 * (bench/RESULTS.md), and the job fits it three times per series (the held-out members, the
 * backtest, the final forecast), minutes of CPU at that scale; its baselines phase at 10,000 gives
 * the cost per series to scale.
 */
export function forecastPlan(quick: boolean): ForecastJob[] {
  if (quick) {
    const small = { ensemble: 2, hiddenSize: 8 };
    return [
      { name: 'real', input: accuracyInput(['stocks']), steps: 'backtest+fit+forecast', options: small, fit: { epochs: 1 } },
      { name: 'network', input: syntheticInput(64, 120, 12), steps: 'fit+forecast', options: { ...small, combine: [] }, fit: { epochs: 1 } },
      { name: 'full', input: syntheticInput(8, 120, 12), steps: 'backtest+fit+forecast', options: small, fit: { epochs: 1 } },
    ];
  }
  return [
    { name: 'real', input: accuracyInput(), steps: 'backtest+fit+forecast' },
    { name: 'network', input: syntheticInput(100_000, 120, 12), steps: 'fit+forecast', options: { combine: [] } },
    { name: 'full', input: syntheticInput(10_000, 120, 12), steps: 'backtest+fit+forecast' },
  ];
}
