import type { ProgressStream } from './progress.ts';

/** Where the CLI writes; injectable so tests can capture it. */
export interface CliIO {
  /** One line of results (standard output). */
  out: (line: string) => void;
  /** One line of errors, notes and progress (standard error). */
  err: (line: string) => void;
  /**
   * Standard error as a stream, for the progress bar to redraw in place when it is a terminal;
   * without it (or when it is not a terminal) progress is a line per epoch through `err`.
   */
  stderr?: ProgressStream;
  /** A monotonic clock in milliseconds for the progress' elapsed time and ETA (default performance.now). */
  now?: () => number;
}
