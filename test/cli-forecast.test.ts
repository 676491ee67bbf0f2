import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nextStamps } from '../src/forecast/output.ts';
import { main } from '../src/cli/main.ts';

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
    expect(e.err).toMatch(/row 3, column y: "x" is not a number/);
    expect((await run('forecast', '--cpu')).err).toMatch(/--horizon N is required/);
    expect((await run('forecast', '--bogus')).code).toBe(2);
    expect((await run('predict', bad)).code).toBe(2);
  });

  it('extends evenly spaced time stamps', () => {
    expect(nextStamps(['2020-11-01', '2020-12-01'], 2)).toEqual(['2021-01-01', '2021-02-01']);
    expect(nextStamps(['2020-01-30', '2020-01-31'], 2)).toEqual(['2020-02-01', '2020-02-02']);
    expect(nextStamps(['3', '5'], 2)).toEqual(['7', '9']);
    expect(nextStamps(['2020-01-01', '2020-01-05', '2020-01-06'], 1)).toBeNull();
    expect(nextStamps(['x', 'y'], 1)).toBeNull();
  });
});
