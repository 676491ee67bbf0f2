import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type CliIO } from '../src/cli/main.ts';
import { formatDuration, TrainingProgress, type ProgressStream } from '../src/cli/progress.ts';
import type { EpochEvent, StepEvent } from '../src/train/trainer.ts';

// The training progress: the renderer on a fake terminal and a fake clock, then the commands with
// it (a fake terminal as stderr, and --quiet), on the float64 CPU backend.

const CLEAR = '\r\x1b[2K';
/** A duration as formatDuration writes it. */
const DURATION = String.raw`(\d\.\ds|\d+s|\d+m\d\ds|\d+h\d\dm)`;

/** A clock that moves only when told to. */
function clock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

/** A terminal that records what is written to it. */
function terminal(columns = 200) {
  const writes: string[] = [];
  const stream: ProgressStream = { isTTY: true, columns, write: (text) => writes.push(text) };
  return { stream, writes };
}

const step = (epoch: number, s: number, loss = 0.5): StepEvent => ({ epoch, step: s, loss, losses: Float64Array.of(loss), lr: 0.01 });
const epochEnd = (epoch: number, loss: number, validationLoss: number | null = null): EpochEvent => ({
  epoch,
  loss,
  validationLoss,
  validationLosses: validationLoss === null ? null : Float64Array.of(validationLoss),
});

describe('formatDuration', () => {
  it('tenths under 10 s, then seconds, minutes and seconds, hours and minutes', () => {
    const cases: Array<[number, string]> = [
      [0, '0.0s'],
      [-5, '0.0s'],
      [1234, '1.2s'],
      [9940, '9.9s'],
      [9960, '10s'],
      [42_400, '42s'],
      [59_400, '59s'],
      [59_600, '1m00s'],
      [185_000, '3m05s'],
      [3_599_400, '59m59s'],
      [3_599_600, '1h00m'],
      [3_720_000, '1h02m'],
      [36_000_000, '10h00m'],
    ];
    for (const [ms, text] of cases) expect(formatDuration(ms), String(ms)).toBe(text);
  });
});

describe('TrainingProgress', () => {
  it('on a terminal: one line redrawn in place with epoch k/N, loss, elapsed and ETA; ended by a newline', () => {
    const t = clock();
    const { stream, writes } = terminal();
    const lines: string[] = [];
    const bar = new TrainingProgress({ label: 'fit', epochs: 4, stream, line: (l) => lines.push(l), now: t.now });
    // Epoch 1: two steps of a second each; the steps per epoch are not known yet, so no ETA.
    t.advance(1000);
    bar.onStep(step(1, 1, 0.6));
    t.advance(1000);
    bar.onStep(step(1, 2, 0.4));
    bar.onEpoch(epochEnd(1, 0.5));
    // Epoch 2: one step in, half of it done after 3 s of the 4 s budget per epoch so far.
    t.advance(1000);
    bar.onStep(step(2, 3, 0.3));
    t.advance(50); // within 100 ms of the last draw: not redrawn
    bar.onStep(step(2, 4, 0.1));
    t.advance(950);
    bar.onEpoch(epochEnd(2, 0.2));
    bar.end();
    expect(lines).toEqual([]);
    expect(writes).toEqual([
      `${CLEAR}fit [....................] epoch 1/4 step 1  loss 0.6000  elapsed 1.0s  ETA ?`,
      `${CLEAR}fit [....................] epoch 1/4 step 2  loss 0.5000  elapsed 2.0s  ETA ?`,
      `${CLEAR}fit [#####...............] epoch 1/4  loss 0.5000  elapsed 2.0s  ETA 6.0s`,
      // 1.5 of 4 epochs in 3 s: 5 s left.
      `${CLEAR}fit [########............] epoch 2/4 step 1/2  loss 0.3000  elapsed 3.0s  ETA 5.0s`,
      `${CLEAR}fit [##########..........] epoch 2/4  loss 0.2000  elapsed 4.0s  ETA 4.0s`,
      '\n',
    ]);
  });

  it('says ETA ≤ when a validation loss means early stopping may end the run sooner', () => {
    const t = clock();
    const lines: string[] = [];
    const bar = new TrainingProgress({ label: 'backtest', epochs: 10, line: (l) => lines.push(l), now: t.now });
    t.advance(2000);
    bar.onEpoch(epochEnd(1, 0.5, 0.75));
    expect(lines).toEqual(['backtest [##..................] epoch 1/10  loss 0.5000  validation 0.7500  elapsed 2.0s  ETA ≤18s']);
  });

  it("counts to the run's own most epochs where its events carry them (the forecaster's 10 at large data), and notes a next phase on a line of its own", () => {
    const t = clock();
    const lines: string[] = [];
    const bar = new TrainingProgress({ label: 'backtest', epochs: 30, line: (l) => lines.push(l), now: t.now });
    t.advance(2000);
    bar.onEpoch({ ...epochEnd(1, 0.5, 0.75), epochs: 10 });
    bar.note('backtest: the networks have trained; fitting the statistical baselines');
    expect(lines).toEqual([
      'backtest [##..................] epoch 1/10  loss 0.5000  validation 0.7500  elapsed 2.0s  ETA ≤18s',
      'backtest: the networks have trained; fitting the statistical baselines',
    ]);
  });

  it('not on a terminal: a plain line per epoch through line(), with elapsed and ETA; steps print nothing', () => {
    const t = clock();
    const lines: string[] = [];
    const notTty = {
      isTTY: false,
      columns: 80,
      write: () => {
        throw new Error('a pipe gets no redraws');
      },
    };
    for (const stream of [undefined, notTty]) {
      lines.length = 0;
      const bar = new TrainingProgress({ label: 'fit', epochs: 3, stream, line: (l) => lines.push(l), now: t.now });
      for (let e = 1; e <= 3; e++) {
        t.advance(30_000);
        bar.onStep(step(e, e));
        t.advance(30_000);
        bar.onEpoch(epochEnd(e, 1 / e));
      }
      bar.end();
      expect(lines).toEqual([
        'fit [#######.............] epoch 1/3  loss 1.000  elapsed 1m00s  ETA 2m00s',
        'fit [#############.......] epoch 2/3  loss 0.5000  elapsed 2m00s  ETA 1m00s',
        'fit [####################] epoch 3/3  loss 0.3333  elapsed 3m00s  ETA 0.0s',
      ]);
      for (const l of lines) expect(l).not.toMatch(/[\r\x1b]/);
    }
  });

  it('a run that starts over (the next fold) keeps the finished bar on its line and restarts the clock', () => {
    const t = clock();
    const { stream, writes } = terminal();
    const bar = new TrainingProgress({ label: 'backtest', epochs: 2, stream, line: () => {}, now: t.now });
    t.advance(4000);
    bar.onEpoch(epochEnd(1, 0.5));
    t.advance(4000);
    bar.onEpoch(epochEnd(2, 0.4));
    t.advance(60_000); // the calibration and the baselines between the folds
    bar.onStep(step(1, 1));
    t.advance(1000);
    bar.onEpoch(epochEnd(1, 0.3));
    bar.end();
    expect(writes).toEqual([
      `${CLEAR}backtest [##########..........] epoch 1/2  loss 0.5000  elapsed 4.0s  ETA 4.0s`,
      `${CLEAR}backtest [####################] epoch 2/2  loss 0.4000  elapsed 8.0s  ETA 0.0s`,
      '\n',
      `${CLEAR}backtest [....................] epoch 1/2 step 1  loss 0.5000  elapsed 0.0s  ETA ?`,
      `${CLEAR}backtest [##########..........] epoch 1/2  loss 0.3000  elapsed 1.0s  ETA 1.0s`,
      '\n',
    ]);
  });

  it("cuts the line to the terminal's width, so that it never wraps (a wrapped line cannot be redrawn)", () => {
    const t = clock();
    const { stream, writes } = terminal(30);
    const bar = new TrainingProgress({ label: 'fit', epochs: 2, stream, line: () => {}, now: t.now });
    bar.onEpoch(epochEnd(1, 0.5));
    expect(writes).toEqual([`${CLEAR}fit [##########..........] ep`]);
    // end() without a draw writes nothing.
    const quiet = terminal();
    new TrainingProgress({ label: 'fit', epochs: 2, stream: quiet.stream, line: () => {}, now: t.now }).end();
    expect(quiet.writes).toEqual([]);
  });
});

describe("the forecasting commands' progress", () => {
  const dir = mkdtempSync(join(tmpdir(), 'webrnn-cli-progress-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Two monthly series, and one too short for the network (a baseline stands in: a note). */
  const file = join(dir, 'data.csv');
  const rows = ['unique_id,ds,y'];
  for (const [id, level, n] of [
    ['a', 10, 48],
    ['b', 30, 48],
    ['c', 5, 6],
  ] as const) {
    for (let t = 0; t < n; t++)
      rows.push(
        `${id},${2020 + Math.floor(t / 12)}-${String((t % 12) + 1).padStart(2, '0')}-01,${level + 0.2 * t + 3 * Math.sin((2 * Math.PI * t) / 12)}`,
      );
  }
  writeFileSync(file, `${rows.join('\n')}\n`);
  const quick = ['--cpu', '--epochs', '3', '--hidden', '4', '--input-size', '12', '--season', '12', '--ensemble', '1', '--horizon', '2'];

  async function run(argv: string[], extra: Partial<CliIO> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), ...extra }, '9.9.9');
    return { code, out, err };
  }

  it('with a terminal as stderr, fit redraws one line in place and ends it; no epoch lines go to err', async () => {
    const { stream, writes } = terminal(120);
    const r = await run(['fit', file, ...quick, '--model', join(dir, 'm.safetensors')], { stderr: stream });
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(r.err.filter((l) => /epoch/.test(l))).toEqual([]);
    expect(writes.length).toBeGreaterThanOrEqual(3);
    const line = new RegExp(
      String.raw`^\r\x1b\[2Kfit \[[#.]{20}\] epoch [1-3]/3 .* loss \S+ .* elapsed ${DURATION} {2}ETA (\?|≤${DURATION})$`,
    );
    // The bar's draws, its end, then a line of its own: the fit has moved on to the baselines it combines.
    for (const w of writes.slice(0, -2)) expect(w).toMatch(line);
    expect(writes.at(-3)).toMatch(/epoch \d\/3 {2}loss/); // the last draw is an epoch's end
    expect(writes.at(-2)).toBe('\n');
    expect(writes.at(-1)).toBe('fit: the networks have trained; fitting the statistical baselines\n');
  });

  it('without a terminal, a line per epoch on err with elapsed time and ETA', async () => {
    const r = await run(['backtest', file, ...quick]);
    expect(r.code, r.err.join('\n')).toBe(0);
    const epochs = r.err.filter((l) => l.startsWith('backtest ['));
    expect(epochs.length).toBeGreaterThanOrEqual(1);
    expect(epochs.length).toBeLessThanOrEqual(3);
    // After the last epoch's line, one that says the backtest moved on to the baselines.
    const after = r.err.indexOf(epochs.at(-1)!) + 1;
    expect(r.err[after]).toBe('backtest: the networks have trained; fitting the statistical baselines');
    epochs.forEach((l, k) =>
      expect(l).toMatch(
        new RegExp(String.raw`^backtest \[[#.]{20}\] epoch ${k + 1}/3  loss \S+  validation \S+  elapsed ${DURATION}  ETA ≤${DURATION}$`),
      ),
    );
  });

  it('--quiet and -q: no progress and no series count; the results, the notes and errors still go out', async () => {
    const loud = await run(['forecast', file, ...quick]);
    expect(loud.code).toBe(0);
    expect(loud.err.some((l) => /^3 series, 102 points$/.test(l))).toBe(true);
    // One training: the backtest's; the forecast reuses its networks (Forecaster.fitFromBacktest).
    expect(loud.err.some((l) => l.startsWith('backtest ['))).toBe(true);
    expect(loud.err.some((l) => l.startsWith('fit ['))).toBe(false);
    for (const flag of ['--quiet', '-q']) {
      const { stream, writes } = terminal();
      const r = await run(['forecast', file, ...quick, flag], { stderr: stream });
      expect(r.code, r.err.join('\n')).toBe(0);
      expect(writes).toEqual([]);
      // Only the notes on the series a baseline stood in for are left on stderr.
      expect(r.err.length).toBeGreaterThanOrEqual(1);
      for (const l of r.err) expect(l).toMatch(/^webrnn: note: .*series c\b/);
      // The same results as without --quiet: the backtest table and the forecasts CSV.
      expect(r.out).toEqual(loud.out);
      expect(r.out.some((l) => l.startsWith('backtest over the last 2 points'))).toBe(true);
      expect(r.out.filter((l) => /^[abc],/.test(l))).toHaveLength(6);
    }
    // On WebGPU, the adapter's line (and the software adapter's note) go too; the forecasts do not.
    const model = join(dir, 'quiet.safetensors');
    expect((await run(['fit', file, ...quick, '--model', model, '-q'])).code).toBe(0);
    const gpu = await run(['predict', file, '--model', model]);
    expect(gpu.code, gpu.err.join('\n')).toBe(0);
    expect(gpu.err.some((l) => l.startsWith('[webrnn] WebGPU adapter'))).toBe(true);
    const gpuQuiet = await run(['predict', file, '--model', model, '--quiet']);
    expect(gpuQuiet.code, gpuQuiet.err.join('\n')).toBe(0);
    expect(gpuQuiet.err.filter((l) => !l.startsWith('webrnn: note: series c'))).toEqual([]);
    expect(gpuQuiet.out).toEqual(gpu.out);
    expect(gpuQuiet.out.filter((l) => /^[abc],/.test(l))).toHaveLength(6);

    const missing = await run(['forecast', join(dir, 'missing.csv'), ...quick, '-q']);
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual([`webrnn: cannot read ${join(dir, 'missing.csv')}: no such file`]);
  });
});
