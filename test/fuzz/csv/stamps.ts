/**
 * Time stamps for the CSV generator: a regular grid of instants and the text each format writes for
 * them. The generator knows every row's true instant, so the parsed series' order can be checked
 * against it whatever format the column was written in.
 */

/** How a column writes its stamps. */
export type StampKind = 'int' | 'iso-date' | 'iso-datetime' | 'mdy' | 'dmy' | 'dmy-dot' | 'dmy-dash' | 'ymd-slash' | 'mon-year';
/** The grid's step: one unit (integers), hour, day, month or year. */
export type Freq = 'unit' | 'hour' | 'day' | 'month' | 'year';

export interface StampStyle {
  kind: StampKind;
  freq: Freq;
  /** Integer step of 'unit' grids (1 usually). */
  step: number;
  /** Zero-padded day and month (`01/05/2020`) or not (`1/5/2020`). */
  pad: boolean;
  /** ISO datetime variant: `T`, space, `T…Z`, or space without seconds. */
  variant: 0 | 1 | 2 | 3;
  /** Grid origin: an integer for 'int', else year, month (0-based), day and hour. */
  origin: { int: number; year: number; month: number; day: number; hour: number };
}

/** Which grids each format writes (an M/D/YYYY column has no hours). */
export const FREQS: Record<StampKind, Freq[]> = {
  int: ['unit'],
  'iso-date': ['day', 'month', 'year'],
  'iso-datetime': ['hour', 'day'],
  mdy: ['day', 'month', 'year'],
  dmy: ['day', 'month', 'year'],
  'dmy-dot': ['day', 'month', 'year'],
  'dmy-dash': ['day', 'month', 'year'],
  'ymd-slash': ['day', 'month', 'year'],
  'mon-year': ['month', 'year'],
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The instant of grid point k: the integer itself for 'int', else milliseconds since 1970 (UTC). */
export function instantAt(s: StampStyle, k: number): number {
  // 'Jan 2020' names a month: its first day.
  const o = s.kind === 'mon-year' ? { ...s.origin, day: 1 } : s.origin;
  switch (s.freq) {
    case 'unit':
      return o.int + k * s.step;
    case 'hour':
      return Date.UTC(o.year, o.month, o.day, o.hour + k);
    case 'day':
      return Date.UTC(o.year, o.month, o.day + k);
    case 'month':
      return Date.UTC(o.year, o.month + k, o.day);
    case 'year':
      return Date.UTC(o.year + k, o.month, o.day);
  }
}

const two = (n: number) => String(n).padStart(2, '0');

/** The text the column writes for an instant. */
export function stampText(s: StampStyle, instant: number): string {
  if (s.kind === 'int') return String(instant);
  const d = new Date(instant);
  const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
  const [mm, dd] = s.pad ? [two(m), two(day)] : [String(m), String(day)];
  const iso = `${y}-${two(m)}-${two(day)}`;
  switch (s.kind) {
    case 'iso-date':
      return iso;
    case 'iso-datetime': {
      const hm = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
      return [`${iso}T${hm}:00`, `${iso} ${hm}:00`, `${iso}T${hm}:00Z`, `${iso} ${hm}`][s.variant]!;
    }
    case 'mdy':
      return `${mm}/${dd}/${y}`;
    case 'dmy':
      return `${dd}/${mm}/${y}`;
    case 'dmy-dot':
      return `${dd}.${mm}.${y}`;
    case 'dmy-dash':
      return `${dd}-${mm}-${y}`;
    case 'ymd-slash':
      return `${y}/${two(m)}/${two(day)}`;
    case 'mon-year':
      return `${s.pad ? MONTHS[m - 1]!.toUpperCase() : MONTHS[m - 1]} ${y}`;
  }
}

/**
 * How a day/month column reads the other way round: 'none' when some day is above 12 (one reading
 * only), 'same' when every day is ≤ 12 but equals its month (both readings give the same dates),
 * 'different' when every day is ≤ 12 and some differs from its month. A 'different' column must be
 * refused unless its format is stated (issue 12: "an ambiguous format is an error …, never a guess").
 */
export function dayMonthAmbiguity(s: StampStyle, instants: readonly number[]): 'none' | 'same' | 'different' {
  if (s.kind !== 'mdy' && s.kind !== 'dmy' && s.kind !== 'dmy-dot' && s.kind !== 'dmy-dash') return 'none';
  const days = instants.map((t) => new Date(t));
  if (!days.every((d) => d.getUTCDate() <= 12)) return 'none';
  return days.some((d) => d.getUTCDate() !== d.getUTCMonth() + 1) ? 'different' : 'same';
}

/** The `dsFormat` that states a style's format. */
export function formatPattern(s: StampStyle): string {
  switch (s.kind) {
    case 'int':
      return 'integer';
    case 'iso-date':
      return 'YYYY-MM-DD';
    case 'iso-datetime':
      return ['YYYY-MM-DDTHH:mm:ss', 'YYYY-MM-DD HH:mm:ss', 'YYYY-MM-DDTHH:mm:ssZ', 'YYYY-MM-DD HH:mm'][s.variant]!;
    case 'mdy':
      return 'M/D/YYYY';
    case 'dmy':
      return 'D/M/YYYY';
    case 'dmy-dot':
      return 'D.M.YYYY';
    case 'dmy-dash':
      return 'D-M-YYYY';
    case 'ymd-slash':
      return 'YYYY/MM/DD';
    case 'mon-year':
      return 'MMM YYYY';
  }
}

/** Texts no reading of a column of this kind makes a valid time stamp. */
export function invalidStamps(kind: StampKind): string[] {
  const common = ['yesterday', 'NaN', 'n/a', '--'];
  switch (kind) {
    case 'int':
      return [...common, '1/0', 'x12', '3-'];
    case 'iso-date':
    case 'iso-datetime':
      return [...common, '2021-02-29', '2020-02-30', '2020-13-01', '2020-00-10', '2020-04-31', '2020-01-32'];
    case 'mdy':
    case 'dmy':
      return [...common, '2/30/2020', '30/30/2020', '13/13/2020', '0/5/2020', '2/29/2021'];
    case 'dmy-dot':
      return [...common, '30.2.2020', '31.4.2020', '13.13.2020', '0.5.2020', '29.2.2021'];
    case 'dmy-dash':
      return [...common, '30-2-2020', '31-4-2020', '13-13-2020', '0-5-2020', '29-2-2021'];
    case 'ymd-slash':
      return [...common, '2020/02/30', '2020/13/01', '2021/02/29', '2020/00/10'];
    case 'mon-year':
      return [...common, 'Foo 2020', 'Jan 20', 'Janu 2020', '13 2020'];
  }
}

/**
 * The instant a parsed time stamp stands for, whatever the parser returned it as: the column's own
 * text (looked up in `written`), an ISO date or datetime, an integer, a Date, or milliseconds.
 * Null when it is none of these.
 */
export function instantOfParsed(s: StampStyle, stamp: unknown, written: ReadonlyMap<string, number>): number | null {
  if (stamp instanceof Date) return stamp.getTime();
  if (typeof stamp === 'number') return Number.isFinite(stamp) ? stamp : null;
  if (typeof stamp !== 'string') return null;
  const text = stamp.trim();
  const known = written.get(text);
  if (known !== undefined) return known;
  if (s.kind === 'int') return /^[+-]?\d+$/.test(text) ? Number(text) : null;
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?Z?)?$/.exec(text);
  if (!iso) return null;
  const [y, m, d, h, min, sec] = iso.slice(1).map((v) => Number(v ?? 0)) as number[];
  return Date.UTC(y!, m! - 1, d!, h, min, sec);
}

/** The instant a stamp written in the style's own format stands for (new stamps, e.g. a forecast's); null when it is not one. */
export function parseStampAs(s: StampStyle, text: string): number | null {
  const t = text.trim();
  if (s.kind === 'int') return /^[+-]?\d+$/.test(t) ? Number(t) : null;
  if (s.kind === 'iso-date' || s.kind === 'iso-datetime') return instantOfParsed(s, t, new Map());
  if (s.kind === 'ymd-slash') return instantOfParsed({ ...s, kind: 'iso-date' }, t.replace(/\//g, '-'), new Map());
  if (s.kind === 'mon-year') {
    const mm = /^([A-Za-z]{3}) (\d{4})$/.exec(t);
    const month = mm ? MONTHS.findIndex((n) => n.toLowerCase() === mm[1]!.toLowerCase()) : -1;
    return month < 0 ? null : Date.UTC(Number(mm![2]), month, 1);
  }
  const m = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$/.exec(t);
  const separator = { mdy: '/', dmy: '/', 'dmy-dot': '.', 'dmy-dash': '-' }[s.kind];
  if (!m || m[2] !== separator) return null;
  const [a, b, y] = [Number(m[1]), Number(m[3]), Number(m[4])];
  const [month, day] = s.kind === 'mdy' ? [a, b] : [b, a];
  const time = Date.UTC(y, month - 1, day);
  const d = new Date(time);
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day ? time : null;
}
