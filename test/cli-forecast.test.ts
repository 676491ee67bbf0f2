import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { afterAll, describe, expect, it } from 'vitest';
import { backtestJson, checkedForecastsCsv } from '../src/cli/forecast.ts';
import { main } from '../src/cli/main.ts';
import { DataError } from '../src/errors.ts';
import type { BacktestReport, BacktestRow, Forecast } from '../src/forecast/forecaster.ts';
import { forecastsCsv, intervalColumns, nextStamps } from '../src/forecast/output.ts';
import { readSafetensors } from '../src/io/safetensors.ts';

// `webrnn forecast | fit | predict | backtest` in-process, on the float64 CPU backend (--cpu), with
// files in a temporary directory removed afterwards.

const dir = mkdtempSync(join(tmpdir(), 'webrnn-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, '9.9.9');
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Two monthly series in long format. */
function longCsv(): string {
  const rows = ['unique_id,ds,y'];
  for (const [id, level] of [
    ['a', 10],
    ['b', 30],
  ] as const) {
    for (let t = 0; t < 48; t++) {
      const m = t % 12;
      rows.push(
        `${id},${2020 + Math.floor(t / 12)}-${String(m + 1).padStart(2, '0')}-01,${level + 0.2 * t + 3 * Math.sin((2 * Math.PI * m) / 12)}`,
      );
    }
  }
  return `${rows.join('\n')}\n`;
}

const quick = ['--cpu', '--epochs', '3', '--hidden', '6', '--input-size', '12', '--season', '12', '--ensemble', '2'];

/** The columns statsforecast writes for levels 80 and 95, after our unique_id, step and ds. */
const HEADER_80_95 = 'unique_id,step,ds,yhat,yhat-lo-95,yhat-lo-80,yhat-hi-80,yhat-hi-95';

/** A forecasts CSV as records (papaparse, numbers as numbers). */
function records(csv: string): Record<string, string | number>[] {
  const parsed = Papa.parse<Record<string, string | number>>(csv.trim(), {
    header: true,
    dynamicTyping: (f) => f !== 'unique_id' && f !== 'ds',
  });
  expect(parsed.errors).toEqual([]);
  return parsed.data;
}

/**
 * Every row's bounds around its point forecast and nested by level: the lower bound of the wider
 * interval at or below the narrower's, the upper at or above (levels ascending).
 */
function expectNestedIntervals(rows: Record<string, string | number>[], levels: number[]) {
  for (const r of rows) {
    const at = `${r.unique_id} step ${r.step}`;
    expect(typeof r.yhat, at).toBe('number');
    let [lo, hi] = [r.yhat as number, r.yhat as number];
    for (const level of levels) {
      const [l, h] = [r[`yhat-lo-${level}`], r[`yhat-hi-${level}`]];
      expect(Number.isFinite(l) && Number.isFinite(h), `${at}: ${level}% bounds ${l}, ${h}`).toBe(true);
      expect(l as number, `${at}: lo-${level}`).toBeLessThanOrEqual(lo);
      expect(h as number, `${at}: hi-${level}`).toBeGreaterThanOrEqual(hi);
      [lo, hi] = [l as number, h as number];
    }
    // The widest interval is not a point: the calibration saw errors.
    expect(hi - lo, at).toBeGreaterThan(0);
  }
}

/** The CLI's error contract: exit `code`, exactly one line on stderr, `webrnn: …`, nothing on stdout. */
function expectError(r: { code: number; out: string; err: string }, code: 1 | 2, message: string | RegExp) {
  expect(r.code, r.err).toBe(code);
  expect(r.err.split('\n'), r.err).toHaveLength(1);
  expect(r.err).toMatch(/^webrnn: /);
  if (typeof message === 'string') expect(r.err).toBe(`webrnn: ${message}`);
  else expect(r.err).toMatch(message);
  expect(r.out).toBe('');
}

describe('webrnn forecasting commands', () => {
  it("forecast: backtest, and a CSV of the next points with their dates from the backtest's networks (one training)", async () => {
    const file = join(dir, 'long.csv');
    writeFileSync(file, longCsv());
    const out = join(dir, 'fc.csv');
    const metrics = join(dir, 'metrics.json');
    const r = await run('forecast', file, '--horizon', '4', ...quick, '--out', out, '--metrics', metrics);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/2 series, 96 points/);
    expect(r.err).toMatch(/backtest \[[#.]+\] epoch \d\/3 {2}loss/);
    expect(r.err).not.toMatch(/^fit /m);
    expect(r.err).not.toMatch(/webrnn: note:/);
    // The model and every baseline, MAE to MASE; OWA; coverage per level and MSIS; the method.
    const out_ = r.out.split('\n');
    const table = out_.slice(out_.findIndex((l) => l.startsWith('backtest over the last 4 points (2 series × 1 fold):')));
    const metric = String.raw`MAE +\S+ +RMSE +\S+ +sMAPE +\d+\.\d\d% +MASE +(\d+\.\d{3}|n/a)`;
    expect(table.slice(1, 6)).toEqual(
      ['model', 'seasonal naive', 'Naive2', 'ETS', 'Theta'].map((name) => expect.stringMatching(new RegExp(`^${name} +${metric}$`))),
    );
    expect(table[6]).toMatch(/^OWA vs Naive2 +\d+\.\d{3}$/);
    expect(table[7]).toMatch(/^intervals +80%: \d+\.\d% inside, 95%: \d+\.\d% inside; MSIS \d+\.\d{3}$/);
    expect(table[8]).toMatch(/^method +webrnn \+ ETS \+ Theta \+ Naive2$/);

    const csv = readFileSync(out, 'utf8');
    expect(csv.split('\n')[0]).toBe(HEADER_80_95);
    const rows = records(csv);
    expect(rows.map((x) => [x.unique_id, x.step, x.ds])).toEqual([
      ['a', 1, '2024-01-01'],
      ['a', 2, '2024-02-01'],
      ['a', 3, '2024-03-01'],
      ['a', 4, '2024-04-01'],
      ['b', 1, '2024-01-01'],
      ['b', 2, '2024-02-01'],
      ['b', 3, '2024-03-01'],
      ['b', 4, '2024-04-01'],
    ]);
    expectNestedIntervals(rows, [80, 95]);

    const report = JSON.parse(readFileSync(metrics, 'utf8'));
    expect(Object.keys(report.overall.baselines)).toEqual(['snaive', 'naive2', 'ets', 'theta']);
    for (const m of Object.values(report.overall.baselines) as { mase: number }[]) expect(m.mase).toBeGreaterThan(0);
    expect(report.overall.owa).toBeGreaterThan(0);
    expect(Object.keys(report.overall.coverage)).toEqual(['80', '95']);
    for (const share of Object.values(report.overall.coverage) as number[]) expect(share >= 0 && share <= 1).toBe(true);
    expect(report.overall.coverage['95']).toBeGreaterThanOrEqual(report.overall.coverage['80']);
    expect(report.overall.msis).toBeGreaterThan(0);
    expect(report.notes).toEqual([]);
    expect(report.series).toHaveLength(2);
    for (const row of report.series) {
      expect(row.method).toBe('webrnn + ETS + Theta + Naive2');
      expect(row.note).toBeNull();
      expect(row.intervals.map((i: { level: number }) => i.level)).toEqual([80, 95]);
      for (const { lo, hi } of row.intervals) {
        for (let h = 0; h < 4; h++) {
          expect(lo[h]).toBeLessThanOrEqual(row.forecast[h]);
          expect(hi[h]).toBeGreaterThanOrEqual(row.forecast[h]);
        }
      }
      for (const b of ['snaive', 'naive2', 'ets', 'theta']) expect(row.baselines[b].forecast).toHaveLength(4);
      // The seasonal naive forecast of the hold-out (points 44–47) is the season before it (32–35).
      const y = longCsv()
        .split('\n')
        .filter((l) => l.startsWith(`${row.id},`))
        .map((l) => Number(l.split(',')[2]));
      expect(row.baselines.snaive.forecast).toEqual(y.slice(32, 36));
      expect(row.actual).toEqual(y.slice(44, 48));
    }
  });

  it("--levels sets the intervals' levels and their columns; the other recipe flags reach the forecaster, unset ones keep its defaults", async () => {
    const file = join(dir, 'levels.csv');
    writeFileSync(file, longCsv());
    const out = join(dir, 'levels.csv.out');
    const model = join(dir, 'levels.safetensors');
    const r = await run(
      'forecast',
      file,
      '--horizon',
      '3',
      ...quick,
      '--levels',
      '90,50',
      '--combine',
      'none',
      '--transform',
      'log',
      '--no-calendar',
      '--out',
      out,
      '--model',
      model,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^intervals +50%: \d+\.\d% inside, 90%: \d+\.\d% inside; MSIS n\/a$/m); // MSIS is the 95 % interval's
    expect(r.out).toMatch(/^method +webrnn$/m);
    const csv = readFileSync(out, 'utf8');
    expect(csv.split('\n')[0]).toBe('unique_id,step,ds,yhat,yhat-lo-90,yhat-lo-50,yhat-hi-50,yhat-hi-90');
    expectNestedIntervals(records(csv), [50, 90]);
    const saved = JSON.parse(readSafetensors(readFileSync(model)).metadata!.options!);
    expect(saved).toMatchObject({ levels: [50, 90], combine: [], transform: 'log', calendar: false, ensemble: 2, hiddenSize: 6 });
    // Flags not given: the forecaster's defaults, not `undefined` carried over from the command line.
    const defaults = await run(
      'fit',
      file,
      '--horizon',
      '3',
      '--cpu',
      '--epochs',
      '1',
      '--hidden',
      '4',
      '--ensemble',
      '1',
      '--model',
      model,
    );
    expect(defaults.code, defaults.err).toBe(0);
    const plain = JSON.parse(readSafetensors(readFileSync(model)).metadata!.options!);
    expect(plain).toMatchObject({
      levels: [80, 95],
      combine: ['ets', 'theta', 'naive2'],
      transform: 'none',
      calendar: true,
      scaling: 'window',
    });
    for (const [k, v] of Object.entries(plain)) expect(v, k).not.toBeNull();
  });

  it('a series too short for the network falls back to a baseline: a note on stderr names it, and its forecast is still written', async () => {
    const file = join(dir, 'short.csv');
    const short = ['c,2023-07-01,5', 'c,2023-08-01,6', 'c,2023-09-01,5.5', 'c,2023-10-01,6.5', 'c,2023-11-01,6', 'c,2023-12-01,7'];
    writeFileSync(file, `${longCsv()}${short.join('\n')}\n`);
    const out = join(dir, 'short-fc.csv');
    const metrics = join(dir, 'short-metrics.json');
    const r = await run('forecast', file, '--horizon', '2', ...quick, '--out', out, '--metrics', metrics);
    expect(r.code, r.err).toBe(0);
    const notes = r.err.split('\n').filter((l) => l.startsWith('webrnn: note:'));
    // Once for the backtest, once for the forecast; each names the series.
    expect(notes.length, r.err).toBeGreaterThanOrEqual(2);
    for (const n of notes) expect(n).toMatch(/^webrnn: note: .*series c\b/);
    expect(r.out).toMatch(/^method +webrnn \+ ETS \+ Theta \+ Naive2 \(2\), .+ \(1\)$/m);
    const rows = records(readFileSync(out, 'utf8'));
    expect(rows.filter((x) => x.unique_id === 'c').map((x) => x.step)).toEqual([1, 2]);
    expect(rows.filter((x) => x.unique_id === 'c').every((x) => Number.isFinite(x.yhat))).toBe(true);
    const report = JSON.parse(readFileSync(metrics, 'utf8'));
    // The fallback, and the backtest table's ETS column: 4 points are too few for ETS, so the naive
    // forecast stands in there, named too.
    expect(report.notes).toHaveLength(2);
    for (const n of report.notes) expect(n).toMatch(/series c\b/);
    expect(report.notes[1]).toMatch(/ETS: .*the ETS column shows the naive forecast for it$/);
    const c = report.series.find((x: { id: string }) => x.id === 'c');
    expect(c.note).toBe(report.notes[0]);
    expect(c.method).not.toMatch(/webrnn/);
  });

  it('fit saves the models, predict reads them back and gives the same forecasts', async () => {
    const file = join(dir, 'long2.csv');
    writeFileSync(file, longCsv());
    const model = join(dir, 'model.safetensors');
    const fit = await run('fit', file, '--horizon', '3', ...quick, '--model', model);
    expect(fit.code, fit.err).toBe(0);
    expect(fit.out).toMatch(/saved 2 model\(s\)/); // --ensemble 2
    const a = await run('predict', file, '--model', model, '--cpu');
    const b = await run('predict', file, '--model', model, '--cpu');
    expect(a.code, a.err).toBe(0);
    expect(a.out).toBe(b.out);
    expect(a.out.split('\n')).toHaveLength(1 + 2 * 3);
    // The saved forecaster forecasts with the intervals it was calibrated for.
    expect(a.out.split('\n')[0]).toBe(HEADER_80_95);
    expectNestedIntervals(records(a.out), [80, 95]);
  });

  it('forecasts the built-in CO2 series without a file, and reports bad input', async () => {
    const r = await run('backtest', '--horizon', '6', ...quick);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/1 series, 746 points \(built-in: monthly CO2/);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'unique_id,ds,y\na,2020-01-01,1\na,2020-02-01,x\n');
    const e = await run('forecast', bad, '--horizon', '2', '--cpu');
    expect(e.code).toBe(1);
    expect(e.err.split('\n').at(-1)).toBe(`webrnn: ${bad}: row 3, column y: "x" is not a number`);
    expectError(await run('forecast', '--cpu'), 2, '--horizon N is required (see webrnn forecast --help)');
    expectError(await run('forecast', '--bogus'), 2, 'unknown option --bogus (see webrnn forecast --help)');
    expectError(await run('predict', bad), 2, 'predict needs --model PATH (see webrnn predict --help)');
  });

  it('extends evenly spaced time stamps', () => {
    expect(nextStamps(['2020-11-01', '2020-12-01'], 2)).toEqual(['2021-01-01', '2021-02-01']);
    expect(nextStamps(['2020-01-30', '2020-01-31'], 2)).toEqual(['2020-02-01', '2020-02-02']);
    expect(nextStamps(['3', '5'], 2)).toEqual(['7', '9']);
    expect(nextStamps(['2020-01-01', '2020-01-05', '2020-01-06'], 1)).toBeNull();
    expect(nextStamps(['x', 'y'], 1)).toBeNull();
  });
});

describe('webrnn forecasting commands: errors', () => {
  const csv = join(dir, 'errors.csv');
  writeFileSync(csv, longCsv());

  it('a bad flag value is a usage error (exit 2) that quotes the text typed', async () => {
    const cases: Array<[string[], string]> = [
      [['--lr', 'abc'], '--lr must be a positive number, got "abc"'],
      [['--lr', '0'], '--lr must be a positive number, got "0"'],
      [['--lr', 'Infinity'], '--lr must be a positive number, got "Infinity"'],
      [['--lr', '1e999'], '--lr must be a positive number, got "1e999"'],
      [['--horizon', 'x'], '--horizon must be a positive integer, got "x"'],
      [['--horizon', '0'], '--horizon must be a positive integer, got "0"'],
      [['--horizon', ''], '--horizon must be a positive integer, got ""'],
      [['--horizon', ' 3'], '--horizon must be a positive integer, got " 3"'],
      [['--horizon', '0x10'], '--horizon must be a positive integer, got "0x10"'],
      [['--horizon', '1e3'], '--horizon must be a positive integer, got "1e3"'],
      [['--epochs', '2.5'], '--epochs must be a positive integer, got "2.5"'],
      [['--season', '-'], '--season must be a positive integer, got "-"'],
      [['--input-size', 'twelve'], '--input-size must be a positive integer, got "twelve"'],
      [['--hidden', '99999999999999999999'], '--hidden must be a positive integer, got "99999999999999999999"'],
      [['--layers', '1.0'], '--layers must be a positive integer, got "1.0"'],
      [['--batch', '64k'], '--batch must be a positive integer, got "64k"'],
      [['--folds', 'two'], '--folds must be a positive integer, got "two"'],
      [['--seed', '1.5'], '--seed must be an integer, got "1.5"'],
      [['--cell', 'foo'], '--cell must be one of rnn, gru, lstm, got "foo"'],
      [['--strategy', 'both'], '--strategy must be one of recursive, direct, got "both"'],
      [['--scaling', 'log'], '--scaling must be one of window, standard, minmax, robust, none, got "log"'],
      [['--transform', 'sqrt'], '--transform must be one of none, log, got "sqrt"'],
      [['--ensemble', '0'], '--ensemble must be a positive integer, got "0"'],
      [['--levels', '0'], '--levels must be levels in percent between 0 and 100, comma-separated (e.g. 80,95), got "0"'],
      [['--levels', '100'], '--levels must be levels in percent between 0 and 100, comma-separated (e.g. 80,95), got "100"'],
      [['--levels', '80,'], '--levels must be levels in percent between 0 and 100, comma-separated (e.g. 80,95), got "80,"'],
      [['--levels', '80 95'], '--levels must be levels in percent between 0 and 100, comma-separated (e.g. 80,95), got "80 95"'],
      [['--levels', '-5'], '--levels needs a value (one that starts with a dash is written --levels=-…)'],
      [['--levels', 'NaN'], '--levels must be levels in percent between 0 and 100, comma-separated (e.g. 80,95), got "NaN"'],
      [['--levels', '95,80,95'], '--levels names 95 twice'],
      [['--combine', 'arima'], '--combine must be none or a comma-separated list of snaive, naive2, ets, theta, got "arima"'],
      [['--combine', 'ets,ets'], '--combine names ets twice'],
      [['--combine', ''], '--combine must be none or a comma-separated list of snaive, naive2, ets, theta, got ""'],
    ];
    for (const [flags, message] of cases) {
      const argv = ['forecast', csv, '--horizon', '2', '--cpu', ...flags];
      expectError(await run(...argv), 2, `${message} (see webrnn forecast --help)`);
    }
  });

  it('options the command does not know or does not take, missing ones and extra files are usage errors', async () => {
    const hint = (c: string) => ` (see webrnn ${c} --help)`;
    expectError(await run('forecast', csv, csv, '--horizon', '2'), 2, `one FILE at most, got 2: ${csv} ${csv}${hint('forecast')}`);
    expectError(await run('backtest', csv, '--horizon'), 2, `--horizon needs a value${hint('backtest')}`);
    expectError(
      await run('backtest', csv, '--horizon', '2', '--seed', '-3'),
      2,
      `--seed needs a value (one that starts with a dash is written --seed=-…)${hint('backtest')}`,
    );
    expectError(await run('backtest', csv, '--horizon', '2', '--cpu=yes'), 2, `--cpu takes no value${hint('backtest')}`);
    expectError(await run('backtest', csv, '--horizon', '2', '-x'), 2, `unknown option -x${hint('backtest')}`);
    expectError(
      await run('predict', csv, '--model', 'm.safetensors', '--epochs', '3'),
      2,
      `predict does not take --epochs${hint('predict')}`,
    );
    expectError(await run('backtest', csv, '--horizon', '2', '--out', 'f.csv'), 2, `backtest does not take --out${hint('backtest')}`);
    expectError(
      await run('predict', csv, '--model', 'm.safetensors', '--levels', '90'),
      2,
      `predict does not take --levels${hint('predict')}`,
    );
    expectError(await run('backtest', csv, '--horizon', '2', '--no-calendar=no'), 2, `--no-calendar takes no value${hint('backtest')}`);
    expectError(await run('fit', '--horizon', '2', '--model', 'm.safetensors'), 2, `fit needs a FILE${hint('fit')}`);
    expectError(await run('fit', csv, '--horizon', '2'), 2, `fit needs --model PATH${hint('fit')}`);
    expectError(await run('fit', csv, '--model', 'm.safetensors'), 2, `--horizon N is required${hint('fit')}`);
  });

  it("--help and -h print the command's own usage and exit 0", async () => {
    for (const command of ['forecast', 'fit', 'predict', 'backtest']) {
      for (const flag of ['--help', '-h']) {
        const r = await run(command, flag);
        expect(r.code, r.err).toBe(0);
        expect(r.err).toBe('');
        expect(r.out).toMatch(new RegExp(`^Usage: webrnn ${command} `));
        expect(r.out).toMatch(/--ds-format FMT/);
        expect(r.out).toMatch(/--cpu/);
      }
    }
    // Each command lists the flags it takes, and only those.
    const predict = (await run('predict', '--help')).out;
    expect(predict).toMatch(/--model PATH/);
    expect(predict).not.toMatch(/--epochs/);
    const backtest = (await run('backtest', '--help')).out;
    expect(backtest).toMatch(/--folds K/);
    expect(backtest).toMatch(/seasonal naive, Naive2, ETS and Theta/);
    for (const flag of ['--levels L,… ', '--ensemble N ', '--no-calendar ', '--transform none|log ', '--combine ets,theta|none ']) {
      expect(
        backtest.split('\n').some((l) => l.startsWith(`  ${flag}`)),
        flag,
      ).toBe(true);
    }
    // Help wins over everything else on the line, even bad values.
    expect((await run('forecast', '--lr', 'abc', '--help')).code).toBe(0);
  });

  it('--ds-format states how ambiguous time stamps are written; a bad pattern is a usage error', async () => {
    // Months as M/1/YYYY: every day is 1, so M/D/YYYY and D/M/YYYY both read them; no guessing.
    const file = join(dir, 'mdy.csv');
    const rows = ['unique_id,ds,y'];
    for (let t = 0; t < 36; t++) rows.push(`a,${(t % 12) + 1}/1/${2020 + Math.floor(t / 12)},${10 + 0.1 * t + ((t % 12) % 4)}`);
    writeFileSync(file, `${rows.join('\n')}\n`);
    const args = ['--horizon', '2', '--cpu', '--epochs', '1', '--hidden', '3'];
    const ambiguous = await run('forecast', file, ...args);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.err.split('\n').at(-1)).toMatch(/^webrnn: .*--ds-format M\/D\/YYYY/);
    const stated = await run('forecast', file, ...args, '--ds-format', 'M/D/YYYY');
    expect(stated.code, stated.err).toBe(0);
    expect(stated.out.split('\n').slice(-3)).toEqual([
      HEADER_80_95,
      expect.stringMatching(/^a,1,1\/1\/2023,\d/),
      expect.stringMatching(/^a,2,2\/1\/2023,\d/),
    ]);
    expectError(
      await run('forecast', file, ...args, '--ds-format', 'QQ'),
      2,
      /^webrnn: --ds-format: ds format "QQ" .*\(see webrnn forecast --help\)$/,
    );
  });

  it('a missing input file, a folder given as the file, and a missing --model file: one line, exit 1', async () => {
    const missing = join(dir, 'no-such.csv');
    expectError(await run('forecast', missing, '--horizon', '2', '--cpu'), 1, `cannot read ${missing}: no such file`);
    expectError(await run('backtest', dir, '--horizon', '2', '--cpu'), 1, `cannot read ${dir}: it is a folder, not a file`);
    expectError(
      await run('forecast', join(csv, 'x.csv'), '--horizon', '2', '--cpu'),
      1,
      `cannot read ${join(csv, 'x.csv')}: a part of the path is not a folder`,
    );
    const model = join(dir, 'no-such.safetensors');
    expectError(await run('predict', csv, '--model', model, '--cpu'), 1, `cannot read --model ${model}: no such file`);
    expectError(await run('predict', csv, '--model', dir, '--cpu'), 1, `cannot read --model ${dir}: it is a folder, not a file`);
  });

  it('a --model file that is not a model names the flag and the file', async () => {
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'not a model');
    const r = await run('predict', csv, '--model', junk, '--cpu');
    expect(r.code).toBe(1);
    expect(r.err.split('\n').at(-1)).toMatch(new RegExp(`^webrnn: --model ${junk}: \\S`));
  });

  it('--out, --metrics and --model are checked before any training, and nothing is written', async () => {
    const nowhere = join(dir, 'no-such-folder');
    const cases: Array<[string[], string]> = [
      [['forecast', csv, '--out', join(nowhere, 'f.csv')], `--out ${join(nowhere, 'f.csv')}: folder ${nowhere} does not exist`],
      [['forecast', csv, '--out', dir], `--out ${dir}: it is a folder, not a file`],
      [['forecast', csv, '--out', join(csv, 'f.csv')], `--out ${join(csv, 'f.csv')}: ${csv} is not a folder`],
      [['backtest', csv, '--metrics', join(nowhere, 'm.json')], `--metrics ${join(nowhere, 'm.json')}: folder ${nowhere} does not exist`],
      [['forecast', csv, '--metrics', dir], `--metrics ${dir}: it is a folder, not a file`],
      [
        ['fit', csv, '--model', join(nowhere, 'm.safetensors')],
        `--model ${join(nowhere, 'm.safetensors')}: folder ${nowhere} does not exist`,
      ],
      [['forecast', csv, '--model', dir], `--model ${dir}: it is a folder, not a file`],
    ];
    for (const [argv, message] of cases) {
      // No "N series" line, no progress bar: one line, the error, before the data is even read.
      expectError(await run(...argv, '--horizon', '2', ...quick), 1, message);
    }
    expect(existsSync(nowhere)).toBe(false);
  });

  it('a folder that exists but is missing the file is fine: the file is created', async () => {
    const sub = join(dir, 'results');
    mkdirSync(sub);
    const r = await run(
      'forecast',
      csv,
      '--horizon',
      '2',
      ...quick,
      '--lr',
      '2e-2',
      '--seed=-3',
      '--out',
      join(sub, 'f.csv'),
      '--metrics',
      join(sub, 'm.json'),
    );
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(join(sub, 'f.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 2 * 2);
    expect(JSON.parse(readFileSync(join(sub, 'm.json'), 'utf8')).series).toHaveLength(2);
  });

  /** Keys of the --metrics JSON that may be null: no fallback note, no network forecast (a fallback), MASE, OWA or MSIS undefined. */
  const NULLABLE = ['note', 'network', 'mase', 'owa', 'msis'];
  /** The keys holding null anywhere in `v`. */
  const nullKeys = (v: unknown, key = ''): string[] =>
    v === null
      ? [key]
      : typeof v === 'object'
        ? Object.entries(v as object).flatMap(([k, x]) => nullKeys(x, Array.isArray(v) ? key : k))
        : [];

  it('extreme values give finite forecasts or a one-line error (exit 1), never Infinity in a file', async () => {
    // 1e200 once made standard scaling overflow and `forecast` wrote Infinity with exit 0; near
    // float64's limit, or beyond float32's without scaling, the model cannot compute. Either way:
    // a file of finite numbers, or one line and no file.
    const cases: Array<[string, number, string[]]> = [
      ['e200', 1e200, []],
      ['e308', 1.1e308, []],
      ['e39', 1e39, ['--scaling', 'none']],
    ];
    for (const [name, level, flags] of cases) {
      const file = join(dir, `${name}.csv`);
      const rows = ['unique_id,ds,y'];
      for (let t = 0; t < 40; t++) rows.push(`a,${2000 + t},${(1 + 0.5 * Math.sin(t)) * level}`);
      writeFileSync(file, `${rows.join('\n')}\n`);
      const out = join(dir, `${name}-fc.csv`);
      const metrics = join(dir, `${name}-metrics.json`);
      const r = await run(
        'forecast',
        file,
        '--out',
        out,
        '--metrics',
        metrics,
        '--horizon',
        '3',
        '--cpu',
        '--epochs',
        '2',
        '--hidden',
        '4',
        '--input-size',
        '6',
        ...flags,
      );
      expect(r.out, name).not.toMatch(/Infinity/);
      if (r.code === 0) {
        const rows = readFileSync(out, 'utf8')
          .trim()
          .split('\n')
          .slice(1)
          .map((l) => l.split(',').slice(3).map(Number));
        expect(rows, name).toHaveLength(3);
        // The point forecast and every bound.
        for (const v of rows.flat()) expect(Number.isFinite(v), `${name}: ${v}`).toBe(true);
        const json = readFileSync(metrics, 'utf8');
        expect(json, name).not.toMatch(/Infinity|NaN/);
        // JSON writes a non-finite number as null: nulls only where the report means "none" or "undefined".
        expect(
          nullKeys(JSON.parse(json)).filter((k) => !NULLABLE.includes(k)),
          name,
        ).toEqual([]);
      } else {
        expect(r.code, r.err).toBe(1);
        const last = r.err.split('\n').at(-1)!;
        expect(last, name).toMatch(/^webrnn: /);
        expect(last, name).not.toMatch(/internal error/);
        expect(existsSync(out), name).toBe(false);
      }
    }
    // The case that overflowed before is now forecast, in the data's range.
    expect(existsSync(join(dir, 'e200-fc.csv'))).toBe(true);
  });

  it('the files refuse a non-finite value, naming the series (a safety net under the forecaster)', () => {
    const series = [
      { id: 'a', ds: ['1', '2'], y: Float64Array.of(1, 2), exog: {} },
      { id: 'b', ds: ['1', '2'], y: Float64Array.of(1, 2), exog: {} },
    ];
    const forecast = (id: string, values: number[], lo = values.map((v) => v - 1), hi = values.map((v) => v + 1)): Forecast => ({
      id,
      values: Float64Array.from(values),
      intervals: [{ level: 80, lo: Float64Array.from(lo), hi: Float64Array.from(hi) }],
      method: 'webrnn',
      note: null,
      network: Float64Array.from(values),
    });
    expect(checkedForecastsCsv(series, [forecast('a', [3]), forecast('b', [4])])).toBe(
      'unique_id,step,ds,yhat,yhat-lo-80,yhat-hi-80\na,1,3,3,2,4\nb,1,3,4,3,5\n',
    );
    for (const bad of [Infinity, -Infinity, NaN]) {
      const forecasts = [forecast('a', [3]), forecast('b', [4, bad])];
      expect(() => checkedForecastsCsv(series, forecasts)).toThrow(DataError);
      expect(() => checkedForecastsCsv(series, forecasts)).toThrow(`the forecast of series b holds ${bad} at step 2; nothing was written`);
      expect(() => checkedForecastsCsv(series, [forecast('a', [3], [bad])])).toThrow(
        `the forecast of series a's 80% interval's lower bound holds ${bad} at step 1; nothing was written`,
      );
      expect(() => checkedForecastsCsv(series, [forecast('a', [3], [2], [bad])])).toThrow(
        `the forecast of series a's 80% interval's upper bound holds ${bad} at step 1`,
      );
    }
    const m = { mae: 1, rmse: 1, smape: 10, mase: 0.5 };
    const baselines = {
      snaive: { forecast: Float64Array.of(1), metrics: m },
      naive2: { forecast: Float64Array.of(1), metrics: m },
      ets: { forecast: Float64Array.of(1.5), metrics: m },
      theta: { forecast: Float64Array.of(1.2), metrics: m },
    };
    const row: BacktestRow = {
      id: 'b',
      fold: 0,
      actual: Float64Array.of(1),
      forecast: Float64Array.of(2),
      intervals: [{ level: 95, lo: Float64Array.of(0), hi: Float64Array.of(3) }],
      metrics: m,
      baselines,
      coverage: { 95: 1 },
      msis: 4.5,
      method: 'webrnn + ETS + Theta',
      note: null,
      network: { forecast: Float64Array.of(2.5), metrics: m },
    };
    const report: BacktestReport = {
      rows: [row],
      model: m,
      baselines: { snaive: m, naive2: m, ets: m, theta: m },
      owa: 0.9,
      coverage: { 95: 1 },
      msis: 4.5,
      notes: [],
    };
    const json = backtestJson(report);
    expect(json.series[0]!.forecast).toEqual([2]);
    expect(json.series[0]!.intervals).toEqual([{ level: 95, lo: [0], hi: [3] }]);
    expect(json.series[0]!.baselines.ets).toEqual({ metrics: m, forecast: [1.5] });
    expect(json.series[0]!.network).toEqual({ metrics: m, forecast: [2.5] });
    expect(JSON.parse(JSON.stringify(json.overall))).toEqual({
      model: m,
      baselines: { snaive: m, naive2: m, ets: m, theta: m },
      owa: 0.9,
      coverage: { 95: 1 },
      msis: 4.5,
    });
    // MASE is undefined (JSON null) when the seasonal naive error is 0, OWA and MSIS likewise: that is no overflow.
    expect(JSON.stringify(backtestJson({ ...report, model: { ...m, mase: null } }).overall.model.mase)).toBe('null');
    expect(backtestJson({ ...report, owa: null, msis: null, rows: [{ ...row, msis: null }] }).overall.owa).toBeNull();
    expect(() => backtestJson({ ...report, model: { ...m, mase: NaN } })).toThrow('the overall metrics: MASE is NaN');
    expect(() => backtestJson({ ...report, baselines: { ...report.baselines, theta: { ...m, smape: NaN } } })).toThrow(
      'the overall Theta metrics: SMAPE is NaN',
    );
    expect(() => backtestJson({ ...report, owa: Infinity })).toThrow('the overall OWA is Infinity; nothing was written');
    expect(() => backtestJson({ ...report, coverage: { 95: NaN } })).toThrow('overall: the 95% coverage is NaN');
    expect(() => backtestJson({ ...report, rows: [{ ...row, forecast: Float64Array.of(Infinity) }] })).toThrow(
      'series b, fold 0: the forecast holds Infinity at step 1',
    );
    expect(() =>
      backtestJson({ ...report, rows: [{ ...row, intervals: [{ level: 95, lo: Float64Array.of(-Infinity), hi: Float64Array.of(3) }] }] }),
    ).toThrow("series b, fold 0: the forecast's 95% interval's lower bound holds -Infinity at step 1");
    expect(() =>
      backtestJson({ ...report, rows: [{ ...row, baselines: { ...baselines, ets: { forecast: Float64Array.of(NaN), metrics: m } } }] }),
    ).toThrow('series b, fold 0: the ETS forecast holds NaN at step 1');
    expect(() => backtestJson({ ...report, rows: [{ ...row, metrics: { ...m, rmse: Infinity } }] })).toThrow(
      'series b, fold 0: the metrics: RMSE is Infinity',
    );
    expect(() => backtestJson({ ...report, rows: [{ ...row, msis: NaN }] })).toThrow('series b, fold 0: the MSIS is NaN');
    expect(() => backtestJson({ ...report, model: { ...m, mase: Infinity } })).toThrow('the overall metrics: MASE is Infinity');
  });
});

describe('the forecasts CSV (src/forecast/output.ts)', () => {
  const series = [
    { id: 'm', ds: ['2020-03-31', '2020-04-30'], y: Float64Array.of(1, 2), exog: {} },
    { id: 'x,y', ds: ['1', '2'], y: Float64Array.of(1, 2), exog: {} },
  ];
  const iv = (level: number, lo: number[], hi: number[]) => ({ level, lo: Float64Array.from(lo), hi: Float64Array.from(hi) });

  it('names the interval columns as statsforecast does: lower bounds widest first, then upper bounds narrowest first', () => {
    expect(intervalColumns([95, 80]).map((c) => c.name)).toEqual(['yhat-lo-95', 'yhat-lo-80', 'yhat-hi-80', 'yhat-hi-95']);
    expect(intervalColumns([50, 97.5, 50]).map((c) => c.name)).toEqual(['yhat-lo-97.5', 'yhat-lo-50', 'yhat-hi-50', 'yhat-hi-97.5']);
    expect(intervalColumns([])).toEqual([]);
  });

  it("writes each forecast's bounds under its level; a forecast without a level has empty cells there", () => {
    const csv = forecastsCsv(series, [
      { id: 'm', values: Float64Array.of(10, 11), intervals: [iv(80, [9, 9.5], [11, 12.5]), iv(95, [8, 8], [12, 14])] },
      { id: 'x,y', values: Float64Array.of(5), intervals: [iv(80, [4], [6])] },
    ]);
    expect(csv).toBe(
      'unique_id,step,ds,yhat,yhat-lo-95,yhat-lo-80,yhat-hi-80,yhat-hi-95\n' +
        'm,1,2020-05-31,10,8,9,11,12\n' +
        'm,2,2020-06-30,11,8,9.5,12.5,14\n' +
        '"x,y",1,3,5,,4,6,\n',
    );
    // Without intervals: the point forecasts alone, as before.
    expect(forecastsCsv(series.slice(0, 1), [{ id: 'm', values: Float64Array.of(1) }])).toBe('unique_id,step,ds,yhat\nm,1,2020-05-31,1\n');
  });
});
