import { ConfigError } from '../../errors.ts';
import { baselineForecast, type BaselineFitter, type BaselineForecast, type BaselineRequest, setBaselineFitter } from './index.ts';

/**
 * The statistical baselines of a forecasting job fitted on a pool of threads: Node's worker_threads
 * (./node-pool.ts, for the command line) or a browser's Web Workers (the app's app/baseline-pool.ts),
 * behind the one dispatcher here. It is a {@link BaselineFitter} for
 * {@link setBaselineFitter}: the forecaster hands it each phase's fits at once
 * ({@link prefitBaselines}). Each thread runs the library's own {@link baselineForecast}
 * ({@link fitBaselineTask}), so the forecasts are the same numbers, bit for bit, wherever they ran.
 * Automatic ETS costs tens of milliseconds a series and a job fits it up to three times per series
 * (the held-out members, the backtest, the final forecast): at thousands of series it is most of a
 * job's time on one thread.
 *
 * @module
 */

/** A chunk of requests sent to one thread. */
export interface BaselineTask {
  id: number;
  requests: BaselineRequest[];
}

/** A thread's answer to a {@link BaselineTask}: each request's forecast, null where it cannot fit. */
export interface BaselineAnswer {
  id: number;
  forecasts: (BaselineForecast | null)[];
}

/**
 * A pool thread's work: each request fitted with {@link baselineForecast}, or null where the method
 * cannot fit that history (the caller fits it again itself and reports the error as it always does).
 */
export function fitBaselineTask({ id, requests }: BaselineTask): BaselineAnswer {
  const forecasts = requests.map((r): BaselineForecast | null => {
    try {
      return baselineForecast(r.name, r.history, r.horizon, r.season, r.levels, r.model ?? null);
    } catch {
      return null;
    }
  });
  return { id, forecasts };
}

/** One thread as the pool drives it. */
export interface PoolThread {
  post(task: BaselineTask): void;
  /** Ends the thread; resolves once it has ended. */
  terminate(): Promise<unknown>;
}

/** What a thread reports back to the pool: an answer, or its failure (an error, an exit). */
export interface PoolThreadEvents {
  answer(a: BaselineAnswer): void;
  fail(e: Error): void;
}

/** A running pool: its size, the fitter, and its end. */
export interface BaselinePool {
  readonly threads: number;
  readonly fitter: BaselineFitter;
  /** Ends every thread (a pending batch rejects); resolves once they have ended. */
  close(): Promise<void>;
}

/** Requests per message: messages cost little beside ETS's milliseconds, and small chunks keep the threads evenly busy. */
const CHUNK = 8;

/** @throws ConfigError `threads` not a positive whole number. */
export function checkThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1)
    throw new ConfigError(`a baseline pool needs a positive whole number of threads, got ${threads}`);
}

/**
 * A pool of `threads` threads made by `spawn`, each handed the events it reports. One batch runs at a
 * time, cut into chunks of {@link CHUNK} requests that go to whichever thread is free; a thread that
 * fails fails the batch and the pool.
 */
export function createBaselinePool(threads: number, spawn: (events: PoolThreadEvents) => PoolThread): BaselinePool {
  checkThreads(threads);
  let failure: Error | null = null;
  let batch: {
    chunks: BaselineRequest[][];
    next: number;
    done: number;
    results: (BaselineForecast | null)[][];
    resolve: () => void;
    reject: (e: Error) => void;
  } | null = null;

  const send = (t: PoolThread) => {
    if (!batch || batch.next >= batch.chunks.length) return;
    const id = batch.next++;
    t.post({ id, requests: batch.chunks[id]! });
  };
  const fail = (e: Error) => {
    failure ??= e;
    batch?.reject(e);
    batch = null;
  };
  const pool: PoolThread[] = [];
  for (let i = 0; i < threads; i++) {
    const thread: PoolThread = spawn({
      answer: ({ id, forecasts }) => {
        if (!batch) return;
        batch.results[id] = forecasts;
        if (++batch.done === batch.chunks.length) {
          batch.resolve();
          batch = null;
        } else {
          send(thread);
        }
      },
      fail,
    });
    pool.push(thread);
  }

  const fitter: BaselineFitter = async (requests) => {
    if (failure) throw failure;
    if (batch) throw new Error('the baseline pool fits one batch at a time');
    if (requests.length === 0) return [];
    const chunks: BaselineRequest[][] = [];
    for (let i = 0; i < requests.length; i += CHUNK) chunks.push(requests.slice(i, i + CHUNK));
    const results: (BaselineForecast | null)[][] = new Array(chunks.length);
    await new Promise<void>((resolve, reject) => {
      batch = { chunks, next: 0, done: 0, results, resolve, reject };
      for (const t of pool) send(t);
    });
    return results.flat();
  };

  return {
    threads,
    fitter,
    async close() {
      fail(new Error('the baseline pool was closed'));
      await Promise.all(pool.map((t) => t.terminate()));
    },
  };
}

/**
 * Installs `pool` as the library's baseline fitter ({@link setBaselineFitter}); the handle it
 * returns is the pool whose `close` also puts the previous fitter back.
 */
export function installBaselinePool(pool: BaselinePool): BaselinePool {
  const previous = setBaselineFitter(pool.fitter);
  return {
    threads: pool.threads,
    fitter: pool.fitter,
    async close() {
      setBaselineFitter(previous);
      await pool.close();
    },
  };
}

/**
 * How many threads a pool for a job of `series` series should have on a machine with `cores`
 * cores: one per core, but none (0: fit on the calling thread) where the job is too small for
 * starting threads to pay (fewer than {@link SERIES_PER_THREAD} series per thread), or only one
 * thread would run (the calling thread waits for the pool, so one thread gains nothing).
 */
export function baselineThreads(series: number, cores: number): number {
  const threads = Math.min(cores, Math.floor(series / SERIES_PER_THREAD));
  return threads >= 2 ? threads : 0;
}

/** Fewest series per pool thread: automatic ETS takes ~25 ms a series, starting a thread ~0.1 s. */
export const SERIES_PER_THREAD = 32;
