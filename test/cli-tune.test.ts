import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { TUNE_OPTIONS, type TuneCommandReport } from '../src/cli/tune.ts';

// `webrnn tune`, called in-process on the software adapter, its cache file in a temporary folder
// (WEBRNN_CACHE_DIR); small shapes and a zero budget (one candidate timed per shape) keep it short.

let dir: string;
let saved: string | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'webrnn-tune-cli-'));
  saved = process.env.WEBRNN_CACHE_DIR;
  process.env.WEBRNN_CACHE_DIR = dir;
});

afterAll(() => {
  if (saved === undefined) delete process.env.WEBRNN_CACHE_DIR;
  else process.env.WEBRNN_CACHE_DIR = saved;
  rmSync(dir, { recursive: true, force: true });
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, '9.9.9');
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const SMALL = ['--cell', 'rnn', '--hidden', '3,6', '--input', '2', '--batch', '8', '--mode', 'quick', '--budget-ms', '0'];

describe('webrnn tune', () => {
  it('times the candidates of each shape, prints the table and the cache file, then answers from the cache (--fresh times again)', async () => {
    const first = await run('tune', ...SMALL);
    expect(first.code, first.err).toBe(0);
    const cache = join(dir, 'tune.json');
    expect(first.out).toContain(`cache: ${cache}`);
    expect(first.out).toMatch(/^shape\s+candidate\s+ms\s+choice$/m);
    // Per shape: its first candidate timed and chosen (a zero budget starts no second one).
    expect(first.out).toMatch(
      /^rnn H=3 I=2 D=1 layout=1 head=1 models=1 batch~16\s+small\s+\d+\.\d{3}\s+← tuned \(timed on 8 × 32 steps\)$/m,
    );
    expect(first.out).toMatch(/^rnn H=6 I=2 D=1 layout=1 head=1 models=1 batch~16\s+tile\/128\s+\d+\.\d{3}\s+← tuned/m);
    expect(first.out).toMatch(/^\s+sequential\s+–$/m);
    const stored = JSON.parse(readFileSync(cache, 'utf8'));
    expect(Object.values(stored).map((e) => (e as { choice: string }).choice)).toEqual(['small', 'tile/128']);

    const again = await run('tune', ...SMALL, '--json');
    expect(again.code, again.err).toBe(0);
    const report = JSON.parse(again.out) as TuneCommandReport;
    expect(report.cache).toBe(cache);
    expect(report.mode).toBe('quick');
    expect(report.shapes.map((s) => [s.choice, s.source])).toEqual([
      ['small', 'cache'],
      ['tile/128', 'cache'],
    ]);
    // The cache keeps the times of the run that chose.
    expect(report.shapes[0]!.timesMs.small).toBeGreaterThan(0);

    const fresh = await run('tune', ...SMALL, '--fresh', '--json');
    expect((JSON.parse(fresh.out) as TuneCommandReport).shapes.map((s) => s.source)).toEqual(['tuned', 'tuned']);
  });

  it('lists every option with its default, and refuses bad usage with exit status 2', async () => {
    const help = (await run('tune', '--help')).out;
    for (const [name, o] of Object.entries(TUNE_OPTIONS)) {
      expect(help).toMatch(new RegExp(`^ {2}--${name}( |$)`, 'm'));
      expect(help.replace(/\s+/g, ' ')).toContain(`${o.about} (default: ${o.default})`);
    }
    expect((await run('help')).out).toMatch(/^ {2}tune \[options\]/m);
    const cases: Array<[string[], string]> = [
      [['tune', '--hidden', '8'], 'webrnn: --hidden and --input need --cell (see webrnn tune --help)'],
      [['tune', '--cell', 'elman'], 'webrnn: --cell must be one of rnn, gru, lstm, got "elman" (see webrnn tune --help)'],
      [['tune', '--mode', 'off'], 'webrnn: --mode must be one of quick, full, got "off" (see webrnn tune --help)'],
      [['tune', '--cell', 'rnn', '--hidden', '8,x'], 'webrnn: --hidden must be a positive integer, got "x" (see webrnn tune --help)'],
      [['tune', '--head=-1'], 'webrnn: --head must be 0 or more, got "-1" (see webrnn tune --help)'],
      [['tune', 'extra'], 'webrnn: tune takes no arguments, got extra (see webrnn tune --help)'],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toBe(message);
    }
  });
});
