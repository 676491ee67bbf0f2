import { DataError, ShapeError } from '../../errors.ts';
import { MAX_HORIZON } from '../../rnn/forecast.ts';

/**
 * Argument checks shared by the statistical baselines, run before any work: a bad argument of the
 * call (season, horizon, levels) is a {@link ShapeError}; a history the method cannot use (too
 * short, a value that is not finite) is a {@link DataError}, which the callers name the series in.
 */

/** The season must be a positive integer (1: no seasonality). */
export function checkSeason(season: number): void {
  if (!Number.isInteger(season) || season < 1) throw new ShapeError(`the season must be a positive integer, got ${season}`);
}

/** The horizon must be an integer from 1 to {@link MAX_HORIZON}, the forecaster's bound. */
export function checkHorizon(horizon: number): void {
  if (!Number.isInteger(horizon) || horizon < 1 || horizon > MAX_HORIZON) {
    throw new ShapeError(`the horizon must be a positive integer up to ${MAX_HORIZON}, got ${horizon}`);
  }
}

/** Interval levels are percentages strictly between 0 and 100 (80 for an 80 % interval). */
export function checkLevels(levels: readonly number[]): void {
  for (const l of levels) {
    if (typeof l !== 'number' || !(l > 0 && l < 100))
      throw new ShapeError(`interval levels are percentages between 0 and 100 (e.g. 80, 95), got ${l}`);
  }
}

/** `history` holds at least `minLength` values, all finite; `method` names who needs them. */
export function checkHistory(history: ArrayLike<number>, minLength: number, method: string): void {
  if (history.length < minLength) throw new DataError(`${method} needs at least ${minLength} points of history, got ${history.length}`);
  for (let i = 0; i < history.length; i++) {
    if (!Number.isFinite(history[i])) throw new DataError(`the history holds a non-finite value (${history[i]}) at ${i}`);
  }
}
