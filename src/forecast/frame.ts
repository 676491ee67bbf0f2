import Papa from 'papaparse';
import { DataError } from '../errors.ts';
import { firstDisorder, inferFrequency, readStamps, type Frequency, type StampFormat } from './timestamps.ts';

export { DataError };
export type { Frequency, StampFormat };

/**
 * Many time series read from a table: long format (one row per observation: `unique_id`, `ds`, `y`
 * and optional exogenous columns, the layout of Nixtla's libraries) or wide format (one row per
 * date, one column per series). Parsed with papaparse; every problem is a {@link DataError} naming
 * the row (1-based, the header is row 1) and the column.
 */
export interface Series {
  id: string;
  /** The time stamps as written, in time order (strictly increasing times). */
  ds: string[];
  y: Float64Array;
  /** Exogenous columns by name, aligned with y. */
  exog: Record<string, Float64Array>;
  /**
   * The step between the stamps, when known: {@link parseLong} and {@link parseWide} set the
   * file's frequency (the same for every series of a file), absent when no series has two stamps.
   */
  freq?: Frequency;
  /** The format the stamps are written in (a {@link StampFormat} pattern such as `M/D/YYYY`, or `integer`), when known. */
  dsFormat?: string;
}

/** How the time stamps are read: `dsFormat` states their format instead of detecting it (see {@link StampFormat}). */
export interface StampOptions {
  /**
   * The format of the time stamps, e.g. `'D/M/YYYY'`, `'YYYY-MM-DD HH:mm'` or `'integer'`. Without
   * it the one format that reads every stamp of the column is used; it is needed only when two
   * formats read them all (`3/4/2020`: M/D/YYYY or D/M/YYYY), which is an error, not a guess.
   */
  dsFormat?: string;
}

/** Which columns hold what in long format (defaults: unique_id, ds, y, no exogenous columns). */
export interface LongColumns extends StampOptions {
  id?: string;
  ds?: string;
  y?: string;
  exog?: string[];
}

/** Header and rows of a CSV text (strings, as written). */
export function readTable(text: string): { header: string[]; rows: string[][] } {
  if (text.trim() === '') throw new DataError('the file is empty');
  const parsed = Papa.parse<string[]>(text, { skipEmptyLines: 'greedy' });
  // A one-column file has no delimiter to detect; that is not an error in the data.
  const error = parsed.errors.find((e) => e.type !== 'Delimiter');
  if (error) throw new DataError(error.message, (error.row ?? 0) + 1);
  const [header, ...rows] = parsed.data;
  if (!header || header.length === 0) throw new DataError('the file is empty');
  rows.forEach((r, i) => {
    if (r.length !== header.length) throw new DataError(`${r.length} fields where the header has ${header.length}`, i + 2);
  });
  return { header: header.map((h) => h.trim()), rows };
}

function column(header: string[], name: string): number {
  const k = header.indexOf(name);
  if (k < 0) throw new DataError(`no column "${name}" (columns: ${header.join(', ')})`, 1, name);
  return k;
}

// Decimal numbers only: `Number()` would also read 0x1A, 0b101, 0o7, Infinity and (as 0) blanks.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Whether `text` (surrounding spaces aside) is a decimal number: sign, digits, decimal point, exponent. */
export function isDecimal(text: string): boolean {
  return DECIMAL.test(text.trim());
}

function number(text: string, row: number, col: string): number {
  if (!isDecimal(text)) {
    const other = /^[+-]?0[xbo]|_/i.test(text.trim()) ? ' (numbers are read in decimal only)' : '';
    throw new DataError(`"${text}" is not a number${other}`, row, col);
  }
  const v = Number(text.trim());
  if (!Number.isFinite(v)) throw new DataError(`"${text}" is beyond the range of numbers (about ±1.8e308)`, row, col);
  return v;
}

interface Point {
  t: number;
  ds: string;
  y: number;
  exog: number[];
  row: number;
}

/**
 * Series from points grouped by id: each sorted by time (stably, so of two equal times the later
 * row comes second) and refused when two points share a time; then the file's frequency inferred
 * and every series checked against it (gaps and irregular steps name the series and row).
 */
function finish(groups: ReadonlyArray<[string, Point[]]>, format: StampFormat, exogNames: string[], dsName: string): Series[] {
  const tracks = groups.map(([id, points]) => {
    points.sort((a, b) => a.t - b.t);
    for (let i = 1; i < points.length; i++) {
      const [a, b] = [points[i - 1]!, points[i]!];
      if (a.t === b.t)
        throw new DataError(
          `series ${id} has two values at ${b.ds}${a.ds === b.ds ? '' : ` (row ${a.row} writes it ${a.ds})`}`,
          b.row,
          dsName,
        );
    }
    return { label: `series ${id}`, times: points.map((p) => p.t), texts: points.map((p) => p.ds), rows: points.map((p) => p.row) };
  });
  const freq = inferFrequency(tracks, format, dsName);
  return groups.map(([id, points], k) => ({
    id,
    ds: tracks[k]!.texts as string[],
    y: Float64Array.from(points, (p) => p.y),
    exog: Object.fromEntries(exogNames.map((name, j) => [name, Float64Array.from(points, (p) => p.exog[j]!)])),
    ...(freq ? { freq: { ...freq } } : {}),
    dsFormat: format.name,
  }));
}

/**
 * Long format: one row per (series, time stamp); series in order of first appearance, each in time
 * order. The stamps' format is detected over the whole `ds` column (or stated with `dsFormat`),
 * and the series must be evenly spaced at one frequency: an unreadable or ambiguous stamp, two
 * values at one time, a gap or an irregular step is a {@link DataError} naming the series and row.
 */
export function parseLong(text: string, columns: LongColumns = {}): Series[] {
  const { header, rows } = readTable(text);
  const names = { id: columns.id ?? 'unique_id', ds: columns.ds ?? 'ds', y: columns.y ?? 'y' };
  const exogNames = columns.exog ?? [];
  const at = { id: column(header, names.id), ds: column(header, names.ds), y: column(header, names.y) };
  const exogAt = exogNames.map((n) => column(header, n));
  if (rows.length === 0) throw new DataError('the file has a header but no rows');
  const ids: string[] = [];
  const points = rows.map((r, i): Point => {
    const row = i + 2;
    const id = r[at.id]!.trim();
    if (id === '') throw new DataError('empty series id', row, names.id);
    ids.push(id);
    const ds = r[at.ds]!.trim();
    if (ds === '') throw new DataError('empty time stamp', row, names.ds);
    return { t: 0, ds, y: number(r[at.y]!, row, names.y), exog: exogAt.map((k, j) => number(r[k]!, row, exogNames[j]!)), row };
  });
  const { format, times } = readStamps(
    points.map((p) => p.ds),
    { column: names.ds },
    columns.dsFormat,
  );
  const bySeries = new Map<string, Point[]>();
  points.forEach((p, i) => {
    p.t = times[i]!;
    let list = bySeries.get(ids[i]!);
    if (!list) bySeries.set(ids[i]!, (list = []));
    list.push(p);
  });
  return finish([...bySeries], format, exogNames, names.ds);
}

/**
 * Wide format: one row per time stamp (column `ds`, default the first column), every other column
 * a series named by its header. The rows are read in time order (the stamps parsed as in
 * {@link parseLong}; two rows at one time are an error). Empty cells are missing values: a series
 * starts at its first value and must have no gaps after it.
 */
export function parseWide(text: string, options: { ds?: string } & StampOptions = {}): Series[] {
  const { header, rows } = readTable(text);
  const dsName = options.ds ?? header[0]!;
  const dsAt = column(header, dsName);
  if (rows.length === 0) throw new DataError('the file has a header but no rows');
  const stamps = rows.map((r, i) => {
    const ds = r[dsAt]!.trim();
    if (ds === '') throw new DataError('empty time stamp', i + 2, dsName);
    return ds;
  });
  const { format, times } = readStamps(stamps, { column: dsName }, options.dsFormat);
  const order = rows.map((_, i) => i).sort((a, b) => times[a]! - times[b]!);
  for (let k = 1; k < order.length; k++) {
    const [a, b] = [order[k - 1]!, order[k]!];
    if (times[a] === times[b])
      throw new DataError(
        `time stamp ${stamps[b]} is on two rows (also row ${a + 2}${stamps[a] === stamps[b] ? '' : `, written ${stamps[a]}`})`,
        b + 2,
        dsName,
      );
  }
  const groups: Array<[string, Point[]]> = [];
  header.forEach((name, k) => {
    if (k === dsAt) return;
    const points: Point[] = [];
    let ended = false;
    for (const i of order) {
      const cell = rows[i]![k]!.trim();
      if (cell === '') {
        if (points.length) ended = true;
        continue;
      }
      if (ended) throw new DataError(`series ${name} has a gap before this value`, i + 2, name);
      points.push({ t: times[i]!, ds: stamps[i]!, y: number(cell, i + 2, name), exog: [], row: i + 2 });
    }
    if (points.length) groups.push([name, points]);
  });
  if (groups.length === 0) throw new DataError('no column holds a value');
  return finish(groups, format, [], dsName);
}

/**
 * Checks series built by hand (or by a loader) before they are used: ids non-empty and unique,
 * at least one value, `y` finite, `ds` and every exogenous column as long as `y` (exogenous
 * values finite too), and — when the stamps are times in a format webrnn reads — each series'
 * stamps strictly increasing. A {@link DataError} naming the series (and the index) otherwise.
 */
export function checkSeries(series: readonly Series[]): void {
  if (!Array.isArray(series) || series.length === 0) throw new DataError('no series given');
  const ids = new Set<string>();
  series.forEach((s, k) => {
    if (typeof s?.id !== 'string' || s.id.trim() === '') throw new DataError(`series number ${k + 1} has an empty id`);
    if (ids.has(s.id)) throw new DataError(`two series have the id ${s.id}`);
    ids.add(s.id);
    const n = s.y?.length;
    if (!n) throw new DataError(`series ${s.id} has no values (y is empty)`);
    finite(s.y, `series ${s.id}: y`);
    if (!Array.isArray(s.ds) || s.ds.length !== n)
      throw new DataError(`series ${s.id} has ${Array.isArray(s.ds) ? s.ds.length : 'no'} time stamps (ds) for ${n} values (y)`);
    const exog: Record<string, ArrayLike<unknown> | undefined> = s.exog ?? {};
    for (const [name, values] of Object.entries(exog)) {
      if (!values || values.length !== n)
        throw new DataError(`series ${s.id}: exogenous column ${name} has ${values?.length ?? 'no'} values for ${n} values of y`);
      finite(values, `series ${s.id}: exogenous column ${name}`);
    }
  });
  const formats = new Set(series.map((s) => s.dsFormat));
  const disorder = firstDisorder(
    series.map((s) => s.ds),
    formats.size === 1 ? [...formats][0] : undefined,
  );
  if (disorder) {
    const { ds, id } = series[disorder.list]!;
    const i = disorder.index;
    throw new DataError(
      `series ${id}: the time stamps are not in increasing order: ds[${i}] = ${ds[i]} follows ${ds[i - 1]} (read as ${disorder.formats.join(' or ')})`,
    );
  }
}

function finite(values: ArrayLike<unknown>, what: string) {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new DataError(`${what}[${i}] is ${String(v)}, not a finite number`);
  }
}

/** The first `n` points of a series: its time stamps and exogenous columns too (views, not copies). */
export function firstPoints(s: Series, n: number): Series {
  return {
    ...s,
    ds: s.ds.slice(0, n),
    y: s.y.subarray(0, n),
    exog: Object.fromEntries(Object.entries(s.exog).map(([k, v]) => [k, v.subarray(0, n)])),
  };
}
