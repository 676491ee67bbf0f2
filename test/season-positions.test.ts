import { describe, expect, it } from 'vitest';
import { parseLong, parseWide, type Series } from '../src/forecast/frame.ts';
import { seasonPositions } from '../src/forecast/windows.ts';

// seasonPositions (src/forecast/windows.ts) for a series read from a file: the file's frequency and
// stamp format, which the reader checked every stamp against, come with the series, and only its
// first stamp is read again (all of them were half of the forecaster's per-series preparation).
// The positions must be those of reading every stamp.

const wide = (ds: string[], season: number) => ({ text: `ds,a,b\n${ds.map((d, i) => `${d},${i + 1},${2 * i + 1}`).join('\n')}\n`, season });
const monthly = Array.from(
  { length: 30 },
  (_, i) => `${2001 + Math.floor((i + 4) / 12)}-${String(((i + 4) % 12) + 1).padStart(2, '0')}-01`,
);
const monthEnds = ['2020-01-31', '2020-02-29', '2020-03-31', '2020-04-30', '2020-05-31', '2020-06-30'];
const quarterly = ['2019-04-01', '2019-07-01', '2019-10-01', '2020-01-01', '2020-04-01'];
const daily = Array.from({ length: 20 }, (_, i) => `2021-03-${String(i + 3).padStart(2, '0')}`);
const hourly = Array.from({ length: 30 }, (_, i) => `2021-03-0${1 + Math.floor((i + 5) / 24)}T${String((i + 5) % 24).padStart(2, '0')}:00`);
const integer = Array.from({ length: 9 }, (_, i) => String(1990 + 2 * i));

const FILES = [
  { name: 'monthly', ...wide(monthly, 12) },
  { name: 'month ends', ...wide(monthEnds, 12) },
  { name: 'quarterly', ...wide(quarterly, 4) },
  { name: 'daily', ...wide(daily, 7) },
  { name: 'hourly', ...wide(hourly, 24) },
  { name: 'integer', ...wide(integer, 3) },
];

describe('seasonPositions of a series read from a file', () => {
  it.each(FILES.map((f) => [f.name, f] as const))('%s: the same as reading every stamp', (_, f) => {
    const series = parseWide(f.text);
    for (const s of series) {
      expect(s.freq).toBeDefined();
      const all = seasonPositions({ ds: s.ds, dsFormat: s.dsFormat }, f.season, s.ds.length + 5);
      expect(seasonPositions(s, f.season, s.ds.length + 5)).toEqual(all);
    }
  });

  it('the same for a long file and for stamps in a stated format', () => {
    const long = `unique_id,ds,y\n${['x', 'y'].flatMap((id, k) => daily.slice(k).map((d, i) => `${id},${d},${i + 1}`)).join('\n')}\n`;
    const stated = `ds,a\n${['03/2020', '04/2020', '05/2020', '06/2020'].map((d, i) => `${d},${i + 1}`).join('\n')}\n`;
    for (const [series, season] of [
      [parseLong(long), 7],
      [parseWide(stated, { dsFormat: 'MM/YYYY' }), 12],
    ] as Array<[Series[], number]>) {
      for (const s of series)
        expect(seasonPositions(s, season, 12)).toEqual(seasonPositions({ ds: s.ds, dsFormat: s.dsFormat }, season, 12));
    }
  });

  it('reads only the first stamp again: the file reader checked the others', () => {
    const [s] = parseWide(FILES[0]!.text);
    // A stamp the reader would have refused, planted after reading: a series that carries its
    // file's frequency is not read again past its first stamp (its positions stay the calendar's).
    const ds = [...s!.ds];
    ds[7] = 'not a date';
    expect(seasonPositions({ ...s!, ds }, 12, 6)).toEqual(Float64Array.of(4, 5, 6, 7, 8, 9));
    // Without the file's frequency every stamp is read, and a series that is not all times has no calendar.
    expect(seasonPositions({ ds, dsFormat: s!.dsFormat }, 12, 3)).toEqual(Float64Array.of(0, 1, 2));
  });
});
