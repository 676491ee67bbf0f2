import { describe, expect, it } from 'vitest';
import { DataError, parseLong, parseWide } from '../src/forecast/frame.ts';

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
    expect(fail(() => parseLong('unique_id,ds,value\na,1,2\n'))).toEqual([1, 'y', 'row 1, column y: no column "y" (columns: unique_id, ds, value)']);
    expect(fail(() => parseLong('unique_id,ds,y\na,1,2\na,1,3\n'))).toEqual([3, 'ds', 'row 3, column ds: series a has two values at 1']);
    expect(fail(() => parseLong('unique_id,ds,y\na,1,2,9\n'))).toEqual([2, null, 'row 2: 4 fields where the header has 3']);
    expect(fail(() => parseLong('unique_id,ds,y\n,1,2\n'))).toEqual([2, 'unique_id', 'row 2, column unique_id: empty series id']);
    expect(fail(() => parseWide('ds,a\n1,1\n2,\n3,3\n'))).toEqual([4, 'a', 'row 4, column a: series a has a gap before this value']);
    expect(fail(() => parseLong(''))).toEqual([null, null, 'the file is empty']);
    expect(fail(() => parseLong('unique_id,ds,y\n'))).toEqual([null, null, 'the file has a header but no rows']);
  });
});
