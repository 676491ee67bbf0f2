import { co2Monthly, syntheticSeries, toSeries, unemploymentAcrossIndustries, usEmployment } from '../src/data/datasets.ts';
import { isDecimal, parseLong, parseWide, readTable, type Series } from '../src/forecast/frame.ts';
import { frequencyOfStamps } from '../src/forecast/timestamps.ts';
import type { BuiltinName, ColumnMapping, Source } from './protocol.ts';

/** Where the app's series come from: the built-in datasets, the generator, or an uploaded CSV (in the worker). */

export interface Loaded {
  label: string;
  series: Series[];
  /** The seasonal period the data suggests (12 for monthly data, the generator's own), if any. */
  season: number | null;
}

export const BUILTIN: Record<BuiltinName, { label: string; load: () => Series[] }> = {
  unemployment: {
    label: 'Unemployment across 14 US industries, monthly 2000–2010 (vega-datasets, long)',
    load: () => unemploymentAcrossIndustries().map(toSeries),
  },
  'us-employment': {
    label: 'US employment by industry, monthly 2006–2015 (vega-datasets, wide)',
    load: () => usEmployment().map(toSeries),
  },
  co2: { label: 'CO2 at Mauna Loa, monthly 1958–2020 (vega-datasets)', load: () => [toSeries(co2Monthly())] },
};

/**
 * The seasonal period the series' frequency suggests: 12 when monthly, 4 when quarterly, else null.
 * A file's series share one frequency (parseLong/parseWide check it and set `freq`); the built-in
 * series carry none, so their first series' stamps are read.
 */
function seasonOf(series: readonly Series[]): number | null {
  const first = series[0];
  const freq = first && (first.freq ?? frequencyOfStamps(first.ds, first.dsFormat)?.freq);
  if (!freq || freq.step !== 1) return null;
  return freq.unit === 'month' ? 12 : freq.unit === 'quarter' ? 4 : null;
}

export async function loadSource(source: Source): Promise<Loaded> {
  switch (source.kind) {
    case 'builtin': {
      const { label, load } = BUILTIN[source.name];
      const series = load();
      return { label, series, season: seasonOf(series) };
    }
    case 'synthetic': {
      const { count, length, season, seed } = source;
      const series = syntheticSeries({ count, length, season, seed }).map(toSeries);
      return {
        label: `${count.toLocaleString('en-US')} synthetic series of ${length} points, season ${season}, seed ${seed}`,
        series,
        season,
      };
    }
    case 'file': {
      const text = await source.file.text();
      const series = parseSeries(text, source.mapping);
      return { label: `${source.file.name} (${source.mapping.format})`, series, season: seasonOf(series) };
    }
  }
}

/** Series of a CSV text read with the chosen mapping (DataError naming row and column when it is malformed). */
export function parseSeries(text: string, mapping: ColumnMapping): Series[] {
  const dsFormat = mapping.dsFormat?.trim() || undefined;
  return mapping.format === 'long'
    ? parseLong(text, { id: mapping.id, ds: mapping.ds, y: mapping.y, dsFormat })
    : parseWide(text, { ds: mapping.ds, dsFormat });
}

const isNumber = (cell: string) => isDecimal(cell) && Number.isFinite(Number(cell));
const DS_NAMES = ['ds', 'date', 'month', 'time', 'timestamp', 'period', 'year'];
const ID_NAMES = ['unique_id', 'id', 'series', 'item_id', 'store'];
const Y_NAMES = ['y', 'value', 'target', 'count', 'sales'];

/**
 * The header of a CSV and a guess of its layout from its first 200 rows. The time-stamp column is
 * one named like a date (ds, date, month…), or else the first column that is not all numbers. The
 * file is wide when no stamp repeats and every other column holds numbers (or gaps); otherwise it
 * is long, the id a column named like one (unique_id, id, series…) or else the first other column,
 * the value one named like a value (y, value…) or else the last numeric column. The person can
 * change every choice.
 */
export function guessMapping(text: string): { header: string[]; mapping: ColumnMapping } {
  const head = text.split(/\r?\n/).slice(0, 201).join('\n');
  const { header, rows } = readTable(head);
  const lower = header.map((h) => h.toLowerCase());
  const named = (names: string[], not: number[] = []) => names.map((n) => lower.indexOf(n)).find((k) => k >= 0 && !not.includes(k));
  const cells = (k: number) => rows.map((r) => r[k] ?? '');
  const numeric = header.map((_, k) => cells(k).some(isNumber) && cells(k).every((c) => c.trim() === '' || isNumber(c)));
  const dsAt = named(DS_NAMES) ?? Math.max(0, numeric.indexOf(false));
  const others = header.map((_, k) => k).filter((k) => k !== dsAt);
  const stamps = cells(dsAt);
  if (new Set(stamps).size === stamps.length && others.every((k) => numeric[k])) {
    return { header, mapping: { format: 'wide', ds: header[dsAt]!, id: header[dsAt]!, y: header[dsAt]! } };
  }
  const idAt = named(ID_NAMES, [dsAt]) ?? others[0] ?? dsAt;
  const yAt = named(Y_NAMES, [dsAt, idAt]) ?? [...others].reverse().find((k) => k !== idAt && numeric[k]) ?? others.at(-1) ?? dsAt;
  return { header, mapping: { format: 'long', id: header[idAt]!, ds: header[dsAt]!, y: header[yAt]! } };
}
