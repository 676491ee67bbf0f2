import { syntheticSeries } from '../src/data/datasets.ts';
import { autoEts } from '../src/forecast/baselines/ets.ts';
import { fitEtsModel } from '../src/forecast/baselines/ets-fit.ts';
import { etsName, parseEtsCode } from '../src/forecast/baselines/ets-model.ts';

/** One series automatic ETS is recorded on. */
export interface EtsReferenceCase {
  name: string;
  y: Float64Array;
  season: number;
  horizon: number;
}

/**
 * The series test/golden/make_ets_reference.ts recorded automatic ETS on (commit 2661208) and
 * test/ets-reference.test.ts checks it on: the app's synthetic series (season 12, the app's history
 * lengths), quarterly ones, a short one (fewer than three seasons: the regression start), one with
 * values below zero (no multiplicative models) and a non-seasonal one.
 */
export function etsReferenceCases(): EtsReferenceCase[] {
  const monthly = syntheticSeries({ count: 8, length: 96, season: 12, seed: 13 });
  const quarterly = syntheticSeries({ count: 4, length: 40, season: 4, seed: 5 });
  const cut = (values: number[], n: number) => Float64Array.from(values.slice(0, n));
  const below = monthly[7]!.values.slice(0, 60);
  const mean = below.reduce((a, b) => a + b, 0) / below.length;
  return [
    ...monthly.slice(0, 4).map((d, i) => ({ name: `monthly ${i}, 72 points`, y: cut(d.values, 72), season: 12, horizon: 12 })),
    ...monthly.slice(4, 6).map((d, i) => ({ name: `monthly ${4 + i}, 84 points`, y: cut(d.values, 84), season: 12, horizon: 6 })),
    { name: 'monthly 6, 30 points', y: cut(monthly[6]!.values, 30), season: 12, horizon: 12 },
    { name: 'monthly 7 minus its mean', y: Float64Array.from(below, (v) => v - mean), season: 12, horizon: 12 },
    ...quarterly.map((d, i) => ({ name: `quarterly ${i}`, y: Float64Array.from(d.values), season: 4, horizon: 8 })),
    { name: 'quarterly 0, no season', y: Float64Array.from(quarterly[0]!.values), season: 1, horizon: 6 },
  ];
}

/** Every model automatic ETS may choose from, in R's loop order. */
const MODELS = ['ANN', 'ANA', 'AAdN', 'AAdA', 'AAN', 'AAA', 'MNN', 'MNA', 'MNM', 'MAdN', 'MAdA', 'MAdM', 'MAN', 'MAA', 'MAM'];

/**
 * What is recorded of a case, as plain JSON: the automatic choice with its forecast, intervals,
 * AICc and parameters, and every model's own fit (parameters, states, criteria and the number of
 * objective evaluations the search took, which shows it took the same path). Every finite float64
 * survives JSON exactly (shortest round-trip digits); non-finite ones become strings.
 */
export function recordEts({ y, season, horizon }: EtsReferenceCase): unknown {
  const auto = autoEts(y, horizon, season, { levels: [80, 95] });
  const fits = MODELS.map((code) => {
    const spec = parseEtsCode(code)!;
    const fit = spec.error === 'M' && !y.every((v) => v > 0) ? null : fitEtsModel(y, spec, season);
    return {
      model: etsName(spec),
      fit: fit && {
        par: fit.par,
        initState: fit.initState,
        finalState: fit.finalState,
        aicc: fit.aicc,
        loglik: fit.loglik,
        sigma2: fit.sigma2,
        evaluations: fit.evaluations,
      },
    };
  });
  const plain = (_key: string, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v instanceof Float64Array ? Array.from(v) : v;
  return JSON.parse(JSON.stringify({ auto, fits }, plain));
}
