import type { EpochEvent, StepEvent } from '../train/trainer.ts';

/**
 * Training progress on standard error. On a terminal, one line redrawn in place (a carriage return
 * and "erase line" before each draw), updated on optimizer steps as well as epochs: an epoch of the
 * app's 10,000 series takes minutes on a software adapter, and a bar that stood still that long
 * would look hung. Anywhere else (a file, a pipe, a CI log) one plain line per epoch, since a
 * carriage return there only garbles the log. Both show epoch k/N, the loss, the time elapsed and
 * the time left.
 *
 * The stream, whether it is a terminal and the clock are injected, so the renderer is tested
 * without a terminal and without waiting.
 */

/** What the terminal renderer writes to: `process.stderr` in the CLI. */
export interface ProgressStream {
  write(text: string): unknown;
  /** True on a terminal: the line is redrawn in place. */
  isTTY?: boolean;
  /** The terminal's width: a line longer than it would wrap, and a wrapped line cannot be redrawn. */
  columns?: number;
}

export interface ProgressOptions {
  /** What is training: `fit`, `backtest`. */
  label: string;
  /** Most epochs of a run (early stopping may end it sooner), where its events do not say. */
  epochs: number;
  /** A terminal to redraw on; when absent or not a TTY, lines go to `line`. */
  stream?: ProgressStream;
  /** Where a plain line goes (without its newline). */
  line: (text: string) => void;
  /** Milliseconds, monotonic: `performance.now` in the CLI. */
  now: () => number;
}

/** Least time between two redraws on steps, so that fast steps do not flood the terminal. */
const REDRAW_MS = 100;
const BAR = 20;
/** Erases the terminal's current line and returns to its start (ANSI "erase in line", whole line). */
const CLEAR = '\r\x1b[2K';

/** `ms` for a person: `4.2s`, `42s`, `3m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 9.95) return `${s.toFixed(1)}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  const seconds = Math.round(s);
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${pad(seconds % 60)}s`;
  const minutes = Math.round(s / 60);
  return `${Math.floor(minutes / 60)}h${pad(minutes % 60)}m`;
}

/**
 * Progress of the training runs of one fit or backtest. A backtest with several folds trains once
 * per fold, each run counting its epochs from 1 again: a new run is seen as an epoch or step number
 * that goes back, and gets a bar and a clock of its own. Call {@link end} when the training is over
 * (also when it failed), so that the terminal's line is finished before anything else is printed.
 */
export class TrainingProgress {
  private readonly terminal: ProgressStream | null;
  private start: number;
  /** The run's last finished epoch, and its validation loss. */
  private done = 0;
  private validation: number | null = null;
  /** Steps of the run so far, the step count at the last epoch's end, and steps per epoch (known after epoch 1). */
  private steps = 0;
  private stepsAtEpoch = 0;
  private perEpoch: number | null = null;
  /** The running epoch's step losses. */
  private stepLossSum = 0;
  private stepCount = 0;
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(private readonly o: ProgressOptions) {
    this.terminal = o.stream?.isTTY ? o.stream : null;
    this.start = o.now();
  }

  /** For `fit`'s `onStep`: on a terminal, redraws at most every {@link REDRAW_MS}. */
  readonly onStep = (e: StepEvent): void => {
    if (e.step <= this.steps || e.epoch <= this.done) this.restart();
    this.steps = e.step;
    this.stepLossSum += e.loss;
    this.stepCount++;
    if (!this.terminal) return;
    const now = this.o.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    const inEpoch = this.steps - this.stepsAtEpoch;
    const share = this.perEpoch ? Math.min(1, inEpoch / this.perEpoch) : 0;
    const epochs = e.epochs ?? this.o.epochs;
    const what = `epoch ${e.epoch}/${epochs} step ${inEpoch}${this.perEpoch ? `/${this.perEpoch}` : ''}`;
    this.draw(now, this.text(now, what, (this.done + share) / epochs, this.stepLossSum / this.stepCount));
  };

  /** For `fit`'s `onEpoch`: a redraw on a terminal, a line elsewhere. */
  readonly onEpoch = (e: EpochEvent): void => {
    if (e.epoch <= this.done) this.restart();
    if (e.epoch === 1 && this.steps > 0) this.perEpoch = this.steps;
    this.done = e.epoch;
    this.stepsAtEpoch = this.steps;
    this.stepLossSum = 0;
    this.stepCount = 0;
    this.validation = e.validationLoss;
    const now = this.o.now();
    const epochs = e.epochs ?? this.o.epochs;
    const text = this.text(now, `epoch ${e.epoch}/${epochs}`, this.done / epochs, e.loss);
    if (this.terminal) this.draw(now, text);
    else this.o.line(text);
  };

  /** A line of its own about what the run does next (on a terminal, below the finished bar). */
  note(text: string): void {
    this.end();
    if (this.terminal) this.terminal.write(`${text}\n`);
    else this.o.line(text);
  }

  /** Finishes the terminal's line (the last state stays on screen); lines elsewhere need nothing. */
  end(): void {
    if (this.terminal && this.drawn) this.terminal.write('\n');
    this.drawn = false;
  }

  /** A new run (the next fold): the finished bar stays on its own line, the counts and the clock start again. */
  private restart(): void {
    this.end();
    this.start = this.o.now();
    this.done = 0;
    this.steps = 0;
    this.stepsAtEpoch = 0;
    this.perEpoch = null;
    this.stepLossSum = 0;
    this.stepCount = 0;
    this.validation = null;
  }

  /**
   * `label [####....] what  loss …  validation …  elapsed …  ETA …`, `share` the run's part done
   * (0–1) and `loss` the epoch's mean (so far, while it runs). The time left is the time per share
   * so far times the share left; `≤` once there is a validation loss, since early stopping on it
   * may end the run before its last epoch.
   */
  private text(now: number, what: string, share: number, loss: number): string {
    const elapsed = now - this.start;
    const filled = Math.min(BAR, Math.round(BAR * share));
    const validation = this.validation === null ? '' : `  validation ${this.validation.toPrecision(4)}`;
    const eta = share > 0 ? `${this.validation === null ? '' : '≤'}${formatDuration((elapsed * (1 - share)) / share)}` : '?';
    return `${this.o.label} [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${what}  loss ${loss.toPrecision(4)}${validation}  elapsed ${formatDuration(elapsed)}  ETA ${eta}`;
  }

  /** Redraws the terminal's line, cut to its width so it never wraps. */
  private draw(now: number, line: string): void {
    const width = this.terminal!.columns;
    this.terminal!.write(CLEAR + (width && line.length >= width ? line.slice(0, width - 1) : line));
    this.lastDraw = now;
    this.drawn = true;
  }
}
