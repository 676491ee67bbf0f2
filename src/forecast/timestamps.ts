import { ConfigError, DataError } from '../errors.ts';

/**
 * Time stamps read as what they are: integers, ISO dates and datetimes, and the common non-ISO
 * date formats, in UTC only. A column's format is detected over all its stamps (chosen only when
 * exactly one format reads every stamp; an ambiguous column is an error that says how to state the
 * format, never a guess), and the step between stamps is inferred and checked per series.
 *
 * Why a small parser of our own rather than a date library: the formats are a fixed set of numeric
 * fields, and checking them strictly (month 1–12, the days of that month, hours 0–23…) is a few
 * lines. What the libraries would not give is the rest of this module — detection over candidate
 * formats, steps in calendar months with month ends, writing new stamps padded like the input —
 * and their parsing did not fit as it is: dayjs's strict mode rejects years below 100 and demands
 * the exact padding of its format string (`3/4/2020` and `03/04/2020` would be two formats), and
 * date-fns works in local time unless a second package (@date-fns/utc) supplies the reference
 * date. Here days are counted with integer arithmetic (no `Date`), so nothing depends on the time
 * zone of the machine.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, UTC)

/**
 * Days from 1970-01-01 to `y`-`m`-`d` (month 1–12), for any year: Howard Hinnant's
 * `days_from_civil` (https://howardhinnant.github.io/date_algorithms.html). Unlike `Date.UTC`, it
 * does not read years 0–99 as 1900–1999.
 */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400; // year of era, 0–399 (eras start on 1 March)
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1; // day of that March-based year
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The date `days` after 1970-01-01: the inverse of {@link daysFromCivil}. */
export function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d: doy - Math.floor((153 * mp + 2) / 5) + 1 };
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
/** Days in month `m` (1–12) of year `y`. */
export const daysInMonth = (y: number, m: number) => (m === 2 ? (isLeap(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31);

/** A calendar time (milliseconds since 1970-01-01T00:00Z) split into its date, its month index and its time of day. */
function split(t: number) {
  const days = Math.floor(t / DAY);
  const { y, m, d } = civilFromDays(days);
  return { y, m, d, month: y * 12 + m - 1, timeOfDay: t - days * DAY };
}

/** The time at month index `month` (12·year + month − 1), day `min(anchor, days in that month)`, `timeOfDay` ms. */
function atMonth(month: number, anchor: number, timeOfDay: number): number {
  const y = Math.floor(month / 12);
  const m = month - y * 12 + 1;
  return daysFromCivil(y, m, Math.min(anchor, daysInMonth(y, m))) * DAY + timeOfDay;
}

// ---------------------------------------------------------------------------------------------
// Formats

/**
 * A time stamp format: integers (`integer`) or a pattern of tokens, as in dayjs/moment:
 * `YYYY` year (4 digits), `M`/`MM` month, `MMM`/`MMMM` month name (Jan / January, any case),
 * `Q` quarter (1–4), `D`/`DD` day, `H`/`HH` hour (0–23), `mm` minute, `ss` second, `SSS`
 * milliseconds; `[...]` is literal text, as are punctuation, spaces, `T` and `Z`. When reading, a
 * one- or two-letter token takes one or two digits, and a month name either length; the spelling
 * only says how new stamps are written (`MM`: zero-padded). Times are UTC: `Z` is a literal.
 */
export interface StampFormat {
  /** The format's pattern, e.g. `D/M/YYYY`, `YYYY-MM-DDTHH:mm:ssZ` or `integer`. */
  readonly name: string;
  /** `integer`: the stamps are integers; `calendar`: dates and datetimes, as UTC milliseconds. */
  readonly kind: 'integer' | 'calendar';
  /** The stamp's time (the integer, or ms since 1970-01-01T00:00Z); null when the text is not a valid stamp in this format. */
  parse(text: string): number | null;
  /** The text of time `t` in this format. */
  format(t: number): string;
}

/**
 * The formats detection tries, each in its default spelling. Integers, ISO 8601 dates and
 * datetimes (with `T` or a space, with or without seconds, milliseconds and `Z`), year-first and
 * day- or month-first dates with `/`, `.` or `-` (optionally followed by a time), month names, and
 * quarters (`2020Q1`, `2020-Q1`).
 */
export const STAMP_FORMATS: readonly string[] = [
  'integer',
  'YYYY',
  'YYYY-MM',
  'YYYY-MM-DD',
  ...['HH:mm', 'HH:mm:ss', 'HH:mm:ss.SSS'].flatMap((time) => [`YYYY-MM-DDT${time}`, `YYYY-MM-DDT${time}Z`, `YYYY-MM-DD ${time}`]),
  ...['YYYY/MM/DD', 'M/D/YYYY', 'D/M/YYYY', 'D.M.YYYY', 'D-M-YYYY', 'M-D-YYYY'].flatMap((date) => {
    const hour = date.startsWith('YYYY') ? 'HH' : 'H';
    return [date, `${date} ${hour}:mm`, `${date} ${hour}:mm:ss`];
  }),
  'MMM YYYY',
  'MMM-YYYY',
  'YYYY-MMM',
  'D MMM YYYY',
  'D-MMM-YYYY',
  'MMM D, YYYY',
  'YYYY[Q]Q',
  'YYYY-[Q]Q',
];

type Field = 'year' | 'quarter' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'ms';

interface TokenKind {
  field: Field;
  /** The regular expression of one field's text. */
  pattern: string;
  /** How the token writes a value: a fixed number of digits, digits without padding, or a month name. */
  write: { digits: number } | 'name' | 'long-name';
  /** The other spelling of the same field (padding, or short/long name), for refining from the data. */
  twin?: string;
}

// Longest first: the parser takes the first token that matches at a position.
const TOKENS: Record<string, TokenKind> = {
  YYYY: { field: 'year', pattern: '(\\d{4})', write: { digits: 4 } },
  MMMM: { field: 'month', pattern: '([A-Za-z]{3,9})', write: 'long-name', twin: 'MMM' },
  MMM: { field: 'month', pattern: '([A-Za-z]{3,9})', write: 'name', twin: 'MMMM' },
  MM: { field: 'month', pattern: '(\\d{1,2})', write: { digits: 2 }, twin: 'M' },
  M: { field: 'month', pattern: '(\\d{1,2})', write: { digits: 1 }, twin: 'MM' },
  DD: { field: 'day', pattern: '(\\d{1,2})', write: { digits: 2 }, twin: 'D' },
  D: { field: 'day', pattern: '(\\d{1,2})', write: { digits: 1 }, twin: 'DD' },
  HH: { field: 'hour', pattern: '(\\d{1,2})', write: { digits: 2 }, twin: 'H' },
  H: { field: 'hour', pattern: '(\\d{1,2})', write: { digits: 1 }, twin: 'HH' },
  mm: { field: 'minute', pattern: '(\\d{2})', write: { digits: 2 } },
  ss: { field: 'second', pattern: '(\\d{2})', write: { digits: 2 } },
  SSS: { field: 'ms', pattern: '(\\d{3})', write: { digits: 3 } },
  Q: { field: 'quarter', pattern: '([1-4])', write: { digits: 1 } },
};
const TOKEN_NAMES = Object.keys(TOKENS);

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const MONTH_BY_NAME = new Map(
  MONTHS.flatMap((name, k) => [[name.toLowerCase(), k + 1] as const, [name.slice(0, 3).toLowerCase(), k + 1] as const]),
);

type Part = { token: string } | { literal: string };

const HELP =
  'use YYYY for the year, M or MM for the month (MMM for its name), D or DD for the day, H or HH, mm, ss and SSS for the time, [text] for literal letters, or "integer"';

/** The parts of a pattern; a ConfigError when it is not a valid format. */
function tokenize(spec: string): Part[] {
  const parts: Part[] = [];
  const literal = (text: string) => {
    const last = parts.at(-1);
    if (last && 'literal' in last) last.literal += text;
    else parts.push({ literal: text });
  };
  for (let i = 0; i < spec.length; ) {
    if (spec[i] === '[') {
      const end = spec.indexOf(']', i);
      if (end < 0) throw new ConfigError(`ds format "${spec}" has an unclosed [`);
      literal(spec.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    const token = TOKEN_NAMES.find((t) => spec.startsWith(t, i));
    if (token) {
      parts.push({ token });
      i += token.length;
    } else if (/[A-Za-z]/.test(spec[i]!) && spec[i] !== 'T' && spec[i] !== 'Z') {
      throw new ConfigError(`ds format "${spec}": unknown letter "${spec[i]}" at ${i + 1}; ${HELP}`);
    } else {
      literal(spec[i]!);
      i += 1;
    }
  }
  const fields = parts.flatMap((p) => ('token' in p ? [TOKENS[p.token]!.field] : []));
  const has = (f: Field) => fields.includes(f);
  const repeated = fields.find((f, k) => fields.indexOf(f) !== k);
  if (repeated) throw new ConfigError(`ds format "${spec}" has the ${repeated} twice`);
  if (!has('year')) throw new ConfigError(`ds format "${spec}" has no year (YYYY); ${HELP}`);
  const needs: Array<[Field, Field]> = [
    ['day', 'month'],
    ['hour', 'day'],
    ['minute', 'hour'],
    ['second', 'minute'],
    ['ms', 'second'],
  ];
  for (const [field, needed] of needs)
    if (has(field) && !has(needed)) throw new ConfigError(`ds format "${spec}" has a ${field} but no ${needed}`);
  if (has('quarter') && has('month')) throw new ConfigError(`ds format "${spec}" has both a quarter and a month`);
  return parts;
}

/** The pattern of `parts`, literal letters (other than T and Z) in brackets. */
function specOf(parts: readonly Part[]): string {
  return parts.map((p) => ('token' in p ? p.token : p.literal.replace(/[A-SU-Ya-z]+/g, (letters) => `[${letters}]`))).join('');
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Integers, as many digits as a double holds exactly. */
const INTEGER: StampFormat = {
  name: 'integer',
  kind: 'integer',
  parse(text) {
    if (!/^[+-]?\d+$/.test(text)) return null;
    const v = Number(text);
    return Number.isSafeInteger(v) ? v : null;
  },
  format: (t) => String(t),
};

/** A compiled pattern: its parts, the regular expression that reads it and the field of each capture. */
interface Compiled extends StampFormat {
  readonly parts: readonly Part[];
  /** The captured texts of a stamp, one per token, or null when it does not match. */
  match(text: string): string[] | null;
}

function compile(spec: string): Compiled {
  const parts = tokenize(spec);
  const tokens = parts.flatMap((p) => ('token' in p ? [p.token] : []));
  const names = tokens.some((t) => TOKENS[t]!.write === 'name' || TOKENS[t]!.write === 'long-name');
  const regex = new RegExp(
    `^${parts.map((p) => ('token' in p ? TOKENS[p.token]!.pattern : escapeRegExp(p.literal))).join('')}$`,
    names ? 'i' : '',
  );
  const match = (text: string) => regex.exec(text)?.slice(1) ?? null;
  return {
    name: specOf(parts),
    kind: 'calendar',
    parts,
    match,
    parse(text) {
      const captures = match(text);
      if (!captures) return null;
      const f = { year: 0, quarter: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0, ms: 0 };
      for (let k = 0; k < tokens.length; k++) {
        const kind = TOKENS[tokens[k]!]!;
        const text = captures[k]!;
        const value = typeof kind.write === 'string' ? MONTH_BY_NAME.get(text.toLowerCase()) : Number(text);
        if (value === undefined) return null;
        f[kind.field] = value;
      }
      if (f.quarter) f.month = 3 * f.quarter - 2;
      if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > daysInMonth(f.year, f.month)) return null;
      if (f.hour > 23 || f.minute > 59 || f.second > 59) return null;
      return daysFromCivil(f.year, f.month, f.day) * DAY + f.hour * HOUR + f.minute * MINUTE + f.second * SECOND + f.ms;
    },
    format(t) {
      const { y, m, d, timeOfDay } = split(t);
      const values: Record<Field, number> = {
        year: y,
        quarter: Math.floor((m - 1) / 3) + 1,
        month: m,
        day: d,
        hour: Math.floor(timeOfDay / HOUR),
        minute: Math.floor(timeOfDay / MINUTE) % 60,
        second: Math.floor(timeOfDay / SECOND) % 60,
        ms: timeOfDay % SECOND,
      };
      return parts
        .map((p) => {
          if ('literal' in p) return p.literal;
          const kind = TOKENS[p.token]!;
          const v = values[kind.field];
          if (kind.write === 'long-name') return MONTHS[v - 1]!;
          if (kind.write === 'name') return MONTHS[v - 1]!.slice(0, 3);
          return String(v).padStart(kind.write.digits, '0');
        })
        .join('');
    },
  };
}

/**
 * The format a pattern names (see {@link StampFormat}); `integer` for integer stamps. A
 * {@link ConfigError} when the pattern is not a valid format (an unknown letter, no year, a day
 * without a month…), e.g. for a `--ds-format` flag checked before reading a file.
 */
export function stampFormat(spec: string): StampFormat {
  return spec.trim() === 'integer' ? INTEGER : compile(spec.trim());
}

const CANDIDATES: readonly StampFormat[] = STAMP_FORMATS.map(stampFormat);

/**
 * `format` respelled like `stamps` are written: a field the stamps zero-pad (`03`) becomes `MM`
 * (`DD`, `HH`), one they write unpadded (`3`) becomes `M`, a month named in full becomes `MMMM`;
 * fields the stamps give no evidence on keep the format's spelling.
 */
function likeWritten(format: StampFormat, stamps: readonly string[]): StampFormat {
  if (format.kind === 'integer') return format;
  const compiled = format as Compiled;
  const tokens = compiled.parts.flatMap((p) => ('token' in p ? [p.token] : []));
  const chosen: Array<string | null> = tokens.map((t) => (TOKENS[t]!.twin ? null : t));
  for (let i = 0; i < stamps.length && chosen.includes(null); i++) {
    const captures = compiled.match(stamps[i]!);
    if (!captures) continue;
    tokens.forEach((t, k) => {
      if (chosen[k] !== null) return;
      const text = captures[k]!;
      const twin = TOKENS[t]!.twin!;
      if (typeof TOKENS[t]!.write === 'string') {
        if (text.toLowerCase() !== 'may') chosen[k] = text.length > 3 ? 'MMMM' : 'MMM'; // "May" is both
      } else if (text.length === 1) {
        chosen[k] = t.length === 1 ? t : twin; // 3: unpadded
      } else if (Number(text) < 10) {
        chosen[k] = t.length === 2 ? t : twin; // 03: padded (13 says nothing)
      }
    });
  }
  // A number with no evidence of its own (a day always ≥ 10) is written like the other numbers:
  // whatever wrote 01/13/2020 pads days too.
  const numeric = tokens.map((t) => TOKENS[t]!.twin !== undefined && typeof TOKENS[t]!.write !== 'string');
  const padded = chosen.find((c, k): c is string => numeric[k]! && c !== null);
  const pad = padded === undefined ? null : padded.length === 2;
  tokens.forEach((t, k) => {
    if (chosen[k] === null && numeric[k] && pad !== null) chosen[k] = pad === (t.length === 2) ? t : TOKENS[t]!.twin!;
  });
  let k = 0;
  const parts = compiled.parts.map((p) => ('token' in p ? { token: chosen[k++] ?? p.token } : p));
  return compile(specOf(parts));
}

// ---------------------------------------------------------------------------------------------
// Reading a column of stamps

/** Where a column's stamps come from, for errors: the column's name and each stamp's row in the file. */
export interface StampSource {
  column: string;
  /** The row (1-based, the header is row 1) of stamp `i`; default `i + 2`. */
  rowOf?: (i: number) => number;
}

const ASK = (column: string, example: string) =>
  `state the format of column ${column}: dsFormat: '${example}' in parseLong/parseWide, --ds-format ${example} on the command line, or the date format field in the app`;

/**
 * How far each format reads `stamps` in order: the index of its first failure (`stamps.length`
 * when it reads them all), and the times it read (kept only for formats that read the first stamp).
 */
function scan(stamps: readonly string[]): Array<{ format: StampFormat; reads: number; times: Float64Array | null }> {
  return CANDIDATES.map((format) => {
    const first = stamps.length ? format.parse(stamps[0]!) : null;
    if (first === null) return { format, reads: 0, times: stamps.length ? null : new Float64Array(0) };
    const times = new Float64Array(stamps.length);
    times[0] = first;
    let i = 1;
    for (; i < stamps.length; i++) {
      const t = format.parse(stamps[i]!);
      if (t === null) break;
      times[i] = t;
    }
    return { format, reads: i, times };
  });
}

/** The scanned formats that read every stamp; integers that are also 4-digit years count once, as years. */
function fitting<T extends { format: StampFormat; reads: number }>(scanned: T[], n: number): T[] {
  const all = scanned.filter((r) => r.reads === n);
  return all.length === 2 && all[0]!.format === INTEGER && all[1]!.format.name === 'YYYY' ? [all[1]!] : all;
}

/**
 * The formats that read every one of `stamps`, in the order of {@link STAMP_FORMATS}; integers
 * that are also 4-digit years count once, as years (both read them in the same order and spacing).
 */
export function formatsReading(stamps: readonly string[]): StampFormat[] {
  return fitting(scan(stamps), stamps.length).map((r) => r.format);
}

/**
 * The format of a column's stamps: `dsFormat` when given, else the one format that reads every
 * stamp, respelled like the stamps are written (padding, month names). A {@link DataError} names
 * the row of a stamp no format reads, or, when two formats read them all (`3/4/2020`: M/D/YYYY or
 * D/M/YYYY), says how to state the format (`dsFormat`, `--ds-format`).
 */
export function detectFormat(stamps: readonly string[], source: StampSource, dsFormat?: string): StampFormat {
  return readStamps(stamps, source, dsFormat).format;
}

/** Reads every stamp of a column: its format ({@link detectFormat}) and each stamp's time. */
export function readStamps(
  stamps: readonly string[],
  source: StampSource,
  dsFormat?: string,
): { format: StampFormat; times: Float64Array } {
  const rowOf = source.rowOf ?? ((i: number) => i + 2);
  if (dsFormat !== undefined) {
    const format = stampFormat(dsFormat);
    const times = new Float64Array(stamps.length);
    stamps.forEach((s, i) => {
      const t = format.parse(s);
      if (t === null)
        throw new DataError(`"${s}" is not a time stamp in the format ${format.name} that was stated for it`, rowOf(i), source.column);
      times[i] = t;
    });
    return { format: likeWritten(format, stamps), times };
  }
  const scanned = scan(stamps);
  const fits = fitting(scanned, stamps.length);
  // Respelling keeps the patterns each token reads, so the times read stay valid.
  if (fits.length === 1) return { format: likeWritten(fits[0]!.format, stamps), times: fits[0]!.times! };
  if (fits.length > 1) {
    const names = fits.map((f) => f.format.name);
    const differ = stamps.findIndex((_, i) => fits.some((f) => f.times![i] !== fits[0]!.times![i]));
    const example = stamps[Math.max(0, differ)]!;
    throw new DataError(
      `the time stamps of column ${source.column} read as ${names.slice(0, -1).join(', ')} or ${names.at(-1)} (e.g. "${example}"), and webrnn does not guess which: ${ASK(source.column, names[0]!)}`,
    );
  }
  const furthest = Math.max(...scanned.map((r) => r.reads));
  const row = rowOf(furthest);
  const text = stamps[furthest]!;
  if (furthest === 0) {
    throw new DataError(
      `"${text}" is not a time stamp webrnn reads (integers, ISO dates and times such as 2020-01-31 or 2020-01-31T12:00:00Z, M/D/YYYY, D/M/YYYY, D.M.YYYY, YYYY/MM/DD, Jan 2020…); if it is valid, ${ASK(source.column, 'YYYY-MM-DD')}`,
      row,
      source.column,
    );
  }
  const names = scanned.filter((r) => r.reads === furthest).map((r) => r.format.name);
  throw new DataError(`"${text}" is not a time stamp in the format of the stamps above it (${names.join(' or ')})`, row, source.column);
}

// ---------------------------------------------------------------------------------------------
// Frequency

/** The unit of a {@link Frequency}: an integer step, a fixed duration, or calendar months. */
export type TimeUnit = 'integer' | 'millisecond' | 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';

/**
 * The step between consecutive time stamps: `step` units, e.g. `{ unit: 'month', step: 1 }`,
 * `{ unit: 'day', step: 7 }` is written `{ unit: 'week', step: 1 }`. Months, quarters and years
 * step through the calendar: stamps on a month's last day stay on month ends (31 Jan, 29 Feb,
 * 31 Mar), stamps on the 30th fall back to 28/29 in February and return to the 30th.
 */
export interface Frequency {
  unit: TimeUnit;
  step: number;
}

const FIXED: Array<[TimeUnit, number]> = [
  ['week', WEEK],
  ['day', DAY],
  ['hour', HOUR],
  ['minute', MINUTE],
  ['second', SECOND],
  ['millisecond', 1],
];
const MONTHS_PER: Partial<Record<TimeUnit, number>> = { month: 1, quarter: 3, year: 12 };

/** The frequency of a step of `n` integers, calendar months or milliseconds. */
function frequencyOf(n: number, measure: Measure): Frequency {
  if (measure === 'integer') return { unit: 'integer', step: n };
  if (measure === 'months')
    return n % 12 === 0 ? { unit: 'year', step: n / 12 } : n % 3 === 0 ? { unit: 'quarter', step: n / 3 } : { unit: 'month', step: n };
  const [unit, ms] = FIXED.find(([, ms]) => n % ms === 0)!;
  return { unit, step: n / ms };
}

/** A frequency in words: "1 month", "2 weeks", "5" for integers. */
export function describeFrequency(freq: Frequency): string {
  if (freq.unit === 'integer') return String(freq.step);
  return `${freq.step} ${freq.unit}${freq.step === 1 ? '' : 's'}`;
}

/** How steps are measured: integers, calendar months, or milliseconds. */
type Measure = 'integer' | 'months' | 'ms';

/**
 * The day of the month a series of calendar times keeps to, or null when it does not: every stamp
 * at the same time of day on day `min(anchor, days in its month)`, the anchor being the largest
 * day seen (31 for month ends, and 30 for stamps on the 30th that fall to the 28th in February).
 */
function monthAnchor(times: ArrayLike<number>): number | null {
  // Stamps that keep to a day of the month are at least 28 days apart (dates in one month would be
  // equal): a quick no for daily and finer series before any calendar arithmetic.
  for (let i = 1; i < times.length; i++) if (Math.abs(times[i]! - times[i - 1]!) < 28 * DAY) return null;
  const parts = Array.from(times, split);
  let anchor = 0;
  for (const p of parts) anchor = Math.max(anchor, p.d);
  const ok = parts.every((p) => p.timeOfDay === parts[0]!.timeOfDay && p.d === Math.min(anchor, daysInMonth(p.y, p.m)));
  return ok ? anchor : null;
}

/** One series' stamps in time order, for {@link inferFrequency}: a label for errors ("series a"), times, texts and rows. */
export interface StampTrack {
  label: string;
  times: ArrayLike<number>;
  texts: readonly string[];
  rows: readonly number[];
}

/**
 * The frequency of a file's series, checked: the most common step between consecutive stamps of
 * all series (the first seen on a tie), measured in calendar months when every series keeps to a day
 * of the month, else in integers or milliseconds. Every step of every series must be that one: a
 * multiple of it is a gap, anything else an irregular step, each a {@link DataError} naming the
 * series and the row of the stamp after it. Null when no series has two stamps.
 */
export function inferFrequency(tracks: readonly StampTrack[], format: StampFormat, column: string): Frequency | null {
  const multi = tracks.filter((t) => t.times.length >= 2);
  if (multi.length === 0) return null;
  const anchors = multi.map((t) => (format.kind === 'calendar' ? monthAnchor(t.times) : null));
  const measure: Measure = format.kind === 'integer' ? 'integer' : anchors.every((a) => a !== null) ? 'months' : 'ms';
  const position = (t: number) => (measure === 'months' ? split(t).month : t);
  const steps = multi.map((t) => Array.from({ length: t.times.length - 1 }, (_, i) => position(t.times[i + 1]!) - position(t.times[i]!)));
  multi.forEach((track, k) => {
    const i = steps[k]!.findIndex((s) => s <= 0);
    if (i >= 0)
      throw new DataError(
        `${track.label} is not in time order: ${track.texts[i + 1]} comes after ${track.texts[i]}`,
        track.rows[i + 1]!,
        column,
      );
  });
  const counts = new Map<number, number>();
  for (const s of steps.flat()) counts.set(s, (counts.get(s) ?? 0) + 1);
  let step = 0;
  let most = 0;
  // Map order is first occurrence: on a tie the step seen first wins, so the error lands on the later one.
  for (const [s, n] of counts) if (n > most) [step, most] = [s, n];
  const freq = frequencyOf(step, measure);
  multi.forEach((track, k) => {
    const i = steps[k]!.findIndex((s) => s !== step);
    if (i < 0) return;
    const s = steps[k]![i]!;
    const [from, to] = [track.texts[i]!, track.texts[i + 1]!];
    const row = track.rows[i + 1]!;
    const others = tracks.length > 1 ? "the file's stamps are" : 'its stamps are';
    const apart = `${others} ${describeFrequency(freq)} apart`;
    if (steps[k]!.every((x) => x === s)) {
      throw new DataError(
        `${track.label} has stamps ${describeFrequency(frequencyOf(s, measure))} apart where ${apart}: all series of a file must have one frequency`,
        row,
        column,
      );
    }
    if (s % step === 0) {
      // s is a multiple of the step: (s / step − 1) stamps are missing; name the first and the last.
      const t = track.times[i]!;
      const missing = (j: number) =>
        format.format(measure === 'months' ? atMonth(split(t).month + j * step, anchors[k]!, split(t).timeOfDay) : t + j * step);
      const count = s / step - 1;
      const what = count === 1 ? `no value at ${missing(1)}` : `no values at the ${count} stamps ${missing(1)} to ${missing(count)}`;
      throw new DataError(`${track.label} has a gap: ${what}, between ${from} and ${to} (${apart})`, row, column);
    }
    throw new DataError(
      `${track.label} is not evenly spaced: ${from} to ${to} is ${describeFrequency(frequencyOf(s, measure))} where ${apart}`,
      row,
      column,
    );
  });
  return freq;
}

/**
 * The `h` times after the last of `times` (a series in time order) at frequency `freq`: integers
 * and fixed durations add the step; months, quarters and years keep the series' day of the month
 * (month ends stay month ends). Null when `freq` steps in months but the series keeps to no day of
 * the month.
 */
export function nextTimes(times: ArrayLike<number>, freq: Frequency, h: number): number[] | null {
  const last = times[times.length - 1]!;
  const months = MONTHS_PER[freq.unit];
  if (months !== undefined) {
    const anchor = monthAnchor(times);
    if (anchor === null) return null;
    const { month, timeOfDay } = split(last);
    return Array.from({ length: h }, (_, k) => atMonth(month + (k + 1) * freq.step * months, anchor, timeOfDay));
  }
  const unit = freq.unit === 'integer' ? 1 : FIXED.find(([u]) => u === freq.unit)![1];
  return Array.from({ length: h }, (_, k) => last + (k + 1) * freq.step * unit);
}

/**
 * Where lists of stamps (each a series' `ds`) stop increasing, when they are stamps at all: null
 * when no format reads every stamp (labels, not times: nothing to check) or when one format that
 * reads them all — `dsFormat` if given — finds every list strictly increasing; else the first list
 * and index (`ds[index]` not after `ds[index - 1]`) under the first such format, and the formats.
 * Each distinct array is read once, so series sharing one array of dates cost one.
 */
export function firstDisorder(
  lists: readonly (readonly string[])[],
  dsFormat?: string,
): { list: number; index: number; formats: string[] } | null {
  const candidates = dsFormat === undefined ? CANDIDATES : [stampFormat(dsFormat)];
  const state = candidates.map((format) => ({ format, reads: true, disorder: null as { list: number; index: number } | null }));
  const seen = new Set<readonly string[]>();
  lists.forEach((ds, list) => {
    if (seen.has(ds)) return;
    seen.add(ds);
    for (const s of state) {
      if (!s.reads) continue;
      let previous = -Infinity;
      for (let index = 0; index < ds.length; index++) {
        const t = s.format.parse(ds[index]!);
        if (t === null) {
          s.reads = false;
          break;
        }
        if (t <= previous && !s.disorder) s.disorder = { list, index };
        previous = t;
      }
    }
  });
  const reading = state.filter((s) => s.reads);
  if (reading.length === 0 || reading.some((s) => !s.disorder)) return null;
  return { ...reading[0]!.disorder!, formats: reading.map((s) => s.format.name) };
}

/**
 * The frequency of one series' stamps (in time order), read in `dsFormat` or their detected
 * format; null when they are not times in one format, fewer than two, or not evenly spaced.
 */
export function frequencyOfStamps(
  ds: readonly string[],
  dsFormat?: string,
): { format: StampFormat; times: Float64Array; freq: Frequency } | null {
  if (ds.length === 0) return null;
  try {
    const { format, times } = readStamps(ds, { column: 'ds' }, dsFormat);
    const freq = inferFrequency([{ label: 'the series', times, texts: ds, rows: ds.map((_, i) => i + 2) }], format, 'ds');
    return freq && { format, times, freq };
  } catch (e) {
    if (e instanceof DataError || e instanceof ConfigError) return null;
    throw e;
  }
}
