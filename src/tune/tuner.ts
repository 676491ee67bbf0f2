import { ConfigError } from '../errors.ts';

/**
 * The autotuner: on first use of a shape class on an adapter, time the few candidate kernels (and
 * tile shapes) that fit, keep the fastest, and remember the choice in a {@link TuneStore} under a key
 * that names everything the timing depends on (see {@link tuneKey}): the adapter, the limits and
 * features the device was granted, a hash of the kernels' sources, and the shape class. Another
 * adapter, driver limits, feature set or kernel source is another key, so a stale choice is never
 * read back; it is simply not found.
 *
 * Modes ({@link TuneMode}): `'off'` never times: the cached choice if there is one, else the cost
 * model's pick (the candidate with the lowest `estimate`, or the first). `'quick'` times the cost
 * model's best candidate of each group (a kernel: its best tile shape, say) and, up to
 * {@link QUICK_CANDIDATES} in all, the next best, once each after a warm-up run: a kernel the cost
 * model ranks low (unmeasured on this kind of adapter) is still timed, once. `'full'` times every
 * candidate, the median of three runs each, each group's best first. A time budget bounds both:
 * once it is spent no further
 * candidate is started, and the fastest of those timed wins (ties: the cost model's order).
 * The clock is injected so tests can drive it.
 */

/** How much tuning a call may do. */
export type TuneMode = 'off' | 'quick' | 'full';

export const TUNE_MODES: readonly TuneMode[] = ['off', 'quick', 'full'];

/** One way to run a shape class: a kernel, a tile shape, … */
export interface Candidate<T> {
  /** Stable name, stored in the cache (e.g. `tile/256`). */
  name: string;
  config: T;
  /** The cost model's estimate (any unit; lower is better). Candidates without one rank after those with one, in their order. */
  estimate?: number;
  /** The family it belongs to (a kernel, whose variants these are): `'quick'` times the best of each. */
  group?: string;
}

/** What the store keeps per key. */
export interface TuneEntry {
  /** The winning candidate's name. */
  choice: string;
  /** Milliseconds measured per candidate name (the median where several runs were made). */
  timesMs: Record<string, number>;
  mode: Exclude<TuneMode, 'off'>;
  /** ISO date of the measurement. */
  at: string;
}

/** Where choices are kept between runs: a file in Node, IndexedDB in a browser, memory in tests. */
export interface TuneStore {
  get(key: string): Promise<TuneEntry | undefined>;
  set(key: string, entry: TuneEntry): Promise<void>;
}

/** How a choice was made. */
export type ChoiceSource = 'cache' | 'tuned' | 'model';

export interface Choice<T> {
  candidate: Candidate<T>;
  source: ChoiceSource;
  /** Milliseconds per candidate: timed now (`tuned`), or when the cached choice was made (`cache`); empty for `model`. */
  timesMs: Record<string, number>;
}

export interface TunerOptions {
  mode?: TuneMode;
  store: TuneStore;
  /** Milliseconds one {@link Tuner.choose} may spend timing (default {@link DEFAULT_TUNE_BUDGET_MS}). */
  budgetMs?: number;
  /** Milliseconds since some origin (default `performance.now`). */
  now?: () => number;
}

/** About a second: tuning happens once per shape class and adapter, then the cache answers. */
export const DEFAULT_TUNE_BUDGET_MS = 1000;

/** How many candidates `'quick'` times at least (more where there are more groups: one of each). */
export const QUICK_CANDIDATES = 3;

/** The candidates in the cost model's order: by estimate, those without one last, ties in the given order. */
export function rankByModel<T>(candidates: readonly Candidate<T>[]): Candidate<T>[] {
  return candidates
    .map((c, i) => ({ c, i }))
    .sort((a, b) => (a.c.estimate ?? Infinity) - (b.c.estimate ?? Infinity) || a.i - b.i)
    .map(({ c }) => c);
}

/**
 * What `'quick'` times, in the cost model's order: the best-ranked candidate of each group, and the
 * next best of the rest until there are {@link QUICK_CANDIDATES}.
 */
export function quickPool<T>(ranked: readonly Candidate<T>[]): Candidate<T>[] {
  const leaders = groupLeaders(ranked);
  let extra = Math.max(0, QUICK_CANDIDATES - leaders.size);
  return ranked.filter((c) => leaders.has(c) || extra-- > 0);
}

/**
 * What `'full'` times, in this order: the best-ranked candidate of each group, then every other in
 * the cost model's order, so a budget that runs out still leaves every kernel timed once.
 */
export function fullPool<T>(ranked: readonly Candidate<T>[]): Candidate<T>[] {
  const leaders = groupLeaders(ranked);
  return [...ranked.filter((c) => leaders.has(c)), ...ranked.filter((c) => !leaders.has(c))];
}

/** The best-ranked candidate of each group (candidates without a group lead nothing). */
function groupLeaders<T>(ranked: readonly Candidate<T>[]): Set<Candidate<T>> {
  const groups = new Set<string>();
  const leaders = new Set<Candidate<T>>();
  for (const c of ranked) {
    if (c.group !== undefined && !groups.has(c.group)) {
      groups.add(c.group);
      leaders.add(c);
    }
  }
  return leaders;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

export class Tuner {
  readonly mode: TuneMode;
  readonly budgetMs: number;
  private readonly store: TuneStore;
  private readonly now: () => number;

  constructor(options: TunerOptions) {
    const mode = options.mode ?? 'quick';
    if (!TUNE_MODES.includes(mode)) throw new ConfigError(`tune must be one of ${TUNE_MODES.join(', ')}, got ${String(mode)}`);
    const budget = options.budgetMs ?? DEFAULT_TUNE_BUDGET_MS;
    if (!(budget >= 0) || !Number.isFinite(budget))
      throw new ConfigError(`the tuning budget must be a non-negative number of milliseconds, got ${budget}`);
    this.mode = mode;
    this.budgetMs = budget;
    this.store = options.store;
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * The candidate to run for `key`: cached, tuned now, or the cost model's pick (see the module
   * comment). `time(c)` runs candidate `c` once and resolves to its milliseconds; a candidate whose
   * run throws is skipped (it does not fit after all). Throws when `candidates` is empty.
   */
  async choose<T>(key: string, candidates: readonly Candidate<T>[], time: (c: Candidate<T>) => Promise<number>): Promise<Choice<T>> {
    if (candidates.length === 0) throw new ConfigError(`no candidate to choose from for ${key}`);
    const ranked = rankByModel(candidates);
    const cached = await this.store.get(key);
    const hit = cached && candidates.find((c) => c.name === cached.choice);
    if (hit) return { candidate: hit, source: 'cache', timesMs: { ...cached.timesMs } };
    if (this.mode === 'off' || candidates.length === 1) return { candidate: ranked[0]!, source: 'model', timesMs: {} };

    const start = this.now();
    const pool = this.mode === 'quick' ? quickPool(ranked) : fullPool(ranked);
    const runs = this.mode === 'quick' ? 1 : 3;
    const timesMs: Record<string, number> = {};
    for (const c of pool) {
      if (Object.keys(timesMs).length > 0 && this.now() - start >= this.budgetMs) break;
      try {
        await time(c); // warm-up: pipelines, buffers
        const ms: number[] = [];
        for (let r = 0; r < runs; r++) ms.push(await time(c));
        timesMs[c.name] = median(ms);
      } catch {
        // Does not fit this device or shape: not a candidate.
      }
    }
    const timed = ranked.filter((c) => c.name in timesMs);
    if (timed.length === 0) return { candidate: ranked[0]!, source: 'model', timesMs };
    // Fastest; ties go to the cost model's order (`timed` is in that order, and the sort is stable).
    const best = [...timed].sort((a, b) => timesMs[a.name]! - timesMs[b.name]!)[0]!;
    await this.store.set(key, { choice: best.name, timesMs, mode: this.mode, at: new Date().toISOString() });
    return { candidate: best, source: 'tuned', timesMs };
  }
}

/** A store in memory: for tests, and where nothing persistent is available. */
export class MemoryTuneStore implements TuneStore {
  readonly entries = new Map<string, TuneEntry>();
  async get(key: string): Promise<TuneEntry | undefined> {
    return this.entries.get(key);
  }
  async set(key: string, entry: TuneEntry): Promise<void> {
    this.entries.set(key, entry);
  }
}
