import { describe, expect, it } from 'vitest';
import { checkSeries, DataError, parseLong, parseWide, type Series } from '../src/forecast/frame.ts';
import { co2Monthly, syntheticSeries, toSeries, unemploymentAcrossIndustries, usEmployment } from '../src/data/datasets.ts';
import { forecastsCsv, nextStamps } from '../src/forecast/output.ts';
import { frequencyOfStamps } from '../src/forecast/timestamps.ts';

// Reading many series from CSV (src/forecast/frame.ts): long and wide formats, exogenous columns,
// sorting, and errors that name the row and column.

describe('series from CSV', () => {
  it('reads long format, sorted by time stamp, with exogenous columns', () => {
    const csv = 'unique_id,ds,y,price\nb,2020-02,5,1.5\na,2020-01,1,0.5\na,2020-03,3,0.7\n"b",2020-01,4,1.4\na,2020-02,2,0.6\n';
    const s = parseLong(csv, { exog: ['price'] });
    expect(s.map((x) => x.id)).toEqual(['b', 'a']);
    expect(s[1]!.ds).toEqual(['2020-01', '2020-02', '2020-03']);
    expect(Array.from(s[1]!.y)).toEqual([1, 2, 3]);
    expect(Array.from(s[1]!.exog.price!)).toEqual([0.5, 0.6, 0.7]);
    expect(Array.from(s[0]!.y)).toEqual([4, 5]);
  });

  it('reads long format with other column names', () => {
    const s = parseLong('store,date,sales\nx,1,10\nx,2,11\n', { id: 'store', ds: 'date', y: 'sales' });
    expect(s).toHaveLength(1);
    expect(Array.from(s[0]!.y)).toEqual([10, 11]);
  });

  it('reads wide format: one column per series, leading blanks allowed', () => {
    const s = parseWide('month,a,b\n2020-01,1,\n2020-02,2,20\n2020-03,3,30\n');
    expect(s.map((x) => x.id)).toEqual(['a', 'b']);
    expect(s[1]!.ds).toEqual(['2020-02', '2020-03']);
    expect(Array.from(s[1]!.y)).toEqual([20, 30]);
  });

  it('names the row and column of every problem', () => {
    const fail = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(DataError);
        const d = e as DataError;
        return [d.row, d.column, d.message];
      }
      throw new Error('expected a DataError');
    };
    expect(fail(() => parseLong('unique_id,ds,y\na,1,2\na,2,oops\n'))).toEqual([3, 'y', 'row 3, column y: "oops" is not a number']);
    expect(fail(() => parseLong('unique_id,ds,value\na,1,2\n'))).toEqual([
      1,
      'y',
      'row 1, column y: no column "y" (columns: unique_id, ds, value)',
    ]);
    expect(fail(() => parseLong('unique_id,ds,y\na,1,2\na,1,3\n'))).toEqual([3, 'ds', 'row 3, column ds: series a has two values at 1']);
    expect(fail(() => parseLong('unique_id,ds,y\na,1,2,9\n'))).toEqual([2, null, 'row 2: 4 fields where the header has 3']);
    expect(fail(() => parseLong('unique_id,ds,y\n,1,2\n'))).toEqual([2, 'unique_id', 'row 2, column unique_id: empty series id']);
    expect(fail(() => parseWide('ds,a\n1,1\n2,\n3,3\n'))).toEqual([4, 'a', 'row 4, column a: series a has a gap before this value']);
    expect(fail(() => parseLong(''))).toEqual([null, null, 'the file is empty']);
    expect(fail(() => parseLong('unique_id,ds,y\n'))).toEqual([null, null, 'the file has a header but no rows']);
  });
});

/** The DataError `f` throws: [row, column, message]. */
function dataError(f: () => unknown): [number | null, string | null, string] {
  try {
    f();
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    return [e.row, e.column, e.message];
  }
  throw new Error('expected a DataError');
}

describe('time stamps read as what they are', () => {
  it('sorts integer stamps as numbers: 1, 2, …, 10, 11, 12, not 1, 10, 11, 12, 2', () => {
    const rows = [7, 12, 1, 10, 3, 11, 2, 9, 4, 8, 6, 5].map((t) => `a,${t},${t * 10}`);
    const [s] = parseLong(`unique_id,ds,y\n${rows.join('\n')}\n`);
    expect(s!.ds).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
    expect(Array.from(s!.y)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]);
    expect(s!.freq).toEqual({ unit: 'integer', step: 1 });
    expect(s!.dsFormat).toBe('integer');
  });

  it('sorts M/D/YYYY dates by date', () => {
    const months = [10, 11, 12, 1, 2, 3];
    const stamps = months.map((m, k) => `${m}/15/${k < 3 ? 2019 : 2020}`);
    const csv = `unique_id,ds,y\n${[...stamps]
      .sort()
      .map((d) => `a,${d},${stamps.indexOf(d)}`)
      .join('\n')}\n`;
    const [s] = parseLong(csv);
    expect(s!.ds).toEqual(stamps);
    expect(Array.from(s!.y)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s!).toMatchObject({ freq: { unit: 'month', step: 1 }, dsFormat: 'M/D/YYYY' });
  });

  it('reads ISO datetimes, in UTC, sorted by time', () => {
    const csv = 'unique_id,ds,y\nx,2020-03-08T03:00:00Z,3\nx,2020-03-08T01:00:00Z,1\nx,2020-03-08T02:00:00Z,2\n';
    const [s] = parseLong(csv);
    expect(s!.ds).toEqual(['2020-03-08T01:00:00Z', '2020-03-08T02:00:00Z', '2020-03-08T03:00:00Z']);
    expect(Array.from(s!.y)).toEqual([1, 2, 3]);
    expect(s!.freq).toEqual({ unit: 'hour', step: 1 });
  });

  it('refuses an ambiguous day/month order and reads it as stated with dsFormat', () => {
    const csv = 'unique_id,ds,y\na,3/4/2020,1\na,3/5/2020,2\na,3/6/2020,3\n';
    const [row, column, message] = dataError(() => parseLong(csv));
    expect([row, column]).toEqual([null, null]);
    expect(message).toMatch(/read as M\/D\/YYYY or D\/M\/YYYY \(e\.g\. "3\/4\/2020"\), and webrnn does not guess which/);
    expect(message).toContain("dsFormat: 'M/D/YYYY'");
    expect(message).toContain('--ds-format M/D/YYYY');
    // Stated: 3 April, 3 May, 3 June (monthly), or 4, 5 and 6 March (daily).
    expect(parseLong(csv, { dsFormat: 'D/M/YYYY' })[0]).toMatchObject({
      ds: ['3/4/2020', '3/5/2020', '3/6/2020'],
      freq: { unit: 'month', step: 1 },
      dsFormat: 'D/M/YYYY',
    });
    expect(parseLong(csv, { dsFormat: 'M/D/YYYY' })[0]).toMatchObject({ freq: { unit: 'day', step: 1 }, dsFormat: 'M/D/YYYY' });
    // One stamp with a day past 12 settles it for the whole column, across series.
    const settled = parseLong('unique_id,ds,y\na,3/4/2020,1\na,4/4/2020,2\nb,13/4/2020,5\nb,14/4/2020,6\n');
    expect(settled.map((s) => s.dsFormat)).toEqual(['D/M/YYYY', 'D/M/YYYY']);
    expect(settled[0]!.freq).toEqual({ unit: 'day', step: 1 });
    expect(parseWide('ds,a\n3/4/2020,1\n3/5/2020,2\n', { dsFormat: 'D/M/YYYY' })[0]!.freq).toEqual({ unit: 'month', step: 1 });
    expect(dataError(() => parseWide('ds,a\n3/4/2020,1\n3/5/2020,2\n'))[2]).toContain('--ds-format');
  });

  it('names the row and column of a stamp it cannot read', () => {
    expect(dataError(() => parseLong('unique_id,ds,y\na,2020-01-01,1\na,2020-02-01,2\na,2020-02-30,3\n'))).toEqual([
      4,
      'ds',
      'row 4, column ds: "2020-02-30" is not a time stamp in the format of the stamps above it (YYYY-MM-DD)',
    ]);
    expect(dataError(() => parseLong('unique_id,ds,y\na,1,1\na,,2\n'))).toEqual([3, 'ds', 'row 3, column ds: empty time stamp']);
    expect(dataError(() => parseWide('when,a\nyesterday,1\n'))[0]).toBe(2);
  });

  it('reports two values at one time, also when written differently, with the series and row', () => {
    expect(dataError(() => parseLong('unique_id,ds,y\na,2020-01-01,1\nb,2020-01-01,1\na,2020-01-02,2\na,2020-1-1,3\n'))).toEqual([
      5,
      'ds',
      'row 5, column ds: series a has two values at 2020-1-1 (row 2 writes it 2020-01-01)',
    ]);
    expect(dataError(() => parseWide('ds,a\n2020-01-02,1\n2020-01-01,2\n2020-1-2,3\n'))).toEqual([
      4,
      'ds',
      'row 4, column ds: time stamp 2020-1-2 is on two rows (also row 2, written 2020-01-02)',
    ]);
  });

  it('reports gaps and irregular steps with the series and row', () => {
    const gap =
      'unique_id,ds,y\na,2020-01-01,1\na,2020-02-01,2\na,2020-03-01,3\nb,2020-01-01,1\nb,2020-03-01,3\nb,2020-02-01,2\nb,2020-05-01,5\n';
    expect(dataError(() => parseLong(gap))).toEqual([
      8,
      'ds',
      "row 8, column ds: series b has a gap: no value at 2020-04-01, between 2020-03-01 and 2020-05-01 (the file's stamps are 1 month apart)",
    ]);
    const uneven = 'unique_id,ds,y\na,1,1\na,3,1\na,5,1\na,6,1\n';
    expect(dataError(() => parseLong(uneven))).toEqual([
      5,
      'ds',
      'row 5, column ds: series a is not evenly spaced: 5 to 6 is 1 where its stamps are 2 apart',
    ]);
    const mixed = 'unique_id,ds,y\na,2020-01-01,1\na,2020-01-02,1\na,2020-01-03,1\nb,2020-01-01,1\nb,2020-01-08,1\nb,2020-01-15,1\n';
    expect(dataError(() => parseLong(mixed))[2]).toBe(
      "row 6, column ds: series b has stamps 1 week apart where the file's stamps are 1 day apart: all series of a file must have one frequency",
    );
    // Wide: a gap in the dates under a series' values names that series.
    expect(dataError(() => parseWide('ds,a,b\n1,1,\n2,2,\n4,3,7\n'))).toEqual([
      4,
      'ds',
      "row 4, column ds: series a has a gap: no value at 3, between 2 and 4 (the file's stamps are 1 apart)",
    ]);
  });

  it('steps monthly through month ends', () => {
    const ends = ['2019-12-31', '2020-01-31', '2020-02-29', '2020-03-31', '2020-04-30'];
    const [s] = parseLong(
      `unique_id,ds,y\n${ends
        .map((d, k) => `m,${d},${k}`)
        .reverse()
        .join('\n')}\n`,
    );
    expect(s).toMatchObject({ ds: ends, freq: { unit: 'month', step: 1 } });
    expect(forecastsCsv([s!], [{ id: 'm', values: Float64Array.of(1, 2, 3) }] as never)).toBe(
      'unique_id,step,ds,yhat\nm,1,2020-05-31,1\nm,2,2020-06-30,2\nm,3,2020-07-31,3\n',
    );
    // Ids that hold a comma or a quote (legal in the input) are quoted, so every row has four fields
    // (found by the fuzzing suite: `A,B1` made a row of five).
    const odd = parseLong('unique_id,ds,y\n"A,B1",1,0\n"A,B1",2,0\n"say ""hi""",1,5\n"say ""hi""",2,6\n');
    const csv = forecastsCsv(odd, [
      { id: 'A,B1', values: Float64Array.of(1.5) },
      { id: 'say "hi"', values: Float64Array.of(-2) },
    ]);
    expect(csv).toBe('unique_id,step,ds,yhat\n"A,B1",1,3,1.5\n"say ""hi""",1,3,-2\n');
    expect(parseLong(csv, { y: 'yhat' }).map((x) => x.id)).toEqual(['A,B1', 'say "hi"']);
  });

  it('sorts the rows of a wide file by time', () => {
    const s = parseWide('date,a,b\n10,10,100\n9,9,\n1,1,\n2,2,\n11,11,110\n8,8,\n3,3,\n5,5,\n4,4,\n6,6,\n7,7,\n');
    expect(s.map((x) => [x.id, x.ds, Array.from(x.y)])).toEqual([
      ['a', ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11'], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
      ['b', ['10', '11'], [100, 110]],
    ]);
    // Missing values are judged in time order: b's blank rows are all before its first value.
    expect(s[1]!.freq).toEqual({ unit: 'integer', step: 1 });
    // And a stamp missing from the file under a series' values is a gap.
    expect(dataError(() => parseWide('date,a\n10,10\n9,9\n11,11\n1,1\n'))[2]).toBe(
      'row 3, column date: series a has a gap: no values at the 7 stamps 2 to 8, between 1 and 9 (its stamps are 1 apart)',
    );
  });
});

describe('numbers in CSV cells', () => {
  it('reads decimal numbers only', () => {
    const cells = ['-1.5e3', '.5', '5.', '+2', ' 7 ', '1E-3', '0', '-0.0'];
    const [s] = parseLong(`unique_id,ds,y\n${cells.map((c, k) => `a,${k},"${c}"`).join('\n')}\n`);
    expect(Array.from(s!.y)).toEqual([-1500, 0.5, 5, 2, 7, 0.001, 0, -0]);
    for (const [cell, why] of [
      ['0x1A', ' (numbers are read in decimal only)'],
      ['0b101', ' (numbers are read in decimal only)'],
      ['0o7', ' (numbers are read in decimal only)'],
      ['1_000', ' (numbers are read in decimal only)'],
      ['Infinity', ''],
      ['-Infinity', ''],
      ['NaN', ''],
      [' ', ''],
      ['1e', ''],
      ['1,5', ''],
      ['--1', ''],
    ]) {
      expect(
        dataError(() => parseLong(`unique_id,ds,y,price\na,1,1,1\na,2,"${cell}",1\n`)),
        cell,
      ).toEqual([3, 'y', `row 3, column y: "${cell}" is not a number${why}`]);
      expect(dataError(() => parseLong(`unique_id,ds,y,price\na,1,1,1\na,2,1,"${cell}"\n`, { exog: ['price'] }))[0]).toBe(3);
    }
    expect(dataError(() => parseLong('unique_id,ds,y\na,1,1e400\n'))).toEqual([
      2,
      'y',
      'row 2, column y: "1e400" is beyond the range of numbers (about ±1.8e308)',
    ]);
    expect(dataError(() => parseWide('ds,a,b\n1,1,2\n2,0x1A,3\n'))).toEqual([
      3,
      'a',
      'row 3, column a: "0x1A" is not a number (numbers are read in decimal only)',
    ]);
  });
});

describe('checkSeries', () => {
  const series = (over: Partial<Series> = {}): Series => ({ id: 'a', ds: ['1', '2', '3'], y: Float64Array.of(1, 2, 3), exog: {}, ...over });
  const message = (s: readonly Series[]) => {
    try {
      checkSeries(s);
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      return (e as Error).message;
    }
    return null;
  };

  it('accepts well-formed series, whatever their stamps', () => {
    expect(message([series(), series({ id: 'b', exog: { p: Float64Array.of(0, 0, 0) } })])).toBeNull();
    expect(message([series({ ds: ['x', 'b', 'a'] })])).toBeNull(); // labels, not times
    expect(message([series({ ds: ['2020-01-31', '2020-02-29', '2020-03-31'] })])).toBeNull();
  });

  it('rejects what would be read wrongly, naming the series', () => {
    expect(message([series({ ds: ['1', '2'] })])).toBe('series a has 2 time stamps (ds) for 3 values (y)');
    expect(message([series({ ds: ['1', '2', '3', '4'] })])).toBe('series a has 4 time stamps (ds) for 3 values (y)');
    expect(message([series({ exog: { price: Float64Array.of(1, 2) } })])).toBe(
      'series a: exogenous column price has 2 values for 3 values of y',
    );
    expect(message([series({ exog: { price: Float64Array.of(1, NaN, 2) } })])).toBe(
      'series a: exogenous column price[1] is NaN, not a finite number',
    );
    expect(message([series({ y: Float64Array.of(1, Infinity, 3) })])).toBe('series a: y[1] is Infinity, not a finite number');
    expect(message([series({ y: Float64Array.of(), ds: [] })])).toBe('series a has no values (y is empty)');
    expect(message([series(), series({ id: '' })])).toBe('series number 2 has an empty id');
    expect(message([series(), series({ id: ' ' })])).toBe('series number 2 has an empty id');
    expect(message([series(), series()])).toBe('two series have the id a');
    expect(message([])).toBe('no series given');
    expect(message([series(), series({ id: 'b', ds: ['1', '10', '2'] })])).toBe(
      'series b: the time stamps are not in increasing order: ds[2] = 2 follows 10 (read as integer)',
    );
    expect(message([series({ ds: ['2020-01-01', '2020-01-01', '2020-01-02'] })])).toBe(
      'series a: the time stamps are not in increasing order: ds[1] = 2020-01-01 follows 2020-01-01 (read as YYYY-MM-DD)',
    );
  });
});

describe('future stamps in the forecasts CSV', () => {
  const fc = (id: string, ...values: number[]) => ({ id, values: Float64Array.from(values) }) as never;
  const written = (csv: string, dsFormat?: string) => {
    const series = parseLong(csv, dsFormat ? { dsFormat } : {});
    return forecastsCsv(
      series,
      series.map((s) => fc(s.id, 1, 2)),
    )
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[2]);
  };

  it('writes them in the format of the input, at its frequency', () => {
    expect(written('unique_id,ds,y\na,8,1\na,10,1\na,12,1\n')).toEqual(['14', '16']);
    expect(written('unique_id,ds,y\na,11/30/2020,1\na,12/31/2020,1\na,1/31/2021,1\n', 'M/D/YYYY')).toEqual(['2/28/2021', '3/31/2021']);
    expect(written('unique_id,ds,y\na,12/15/2020,1\na,1/15/2021,1\n')).toEqual(['2/15/2021', '3/15/2021']);
    expect(written('unique_id,ds,y\na,30.12.2020,1\na,31.12.2020,1\n')).toEqual(['1.1.2021', '2.1.2021']);
    expect(written('unique_id,ds,y\na,30.11.2020,1\na,01.12.2020,1\n')).toEqual(['02.12.2020', '03.12.2020']);
    expect(written('unique_id,ds,y\na,2020-12-31T22:30:00Z,1\na,2020-12-31T23:15:00Z,1\n')).toEqual([
      '2021-01-01T00:00:00Z',
      '2021-01-01T00:45:00Z',
    ]);
    expect(written('unique_id,ds,y\na,2020-12-31 23:00,1\na,2021-01-01 00:00,1\n')).toEqual(['2021-01-01 01:00', '2021-01-01 02:00']);
    expect(written('unique_id,ds,y\na,2019,1\na,2020,1\n')).toEqual(['2021', '2022']);
    expect(written('unique_id,ds,y\na,2020Q3,1\na,2020Q4,1\n')).toEqual(['2021Q1', '2021Q2']);
    expect(written('unique_id,ds,y\na,Nov 2020,1\na,Dec 2020,1\n')).toEqual(['Jan 2021', 'Feb 2021']);
    expect(written('unique_id,ds,y\na,2020-11,1\na,2020-12,1\n')).toEqual(['2021-01', '2021-02']);
  });

  it('steps a one-point series at its file’s frequency', () => {
    expect(written('unique_id,ds,y\na,2020-01-01,1\na,2020-01-08,1\nb,2020-01-05,1\n')).toEqual([
      '2020-01-15',
      '2020-01-22',
      '2020-01-12',
      '2020-01-19',
    ]);
  });
});

describe('the built-in series', () => {
  it('are regular monthly series with stamps in order, and so are the generated ones at their period', () => {
    const builtin = [...unemploymentAcrossIndustries(), ...usEmployment(), co2Monthly()].map(toSeries);
    expect(() => checkSeries(builtin)).not.toThrow();
    for (const s of builtin) expect(frequencyOfStamps(s.ds)?.freq, s.id).toEqual({ unit: 'month', step: 1 });
    expect(nextStamps(toSeries(co2Monthly()).ds, 2)).toEqual(['2020-05-01', '2020-06-01']); // the file ends in April 2020
    for (const [season, freq] of [
      [12, { unit: 'month', step: 1 }],
      [4, { unit: 'quarter', step: 1 }],
      [7, { unit: 'day', step: 1 }],
    ] as const) {
      const synthetic = syntheticSeries({ count: 3, length: 30, season, seed: 1 }).map(toSeries);
      expect(() => checkSeries(synthetic)).not.toThrow();
      expect(frequencyOfStamps(synthetic[0]!.ds)?.freq).toEqual(freq);
    }
  });
});
