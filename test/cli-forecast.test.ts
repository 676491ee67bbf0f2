import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backtestJson, checkedForecastsCsv } from '../src/cli/forecast.ts';
import { main } from '../src/cli/main.ts';
import { DataError } from '../src/errors.ts';
import { nextStamps } from '../src/forecast/output.ts';

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
  for (const [id, level] of [['a', 10], ['b', 30]] as const) {
    for (let t = 0; t < 48; t++) {
      const m = t % 12;
      rows.push(`${id},${2020 + Math.floor(t / 12)}-${String(m + 1).padStart(2, '0')}-01,${level + 0.2 * t + 3 * Math.sin((2 * Math.PI * m) / 12)}`);
    }
  }
  return `${rows.join('\n')}\n`;
}

const quick = ['--cpu', '--epochs', '3', '--hidden', '6', '--input-size', '12', '--season', '12'];

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
  it('forecast: backtest, fit, and a CSV of the next points with their dates', async () => {
    const file = join(dir, 'long.csv');
    writeFileSync(file, longCsv());
    const out = join(dir, 'fc.csv');
    const metrics = join(dir, 'metrics.json');
    const r = await run('forecast', file, '--horizon', '4', ...quick, '--out', out, '--metrics', metrics);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/2 series, 96 points/);
    expect(r.err).toMatch(/fit \[#+\] epoch 3\/3 {2}loss/);
    expect(r.out).toMatch(/model +MAE .* MASE/);
    expect(r.out).toMatch(/seasonal naive +MAE/);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('unique_id,step,ds,yhat');
    expect(lines).toHaveLength(1 + 2 * 4);
    expect(lines[1]).toMatch(/^a,1,2024-01-01,-?\d/);
    expect(lines[8]).toMatch(/^b,4,2024-04-01,-?\d/);
    const report = JSON.parse(readFileSync(metrics, 'utf8'));
    expect(report.series).toHaveLength(2);
    expect(report.overall.seasonalNaive.mase).toBeGreaterThan(0);
  });

  it('fit saves the models, predict reads them back and gives the same forecasts', async () => {
    const file = join(dir, 'long2.csv');
    writeFileSync(file, longCsv());
    const model = join(dir, 'model.safetensors');
    const fit = await run('fit', file, '--horizon', '3', ...quick, '--model', model);
    expect(fit.code, fit.err).toBe(0);
    expect(fit.out).toMatch(/saved 1 model\(s\)/);
    const a = await run('predict', file, '--model', model, '--cpu');
    const b = await run('predict', file, '--model', model, '--cpu');
    expect(a.code, a.err).toBe(0);
    expect(a.out).toBe(b.out);
    expect(a.out.split('\n')).toHaveLength(1 + 2 * 3);
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
      [['--scaling', 'log'], '--scaling must be one of standard, minmax, robust, none, got "log"'],
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
    expectError(await run('backtest', csv, '--horizon', '2', '--seed', '-3'), 2, `--seed needs a value (one that starts with a dash is written --seed=-…)${hint('backtest')}`);
    expectError(await run('backtest', csv, '--horizon', '2', '--cpu=yes'), 2, `--cpu takes no value${hint('backtest')}`);
    expectError(await run('backtest', csv, '--horizon', '2', '-x'), 2, `unknown option -x${hint('backtest')}`);
    expectError(await run('predict', csv, '--model', 'm.safetensors', '--epochs', '3'), 2, `predict does not take --epochs${hint('predict')}`);
    expectError(await run('backtest', csv, '--horizon', '2', '--out', 'f.csv'), 2, `backtest does not take --out${hint('backtest')}`);
    expectError(await run('fit', '--horizon', '2', '--model', 'm.safetensors'), 2, `fit needs a FILE${hint('fit')}`);
    expectError(await run('fit', csv, '--horizon', '2'), 2, `fit needs --model PATH${hint('fit')}`);
    expectError(await run('fit', csv, '--model', 'm.safetensors'), 2, `--horizon N is required${hint('fit')}`);
  });

  it('--help and -h print the command\'s own usage and exit 0', async () => {
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
    expect((await run('backtest', '--help')).out).toMatch(/--folds K/);
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
    expect(stated.out.split('\n').slice(-3)).toEqual(['unique_id,step,ds,yhat', expect.stringMatching(/^a,1,1\/1\/2023,\d/), expect.stringMatching(/^a,2,2\/1\/2023,\d/)]);
    expectError(await run('forecast', file, ...args, '--ds-format', 'QQ'), 2, /^webrnn: --ds-format: ds format "QQ" .*\(see webrnn forecast --help\)$/);
  });

  it('a missing input file, a folder given as the file, and a missing --model file: one line, exit 1', async () => {
    const missing = join(dir, 'no-such.csv');
    expectError(await run('forecast', missing, '--horizon', '2', '--cpu'), 1, `cannot read ${missing}: no such file`);
    expectError(await run('backtest', dir, '--horizon', '2', '--cpu'), 1, `cannot read ${dir}: it is a folder, not a file`);
    expectError(await run('forecast', join(csv, 'x.csv'), '--horizon', '2', '--cpu'), 1, `cannot read ${join(csv, 'x.csv')}: a part of the path is not a folder`);
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
      [['fit', csv, '--model', join(nowhere, 'm.safetensors')], `--model ${join(nowhere, 'm.safetensors')}: folder ${nowhere} does not exist`],
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
    const r = await run('forecast', csv, '--horizon', '2', ...quick, '--lr', '2e-2', '--seed=-3', '--out', join(sub, 'f.csv'), '--metrics', join(sub, 'm.json'));
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(join(sub, 'f.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + 2 * 2);
    expect(JSON.parse(readFileSync(join(sub, 'm.json'), 'utf8')).series).toHaveLength(2);
  });

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
      const r = await run('forecast', file, '--out', out, '--metrics', metrics, '--horizon', '3', '--cpu', '--epochs', '2', '--hidden', '4', '--input-size', '6', ...flags);
      expect(r.out, name).not.toMatch(/Infinity/);
      if (r.code === 0) {
        const values = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[3]));
        expect(values, name).toHaveLength(3);
        for (const v of values) expect(Number.isFinite(v), `${name}: ${v}`).toBe(true);
        expect(readFileSync(metrics, 'utf8'), name).not.toMatch(/null|Infinity|NaN/);
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
    const series = [{ id: 'a', ds: ['1', '2'], y: Float64Array.of(1, 2), exog: {} }, { id: 'b', ds: ['1', '2'], y: Float64Array.of(1, 2), exog: {} }];
    expect(checkedForecastsCsv(series, [{ id: 'a', values: Float64Array.of(3) }, { id: 'b', values: Float64Array.of(4) }])).toBe('unique_id,step,ds,yhat\na,1,3,3\nb,1,3,4\n');
    for (const bad of [Infinity, -Infinity, NaN]) {
      const forecasts = [{ id: 'a', values: Float64Array.of(3) }, { id: 'b', values: Float64Array.of(4, bad) }];
      expect(() => checkedForecastsCsv(series, forecasts)).toThrow(DataError);
      expect(() => checkedForecastsCsv(series, forecasts)).toThrow(`the forecast of series b holds ${bad} at step 2; nothing was written`);
    }
    const m = { mae: 1, rmse: 1, smape: 10, mase: 0.5 };
    const row = { id: 'b', fold: 0, actual: Float64Array.of(1), forecast: Float64Array.of(2), baseline: Float64Array.of(1), metrics: m, baselineMetrics: m };
    const report = { rows: [row], model: m, baseline: m };
    expect(backtestJson(report).series[0]!.forecast).toEqual([2]);
    // MASE is undefined (NaN, JSON null) when the seasonal naive error is 0; that is no overflow.
    expect(JSON.stringify(backtestJson({ ...report, model: { ...m, mase: null } }).overall.model.mase)).toBe('null');
    expect(() => backtestJson({ ...report, model: { ...m, mase: NaN } })).toThrow('the overall metrics: MASE is NaN');
    expect(() => backtestJson({ ...report, rows: [{ ...row, forecast: Float64Array.of(Infinity) }] })).toThrow('series b, fold 0: the forecast holds Infinity at step 1');
    expect(() => backtestJson({ ...report, rows: [{ ...row, metrics: { ...m, rmse: Infinity } }] })).toThrow('series b, fold 0: the metrics: RMSE is Infinity');
    expect(() => backtestJson({ ...report, model: { ...m, mase: Infinity } })).toThrow('the overall metrics: MASE is Infinity');
  });
});
