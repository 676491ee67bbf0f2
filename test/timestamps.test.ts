import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../src/errors.ts';
import {
  civilFromDays,
  daysFromCivil,
  describeFrequency,
  detectFormat,
  firstDisorder,
  formatsReading,
  inferFrequency,
  nextTimes,
  readStamps,
  STAMP_FORMATS,
  stampFormat,
  type StampTrack,
} from '../src/forecast/timestamps.ts';

// Time stamps (src/forecast/timestamps.ts): formats read strictly and in UTC, detection over a
// whole column (ambiguity is an error), and the step between stamps inferred and checked.

const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString();
const source = { column: 'ds' };

/** The DataError (or ConfigError) `f` throws: its message, row and column. */
function failure(f: () => unknown): { message: string; row: number | null; column: string | null } {
  try {
    f();
  } catch (e) {
    if (e instanceof DataError) return { message: e.message, row: e.row, column: e.column };
    if (e instanceof ConfigError) return { message: e.message, row: null, column: null };
    throw e;
  }
  throw new Error('expected an error');
}

describe('calendar arithmetic', () => {
  it('counts days like Date.UTC, including years before 100 (which Date.UTC reads as 19xx)', () => {
    for (let days = -800_000; days <= 800_000; days += 997) {
      const date = new Date(days * DAY);
      const civil = { y: date.getUTCFullYear(), m: date.getUTCMonth() + 1, d: date.getUTCDate() };
      expect(civilFromDays(days)).toEqual(civil);
      expect(daysFromCivil(civil.y, civil.m, civil.d)).toBe(days);
    }
    expect(daysFromCivil(1, 1, 1) * DAY).toBe(Date.parse('0001-01-01T00:00:00Z'));
    expect(daysFromCivil(99, 12, 31) * DAY).toBe(Date.parse('0099-12-31T00:00:00Z'));
  });
});

describe('reading stamps', () => {
  // Each supported format with stamps that only it reads, and the UTC times they mean.
  const cases: Array<[string, string[], string[]]> = [
    ['integer', ['-3', '0', '12'], []],
    ['YYYY', ['1999', '2020'], ['1999-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z']],
    ['YYYY-MM', ['2020-01', '2020-12'], ['2020-01-01T00:00:00.000Z', '2020-12-01T00:00:00.000Z']],
    ['YYYY-MM-DD', ['2020-02-29', '2021-12-31'], ['2020-02-29T00:00:00.000Z', '2021-12-31T00:00:00.000Z']],
    ['YYYY-M-D', ['2020-1-5', '2020-11-25'], ['2020-01-05T00:00:00.000Z', '2020-11-25T00:00:00.000Z']],
    ['YYYY-MM-DDTHH:mm', ['2020-01-01T23:59'], ['2020-01-01T23:59:00.000Z']],
    ['YYYY-MM-DDTHH:mmZ', ['2020-01-01T05:30Z'], ['2020-01-01T05:30:00.000Z']],
    ['YYYY-MM-DDTHH:mm:ss', ['2020-01-01T05:30:59'], ['2020-01-01T05:30:59.000Z']],
    ['YYYY-MM-DDTHH:mm:ssZ', ['2020-01-01T05:30:01Z'], ['2020-01-01T05:30:01.000Z']],
    ['YYYY-MM-DDTHH:mm:ss.SSSZ', ['2020-01-01T05:30:01.250Z'], ['2020-01-01T05:30:01.250Z']],
    ['YYYY-MM-DDTHH:mm:ss.SSS', ['2020-01-01T05:30:01.007'], ['2020-01-01T05:30:01.007Z']],
    ['YYYY-MM-DD HH:mm', ['2020-01-01 00:00'], ['2020-01-01T00:00:00.000Z']],
    ['YYYY-MM-DD HH:mm:ss', ['2020-01-01 12:00:00'], ['2020-01-01T12:00:00.000Z']],
    ['YYYY-MM-DD HH:mm:ss.SSS', ['2020-01-01 12:00:00.500'], ['2020-01-01T12:00:00.500Z']],
    ['YYYY/MM/DD', ['2020/03/04'], ['2020-03-04T00:00:00.000Z']],
    ['YYYY/MM/DD HH:mm', ['2020/03/04 07:08'], ['2020-03-04T07:08:00.000Z']],
    ['M/D/YYYY', ['3/4/2020', '3/14/2020'], ['2020-03-04T00:00:00.000Z', '2020-03-14T00:00:00.000Z']],
    ['MM/DD/YYYY', ['03/04/2020', '12/31/2020'], ['2020-03-04T00:00:00.000Z', '2020-12-31T00:00:00.000Z']],
    ['D/M/YYYY', ['3/4/2020', '13/4/2020'], ['2020-04-03T00:00:00.000Z', '2020-04-13T00:00:00.000Z']],
    ['D/M/YYYY H:mm', ['3/4/2020 7:05', '13/4/2020 17:05'], ['2020-04-03T07:05:00.000Z', '2020-04-13T17:05:00.000Z']],
    ['M/D/YYYY H:mm:ss', ['12/31/2020 23:59:59'], ['2020-12-31T23:59:59.000Z']],
    ['DD.MM.YYYY', ['03.04.2020', '31.12.2020'], ['2020-04-03T00:00:00.000Z', '2020-12-31T00:00:00.000Z']],
    ['D.M.YYYY', ['3.4.2020', '31.12.2020'], ['2020-04-03T00:00:00.000Z', '2020-12-31T00:00:00.000Z']],
    ['D-M-YYYY', ['3-4-2020', '31-12-2020'], ['2020-04-03T00:00:00.000Z', '2020-12-31T00:00:00.000Z']],
    ['M-D-YYYY', ['3-4-2020', '12-31-2020'], ['2020-03-04T00:00:00.000Z', '2020-12-31T00:00:00.000Z']],
    ['MMM YYYY', ['Jan 2020', 'Dec 2020'], ['2020-01-01T00:00:00.000Z', '2020-12-01T00:00:00.000Z']],
    ['MMMM YYYY', ['January 2020', 'May 2020'], ['2020-01-01T00:00:00.000Z', '2020-05-01T00:00:00.000Z']],
    ['YYYY-MMM', ['2020-Jan', '2020-Sep'], ['2020-01-01T00:00:00.000Z', '2020-09-01T00:00:00.000Z']],
    ['MMM-YYYY', ['Jan-2020'], ['2020-01-01T00:00:00.000Z']],
    ['D MMM YYYY', ['5 Jan 2020', '25 Dec 2020'], ['2020-01-05T00:00:00.000Z', '2020-12-25T00:00:00.000Z']],
    ['DD-MMM-YYYY', ['05-Jan-2020'], ['2020-01-05T00:00:00.000Z']],
    ['MMM D, YYYY', ['Jan 5, 2020'], ['2020-01-05T00:00:00.000Z']],
    ['YYYY[Q]Q', ['2020Q1', '2020Q4'], ['2020-01-01T00:00:00.000Z', '2020-10-01T00:00:00.000Z']],
    ['YYYY-[Q]Q', ['2020-Q2'], ['2020-04-01T00:00:00.000Z']],
  ];

  it.each(cases)('detects %s and reads it in UTC', (name, stamps, times) => {
    const { format, times: read } = readStamps(stamps, source);
    expect(format.name).toBe(name);
    if (name === 'integer') expect(Array.from(read)).toEqual(stamps.map(Number));
    else expect(Array.from(read, iso)).toEqual(times);
    // Written back exactly as read.
    expect(Array.from(read, (t) => format.format(t))).toEqual(stamps);
  });

  it('detects every built-in format from stamps written in it, and reads them back', () => {
    const times = [Date.UTC(2020, 0, 13, 5, 7, 9, 250), Date.UTC(2021, 10, 25, 17, 45, 30, 500)];
    for (const name of STAMP_FORMATS.filter((f) => f !== 'integer')) {
      const written = stampFormat(name);
      const stamps = times.map((t) => written.format(t));
      const { format, times: read } = readStamps(stamps, source);
      expect(format.name, stamps.join(' ')).toBe(name);
      expect(Array.from(read)).toEqual(stamps.map((s) => written.parse(s)));
    }
  });

  it('reads month names in any case, abbreviated or in full', () => {
    expect(Array.from(readStamps(['jan 2020', 'FEB 2020', 'March 2020'], source).times, iso)).toEqual([
      '2020-01-01T00:00:00.000Z',
      '2020-02-01T00:00:00.000Z',
      '2020-03-01T00:00:00.000Z',
    ]);
  });

  it('is strict: no month 13, no 30 February, no hour 24, no extra text', () => {
    const iso = stampFormat('YYYY-MM-DD');
    for (const bad of [
      '2020-13-01',
      '2020-00-10',
      '2020-02-30',
      '2021-02-29',
      '2020-04-31',
      '2020-01-00',
      '2020-01-01x',
      ' 2020-01-01',
      '20200101',
      '2020-001-01',
      '２０２０-01-01',
    ]) {
      expect(iso.parse(bad), bad).toBeNull();
    }
    expect(iso.parse('2020-1-5')).toBe(Date.UTC(2020, 0, 5)); // padding is not required…
    expect(iso.parse('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(iso.parse('1900-02-29')).toBeNull(); // …but the calendar is
    expect(iso.parse('2000-02-29')).toBe(Date.UTC(2000, 1, 29));
    const time = stampFormat('YYYY-MM-DD HH:mm:ss');
    for (const bad of ['2020-01-01 24:00:00', '2020-01-01 10:60:00', '2020-01-01 10:00:60', '2020-01-01 10:0:00'])
      expect(time.parse(bad), bad).toBeNull();
    expect(stampFormat('MMM YYYY').parse('Sept 2020')).toBeNull();
    expect(stampFormat('integer').parse('9007199254740993')).toBeNull(); // beyond exact doubles
    expect(stampFormat('integer').parse('1.0')).toBeNull();
  });

  it('settles day-first against month-first only when a stamp tells', () => {
    expect(detectFormat(['3/4/2020', '13/4/2020'], source).name).toBe('D/M/YYYY');
    expect(detectFormat(['3/4/2020', '3/13/2020'], source).name).toBe('M/D/YYYY');
    const e = failure(() => detectFormat(['3/4/2020', '5/4/2020', '1/1/2021'], source));
    expect(e.message).toBe(
      'the time stamps of column ds read as M/D/YYYY or D/M/YYYY (e.g. "3/4/2020"), and webrnn does not guess which: ' +
        "state the format of column ds: dsFormat: 'M/D/YYYY' in parseLong/parseWide, --ds-format M/D/YYYY on the command line, or the date format field in the app",
    );
    expect(e.row).toBeNull();
    // Stated, it reads as stated.
    expect(Array.from(readStamps(['3/4/2020', '5/4/2020'], source, 'D/M/YYYY').times, iso)).toEqual([
      '2020-04-03T00:00:00.000Z',
      '2020-04-05T00:00:00.000Z',
    ]);
    expect(Array.from(readStamps(['3/4/2020', '5/4/2020'], source, 'M/D/YYYY').times, iso)).toEqual([
      '2020-03-04T00:00:00.000Z',
      '2020-05-04T00:00:00.000Z',
    ]);
    // D-M against M-D likewise; a stamp with equal fields is still ambiguous (the next ones would differ).
    expect(failure(() => detectFormat(['1-2-2020'], source)).message).toMatch(/read as D-M-YYYY or M-D-YYYY/);
    expect(failure(() => detectFormat(['4/4/2020'], source)).message).toMatch(/read as M\/D\/YYYY or D\/M\/YYYY \(e\.g\. "4\/4\/2020"\)/);
  });

  it('reads 4-digit integers as years, unless told they are integers', () => {
    expect(detectFormat(['2019', '2020'], source).name).toBe('YYYY');
    expect(detectFormat(['2019', '12020'], source).name).toBe('integer');
    expect(readStamps(['2019', '2020'], source, 'integer').times).toEqual(Float64Array.of(2019, 2020));
  });

  it('names the row and column of a stamp no format reads', () => {
    const rows = { column: 'date', rowOf: (i: number) => 10 + i };
    expect(failure(() => detectFormat(['2020-01-01', '2020-02-01', '2020-13-01'], rows))).toEqual({
      message: 'row 12, column date: "2020-13-01" is not a time stamp in the format of the stamps above it (YYYY-MM-DD)',
      row: 12,
      column: 'date',
    });
    const e = failure(() => detectFormat(['soon', '2020-01-01'], rows));
    expect([e.row, e.column]).toEqual([10, 'date']);
    expect(e.message).toMatch(
      /^row 10, column date: "soon" is not a time stamp webrnn reads \(integers, ISO dates .*--ds-format YYYY-MM-DD/,
    );
    expect(failure(() => detectFormat(['1/2/2020', '13/13/2020'], rows)).message).toBe(
      'row 11, column date: "13/13/2020" is not a time stamp in the format of the stamps above it (M/D/YYYY or D/M/YYYY)',
    );
    expect(failure(() => detectFormat(['2020-01-01', '1/13/2020'], rows, 'M/D/YYYY'))).toEqual({
      message: 'row 10, column date: "2020-01-01" is not a time stamp in the format M/D/YYYY that was stated for it',
      row: 10,
      column: 'date',
    });
  });

  it('refuses a malformed stated format with a ConfigError that says how to write one', () => {
    expect(() => stampFormat('yyyy-MM-dd')).toThrow(ConfigError);
    expect(failure(() => stampFormat('yyyy-MM-dd')).message).toMatch(
      /^ds format "yyyy-MM-dd": unknown letter "y" at 1; use YYYY for the year/,
    );
    expect(failure(() => stampFormat('MM/DD')).message).toMatch(/has no year/);
    expect(failure(() => stampFormat('YYYY-DD')).message).toBe('ds format "YYYY-DD" has a day but no month');
    expect(failure(() => stampFormat('YYYY-MM-DD HH:ss')).message).toBe('ds format "YYYY-MM-DD HH:ss" has a second but no minute');
    expect(failure(() => stampFormat('YYYY-MM-MM')).message).toBe('ds format "YYYY-MM-MM" has the month twice');
    expect(failure(() => stampFormat('YYYY-[Q')).message).toBe('ds format "YYYY-[Q" has an unclosed [');
    expect(stampFormat('[week of] D.M.YYYY').parse('week of 3.4.2020')).toBe(Date.UTC(2020, 3, 3));
  });

  it('writes new stamps padded like the column is (and unpadded when it is not)', () => {
    expect(detectFormat(['01/13/2020', '02/13/2020'], source).name).toBe('MM/DD/YYYY');
    expect(detectFormat(['1/13/2020', '12/13/2020'], source).name).toBe('M/D/YYYY');
    expect(detectFormat(['10/13/2020', '11/13/2020'], source).name).toBe('M/D/YYYY'); // no evidence: the default spelling
    expect(detectFormat(['2020-1-13', '2020-2-13'], source).name).toBe('YYYY-M-D'); // days unpadded like the months
    expect(detectFormat(['13.01.2020 19:00', '13.02.2020 20:00'], source).name).toBe('DD.MM.YYYY HH:mm');
    expect(detectFormat(['13.1.2020 9:00', '13.2.2020 10:00'], source).name).toBe('D.M.YYYY H:mm');
    expect(detectFormat(['May 2020', 'June 2020'], source).name).toBe('MMMM YYYY');
  });
});

/** One track per series of stamps, rows counted from 2 across them as in a long file. */
function tracks(format: string, ...series: string[][]): { tracks: StampTrack[]; format: ReturnType<typeof stampFormat> } {
  const f = stampFormat(format);
  let row = 2;
  return {
    format: f,
    tracks: series.map((texts, k) => ({
      label: `series ${'abc'[k]}`,
      texts,
      times: texts.map((s) => f.parse(s)!),
      rows: texts.map(() => row++),
    })),
  };
}
const frequency = (format: string, ...series: string[][]) => {
  const t = tracks(format, ...series);
  return inferFrequency(t.tracks, t.format, 'ds');
};

describe('frequency', () => {
  it('infers integer, fixed and calendar steps', () => {
    expect(frequency('integer', ['3', '6', '9'])).toEqual({ unit: 'integer', step: 3 });
    expect(frequency('YYYY-MM-DD', ['2020-01-01', '2020-01-02'])).toEqual({ unit: 'day', step: 1 });
    expect(frequency('YYYY-MM-DD', ['2020-01-01', '2020-01-08', '2020-01-15'])).toEqual({ unit: 'week', step: 1 });
    expect(frequency('YYYY-MM-DD', ['2020-01-01', '2020-01-15', '2020-01-29'])).toEqual({ unit: 'week', step: 2 });
    expect(frequency('YYYY-MM-DD', ['2020-02-27', '2020-03-01'])).toEqual({ unit: 'day', step: 3 }); // across 29 February
    expect(frequency('YYYY-MM-DD HH:mm', ['2020-01-01 23:00', '2020-01-02 00:00'])).toEqual({ unit: 'hour', step: 1 });
    expect(frequency('YYYY-MM-DD HH:mm', ['2020-01-01 23:45', '2020-01-02 00:00'])).toEqual({ unit: 'minute', step: 15 });
    expect(frequency('YYYY-MM-DD HH:mm:ss', ['2020-01-01 00:00:00', '2020-01-01 00:00:30'])).toEqual({ unit: 'second', step: 30 });
    expect(frequency('YYYY-MM-DD HH:mm:ss.SSS', ['2020-01-01 00:00:00.000', '2020-01-01 00:00:00.250'])).toEqual({
      unit: 'millisecond',
      step: 250,
    });
    expect(frequency('YYYY-MM-DD', ['2020-01-15', '2020-02-15', '2020-03-15'])).toEqual({ unit: 'month', step: 1 });
    expect(frequency('YYYY-MM', ['2020-01', '2020-03'])).toEqual({ unit: 'month', step: 2 });
    expect(frequency('YYYY-MM-DD', ['2020-01-01', '2020-04-01', '2020-07-01'])).toEqual({ unit: 'quarter', step: 1 });
    expect(frequency('YYYY[Q]Q', ['2020Q1', '2020Q2'])).toEqual({ unit: 'quarter', step: 1 });
    expect(frequency('YYYY-MM-DD', ['2019-03-31', '2020-03-31'])).toEqual({ unit: 'year', step: 1 });
    expect(frequency('YYYY', ['2000', '2005'])).toEqual({ unit: 'year', step: 5 });
    expect(frequency('YYYY-MM-DD', ['2020-01-01'])).toBeNull();
    expect(describeFrequency({ unit: 'week', step: 2 })).toBe('2 weeks');
    expect(describeFrequency({ unit: 'integer', step: 5 })).toBe('5');
  });

  it('steps through month ends, and through the 30th in February', () => {
    const ends = ['2019-11-30', '2019-12-31', '2020-01-31', '2020-02-29', '2020-03-31', '2020-04-30'];
    const t = tracks('YYYY-MM-DD', ends);
    expect(inferFrequency(t.tracks, t.format, 'ds')).toEqual({ unit: 'month', step: 1 });
    expect(nextTimes(t.tracks[0]!.times, { unit: 'month', step: 1 }, 12)!.map((x) => t.format.format(x))).toEqual([
      '2020-05-31',
      '2020-06-30',
      '2020-07-31',
      '2020-08-31',
      '2020-09-30',
      '2020-10-31',
      '2020-11-30',
      '2020-12-31',
      '2021-01-31',
      '2021-02-28',
      '2021-03-31',
      '2021-04-30',
    ]);
    const thirtieth = tracks('YYYY-MM-DD', ['2020-01-30', '2020-02-29', '2020-03-30']);
    expect(inferFrequency(thirtieth.tracks, thirtieth.format, 'ds')).toEqual({ unit: 'month', step: 1 });
    expect(
      nextTimes(thirtieth.tracks[0]!.times, { unit: 'month', step: 1 }, 12)!
        .map((x) => thirtieth.format.format(x))
        .slice(9),
    ).toEqual(['2021-01-30', '2021-02-28', '2021-03-30']);
    const quarterEnds = tracks('YYYY-MM-DD', ['2020-03-31', '2020-06-30', '2020-09-30']);
    expect(inferFrequency(quarterEnds.tracks, quarterEnds.format, 'ds')).toEqual({ unit: 'quarter', step: 1 });
    expect(nextTimes(quarterEnds.tracks[0]!.times, { unit: 'quarter', step: 1 }, 2)!.map((x) => quarterEnds.format.format(x))).toEqual([
      '2020-12-31',
      '2021-03-31',
    ]);
    // The 28th every month is the 28th, not a month end.
    const t28 = tracks('YYYY-MM-DD', ['2021-01-28', '2021-02-28']);
    expect(nextTimes(t28.tracks[0]!.times, { unit: 'month', step: 1 }, 1)!.map((x) => t28.format.format(x))).toEqual(['2021-03-28']);
    // A month end then the 28th of a 31-day month keeps to no day: not monthly.
    expect(failure(() => frequency('YYYY-MM-DD', ['2020-01-31', '2020-02-29', '2020-03-28'])).message).toBe(
      'row 4, column ds: series a is not evenly spaced: 2020-02-29 to 2020-03-28 is 4 weeks where its stamps are 29 days apart',
    );
  });

  it('names the series and row of a gap, an irregular step and a stamp out of order', () => {
    expect(
      failure(() =>
        frequency('YYYY-MM-DD', ['2020-01-01', '2020-02-01', '2020-03-01'], ['2020-01-01', '2020-02-01', '2020-04-01', '2020-05-01']),
      ),
    ).toEqual({
      message:
        "row 7, column ds: series b has a gap: no value at 2020-03-01, between 2020-02-01 and 2020-04-01 (the file's stamps are 1 month apart)",
      row: 7,
      column: 'ds',
    });
    expect(failure(() => frequency('integer', ['1', '2', '3', '6', '7'])).message).toBe(
      'row 5, column ds: series a has a gap: no values at the 2 stamps 4 to 5, between 3 and 6 (its stamps are 1 apart)',
    );
    expect(failure(() => frequency('YYYY-MM-DD', ['2020-01-01', '2020-01-08', '2020-01-15', '2020-01-21', '2020-01-28'])).message).toBe(
      'row 5, column ds: series a is not evenly spaced: 2020-01-15 to 2020-01-21 is 6 days where its stamps are 1 week apart',
    );
    expect(failure(() => frequency('integer', ['1', '3', '2'])).message).toBe(
      'row 4, column ds: series a is not in time order: 2 comes after 3',
    );
  });

  it('wants one frequency for all series of a file', () => {
    expect(frequency('YYYY-MM-DD', ['2020-01-01', '2020-01-02', '2020-01-03'], ['2020-01-05'], ['2020-03-01', '2020-03-02'])).toEqual({
      unit: 'day',
      step: 1,
    });
    expect(
      failure(() => frequency('YYYY-MM-DD', ['2020-01-01', '2020-01-02', '2020-01-03'], ['2020-01-01', '2020-01-08', '2020-01-15'])),
    ).toEqual({
      message:
        "row 6, column ds: series b has stamps 1 week apart where the file's stamps are 1 day apart: all series of a file must have one frequency",
      row: 6,
      column: 'ds',
    });
    // Monthly beside daily: measured in days, the monthly series lacks the days between.
    expect(
      failure(() => frequency('YYYY-MM-DD', ['2020-01-01', '2020-01-02', '2020-01-03'], ['2020-01-31', '2020-02-29', '2020-03-31']))
        .message,
    ).toBe(
      "row 6, column ds: series b has a gap: no values at the 28 stamps 2020-02-01 to 2020-02-28, between 2020-01-31 and 2020-02-29 (the file's stamps are 1 day apart)",
    );
    // A gap of a billion integers is named by its ends, not listed.
    expect(failure(() => frequency('integer', ['1', '2', '1000000003'])).message).toBe(
      'row 4, column ds: series a has a gap: no values at the 1000000000 stamps 3 to 1000000002, between 2 and 1000000003 (its stamps are 1 apart)',
    );
  });
});

describe('order of hand-built stamps', () => {
  it('finds the first stamp out of time order, when the stamps are times', () => {
    expect(firstDisorder([['1', '2', '10']])).toBeNull();
    expect(
      firstDisorder([
        ['1', '2', '3'],
        ['1', '10', '2'],
      ]),
    ).toEqual({ list: 1, index: 2, formats: ['integer'] });
    expect(firstDisorder([['1/10/2020', '1/2/2020']])).toEqual({ list: 0, index: 1, formats: ['M/D/YYYY', 'D/M/YYYY'] });
    expect(firstDisorder([['1/2/2020', '1/10/2020']])).toBeNull(); // increasing read either way
    expect(firstDisorder([['2/1/2020', '1/2/2020']])).toBeNull(); // in order as D/M/YYYY (2 January, 1 February)
    expect(
      firstDisorder([
        ['2/1/2020', '1/2/2020'],
        ['1/2/2020', '2/1/2020'],
      ]),
    ).toEqual({ list: 0, index: 1, formats: ['M/D/YYYY', 'D/M/YYYY'] }); // no one format orders both
    expect(firstDisorder([['b', 'a']])).toBeNull(); // labels, not times
    expect(firstDisorder([['2020-02-01', '2020-01-02']])).toEqual({ list: 0, index: 1, formats: ['YYYY-MM-DD'] });
    expect(firstDisorder([['2020-02-01', '2020-01-02']], 'YYYY-DD-MM')).toBeNull(); // 2 January, 1 February
    const shared = ['2', '1'];
    expect(firstDisorder([shared, shared, shared])).toEqual({ list: 0, index: 1, formats: ['integer'] });
  });
});
