import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Reading the command line's flags and their values. A value the CLI cannot use is a {@link UsageError} that
 * quotes the text as typed (`--lr must be a positive number, got "abc"`), so the user sees what to
 * fix; main() prints it as one line and exits with status 2.
 */

/** Bad usage of the command line (unknown option, missing or malformed flag value): exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Node's `parseArgs` complaints, reworded: the option's name first, no advice on `--`. */
const PARSE_ERRORS: Array<[RegExp, (flag: string) => string]> = [
  [/^Unknown option '([^']+)'/, (f) => `unknown option ${f}`],
  [/^Option '([^' ]+)(?: <value>)?' argument missing/, (f) => `${f} needs a value`],
  [/^Option '([^']+)' does not take an argument/, (f) => `${f} takes no value`],
  [/^Option '([^']+)' argument is ambiguous/, (f) => `${f} needs a value (one that starts with a dash is written ${f}=-…)`],
];

/** Node's `parseArgs` (strict, with positionals), its complaints turned into {@link UsageError}s. */
export function parseFlags<const O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const message = (e as Error).message;
    for (const [pattern, say] of PARSE_ERRORS) {
      const m = pattern.exec(message);
      if (m) throw new UsageError(say(m[1]!));
    }
    throw new UsageError(message);
  }
}

// Decimal digits only: Number() would also take '', ' 12 ', '0x10', '1e3' and '12.0', and a count
// typed that way is more likely a slip than a wish.
const DIGITS = /^\d+$/;
const SIGNED_DIGITS = /^-?\d+$/;
const DECIMAL = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function got(flag: string, text: string, what: string): UsageError {
  return new UsageError(`--${flag} must be ${what}, got ${JSON.stringify(text)}`);
}

/** A count ≥ 1 (`--horizon`, `--epochs`, `--hidden`…). */
export function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!DIGITS.test(text) || !Number.isSafeInteger(n) || n < 1) throw got(flag, text, 'a positive integer');
  return n;
}

/** Any integer (`--seed`); a negative one must be written `--seed=-1`. */
export function integer(flag: string, text: string): number {
  const n = Number(text);
  if (!SIGNED_DIGITS.test(text) || !Number.isSafeInteger(n)) throw got(flag, text, 'an integer');
  return n;
}

/** A finite number > 0 in decimal or exponent notation (`--lr 0.01`, `--lr 1e-3`). */
export function positiveNumber(flag: string, text: string): number {
  const x = Number(text);
  if (!DECIMAL.test(text) || !Number.isFinite(x) || x <= 0) throw got(flag, text, 'a positive number');
  return x;
}

/** One of `allowed` (`--cell rnn|gru|lstm`). */
export function oneOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text)) throw got(flag, text, `one of ${allowed.join(', ')}`);
  return text as T;
}

/**
 * Prediction interval levels in percent, comma-separated (`--levels 80,95`): each a number strictly
 * between 0 and 100, none twice; returned in ascending order.
 */
export function percentLevels(flag: string, text: string): number[] {
  const parts = text.split(',');
  const levels = parts.map((p) => {
    const x = Number(p);
    if (!DECIMAL.test(p) || !(x > 0 && x < 100)) throw got(flag, text, `levels in percent between 0 and 100, comma-separated (e.g. 80,95)`);
    return x;
  });
  const twice = levels.find((x, i) => levels.indexOf(x) !== i);
  if (twice !== undefined) throw new UsageError(`--${flag} names ${twice} twice`);
  return levels.sort((a, b) => a - b);
}

/** Names from `allowed`, comma-separated, none twice (`--combine ets,theta`); `none` is the empty list. */
export function namesOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  if (text === 'none') return [];
  const names = text.split(',').map((n) => {
    if (!(allowed as readonly string[]).includes(n)) throw got(flag, text, `none or a comma-separated list of ${allowed.join(', ')}`);
    return n as T;
  });
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new UsageError(`--${flag} names ${twice} twice`);
  return names;
}
