import Papa from 'papaparse';
import co2Csv from 'vega-datasets/data/co2-concentration.csv?raw';
import unemploymentJson from 'vega-datasets/data/unemployment-across-industries.json?raw';
import employmentCsv from 'vega-datasets/data/us-employment.csv?raw';
import { ConfigError, ModelError } from '../errors.ts';
import type { Series } from '../forecast/frame.ts';
import { mulberry32, type Random } from '../util/rng.ts';

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
    dates.push(monthStart(k));
    values.push(v);
  }
  return { id: 'co2', dates, values };
}

/** The first day of month `k` counted from year 0 (`k = 12·year + month − 1`), as an ISO date. */
function monthStart(k: number): string {
  return `${Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, '0')}-01`;
}

/**
 * Monthly US employment by industry, January 2006 to December 2015 (thousands of jobs, seasonally
 * adjusted): the file is wide, a `month` column then one column per industry (and `nonfarm_change`,
 * the month-on-month change of `nonfarm`); each column is one series of 120 months.
 */
export function usEmployment(): DatedSeries[] {
  const rows = parseCsv(employmentCsv);
  const columns = Object.keys(rows[0] ?? {}).filter((c) => c !== 'month');
  const dates = rows.map((r) => String(r.month));
  return columns.map((id) => ({ id, dates, values: rows.map((r) => Number(r[id])) }));
}

/**
 * Monthly unemployed persons (thousands) in 14 US industries, January 2000 to February 2010: the
 * file is long, one JSON record per series and month (`series`, `year`, `month`, `count`, …); each
 * series has 122 months.
 */
export function unemploymentAcrossIndustries(): DatedSeries[] {
  const records = JSON.parse(unemploymentJson) as { series: string; year: number; month: number; count: number }[];
  const bySeries = new Map<string, Map<number, number>>();
  for (const r of records) {
    let months = bySeries.get(r.series);
    if (!months) bySeries.set(r.series, (months = new Map()));
    months.set(r.year * 12 + r.month - 1, r.count);
  }
  return [...bySeries].map(([id, months]) => {
    const keys = [...months.keys()].sort((a, b) => a - b);
    return { id, dates: keys.map(monthStart), values: keys.map((k) => months.get(k)!) };
  });
}

/** What {@link syntheticSeries} generates. */
export interface SyntheticOptions {
  /** Number of series. */
  count: number;
  /** Points per series. */
  length: number;
  /** Period of the seasonal cycle: 12 gives monthly dates, 4 quarterly, anything else daily. */
  season: number;
  seed: number;
}

/** A standard normal draw (Box–Muller). */
function gaussian(rand: Random): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** `length` dates from 2000-01-01, a month, a quarter or a day apart (see {@link SyntheticOptions}). */
function syntheticDates(length: number, season: number): string[] {
  if (season === 12 || season === 4) return Array.from({ length }, (_, t) => monthStart(2000 * 12 + (t * 12) / season));
  const day0 = Date.UTC(2000, 0, 1);
  return Array.from({ length }, (_, t) => new Date(day0 + t * 86_400_000).toISOString().slice(0, 10));
}

/**
 * Seeded synthetic series for scale: each is a level, a linear trend, a seasonal cycle of period
 * `season` (a sine and its first harmonic, random amplitudes and phase) and Gaussian noise,
 *
 *   y_t = level · (1 + slope·t/length) + amp · (sin(2πt/s + φ) + ½·harm·sin(4πt/s + φ₂)) + σ·ε_t,
 *
 * with level ∈ [20, 120), slope ∈ [−0.2, 0.6), amp ∈ [5, 20)% of the level and σ ∈ [1, 4)% of the
 * level. All series share one array of dates (so tens of thousands of series cost one).
 */
export function syntheticSeries(options: SyntheticOptions): DatedSeries[] {
  const { count, length, season, seed } = options;
  for (const [name, v] of Object.entries({ count, length, season, seed })) {
    if (!Number.isInteger(v) || (name !== 'seed' && v < 1)) throw new ConfigError(`synthetic ${name} must be a positive integer, got ${v}`);
  }
  const rand = mulberry32(seed);
  const dates = syntheticDates(length, season);
  const width = String(count).length;
  return Array.from({ length: count }, (_, k) => {
    const level = 20 + 100 * rand();
    const slope = -0.2 + 0.8 * rand();
    const amp = level * (0.05 + 0.15 * rand());
    const harm = rand();
    const phase = 2 * Math.PI * rand();
    const phase2 = 2 * Math.PI * rand();
    const sigma = level * (0.01 + 0.03 * rand());
    const values = Array.from({ length }, (_, t) => {
      const w = (2 * Math.PI * t) / season;
      return (
        level * (1 + (slope * t) / length) + amp * (Math.sin(w + phase) + 0.5 * harm * Math.sin(2 * w + phase2)) + sigma * gaussian(rand)
      );
    });
    return { id: `synthetic-${String(k + 1).padStart(width, '0')}`, dates, values };
  });
}

/** A dated series as the forecaster reads it (src/forecast/frame.ts), without exogenous columns. */
export function toSeries(d: DatedSeries): Series {
  return { id: d.id, ds: d.dates, y: Float64Array.from(d.values), exog: {} };
}
