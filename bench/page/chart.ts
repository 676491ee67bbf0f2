import { Chart, Legend, LinearScale, LineElement, LogarithmicScale, PointElement, ScatterController, Title, Tooltip } from 'chart.js';
import type { BenchRecord } from '../harness.ts';

Chart.register(ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Title, Tooltip);

/** Tick labels at powers of ten only (the grid keeps its lines in between). */
const decades = (value: number | string) => {
  const v = Number(value);
  return Number.isInteger(Math.log10(v)) ? v.toLocaleString('en-US') : '';
};

const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#57606a', '#e16f24', '#1b7c83'];

/**
 * Median time against batch size, one line per contender, both axes logarithmic: a line of slope 1
 * is a contender whose time grows with the batch; a flat start is fixed per-call overhead.
 */
export class SweepChart {
  private readonly chart: Chart<'scatter'>;

  constructor(canvas: HTMLCanvasElement) {
    this.chart = new Chart(canvas, {
      type: 'scatter',
      data: { datasets: [] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        showLine: true,
        scales: {
          x: { type: 'logarithmic', title: { display: true, text: 'batch size B (sequences)' }, ticks: { callback: decades } },
          y: { type: 'logarithmic', title: { display: true, text: 'median time per forward pass (ms)' }, ticks: { callback: decades } },
        },
        plugins: {
          title: { display: true, text: '' },
          tooltip: {
            callbacks: { label: (c) => `${c.dataset.label}: B=${c.parsed.x}, ${c.parsed.y?.toFixed(2)} ms` },
          },
        },
      },
    });
  }

  /** Starts an empty chart for one model's sweep. */
  reset(title: string): void {
    this.chart.data.datasets = [];
    this.chart.options.plugins!.title!.text = title;
    this.chart.update();
  }

  /** Adds a record's median to its contender's line (records that did not run are left out). */
  add(r: BenchRecord): void {
    if (r.status !== 'ok' || r.medianMs === null) return;
    const datasets = this.chart.data.datasets;
    let line = datasets.find((d) => d.label === r.contender);
    if (!line) {
      const color = COLORS[datasets.length % COLORS.length]!;
      line = { label: r.contender, data: [], borderColor: color, backgroundColor: color };
      datasets.push(line);
    }
    line.data.push({ x: r.batch, y: r.medianMs });
    this.chart.update();
  }
}
