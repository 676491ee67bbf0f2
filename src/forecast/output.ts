import Papa from 'papaparse';
import { ConfigError, DataError } from '../errors.ts';
import type { Forecast } from './forecaster.ts';
import type { Series } from './frame.ts';
import { frequencyOfStamps, nextTimes, readStamps, type Frequency } from './timestamps.ts';

/**
 * The forecasts as the `webrnn forecast --out` command writes them (src/cli/forecast.ts), so a
 * download from the app and a file from the command line can be compared line by line:
 *
 *   unique_id,step,ds,yhat
 *   a,1,2024-01-01,12.5…
 *
 * as RFC 4180 CSV: an id holding a comma, a double quote or a line break is quoted.
 *
 * `ds` holds the future time stamps, written in the input's format (integers, ISO dates, M/D/YYYY…)
 * at the series' frequency; it is empty when the stamps are not evenly spaced times.
 *
 * Browser-safe (no Node modules): the app's worker and the command line both write with it.
 */
export function forecastsCsv(series: readonly Series[], forecasts: readonly Forecast[]): string {
  const rows: (string | number)[][] = [];
  forecasts.forEach((fc, k) => {
    const s = series[k]!;
    const stamps = nextStamps(s.ds, fc.values.length, { dsFormat: s.dsFormat, freq: s.freq });
    fc.values.forEach((v, h) => rows.push([fc.id, h + 1, stamps?.[h] ?? '', v]));
  });
  // papaparse quotes a field only where it must (an id holding a comma, a quote or a line break).
  return `${Papa.unparse({ fields: ['unique_id', 'step', 'ds', 'yhat'], data: rows }, { newline: '\n' })}\n`;
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
