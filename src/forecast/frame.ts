import Papa from 'papaparse';
import { DataError } from '../errors.ts';

export { DataError };

/**
 * Many time series read from a table: long format (one row per observation: `unique_id`, `ds`, `y`
 * and optional exogenous columns, the layout of Nixtla's libraries) or wide format (one row per
 * date, one column per series). Parsed with papaparse; every problem is a {@link DataError} naming
 * the row (1-based, the header is row 1) and the column.
 */
export interface Series {
  id: string;
  /** The time stamps as given (ISO dates sort as strings), increasing. */
  ds: string[];
  y: Float64Array;
  /** Exogenous columns by name, aligned with y. */
  exog: Record<string, Float64Array>;
}

/** Which columns hold what in long format (defaults: unique_id, ds, y, no exogenous columns). */
export interface LongColumns {
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

function number(text: string, row: number, col: string): number {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v)) throw new DataError(`"${text}" is not a number`, row, col);
  return v;
}

/** Sorts one series' rows by ds and refuses repeated time stamps. */
function finish(id: string, points: Array<{ ds: string; y: number; exog: number[]; row: number }>, exogNames: string[], dsName: string): Series {
  points.sort((a, b) => (a.ds < b.ds ? -1 : a.ds > b.ds ? 1 : 0));
  for (let i = 1; i < points.length; i++) {
    if (points[i]!.ds === points[i - 1]!.ds) throw new DataError(`series ${id} has two values at ${points[i]!.ds}`, points[i]!.row, dsName);
  }
  return {
    id,
    ds: points.map((p) => p.ds),
    y: Float64Array.from(points, (p) => p.y),
    exog: Object.fromEntries(exogNames.map((name, k) => [name, Float64Array.from(points, (p) => p.exog[k]!)])),
  };
}

/** Long format: one row per (series, time stamp); series in order of first appearance. */
export function parseLong(text: string, columns: LongColumns = {}): Series[] {
  const { header, rows } = readTable(text);
  const names = { id: columns.id ?? 'unique_id', ds: columns.ds ?? 'ds', y: columns.y ?? 'y' };
  const exogNames = columns.exog ?? [];
  const at = { id: column(header, names.id), ds: column(header, names.ds), y: column(header, names.y) };
  const exogAt = exogNames.map((n) => column(header, n));
  const bySeries = new Map<string, Array<{ ds: string; y: number; exog: number[]; row: number }>>();
  rows.forEach((r, i) => {
    const row = i + 2;
    const id = r[at.id]!.trim();
    if (id === '') throw new DataError('empty series id', row, names.id);
    const ds = r[at.ds]!.trim();
    if (ds === '') throw new DataError('empty time stamp', row, names.ds);
    const point = { ds, y: number(r[at.y]!, row, names.y), exog: exogAt.map((k, j) => number(r[k]!, row, exogNames[j]!)), row };
    let list = bySeries.get(id);
    if (!list) bySeries.set(id, (list = []));
    list.push(point);
  });
  if (bySeries.size === 0) throw new DataError('the file has a header but no rows');
  return [...bySeries].map(([id, points]) => finish(id, points, exogNames, names.ds));
}

/**
 * Wide format: one row per time stamp (column `ds`, default the first column), every other column
 * a series named by its header. Empty cells are missing values: a series starts at its first value
 * and must have no gaps after it.
 */
export function parseWide(text: string, options: { ds?: string } = {}): Series[] {
  const { header, rows } = readTable(text);
  const dsName = options.ds ?? header[0]!;
  const dsAt = column(header, dsName);
  if (rows.length === 0) throw new DataError('the file has a header but no rows');
  const series: Series[] = [];
  header.forEach((name, k) => {
    if (k === dsAt) return;
    const points: Array<{ ds: string; y: number; exog: number[]; row: number }> = [];
    let ended = false;
    rows.forEach((r, i) => {
      const cell = r[k]!.trim();
      if (cell === '') {
        if (points.length) ended = true;
        return;
      }
      if (ended) throw new DataError(`series ${name} has a gap before this value`, i + 2, name);
      points.push({ ds: r[dsAt]!.trim(), y: number(cell, i + 2, name), exog: [], row: i + 2 });
    });
    if (points.length) series.push(finish(name, points, [], dsName));
  });
  if (series.length === 0) throw new DataError('no column holds a value');
  return series;
}
