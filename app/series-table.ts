import { BASELINE_LABELS, BASELINES, type BaselineName } from '../src/forecast/baselines/index.ts';
import type { Metrics } from '../src/forecast/metrics.ts';
import type { BacktestSummary, SeriesRow } from './protocol.ts';

/**
 * The series table: one row per series (its size, then after a backtest its MAE, RMSE, sMAPE and
 * MASE beside those of each statistical baseline: seasonal naive, Naive2, ETS and Theta; and the
 * share of the hold-out inside the model's prediction intervals per level), an overall row on
 * top, sortable by any column, filtered by id and paginated, so tens of thousands of series cost
 * one page of DOM rows. Clicking a row picks the series the chart shows. A series that fell back
 * to a baseline is marked, with the reason as its tooltip.
 *
 * Every metric cell carries `data-key` (`model.mase`, `ets.smape`…) and `data-value` (the number,
 * empty when there is none), the coverage cells `coverage.80`…, for the page's tests.
 */

const METRICS: { key: keyof Metrics; label: string; format: (v: number) => string }[] = [
  { key: 'mae', label: 'MAE', format: (v) => v.toPrecision(4) },
  { key: 'rmse', label: 'RMSE', format: (v) => v.toPrecision(4) },
  { key: 'smape', label: 'sMAPE %', format: (v) => v.toFixed(2) },
  { key: 'mase', label: 'MASE', format: (v) => v.toFixed(3) },
];

/** The table's columns per metric: the model, then the baselines in their order. */
type Side = 'model' | BaselineName;
const SIDES: readonly Side[] = ['model', ...BASELINES];
const SIDE_LABEL: Record<Side, string> = { model: 'model', ...BASELINE_LABELS };

type SortKey = 'order' | 'id' | 'points' | `${Side}.${keyof Metrics}` | `coverage.${number}`;

export const PAGE_SIZE = 25;

/** Whether the model beats a baseline: on mean MASE (scale-free), or on sMAPE where MASE is undefined. */
export function beatsBaseline(model: Metrics, baseline: Metrics): boolean {
  return model.mase === null || baseline.mase === null ? model.smape < baseline.smape : model.mase < baseline.mase;
}

function cell(text: string, attrs: Record<string, string> = {}): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  Object.assign(td.dataset, attrs);
  return td;
}

function sideMetrics(model: Metrics | null, baselines: Record<BaselineName, Metrics> | null, side: Side): Metrics | null {
  return side === 'model' ? model : (baselines?.[side] ?? null);
}

/** Each metric's cells, the model's and every baseline's; the lowest of each metric marked (lower is better for all four). */
function metricCells(model: Metrics | null, baselines: Record<BaselineName, Metrics> | null): HTMLTableCellElement[] {
  return METRICS.flatMap(({ key, format }) => {
    const values = SIDES.map((side) => sideMetrics(model, baselines, side)?.[key]);
    const show = (v: number | null | undefined) => (v === undefined ? '–' : v === null ? 'n/a' : format(v));
    const cells = SIDES.map((side, i) => cell(show(values[i]), { key: `${side}.${key}`, value: String(values[i] ?? '') }));
    const numbers = values.filter((v): v is number => typeof v === 'number');
    if (numbers.length > 1) {
      const best = Math.min(...numbers);
      // Marked only where one or some are better, not when all tie.
      if (numbers.some((v) => v > best)) values.forEach((v, i) => v === best && cells[i]!.classList.add('better'));
    }
    return cells;
  });
}

/** The coverage cells of `levels`: share of the hold-out's points inside each interval, as a percentage. */
function coverageCells(levels: readonly number[], coverage: Record<number, number> | null): HTMLTableCellElement[] {
  return levels.map((level) => {
    const v = coverage?.[level];
    return cell(v === undefined ? '–' : `${(100 * v).toFixed(1)}`, { key: `coverage.${level}`, value: String(v ?? '') });
  });
}

function value(row: SeriesRow, key: SortKey, order: number): number | string {
  if (key === 'order') return order;
  if (key === 'id') return row.id;
  if (key === 'points') return row.points;
  const [side, what] = key.split('.') as [Side | 'coverage', string];
  const v = side === 'coverage' ? row.coverage?.[Number(what)] : sideMetrics(row.model, row.baselines, side)?.[what as keyof Metrics];
  return typeof v === 'number' ? v : Number.POSITIVE_INFINITY;
}

export class SeriesTable {
  private rows: SeriesRow[] = [];
  private shown: SeriesRow[] = [];
  private page = 0;
  private sort: { key: SortKey; dir: 1 | -1 } = { key: 'order', dir: 1 };
  private filter = '';
  private selected: string | null = null;
  /** The interval levels of the coverage columns: those of the last backtest. */
  private levels: number[] = [];
  private readonly body: HTMLTableSectionElement;
  private readonly overallBody: HTMLTableSectionElement;

  constructor(
    private readonly table: HTMLTableElement,
    private readonly pager: HTMLElement,
    filter: HTMLInputElement,
    private readonly onSelect: (id: string) => void,
  ) {
    this.header();
    this.overallBody = table.createTBody();
    this.overallBody.id = 'overall';
    this.body = table.createTBody();
    this.body.id = 'rows';
    this.body.addEventListener('click', (e) => {
      const tr = (e.target as HTMLElement).closest('tr');
      if (tr?.dataset.id) this.select(tr.dataset.id);
    });
    filter.addEventListener('input', () => {
      this.filter = filter.value.trim().toLowerCase();
      this.refresh(0);
    });
    pager.addEventListener('click', (e) => {
      const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-page]');
      if (!button) return;
      const last = Math.max(0, Math.ceil(this.shown.length / PAGE_SIZE) - 1);
      const to = { first: 0, prev: this.page - 1, next: this.page + 1, last }[button.dataset.page as 'first' | 'prev' | 'next' | 'last'];
      this.render(Math.min(last, Math.max(0, to)));
    });
  }

  /** The two header rows: each metric over its model and baseline columns, then the coverage per level. */
  private header(): void {
    this.table.tHead?.remove();
    const head = this.table.createTHead();
    const top = head.insertRow();
    const sub = head.insertRow();
    const sortable = (tr: HTMLTableRowElement, key: SortKey, label: string, span: 'rowSpan' | null = null) => {
      const th = document.createElement('th');
      if (span) th.rowSpan = 2;
      th.dataset.sort = key;
      if (this.sort.key === key) th.setAttribute('aria-sort', this.sort.dir === 1 ? 'ascending' : 'descending');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.addEventListener('click', () => this.sortBy(key));
      th.append(b);
      tr.append(th);
    };
    const group = (label: string, span: number, title: string) => {
      const th = document.createElement('th');
      th.colSpan = span;
      th.textContent = label;
      th.title = title;
      top.append(th);
    };
    sortable(top, 'id', 'series', 'rowSpan');
    sortable(top, 'points', 'points', 'rowSpan');
    for (const { key, label } of METRICS) {
      group(label, SIDES.length, `${label} of the model and of each baseline on the hold-out (lower is better)`);
      for (const side of SIDES) sortable(sub, `${side}.${key}`, SIDE_LABEL[side]);
    }
    if (this.levels.length) {
      group(
        'interval coverage %',
        this.levels.length,
        "share of the hold-out inside the model's prediction interval, per level (an 80% interval should hold about 80%)",
      );
      for (const level of this.levels) sortable(sub, `coverage.${level}`, `${level}%`);
    }
  }

  private sortBy(key: SortKey): void {
    this.sort = { key, dir: this.sort.key === key ? (-this.sort.dir as 1 | -1) : 1 };
    for (const th of this.table.tHead!.querySelectorAll<HTMLElement>('th[data-sort]')) {
      if (th.dataset.sort === key) th.setAttribute('aria-sort', this.sort.dir === 1 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    this.refresh(0);
  }

  /** New rows (a new dataset, or the same series with their backtest metrics and its summary). */
  setRows(rows: SeriesRow[], overall: BacktestSummary | null): void {
    this.rows = rows;
    const levels = overall
      ? Object.keys(overall.coverage)
          .map(Number)
          .sort((a, b) => a - b)
      : [];
    if (levels.join() !== this.levels.join()) {
      this.levels = levels;
      if (this.sort.key.startsWith('coverage.') && !levels.includes(Number(this.sort.key.slice(9)))) this.sort = { key: 'order', dir: 1 };
      this.header();
    }
    this.overallBody.replaceChildren();
    if (overall) {
      const tr = this.overallBody.insertRow();
      tr.className = 'overall';
      tr.dataset.beats = beatsBaseline(overall.model, overall.baselines.snaive) ? 'yes' : 'no';
      tr.append(
        cell(`overall (mean of ${rows.length.toLocaleString('en-US')})`),
        cell(''),
        ...metricCells(overall.model, overall.baselines),
        ...coverageCells(this.levels, overall.coverage),
      );
    }
    if (!rows.some((r) => r.id === this.selected)) this.selected = rows[0]?.id ?? null;
    this.refresh(this.page);
  }

  private refresh(page: number): void {
    const { key, dir } = this.sort;
    const order = new Map(this.rows.map((r, i) => [r, i]));
    this.shown = this.rows.filter((r) => !this.filter || r.id.toLowerCase().includes(this.filter));
    this.shown.sort((a, b) => {
      const [x, y] = [value(a, key, order.get(a)!), value(b, key, order.get(b)!)];
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
    this.render(Math.min(page, Math.max(0, Math.ceil(this.shown.length / PAGE_SIZE) - 1)));
  }

  private render(page: number): void {
    this.page = page;
    const from = page * PAGE_SIZE;
    const rows = this.shown.slice(from, from + PAGE_SIZE);
    this.body.replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement('tr');
        tr.dataset.id = r.id;
        tr.setAttribute('aria-selected', String(r.id === this.selected));
        const id = cell(r.id, { key: 'id' });
        if (r.note) {
          // A series forecast by a baseline instead of the network: marked, the reason on hover.
          tr.dataset.fallback = r.method ?? '';
          id.title = r.note;
          id.classList.add('fallback');
        }
        tr.append(
          id,
          cell(r.points.toLocaleString('en-US'), { key: 'points', value: String(r.points) }),
          ...metricCells(r.model, r.baselines),
          ...coverageCells(this.levels, r.coverage),
        );
        return tr;
      }),
    );
    const info = this.pager.querySelector('[data-role="info"]')!;
    const total = this.shown.length.toLocaleString('en-US');
    info.textContent = rows.length
      ? `${(from + 1).toLocaleString('en-US')}–${(from + rows.length).toLocaleString('en-US')} of ${total}`
      : `0 of ${total}`;
  }

  /** Picks a series: highlights its row and tells the page. */
  select(id: string): void {
    this.selected = id;
    for (const tr of this.body.rows) tr.setAttribute('aria-selected', String(tr.dataset.id === id));
    this.onSelect(id);
  }

  /** The series `delta` rows before or after the selected one, in the table's current order. */
  step(delta: number): void {
    const k = this.shown.findIndex((r) => r.id === this.selected);
    const next = this.shown[Math.min(this.shown.length - 1, Math.max(0, k + delta))];
    if (!next) return;
    const page = Math.floor(this.shown.indexOf(next) / PAGE_SIZE);
    if (page !== this.page) this.render(page);
    this.select(next.id);
  }

  get selectedId(): string | null {
    return this.selected;
  }
}
