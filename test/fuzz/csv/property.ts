import Papa from 'papaparse';
import { parseLong, parseWide, type Series } from '../../../src/forecast/frame.ts';
import { forecastsCsv } from '../../../src/forecast/output.ts';
import { attempt, ensure, InvariantFailure, type FuzzProperty, type Tally } from '../harness.ts';
import { csvPlan, renderCsv, type CsvCase } from './generate.ts';
import { instantAt, instantOfParsed, parseStampAs } from './stamps.ts';

/**
 * The CSV property: parse a generated file (long or wide) and check what came back against the
 * generator's truth. A file with a defect (a value that is not a finite decimal, a duplicate or
 * missing time stamp, a ragged row, an invalid date, an ambiguous day/month column) must be refused
 * with a typed error; a clean file must parse, with every series in time order and every value equal
 * to the number its text writes. The forecasts file written for a parsed file (forecastsCsv, what
 * `webrnn forecast --out` and the app's download write) must read back as written: every series'
 * id, the next time stamps of its grid in its own format, and each value exactly.
 */

const CASE_MS = 5_000;

/** The readers under test (a parameter so the suite can be pointed at another version of them). */
export interface CsvReaders {
  parseLong(text: string, options: CsvCase['options']): Series[];
  parseWide(text: string, options: CsvCase['options']): Series[];
}

const READERS: CsvReaders = { parseLong, parseWide };

/** Throws an {@link InvariantFailure} unless the parsed series are exactly the truth. */
export function checkParsed(c: CsvCase, got: Series[]): void {
  const ids = got.map((s) => s.id);
  ensure(new Set(ids).size === ids.length, () => `the result repeats a series id: ${JSON.stringify(ids)}`);
  const want = [...c.truth.keys()];
  ensure(
    ids.length === want.length && want.every((id) => ids.includes(id)),
    () => `series ${JSON.stringify(ids)} were read, ${JSON.stringify(want)} written`,
  );
  for (const s of got) {
    const truth = c.truth.get(s.id)!;
    const n = s.y.length;
    ensure(s.ds.length === n, () => `series ${s.id}: ${s.ds.length} time stamps but ${n} values`);
    ensure(n === truth.length, () => `series ${s.id}: ${n} points read, ${truth.length} written`);
    for (let i = 0; i < n; i++) {
      const t = instantOfParsed(c.style, s.ds[i], c.written);
      ensure(t !== null, () => `series ${s.id}: time stamp ${JSON.stringify(s.ds[i])} at ${i} is none written`);
      ensure(
        t === truth[i]!.instant,
        () =>
          `series ${s.id} is not in time order: point ${i} is ${JSON.stringify(s.ds[i])} but the ${i + 1}-th earliest written is ${JSON.stringify([...c.written].find(([, v]) => v === truth[i]!.instant)?.[0])} ` +
          `(stamps read: ${JSON.stringify(s.ds.slice(0, 8))}${n > 8 ? '…' : ''})`,
      );
      const y = Number(truth[i]!.y.trim());
      ensure(
        s.y[i] === y,
        () => `series ${s.id} at ${JSON.stringify(s.ds[i])}: value ${s.y[i]} read from ${JSON.stringify(truth[i]!.y)} (${y})`,
      );
      const e = truth[i]!.exog;
      if (e !== null) {
        const x = s.exog.temp?.[i];
        ensure(
          x === Number(e.trim()),
          () => `series ${s.id} at ${JSON.stringify(s.ds[i])}: exogenous value ${x} read from ${JSON.stringify(e)}`,
        );
      }
    }
  }
}

/** How many future points the forecasts file check writes per series. */
const FUTURE = 3;

/**
 * Writes forecasts for parsed series (each series' last values, so extremes are among them) with
 * forecastsCsv and reads the file back with papaparse: one row per series and step, the series'
 * id, the stamps of the grid points after its last, and the values exactly.
 */
export function checkForecastsFile(c: CsvCase, got: Series[]): void {
  const forecasts = got.map((s) => ({ id: s.id, values: s.y.slice(-FUTURE) }));
  let text: string;
  try {
    text = forecastsCsv(got, forecasts);
  } catch (err) {
    throw new InvariantFailure(`forecastsCsv refused series parsed from a clean file: ${String(err)}`);
  }
  const parsed = Papa.parse<string[]>(text.trim(), { skipEmptyLines: true });
  const [header, ...rows] = parsed.data;
  ensure(header?.join(',') === 'unique_id,step,ds,yhat', () => `the forecasts file starts ${JSON.stringify(header)}`);
  ensure(
    rows.length === got.length * FUTURE,
    () => `the forecasts file has ${rows.length} rows for ${got.length} series of ${FUTURE} steps: ${JSON.stringify(text.slice(0, 300))}`,
  );
  got.forEach((s, k) => {
    const truth = c.truth.get(s.id)!;
    const last = truth.at(-1)!.instant;
    // The grid index of the series' last point: the written instants are the grid's.
    let index = 0;
    while (instantAt(c.style, index) < last) index++;
    for (let h = 0; h < FUTURE; h++) {
      const row = rows[k * FUTURE + h]!;
      ensure(
        row.length === 4,
        () =>
          `forecasts file row ${k * FUTURE + h + 2} has ${row.length} fields (series id ${JSON.stringify(s.id)} not quoted?): ${JSON.stringify(row)}`,
      );
      const [id, step, ds, yhat] = row as [string, string, string, string];
      ensure(
        id === s.id && step === String(h + 1),
        () => `forecasts file row ${k * FUTURE + h + 2} is ${JSON.stringify(row)}, expected series ${JSON.stringify(s.id)} step ${h + 1}`,
      );
      const want = instantAt(c.style, index + h + 1);
      const t = parseStampAs(c.style, ds);
      ensure(
        t === want,
        () =>
          `forecasts file: series ${s.id} step ${h + 1} has the stamp ${JSON.stringify(ds)}, expected the grid's next (${new Date(want).toISOString()} / ${want}) written like ${JSON.stringify(s.ds.at(-1))}`,
      );
      ensure(
        Number(yhat) === forecasts[k]!.values[h],
        () => `forecasts file: series ${s.id} step ${h + 1} has yhat ${JSON.stringify(yhat)} for ${forecasts[k]!.values[h]}`,
      );
    }
  });
}

/** Checks one rendered file: the verdict against what the parser did. */
export async function checkCsvCase(c: CsvCase, tally?: Tally, readers: CsvReaders = READERS): Promise<void> {
  const parse = c.layout === 'long' ? readers.parseLong : readers.parseWide;
  const outcome = await attempt(`parsing the ${c.layout} CSV`, () => parse(c.text, c.options), CASE_MS);
  tally?.add(`${c.verdict} → ${outcome.ok ? 'result' : outcome.error.name}`);
  if (!outcome.ok) {
    if (c.verdict === 'must-parse') {
      throw new InvariantFailure(`a clean ${c.layout} CSV (${c.style.kind} stamps, ${c.style.freq}) was refused: ${outcome.error.message}`);
    }
    return;
  }
  if (c.verdict === 'must-reject') {
    throw new InvariantFailure(`the ${c.layout} CSV was accepted without an error although it has ${c.reasons.join('; ')}`);
  }
  checkParsed(c, outcome.value);
  checkForecastsFile(c, outcome.value);
}

export const csvProperty: FuzzProperty = {
  kind: 'csv',
  name: 'csv-parse',
  weight: 1,
  arbitrary: csvPlan.map(renderCsv),
  check: (c, tally) => checkCsvCase(c, tally),
};
