import Papa from 'papaparse';
import { ConfigError, DataError } from '../errors.ts';
import type { Interval } from './baselines/index.ts';
import type { Series } from './frame.ts';
import { frequencyOfStamps, nextTimes, readStamps, type Frequency } from './timestamps.ts';

/**
 * What {@link forecastsCsv} writes of a forecast: its id, points and prediction intervals (a
 * `Forecast` of src/forecast/forecaster.ts is one; a forecast without intervals writes none).
 */
export interface CsvForecast {
  id: string;
  values: ArrayLike<number>;
  intervals?: readonly Interval[];
}

/** The name of the point forecast's column; its intervals' columns are `yhat-lo-80`, `yhat-hi-80`… */
export const POINT_COLUMN = 'yhat';

/**
 * The interval columns of `levels` (percent) in statsforecast's order: the lower bounds from the
 * widest interval in, then the upper bounds from the narrowest out, so that a row reads from the
 * lowest value to the highest: `yhat-lo-95, yhat-lo-80, yhat-hi-80, yhat-hi-95`. A level is
 * written as JavaScript writes the number (80, 97.5), as statsforecast writes Python's.
 */
export function intervalColumns(levels: readonly number[]): { name: string; level: number; side: 'lo' | 'hi' }[] {
  const sorted = [...new Set(levels)].sort((a, b) => a - b);
  return [
    ...[...sorted].reverse().map((level) => ({ name: `${POINT_COLUMN}-lo-${level}`, level, side: 'lo' as const })),
    ...sorted.map((level) => ({ name: `${POINT_COLUMN}-hi-${level}`, level, side: 'hi' as const })),
  ];
}

/**
 * The forecasts as the `webrnn forecast --out` command writes them (src/cli/forecast.ts), so a
 * download from the app and a file from the command line can be compared line by line:
 *
 *   unique_id,step,ds,yhat,yhat-lo-95,yhat-lo-80,yhat-hi-80,yhat-hi-95
 *   a,1,2024-01-01,12.5,9.8,10.7,14.3,15.2
 *
 * as RFC 4180 CSV: an id holding a comma, a double quote or a line break is quoted.
 *
 * `ds` holds the future time stamps, written in the input's format (integers, ISO dates, M/D/YYYY…)
 * at the series' frequency; it is empty when the stamps are not evenly spaced times.
 *
 * The interval columns are named as statsforecast names them (`<model>-lo-<level>`,
 * `<model>-hi-<level>`, nested: lows from the widest level in, highs back out), one pair per level any forecast has; a series
 * whose forecast lacks a level (none of the forecasts here do, but a caller may mix them) has
 * empty cells there rather than a number that was never computed. Forecasts without intervals
 * write the four columns alone.
 *
 * Browser-safe (no Node modules): the app's worker and the command line both write with it.
 */
export function forecastsCsv(series: readonly Series[], forecasts: readonly CsvForecast[]): string {
  const columns = intervalColumns(forecasts.flatMap((fc) => (fc.intervals ?? []).map((i) => i.level)));
  const rows: (string | number)[][] = [];
  forecasts.forEach((fc, k) => {
    const s = series[k]!;
    const stamps = nextStamps(s.ds, fc.values.length, { dsFormat: s.dsFormat, freq: s.freq });
    const byLevel = new Map((fc.intervals ?? []).map((i) => [i.level, i]));
    for (let h = 0; h < fc.values.length; h++) {
      const bounds = columns.map(({ level, side }) => byLevel.get(level)?.[side][h] ?? '');
      rows.push([fc.id, h + 1, stamps?.[h] ?? '', fc.values[h]!, ...bounds]);
    }
  });
  const fields = ['unique_id', 'step', 'ds', POINT_COLUMN, ...columns.map((c) => c.name)];
  // papaparse quotes a field only where it must (an id holding a comma, a quote or a line break).
  return `${Papa.unparse({ fields, data: rows }, { newline: '\n' })}\n`;
}

/**
 * The `h` time stamps after `ds` (one series' stamps in time order), written in their format:
 * `dsFormat` and `freq` when known (a {@link Series} read by parseLong/parseWide carries both, so
 * a series of one stamp still steps at its file's frequency), else detected from `ds` itself
 * (src/forecast/timestamps.ts). Months keep their day (month ends stay month ends). Null when
 * the stamps are not times in one format, or not evenly spaced.
 */
export function nextStamps(ds: readonly string[], h: number, known: { dsFormat?: string; freq?: Frequency } = {}): string[] | null {
  if (ds.length === 0) return null;
  let read: { format: { format(t: number): string }; times: ArrayLike<number>; freq: Frequency } | null;
  if (known.freq) {
    try {
      read = { ...readStamps(ds, { column: 'ds' }, known.dsFormat), freq: known.freq };
    } catch (e) {
      if (e instanceof DataError || e instanceof ConfigError) return null;
      throw e;
    }
  } else {
    read = frequencyOfStamps(ds, known.dsFormat);
  }
  const next = read && nextTimes(read.times, read.freq, h);
  return next ? next.map((t) => read!.format.format(t)) : null;
}
