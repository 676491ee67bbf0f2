import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/args.ts';
import { parseCommand } from '../src/cli/forecast.ts';
import { COMMANDS, DEFAULT_EPOCHS, FORECAST_OPTIONS, SAMPLED_EPOCHS, type ForecastCommand } from '../src/cli/forecast-options.ts';
import { main } from '../src/cli/main.ts';
import { twoColumns, wrap } from '../src/cli/options.ts';

// `webrnn COMMAND --help` against what the parser accepts: every option a command takes is in its
// help with its default, and no option it refuses is.

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, '9.9.9');
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const FORECASTING: ForecastCommand[] = ['forecast', 'fit', 'predict', 'backtest'];
const ALL = ['info', 'onnx-test', ...FORECASTING];

/**
 * The help's entry for `--name`: its line and the wrapped lines below it, as one line of text
 * (null when the help does not list it).
 */
function entry(help: string, name: string): string | null {
  const lines = help.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^  (-\\w, )?--${name}( |$)`).test(l));
  if (at < 0) return null;
  const block = [lines[at]!];
  // Continuation lines are indented deeper than an option's two spaces.
  for (let i = at + 1; i < lines.length && /^ {3,}\S/.test(lines[i]!); i++) block.push(lines[i]!);
  return block.join(' ').replace(/\s+/g, ' ').trim();
}

/** Every option name any command knows, and one none does. */
const CANDIDATES = [...new Set([...Object.keys(FORECAST_OPTIONS), 'json', 'cpu', 'quiet', 'help', 'frobnicate'])];

/** The least a forecasting command needs to parse (a FILE, --horizon, --model where required). */
const MINIMAL: Record<ForecastCommand, string[]> = {
  forecast: ['--horizon', '2'],
  backtest: ['--horizon', '2'],
  fit: ['x.csv', '--horizon', '2', '--model', 'm.safetensors'],
  predict: ['x.csv', '--model', 'm.safetensors'],
};

/**
 * Whether the parser of `command` takes `--name`, asked of the parser itself: the forecasting
 * commands' parseCommand (which refuses an option the command does not take), and for info and
 * onnx-test main() with --help before the option (a known flag prints the help, a known option
 * with a value says it needs one, an unknown one is "unknown option").
 */
async function accepts(command: string, name: string): Promise<boolean> {
  if ((FORECASTING as string[]).includes(command)) {
    for (const form of [[`--${name}`], [`--${name}=x`]]) {
      try {
        parseCommand(command as ForecastCommand, [...MINIMAL[command as ForecastCommand], ...form]);
        return true;
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        const message = (e as Error).message;
        if (/unknown option|does not take --/.test(message)) return false;
        // A flag given a value, or an option without one: the parser knows it; try the other form.
        expect(message).toMatch(/takes no value|needs a value/);
      }
    }
    throw new Error(`--${name} parsed in neither form`);
  }
  const r = await run(command, '--help', `--${name}`);
  if (r.code === 0) return true;
  expect(r.code).toBe(2);
  return !/unknown option/.test(r.err);
}

describe('webrnn COMMAND --help', () => {
  it('lists every option the parser accepts, with its default (or "required"), and none it refuses', async () => {
    for (const command of ALL) {
      const help = (await run(command, '--help')).out;
      const taken: string[] = [];
      for (const name of CANDIDATES) {
        const listed = entry(help, name);
        if (!(await accepts(command, name))) {
          expect(listed, `${command} refuses --${name} but its help lists it`).toBeNull();
          continue;
        }
        taken.push(name);
        expect(listed, `${command} takes --${name} but its help does not list it`).not.toBeNull();
        if (name === 'help') {
          expect(listed).toBe('-h, --help this text');
          continue;
        }
        expect(listed, `${command} --${name}`).toMatch(/ \((default: [^()]*(\([^()]*\)[^()]*)*|required)\)$/);
        const spec = FORECAST_OPTIONS[name as keyof typeof FORECAST_OPTIONS];
        if ((FORECASTING as string[]).includes(command)) {
          const required = spec.default === null || (COMMANDS[command as ForecastCommand].required as string[]).includes(name);
          expect(listed, `${command} --${name}`).toMatch(
            new RegExp(`^(-\\w, )?--${name}${'value' in spec ? ` ${escape(spec.value)}` : ''} `),
          );
          expect(listed!.endsWith(required ? '(required)' : `(default: ${spec.default})`), `${command} --${name}: ${listed}`).toBe(true);
        }
      }
      // And the help lists nothing else.
      const options = help.split('\n').filter((l) => /^ {2}(-\w, )?--/.test(l));
      expect(options, command).toHaveLength(taken.length);
    }
  });

  it('the forecasting commands take what they should', async () => {
    const takes = async (command: string, ...names: string[]) => {
      for (const n of names) expect(await accepts(command, n), `${command} --${n}`).toBe(true);
    };
    await takes('info', 'json', 'help');
    await takes('onnx-test', 'cpu', 'help');
    for (const c of FORECASTING) await takes(c, 'quiet', 'cpu', 'id', 'ds', 'y', 'ds-format', 'help');
    await takes('forecast', 'epochs', 'folds', 'out', 'metrics', 'model');
    expect(await accepts('predict', 'epochs')).toBe(false);
    expect(await accepts('backtest', 'model')).toBe(false);
    expect(await accepts('info', 'quiet')).toBe(false);
  });

  it('shows the defaults people ask about, and help COMMAND prints the same as COMMAND --help and -h', async () => {
    for (const command of ALL) {
      const help = await run('help', command);
      expect(help.code).toBe(0);
      expect(help.err).toBe('');
      expect(help.out).toBe((await run(command, '--help')).out);
      expect(help.out).toBe((await run(command, '-h')).out);
    }
    const forecast = (await run('help', 'forecast')).out;
    expect(entry(forecast, 'epochs')).toMatch(
      new RegExp(`\\(default: ${DEFAULT_EPOCHS}; ${SAMPLED_EPOCHS} at large data, where each epoch is a new sample of the windows\\)$`),
    );
    expect(entry(forecast, 'horizon')).toBe('--horizon N points to forecast (required)');
    expect(entry(forecast, 'cell')).toBe('--cell rnn|gru|lstm recurrent cell (default: lstm)');
    expect(entry(forecast, 'model')).toBe('--model PATH the models as safetensors (default: not saved)');
    expect(entry((await run('help', 'fit')).out, 'model')).toBe('--model PATH the models as safetensors (required)');
    expect(entry(forecast, 'quiet')).toMatch(/^-q, --quiet no progress, .* \(default: progress on standard error\)$/);
    expect(entry((await run('help', 'info')).out, 'json')).toBe('--json the same as JSON (default: text)');
    // FILE is optional only where the built-in series stands in for it.
    expect(forecast).toMatch(/without\s+FILE, the monthly CO2 series/);
    expect((await run('help', 'predict')).out).not.toMatch(/CO2/);
  });

  it('webrnn help lists the commands and the exit statuses', async () => {
    const r = await run('help');
    expect(r.code).toBe(0);
    for (const command of ALL) expect(r.out).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    const status = r.out.slice(r.out.indexOf('Exit status:'));
    expect(status).toMatch(/^ {2}0 {2}done/m);
    expect(status).toMatch(/^ {2}1 {2}a file, data, model or device error/m);
    expect(status).toMatch(/^ {2}2 {2}bad usage/m);
    // The statuses it states are the ones main() returns.
    expect((await run('fit', '--bogus')).code).toBe(2);
    expect((await run('predict', '/nonexistent/x.csv', '--model', '/nonexistent/m.safetensors', '--cpu')).code).toBe(1);
    expect((await run('version')).code).toBe(0);
  });

  it('help lines fit 100 columns; a name too long for its column gets a line of its own', async () => {
    for (const command of ['', ...ALL]) {
      for (const line of (await run('help', ...(command ? [command] : []))).out.split('\n'))
        expect(line.length, line).toBeLessThanOrEqual(100);
    }
    expect(wrap('a bb ccc dddd', 6)).toEqual(['a bb', 'ccc', 'dddd']);
    expect(
      twoColumns([
        ['--a', 'short'],
        ['--b', 'text'],
      ]),
    ).toEqual(['  --a  short', '  --b  text']);
    // The column is at most 26 wide: --a's text starts at 2 + 26.
    expect(
      twoColumns([
        ['--a', 'short'],
        ['--a-name-longer-than-the-column-allows', 'text'],
      ]),
    ).toEqual([`  ${'--a'.padEnd(26)}short`, '  --a-name-longer-than-the-column-allows', `${' '.repeat(28)}text`]);
  });
});

/** `text` as a literal in a RegExp. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
