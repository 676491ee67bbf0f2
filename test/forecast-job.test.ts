import { afterEach, describe, expect, it, vi } from 'vitest';
import { meteredBackend, PhaseTimer, runForecastJob, syntheticInput, wideCsv } from '../bench/forecast-job.ts';
import { cpuBackend } from '../src/backends/cpu.ts';
import type { Backend } from '../src/backends/backend.ts';
import { syntheticSeries, toSeries } from '../src/data/datasets.ts';
import { Forecaster } from '../src/forecast/forecaster.ts';
import { parseWide } from '../src/forecast/frame.ts';
import { setPhaseClock, timed } from '../src/forecast/phases.ts';

// The forecasting job's timing (bench/forecast-job.ts, src/forecast/phases.ts): phases keep their own
// time (nested ones subtracted), the backend's calls are measured as the union of their intervals,
// and timing a forecaster changes nothing it computes.

afterEach(() => {
  vi.restoreAllMocks();
  setPhaseClock(null);
});

/** performance.now() reading 0, 1, 2, … ms, one step per call. */
function tickingClock(): void {
  let t = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => t++);
}

describe('PhaseTimer', () => {
  it('gives each phase its own time: a phase inside another is not counted twice', () => {
    tickingClock();
    const timer = new PhaseTimer();
    setPhaseClock(timer);
    // now() at enter(train) 0, enter(windows) 1, exit(windows) 2, exit(train) 3.
    timed('train', () => timed('windows', () => undefined));
    expect(timer.seconds.train).toBeCloseTo(0.002);
    expect(timer.seconds.windows).toBeCloseTo(0.001);
  });

  it('ends a phase when the promise of its step settles, and when its step throws', async () => {
    const timer = new PhaseTimer();
    setPhaseClock(timer);
    await timed('forecast', () => new Promise((resolve) => setTimeout(resolve, 30)));
    expect(timer.seconds.forecast).toBeGreaterThanOrEqual(0.025);
    expect(() =>
      timed('metrics', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    // The failed phase was closed: a new one starts at the top level.
    timed('scale', () => undefined);
    expect(timer.seconds.metrics).toBeGreaterThanOrEqual(0);
  });

  it('refuses a phase that ends while another is open', () => {
    const timer = new PhaseTimer();
    timer.enter('train');
    expect(() => timer.exit('windows')).toThrow(/phase windows ended while train was open/);
  });
});

describe('meteredBackend', () => {
  it('counts overlapping calls once, and the calls of the engines the backend creates', async () => {
    tickingClock();
    let release: Array<() => void> = [];
    const wait = () => new Promise<void>((resolve) => release.push(resolve));
    const engine = { step: wait };
    const fake = { name: 'fake', recurrentStack: wait, createTrainEngine: async () => engine, dispose() {} } as unknown as Backend;
    const m = meteredBackend(fake);
    // Two calls pending at once: from the first's start (t=0) to the last's end.
    const a = m.backend.recurrentStack([], {} as never);
    const b = m.backend.recurrentStack([], {} as never);
    const [r1, r2] = release;
    release = [];
    r1!();
    await a;
    r2!();
    await b;
    const both = m.seconds();
    expect(both).toBeGreaterThan(0);
    const e = await m.backend.createTrainEngine!({} as never);
    const step = (e as unknown as typeof engine).step();
    release[0]!();
    await step;
    expect(m.seconds()).toBeGreaterThan(both);
    expect(m.backend.name).toBe('fake');
  });
});

it('wideCsv writes what parseWide reads back (7 significant digits)', () => {
  const dated = syntheticSeries({ count: 3, length: 15, season: 4, seed: 2 });
  const series = parseWide(wideCsv(dated));
  expect(series.map((s) => s.id)).toEqual(dated.map((d) => d.id));
  series.forEach((s, k) => {
    expect(s.ds).toEqual(dated[k]!.dates);
    s.y.forEach((v, t) => expect(v).toBeCloseTo(dated[k]!.values[t]!, 3));
  });
});

describe('a forecasting job on the float64 CPU backend', () => {
  const options = { ensemble: 1, hiddenSize: 3, combine: ['theta' as const] };

  it('times every phase, which add up to the wall time, and scores the backtest', async () => {
    const r = await runForecastJob(
      { name: 'tiny', input: syntheticInput(4, 40, 4, 4), steps: 'backtest+fit+forecast', options, fit: { epochs: 1 } },
      cpuBackend,
    );
    expect(r.status, r.message ?? '').toBe('ok');
    expect(r.series).toBe(4);
    expect(r.points).toBe(160);
    expect(Object.values(r.phases).reduce((a, b) => a + b, 0)).toBeCloseTo(r.seconds, 6);
    for (const p of ['parse', 'scale', 'windows', 'train', 'forecast', 'baselines', 'metrics', 'output'] as const)
      expect(r.phases[p], p).toBeGreaterThan(0);
    expect(r.backendSeconds).toBeGreaterThan(0);
    expect(r.backendShare).toBeLessThanOrEqual(1);
    expect(r.datasets[0]).toMatchObject({ name: 'synthetic 4 × 40', series: 4, horizon: 4, season: 4, epochs: { backtest: 1, fit: 1 } });
    expect(r.datasets[0]!.accuracy!.baselines.ets).toBeGreaterThan(0);
  });

  it('records a failure with what it measured', async () => {
    const r = await runForecastJob(
      { name: 'too short', input: syntheticInput(2, 6, 8, 4), steps: 'backtest+fit+forecast', options },
      cpuBackend,
    );
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/too few|points/);
    expect(r.phases.parse).toBeGreaterThan(0);
  });

  it('forecasts the same with a phase clock as without', async () => {
    const series = syntheticSeries({ count: 3, length: 40, season: 4, seed: 5 }).map(toSeries);
    const run = async () => {
      const f = Forecaster.create({ backend: cpuBackend, horizon: 4, season: 4, ...options });
      await f.fit(series, { epochs: 1 });
      return (await f.predict(series)).map((fc) => Array.from(fc.values));
    };
    const plain = await run();
    setPhaseClock(new PhaseTimer());
    expect(await run()).toEqual(plain);
  });
});
