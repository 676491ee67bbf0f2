import { afterEach, describe, expect, it, vi } from 'vitest';
import { integer, namesOf, oneOf, percentLevels, positiveInt, positiveNumber, UsageError } from '../src/cli/args.ts';
import { main } from '../src/cli/main.ts';
import { adapterTraits } from '../src/gpu/kernels/forward/plan.ts';

// `webrnn` command, called in-process (bin/webrnn.js runs the same main() from the built bundle).

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, '9.9.9');
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('webrnn CLI', () => {
  it('info names the adapter, says whether it is software, and prints the limits', async () => {
    const r = await run('info');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/vendor\s+\S+/);
    expect(r.out).toMatch(/architecture\s+\S+/);
    expect(r.out).toMatch(/description\s+/);
    expect(r.out).toMatch(/software\s+(yes|no)/);
    expect(r.out).toMatch(/maxStorageBufferBindingSize\s+\d+/);
    expect(r.out).toMatch(/maxComputeWorkgroupsPerDimension\s+\d+/);
    // The software adapters here grant more workgroup storage than WebGPU's default.
    expect(r.out).toMatch(/maxComputeWorkgroupStorageSize\s+\d+ {2}\(WebGPU default 16384\)/);
    expect(r.out).toMatch(/features granted\n {2}.*timestamp-query/);
    expect(r.out).toMatch(
      /simd lanes\s+(yes: the cost model ranks the lanes kernel first from hidden size 32|no: without tuning, hidden sizes above 4 run on the tiled kernel)[\s\S]*choice\s+per shape class by the autotuner/,
    );
  });

  it('info --json is machine-readable', async () => {
    const r = await run('info', '--json');
    const report = JSON.parse(r.out);
    expect(typeof report.adapter.isSoftware).toBe('boolean');
    expect(report.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
    expect(report.defaultLimits.maxComputeWorkgroupStorageSize).toBe(16384);
    // The granted optional features are among the adapter's, and include the ones every adapter here has.
    for (const f of report.granted) expect(report.features).toContain(f);
    expect(report.granted).toContain('timestamp-query');
    expect(report.traits).toEqual({ simdLanes: adapterTraits(report.adapter).simdLanes });
  });

  it('prints usage, version, and rejects unknown commands with exit code 2', async () => {
    expect((await run('help')).out).toMatch(/Usage: webrnn/);
    expect((await run('version')).out).toBe('9.9.9');
    const bad = await run('frobnicate');
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('webrnn: unknown command "frobnicate" (see webrnn help)');
    expect(bad.out).toBe('');
  });

  it('usage errors of info and onnx-test are one line with exit code 2', async () => {
    const cases: Array<[string[], string]> = [
      [['info', '--bogus'], 'webrnn: unknown option --bogus (see webrnn info --help)'],
      [['info', 'extra'], 'webrnn: info takes no arguments, got extra (see webrnn info --help)'],
      [['onnx-test'], 'webrnn: name at least one directory (see webrnn onnx-test --help)'],
      [['onnx-test', '--bogus', 'dir'], 'webrnn: unknown option --bogus (see webrnn onnx-test --help)'],
      [['help', 'frobnicate'], 'webrnn: no command "frobnicate" (see webrnn help)'],
    ];
    for (const [argv, line] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toBe(line);
      expect(r.out).toBe('');
    }
  });

  it('every command has --help and -h, and help COMMAND prints the same', async () => {
    for (const command of ['info', 'onnx-test', 'forecast', 'fit', 'predict', 'backtest']) {
      const long = await run(command, '--help');
      expect(long.code).toBe(0);
      expect(long.out).toMatch(new RegExp(`^Usage: webrnn ${command} `));
      expect((await run(command, '-h')).out).toBe(long.out);
      expect((await run('help', command)).out).toBe(long.out);
    }
  });

  describe('an unexpected error (a bug) is one line too, never a stack trace', () => {
    const throwing = async (...argv: string[]) => {
      const err: string[] = [];
      const code = await main(
        argv,
        {
          out: () => {
            throw new TypeError('boom');
          },
          err: (l) => err.push(l),
        },
        '9.9.9',
      );
      return { code, err: err.join('\n') };
    };
    afterEach(() => vi.unstubAllEnvs());

    it('without WEBRNN_DEBUG: "internal error", exit code 1', async () => {
      vi.stubEnv('WEBRNN_DEBUG', '');
      expect(await throwing('version')).toEqual({
        code: 1,
        err: 'webrnn: internal error: TypeError: boom (WEBRNN_DEBUG=1 prints the stack)',
      });
    });

    it('with WEBRNN_DEBUG=1: the stack as well', async () => {
      vi.stubEnv('WEBRNN_DEBUG', '1');
      const r = await throwing('version');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^webrnn: internal error: TypeError: boom\n\s+at /);
    });
  });
});

describe('CLI flag values', () => {
  const rejects = (f: () => unknown, message: string) => {
    expect(f).toThrow(UsageError);
    expect(f).toThrow(message);
  };

  it('counts are decimal digits ≥ 1, and the error quotes the text typed', () => {
    expect(positiveInt('horizon', '12')).toBe(12);
    expect(positiveInt('horizon', '007')).toBe(7);
    for (const text of ['', ' 12', '12 ', '0', '-3', '+3', '1e3', '0x10', '0b1', '12.0', '2.5', 'abc', 'Infinity', '9007199254740993']) {
      rejects(() => positiveInt('horizon', text), `--horizon must be a positive integer, got ${JSON.stringify(text)}`);
    }
  });

  it('seeds may be negative', () => {
    expect(integer('seed', '-3')).toBe(-3);
    expect(integer('seed', '0')).toBe(0);
    rejects(() => integer('seed', '1.5'), '--seed must be an integer, got "1.5"');
    rejects(() => integer('seed', '-'), '--seed must be an integer, got "-"');
  });

  it('learning rates are finite numbers > 0 in decimal or exponent notation', () => {
    expect(positiveNumber('lr', '0.01')).toBe(0.01);
    expect(positiveNumber('lr', '.5')).toBe(0.5);
    expect(positiveNumber('lr', '2.')).toBe(2);
    expect(positiveNumber('lr', '1e-3')).toBe(1e-3);
    expect(positiveNumber('lr', '3E+2')).toBe(300);
    for (const text of ['abc', '', ' 1', '0', '0.0', '-0.1', 'Infinity', 'NaN', '1e999', '0x10', '1e', '.', '1_000']) {
      rejects(() => positiveNumber('lr', text), `--lr must be a positive number, got ${JSON.stringify(text)}`);
    }
  });

  it('choices are one of a list, named in the error', () => {
    expect(oneOf('cell', 'gru', ['rnn', 'gru', 'lstm'])).toBe('gru');
    rejects(() => oneOf('cell', 'GRU', ['rnn', 'gru', 'lstm']), '--cell must be one of rnn, gru, lstm, got "GRU"');
  });

  it('interval levels are percentages strictly between 0 and 100, comma-separated, none twice; returned ascending', () => {
    expect(percentLevels('levels', '95,80')).toEqual([80, 95]);
    expect(percentLevels('levels', '50')).toEqual([50]);
    expect(percentLevels('levels', '99.5,0.5,8e1')).toEqual([0.5, 80, 99.5]);
    const message = (text: string) =>
      `--levels must be levels in percent between 0 and 100, comma-separated (e.g. 80,95), got ${JSON.stringify(text)}`;
    for (const text of [
      '',
      '0',
      '100',
      '150',
      '-5',
      '80,',
      ',80',
      '80,,95',
      '80 95',
      ' 80',
      '80;95',
      'NaN',
      'Infinity',
      '0x50',
      '1e2',
      'eighty',
    ]) {
      rejects(() => percentLevels('levels', text), message(text));
    }
    rejects(() => percentLevels('levels', '80,95,80.0'), '--levels names 80 twice');
  });

  it('lists of names are checked one by one; none is the empty list', () => {
    const baselines = ['snaive', 'naive2', 'ets', 'theta'] as const;
    expect(namesOf('combine', 'ets,theta', baselines)).toEqual(['ets', 'theta']);
    expect(namesOf('combine', 'naive2', baselines)).toEqual(['naive2']);
    expect(namesOf('combine', 'none', baselines)).toEqual([]);
    const message = (text: string) =>
      `--combine must be none or a comma-separated list of snaive, naive2, ets, theta, got ${JSON.stringify(text)}`;
    for (const text of ['', 'ETS', 'ets,', 'ets, theta', 'none,ets', 'arima'])
      rejects(() => namesOf('combine', text, baselines), message(text));
    rejects(() => namesOf('combine', 'theta,ets,theta', baselines), '--combine names theta twice');
  });
});
