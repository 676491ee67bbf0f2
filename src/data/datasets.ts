import Papa from 'papaparse';
import co2Csv from 'vega-datasets/data/co2-concentration.csv?raw';
import { ModelError } from '../errors.ts';

/**
 * Real series shipped by the `vega-datasets` package, parsed with papaparse: what tests train on and
 * what the forecasting app opens with. Each is a list of named series of dated values.
 */
export interface DatedSeries {
  id: string;
  /** ISO dates (`YYYY-MM-DD`), increasing. */
  dates: string[];
  values: number[];
}

/** Rows of a CSV text with a header, numbers typed; a malformed row is a {@link ModelError} naming it. */
export function parseCsv(text: string): Record<string, string | number>[] {
  const parsed = Papa.parse<Record<string, string | number>>(text.trim(), { header: true, dynamicTyping: true, skipEmptyLines: true });
  const error = parsed.errors[0];
  if (error) throw new ModelError(`CSV row ${(error.row ?? 0) + 2}: ${error.message}`);
  return parsed.data;
}

/**
 * Monthly mean CO2 at Mauna Loa (ppm), March 1958 onwards: a trend with a yearly cycle, period 12.
 * The file skips a few months; those are filled by linear interpolation so the series is regular.
 */
export function co2Monthly(): DatedSeries {
  const rows = parseCsv(co2Csv);
  const byMonth = new Map<number, number>();
  for (const row of rows) {
    const date = String(row.Date);
    const [y, m] = date.split('-').map(Number) as [number, number];
    byMonth.set(y * 12 + (m - 1), Number(row.CO2));
  }
  const months = [...byMonth.keys()].sort((a, b) => a - b);
  const dates: string[] = [];
  const values: number[] = [];
  for (let k = months[0]!; k <= months.at(-1)!; k++) {
    let v = byMonth.get(k);
    if (v === undefined) {
      let lo = k - 1;
      while (!byMonth.has(lo)) lo--;
      let hi = k + 1;
      while (!byMonth.has(hi)) hi++;
      v = byMonth.get(lo)! + ((byMonth.get(hi)! - byMonth.get(lo)!) * (k - lo)) / (hi - lo);
    }
    dates.push(`${Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, '0')}-01`);
    values.push(v);
  }
  return { id: 'co2', dates, values };
}
