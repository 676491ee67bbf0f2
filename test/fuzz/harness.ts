import fc from 'fast-check';
import { WebRNNError } from '../../src/errors.ts';

/**
 * The fuzzing suite's invariant and its runner, shared by every property (CSV, model files, API):
 *
 *   every generated input either throws a typed error (an instance of WebRNNError) or gives a result
 *   that the property then checks (no non-finite value, equal to the float64 reference, …).
 *
 * Anything else fails the case: an untyped error (TypeError, RangeError, a plain Error), a promise
 * that does not settle within the case's time limit, or a result the property's checks reject. A
 * failure carries the seed and fast-check's path of the shrunk counterexample, so it can be replayed:
 * `npm run fuzz -- --kind K --seed S --path P` (scripts/fuzz.mjs).
 */

/** What one call gave: a value, or a typed error. Untyped errors and hangs never get this far. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WebRNNError };

/** A case that broke the invariant; its message says how. */
export class InvariantFailure extends Error {
  override name = 'InvariantFailure';
}

/** A short description of any thrown value, for failure messages. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.constructor.name}: ${err.message}`;
  return `a thrown ${typeof err} ${String(err)}`;
}

/** Rejects after `ms` milliseconds with an {@link InvariantFailure} naming `what` (a hang). */
function deadline(ms: number, what: string): { promise: Promise<never>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvariantFailure(`${what} did not finish within ${ms} ms (a hang)`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * Runs `fn` and sorts what happens: its value, or the typed error it threw. An untyped error or no
 * answer within `ms` milliseconds is an {@link InvariantFailure}. A synchronous infinite loop cannot
 * be interrupted from inside the process; scripts/fuzz.mjs watches long runs from outside for that.
 */
export async function attempt<T>(what: string, fn: () => T | Promise<T>, ms: number): Promise<Outcome<Awaited<T>>> {
  const limit = deadline(ms, what);
  const started = Date.now();
  try {
    const value = await Promise.race([Promise.resolve().then(fn), limit.promise]);
    return { ok: true, value: value as Awaited<T> };
  } catch (err) {
    if (err instanceof InvariantFailure) throw err;
    if (err instanceof WebRNNError) return { ok: false, error: err };
    throw new InvariantFailure(`${what} threw an untyped error: ${describeError(err)}`, { cause: err });
  } finally {
    limit.cancel();
    // A synchronous call cannot be raced; it can still be measured.
    const took = Date.now() - started;
    if (took > ms) throw new InvariantFailure(`${what} took ${took} ms, more than the ${ms} ms allowed a case (a hang)`);
  }
}

/** An {@link InvariantFailure} unless `cond`. */
export function ensure(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new InvariantFailure(typeof message === 'string' ? message : message());
}

/** The first index of a non-finite element, or -1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/** An {@link InvariantFailure} when `a` holds NaN or ±Infinity: a result must never, without an error. */
export function ensureFinite(a: ArrayLike<number>, what: string): void {
  const i = firstNonFinite(a);
  ensure(i < 0, () => `${what} holds a non-finite value (${a[i]}) at index ${i} without an error`);
}

/** Counts of what a property's cases gave, for the summary of a run (is the generator reaching results?). */
export class Tally {
  readonly counts = new Map<string, number>();
  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }
  /** Records an outcome: `ok`, or the typed error's class name. */
  outcome(o: Outcome<unknown>, prefix = ''): void {
    this.add(`${prefix}${o.ok ? 'result' : o.error.name}`);
  }
  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  toString(): string {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  }
}

/**
 * One named property of the suite: an arbitrary of inputs and the check of one input, which throws
 * an {@link InvariantFailure} (or lets an unexpected error through) when the invariant breaks.
 */
export interface FuzzProperty<T = any> {
  /** `csv`, `model` or `api`: what `npm run fuzz -- --kind` selects. */
  kind: 'csv' | 'model' | 'api';
  name: string;
  /** Its share of its kind's inputs in a long run (relative to the kind's other properties). */
  weight: number;
  arbitrary: fc.Arbitrary<T>;
  check(input: T, tally: Tally): Promise<void>;
}

/** How a run went: inputs, failing inputs, the tally, and one report per distinct failure. */
export interface FuzzReport {
  property: string;
  kind: string;
  seed: number;
  runs: number;
  /** Inputs that broke the invariant (a survey counts them all; a plain run stops at the first). */
  failing: number;
  /** One message per distinct failure: the shrunk counterexample and the command that replays it. */
  failures: string[];
  tally: Tally;
  ms: number;
}

/** A value as text for a failure report. */
export function show(value: unknown): string {
  return fc.stringify(value);
}

function failureMessage(p: FuzzProperty, details: fc.RunDetails<[unknown]>, input = details.numRuns - 1): string {
  const error = details.errorInstance;
  return [
    `${p.name}: failed at input ${input} (counting from 0; ${details.numShrinks} shrinks)`,
    `  ${error instanceof InvariantFailure ? error.message : describeError(error)}`,
    `  counterexample: ${show(details.counterexample?.[0])}`,
    `  replay: npm run fuzz -- --property ${p.name} --seed ${details.seed} --path ${details.counterexamplePath}`,
  ].join('\n');
}

/**
 * Runs one property from `seed` until the first failure, which fast-check then shrinks (what `npm
 * test` does). With `path`, only the case that path names is run and shrunk: a replay.
 */
export async function runProperty(p: FuzzProperty, o: { runs: number; seed: number; path?: string }): Promise<FuzzReport> {
  const tally = new Tally();
  const started = Date.now();
  const details = await fc.check(
    fc.asyncProperty(p.arbitrary, (input) => p.check(input, tally)),
    { numRuns: o.runs, seed: o.seed, ...(o.path ? { path: o.path } : {}) },
  );
  const failures = details.failed ? [failureMessage(p, details, o.path ? Number(o.path.split(':')[0]) : details.numRuns - 1)] : [];
  return {
    property: p.name,
    kind: p.kind,
    seed: details.seed,
    runs: details.numRuns,
    failing: failures.length,
    failures,
    tally,
    ms: Date.now() - started,
  };
}

/** A failure's message with the particulars (numbers, quoted texts) taken out: what groups it with others. */
export function signature(err: unknown): string {
  const text = err instanceof InvariantFailure ? err.message : describeError(err);
  return text
    .replace(/\b(series|column) .+?(?=: | is | has | holds | misses | at |, |$)/g, '$1 …')
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\[[^\]]*\]/g, '[…]')
    .replace(/[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/gi, 'N')
    .slice(0, 200);
}

/**
 * A long run: every one of `runs` inputs is checked (a failure does not stop the run), failing
 * inputs are counted and grouped by {@link signature}, and the first input of each group is then
 * replayed and shrunk. `onCase` hears of every input before it runs, and of every shrinking step
 * (scripts/fuzz.mjs watches for a synchronous hang that way).
 */
export async function surveyProperty(
  p: FuzzProperty,
  o: { runs: number; seed: number; onCase?: (index: number, shrinking?: boolean) => void },
): Promise<FuzzReport> {
  const tally = new Tally();
  const started = Date.now();
  const groups = new Map<string, number>();
  let index = 0;
  let failing = 0;
  const run = await fc.check(
    fc.asyncProperty(p.arbitrary, async (input) => {
      const i = index++;
      o.onCase?.(i);
      try {
        await p.check(input, tally);
      } catch (err) {
        failing++;
        tally.add('FAILED');
        const sig = signature(err);
        if (!groups.has(sig)) groups.set(sig, i);
      }
      return true;
    }),
    { numRuns: o.runs, seed: o.seed },
  );
  // Groups can shrink to one counterexample (a smaller input failing the simpler way): print each once.
  const failures: string[] = [];
  const printed = new Set<string>();
  for (const [sig, i] of groups) {
    const details = await fc.check(
      fc.asyncProperty(p.arbitrary, (input) => {
        // Shrinking runs many inputs too: each is a sign of life for the watchdog.
        o.onCase?.(i, true);
        return p.check(input, new Tally());
      }),
      { seed: run.seed, path: String(i) },
    );
    if (!details.failed) {
      failures.push(`${p.name}: input ${i} failed once (${sig}) but passed on replay`);
      continue;
    }
    const shrunk = signature(details.errorInstance);
    if (printed.has(shrunk)) continue;
    printed.add(shrunk);
    failures.push(failureMessage(p, details, i));
  }
  return { property: p.name, kind: p.kind, seed: run.seed, runs: index, failing, failures, tally, ms: Date.now() - started };
}
