import {
  CategoryScale,
  Chart,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Title,
  Tooltip,
} from 'chart.js';
import type { Phase, SeriesView } from './protocol.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Decimation, Legend, Title, Tooltip);

const PHASE_LABEL: Record<Phase, string> = { backtest: 'backtest fit (history before the hold-out)', final: 'final fit (all of each series)' };
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

/**
 * One series: its history (the hold-out, its last `horizon` points, drawn over it in black), the backtest's
 * forecast of the hold-out beside seasonal naive, and the forecast after the last point.
 */
export class SeriesChart {
  private readonly chart: Chart<'line', (number | null)[], string>;

  /** The canvas carries `data-series` (the id shown) and `data-lines` (the lines drawn, comma-separated). */
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
        plugins: { legend: { position: 'bottom' }, title: { display: true, text: '' } },
        elements: { point: { radius: 0 }, line: { borderWidth: 1.5 } },
      },
    });
  }

  show(view: SeriesView): void {
    const n = view.ds.length;
    const future = view.future?.values.length ?? 0;
    const futureLabels = view.future ? (view.future.ds ?? view.future.values.map((_, h) => `+${h + 1}`)) : [];
    const pad = (values: readonly number[], at: number): (number | null)[] =>
      Array.from({ length: n + future }, (_, i) => (i >= at && i < at + values.length ? values[i - at]! : null));
    const h = view.holdout?.forecast.length ?? 0;
    const datasets = [{ label: 'history', data: pad(view.y, 0), borderColor: '#8c959f' }];
    if (view.holdout) {
      datasets.push(
        { label: 'hold-out (actual)', data: pad(view.y.slice(n - h), n - h), borderColor: '#1b1f24' },
        { label: 'backtest forecast', data: pad(view.holdout.forecast, n - h), borderColor: '#cf222e' },
        { label: 'seasonal naive', data: pad(view.holdout.baseline, n - h), borderColor: '#bf8700' },
      );
    }
    if (view.future) datasets.push({ label: 'forecast', data: pad(view.future.values, n), borderColor: '#0969da' });
    this.chart.data.labels = [...view.ds, ...futureLabels];
    this.chart.data.datasets = datasets.map((d) => ({ ...d, backgroundColor: d.borderColor, pointRadius: d.label === 'history' ? 0 : 2 }));
    this.chart.options.plugins!.title!.text = view.id;
    this.chart.update('none');
    this.canvas.dataset.series = view.id;
    this.canvas.dataset.lines = datasets.map((d) => d.label).join(',');
  }
}
