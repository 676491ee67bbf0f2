import {
  CategoryScale,
  Chart,
  Decimation,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Title,
  Tooltip,
} from 'chart.js';
import { BASELINE_LABELS, BASELINES, type BaselineName } from '../src/forecast/baselines/index.ts';
import type { IntervalView, Phase, SeriesView } from './protocol.ts';

// Filler draws the prediction intervals: the area between a band's lower and upper datasets.
Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Decimation, Filler, Legend, Title, Tooltip);

const PHASE_LABEL: Record<Phase, string> = {
  backtest: 'backtest fit (history before the hold-out)',
  final: 'final fit (all of each series)',
};
const PHASE_COLOR: Record<Phase, string> = { backtest: '#8250df', final: '#0969da' };

/**
 * The training loss, step by step, while it trains: one line per fit of the run. Points arrive in
 * batches from the worker and the chart redraws at most once per animation frame; long runs are
 * thinned for drawing (Chart.js decimation), never in the data.
 */
export class LossChart {
  private readonly chart: Chart<'line', { x: number; y: number }[]>;
  private redraw = 0;

  /** The canvas carries `data-points`: the losses drawn so far. */
  constructor(private readonly canvas: HTMLCanvasElement) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        scales: {
          x: { type: 'linear', title: { display: true, text: 'optimizer step' }, ticks: { precision: 0 } },
          y: { type: 'linear', title: { display: true, text: 'loss (MSE on scaled values)' } },
        },
        plugins: {
          decimation: { enabled: true, algorithm: 'lttb', samples: 400 },
          legend: { position: 'bottom' },
          title: { display: false },
        },
        elements: { point: { radius: 0 }, line: { borderWidth: 1.5 } },
      },
    });
  }

  reset(): void {
    this.chart.data.datasets = [];
    this.draw();
  }

  private draw(): void {
    this.chart.update('none');
    this.canvas.dataset.points = String(this.chart.data.datasets.reduce((n, d) => n + d.data.length, 0));
  }

  /** Appends a batch of step losses of one phase. */
  push(phase: Phase, losses: { step: number; loss: number }[]): void {
    let set = this.chart.data.datasets.find((d) => d.label === PHASE_LABEL[phase]);
    if (!set) {
      set = { label: PHASE_LABEL[phase], data: [], borderColor: PHASE_COLOR[phase], backgroundColor: PHASE_COLOR[phase] };
      this.chart.data.datasets.push(set);
    }
    for (const { step, loss } of losses) set.data.push({ x: step, y: loss });
    if (!this.redraw) {
      this.redraw = requestAnimationFrame(() => {
        this.redraw = 0;
        this.draw();
      });
    }
  }
}

const BASELINE_COLOR: Record<BaselineName, string> = { snaive: '#bf8700', naive2: '#8c6d1f', ets: '#1a7f37', theta: '#8250df' };

/** A colour `#rrggbb` at opacity `alpha`. */
function translucent(hex: string, alpha: number): string {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** What a band's lower-bound dataset is called: its band's label and this suffix (kept out of the legend). */
const LOWER = ' (lower)';

type Dataset = {
  label: string;
  data: (number | null)[];
  borderColor: string;
  backgroundColor?: string;
  borderDash?: number[];
  borderWidth?: number;
  pointRadius?: number;
  /** A band's upper bound fills down to the dataset before it, its lower bound. */
  fill?: string | false;
};

/**
 * One series: its history (the hold-out, its last `horizon` points, drawn over it in black), the
 * backtest's forecast of the hold-out with its prediction intervals as bands beside the
 * baselines' forecasts (seasonal naive, Naive2, ETS, Theta: dashed), and the forecast after the
 * last point with its bands. A band is two datasets, the lower bound and then the upper bound
 * filled down to it; the wider interval is paler, the narrower drawn over it.
 */
export class SeriesChart {
  private readonly chart: Chart<'line', (number | null)[], string>;

  /**
   * The canvas carries `data-series` (the id shown), `data-lines` (the lines and bands drawn,
   * comma-separated, lower bounds left out) and `data-bands`: JSON of the bands as handed to the
   * chart, `[{ label, level, fill, lo, hi, line }]` with `fill` the upper dataset's fill setting
   * and `lo`, `hi`, `line` the bounds and the forecast over the band's steps, for the page's tests;
   * and the Chart.js instance itself as its `chart` property.
   */
  constructor(private readonly canvas: HTMLCanvasElement) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        spanGaps: false,
        interaction: { mode: 'index', intersect: false },
        scales: { x: { ticks: { maxTicksLimit: 12, autoSkip: true } } },
        plugins: {
          legend: { position: 'bottom', labels: { filter: (item) => !item.text.endsWith(LOWER) } },
          title: { display: true, text: '' },
          filler: { propagate: false },
        },
        elements: { point: { radius: 0 }, line: { borderWidth: 1.5 } },
      },
    });
    // A test hook: the page's tests read the datasets and the scales (to find a band's pixels) here.
    Object.defineProperty(canvas, 'chart', { value: this.chart });
  }

  show(view: SeriesView): void {
    const n = view.ds.length;
    const future = view.future?.values.length ?? 0;
    const futureLabels = view.future ? (view.future.ds ?? view.future.values.map((_, h) => `+${h + 1}`)) : [];
    const pad = (values: readonly number[], at: number): (number | null)[] =>
      Array.from({ length: n + future }, (_, i) => (i >= at && i < at + values.length ? values[i - at]! : null));
    const h = view.holdout?.forecast.length ?? 0;
    const lines: Dataset[] = [{ label: 'history', data: pad(view.y, 0), borderColor: '#8c959f', pointRadius: 0 }];
    const bands: Dataset[] = [];
    const summary: { label: string; level: number; fill: string | false | undefined; lo: number[]; hi: number[]; line: number[] }[] = [];
    /** A forecast's bands, widest first (drawn first, so the narrower one lies over it). */
    const addBands = (name: string, color: string, intervals: readonly IntervalView[], line: readonly number[], at: number) => {
      const sorted = [...intervals].sort((a, b) => b.level - a.level);
      sorted.forEach((iv, k) => {
        const label = `${name} ${iv.level}% interval`;
        const fill = translucent(color, 0.12 + (0.12 * k) / Math.max(1, sorted.length - 1));
        const lower: Dataset = {
          label: `${label}${LOWER}`,
          data: pad(iv.lo, at),
          borderColor: translucent(color, 0.35),
          borderWidth: 0.5,
          pointRadius: 0,
          fill: false,
        };
        const upper: Dataset = {
          label,
          data: pad(iv.hi, at),
          borderColor: translucent(color, 0.35),
          backgroundColor: fill,
          borderWidth: 0.5,
          pointRadius: 0,
          fill: '-1',
        };
        bands.push(lower, upper);
        summary.push({ label, level: iv.level, fill: upper.fill, lo: iv.lo, hi: iv.hi, line: [...line] });
      });
    };
    if (view.holdout) {
      const { forecast, intervals, baselines } = view.holdout;
      lines.push(
        { label: 'hold-out (actual)', data: pad(view.y.slice(n - h), n - h), borderColor: '#1b1f24' },
        { label: 'backtest forecast', data: pad(forecast, n - h), borderColor: '#cf222e' },
        ...BASELINES.map((b) => ({
          label: BASELINE_LABELS[b],
          data: pad(baselines[b], n - h),
          borderColor: BASELINE_COLOR[b],
          borderDash: [5, 3],
          borderWidth: 1.2,
        })),
      );
      addBands('backtest', '#cf222e', intervals, forecast, n - h);
    }
    if (view.future) {
      lines.push({ label: 'forecast', data: pad(view.future.values, n), borderColor: '#0969da' });
      addBands('forecast', '#0969da', view.future.intervals, view.future.values, n);
    }
    this.chart.data.labels = [...view.ds, ...futureLabels];
    // Lines first: Chart.js draws the first dataset on top, so the bands lie under every line.
    this.chart.data.datasets = [...lines.map((d) => ({ ...d, backgroundColor: d.borderColor, pointRadius: d.pointRadius ?? 2 })), ...bands];
    this.chart.options.plugins!.title!.text = view.id;
    this.chart.update('none');
    this.canvas.dataset.series = view.id;
    this.canvas.dataset.lines = [...lines, ...bands]
      .map((d) => d.label)
      .filter((l) => !l.endsWith(LOWER))
      .join(',');
    this.canvas.dataset.bands = JSON.stringify(summary);
  }
}
