// The forecasting app `npm start` opens (index.html). The page only shows things: the worker
// (worker.ts) holds the data and the backend, parses, generates, trains and forecasts, and sends
// back summaries, progress and one series at a time (protocol.ts).
import { LossChart, SeriesChart } from './charts.ts';
import { OptionsForm } from './options-form.ts';
import { BASELINE_LABELS, BASELINES } from '../src/forecast/baselines/index.ts';
import type { BuiltinName, ColumnMapping, ErrorInfo, Phase, Reply, Request } from './protocol.ts';
import { beatsBaseline, SeriesTable } from './series-table.ts';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const status = $('#status');

type State = 'starting' | 'loading' | 'ready' | 'training' | 'backtested' | 'done' | 'cancelled' | 'error';
function setStatus(state: State, text: string) {
  status.dataset.state = state;
  status.textContent = text;
}

/**
 * The worker, and the data it was last asked to load, so that a fresh worker can take over: a
 * cancel is answered between training steps, but a long stretch of synchronous work (windowing
 * tens of thousands of series) cannot hear it, and is ended by replacing the worker.
 */
let worker: Worker;
let lastLoad: Extract<Request, { type: 'load' }> | null = null;
let cancelTimer = 0;
const CANCEL_GRACE_MS = 3000;

function startWorker() {
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<Reply>) => onReply(e.data);
  worker.onerror = (e) => setStatus('error', `Error: the worker failed (${e.message || 'it could not be loaded'})`);
}

function send(request: Request) {
  if (request.type === 'load') lastLoad = request;
  worker.postMessage(request);
}

function cancel() {
  cancelButton.disabled = true;
  send({ type: 'cancel' });
  cancelTimer = window.setTimeout(() => {
    worker.terminate();
    startWorker();
    setRunning(false);
    setStatus('cancelled', 'Cancelled: the worker was busy and has been replaced; reloading the data…');
    if (lastLoad) send(lastLoad);
  }, CANCEL_GRACE_MS);
}

const options = new OptionsForm($<HTMLFormElement>('#options-form'));
const lossChart = new LossChart($<HTMLCanvasElement>('#loss-chart'));
const seriesChart = new SeriesChart($<HTMLCanvasElement>('#series-chart'));
const table = new SeriesTable($<HTMLTableElement>('#series-table'), $('#pager'), $<HTMLInputElement>('#filter'), (id) =>
  send({ type: 'series', id }),
);
const runButton = $<HTMLButtonElement>('#run');
const cancelButton = $<HTMLButtonElement>('#cancel');
const downloadButton = $<HTMLButtonElement>('#download');
const progress = $<HTMLProgressElement>('#progress');
const sourceForms = ['#builtin-form', '#synthetic-form', '#file-form'].map((s) => $<HTMLFormElement>(s));
let dataLoaded = false;
/** The backtest's notes (series a baseline stood in for), shown until the next run with the final forecast's. */
let backtestNotes: string[] = [];

function setRunning(running: boolean) {
  options.disabled = running;
  runButton.disabled = running || !dataLoaded;
  cancelButton.disabled = !running;
  for (const form of sourceForms)
    for (const b of form.querySelectorAll('button')) b.disabled = running || (form.id === 'file-form' && !fileForm.file);
}

function showError(error: ErrorInfo | null) {
  const box = $('#data-error');
  box.hidden = !error;
  box.textContent = error ? `This file cannot be read: ${error.message}` : '';
  box.dataset.row = error?.row === null || !error ? '' : String(error.row);
  box.dataset.column = error?.column ?? '';
  if (error) box.scrollIntoView({ block: 'nearest' });
}

function load(request: Extract<Request, { type: 'load' }>, what: string) {
  setStatus('loading', `Loading ${what}…`);
  $('#data-summary').dataset.state = 'loading';
  send(request);
}

/** The upload form: a file, its detected layout and the column mapping, filled from its header. */
const fileForm = {
  form: $<HTMLFormElement>('#file-form'),
  file: null as File | null,
  select(name: 'format' | 'id' | 'ds' | 'y') {
    return this.form.elements.namedItem(name) as HTMLSelectElement;
  },
  fill(header: string[], mapping: ColumnMapping) {
    for (const name of ['id', 'ds', 'y'] as const) {
      const select = this.select(name);
      select.replaceChildren(...header.map((h) => new Option(h, h)));
      select.value = mapping[name];
    }
    this.select('format').value = mapping.format;
    this.dsFormat().value = mapping.dsFormat ?? '';
    this.form.querySelector<HTMLElement>('.mapping')!.hidden = false;
    this.showFormat();
  },
  showFormat() {
    const long = this.select('format').value === 'long';
    for (const label of this.form.querySelectorAll<HTMLElement>('[data-for="long"]')) label.hidden = !long;
  },
  /** The stated time-stamp format; empty to detect it (needed when the stamps read two ways). */
  dsFormat() {
    return this.form.elements.namedItem('dsFormat') as HTMLInputElement;
  },
  mapping(): ColumnMapping {
    const dsFormat = this.dsFormat().value.trim();
    return {
      format: this.select('format').value as ColumnMapping['format'],
      id: this.select('id').value,
      ds: this.select('ds').value,
      y: this.select('y').value,
      ...(dsFormat ? { dsFormat } : {}),
    };
  },
  submit() {
    if (this.file) load({ type: 'load', source: { kind: 'file', file: this.file, mapping: this.mapping() } }, this.file.name);
  },
};

$<HTMLFormElement>('#builtin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = new FormData(e.target as HTMLFormElement).get('builtin') as BuiltinName;
  load({ type: 'load', source: { kind: 'builtin', name } }, 'the built-in data');
});

$<HTMLFormElement>('#synthetic-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = new FormData(e.target as HTMLFormElement);
  const [count, length, season, seed] = ['count', 'length', 'season', 'seed'].map((k) => Number(f.get(k))) as [
    number,
    number,
    number,
    number,
  ];
  load({ type: 'load', source: { kind: 'synthetic', count, length, season, seed } }, `${count.toLocaleString('en-US')} synthetic series`);
});

fileForm.form.addEventListener('change', (e) => {
  const target = e.target as HTMLInputElement;
  if (target.name === 'format') fileForm.showFormat();
  if (target.name !== 'file') return;
  fileForm.file = target.files?.[0] ?? null;
  if (!fileForm.file) return;
  setStatus('loading', `Reading ${fileForm.file.name}…`);
  send({ type: 'inspect', file: fileForm.file });
});
fileForm.form.addEventListener('submit', (e) => {
  e.preventDefault();
  fileForm.submit();
});

$<HTMLFormElement>('#options-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const o = options.read();
  if (!o) return;
  lossChart.reset();
  heldOut = '';
  progress.value = 0;
  downloadButton.disabled = true;
  showNotes((backtestNotes = []));
  setRunning(true);
  setStatus('training', 'Backtesting: training on each series up to its last points…');
  send({ type: 'run', options: o });
});
cancelButton.addEventListener('click', cancel);
downloadButton.addEventListener('click', () => send({ type: 'download' }));
for (const b of document.querySelectorAll<HTMLButtonElement>('.series-nav [data-step]'))
  b.addEventListener('click', () => table.step(Number(b.dataset.step)));

const PHASE_TEXT: Record<Phase, string> = { backtest: 'backtest fit', final: 'final fit' };

/** The last epoch's held-out loss (early stopping's measure), shown with every progress report of the run. */
let heldOut = '';

function showProgress(p: Extract<Reply, { type: 'progress' }>) {
  // The bar counts to the most epochs (early stopping may end the run before them, and the phase's
  // half is done when it ends); where they are unknown, only the phases' ends move it.
  const steps = p.stepsPerEpoch;
  const inEpoch = steps ? Math.min(1, p.stepInEpoch / steps) : 0;
  const within = p.epochs === null ? 0 : Math.min(1, (p.epoch - 1 + inEpoch) / p.epochs);
  progress.value = Math.max(progress.value, (p.phase === 'backtest' ? 0 : 0.5) + within / 2);
  const loss = p.losses.at(-1)?.loss;
  if (p.heldOutLoss !== null) heldOut = `, held-out loss ${p.heldOutLoss.toPrecision(4)} after epoch ${p.epoch}`;
  const epoch = p.epochs === null ? `epoch ${p.epoch} (stops early)` : `epoch ${p.epoch}/${p.epochs}`;
  const step = steps ? `step ${Math.min(p.stepInEpoch, steps)}/${steps}` : `step ${p.stepInEpoch}`;
  $('#progress-text').textContent =
    `${PHASE_TEXT[p.phase]}: ${epoch}, ${step}${loss === undefined ? '' : `, loss ${loss.toPrecision(4)}`}${heldOut}`;
  lossChart.push(p.phase, p.losses);
}

/** A share (0–1) as a percentage. */
const percent = (share: number) => `${(100 * share).toFixed(1)}%`;

/**
 * The verdict: the model's mean MASE (or sMAPE where MASE is undefined) against each baseline's,
 * OWA against Naive2, on how many series it beats seasonal naive, and its intervals' coverage.
 * `data-beats`: `all`, `some` or `none` of the baselines beaten; `data-beaten`: their names.
 */
function showVerdict({ summary, rows, horizon }: Extract<Reply, { type: 'backtest' }>) {
  const { model, baselines, owa, coverage, msis } = summary;
  const beaten = BASELINES.filter((b) => beatsBaseline(model, baselines[b]));
  const better = rows.filter((r) => r.model && r.baselines && beatsBaseline(r.model, r.baselines.snaive)).length;
  const verdict = $('#verdict');
  verdict.dataset.beats = beaten.length === BASELINES.length ? 'all' : beaten.length ? 'some' : 'none';
  verdict.dataset.beaten = beaten.join(' ');
  const useMase = model.mase !== null && BASELINES.every((b) => baselines[b].mase !== null);
  const score = (m: { mase: number | null; smape: number }) => (useMase ? m.mase!.toFixed(3) : `${m.smape.toFixed(2)}%`);
  const against = BASELINES.map((b) => `${BASELINE_LABELS[b]} ${score(baselines[b])}`).join(', ');
  const beats =
    beaten.length === BASELINES.length
      ? 'beats every baseline'
      : beaten.length === 0
        ? 'beats none of the baselines'
        : `beats ${beaten.map((b) => BASELINE_LABELS[b]).join(' and ')}, not ${BASELINES.filter((b) => !beaten.includes(b))
            .map((b) => BASELINE_LABELS[b])
            .join(' or ')}`;
  const levels = Object.keys(coverage)
    .map(Number)
    .sort((a, b) => a - b);
  verdict.textContent =
    `On the hold-out (the last ${horizon} points of each series) the model ${beats}: ` +
    `mean ${useMase ? 'MASE' : 'sMAPE'} ${score(model)} against ${against}; ` +
    `OWA ${owa === null ? 'undefined' : owa.toFixed(3)} (below 1 beats Naive2); ` +
    `better than seasonal naive on ${better.toLocaleString('en-US')} of ${rows.length.toLocaleString('en-US')} series. ` +
    (levels.length
      ? `Intervals: ${levels.map((l) => `${l}% hold ${percent(coverage[l]!)}`).join(', ')} of the points${msis === null ? '' : `; MSIS ${msis.toFixed(3)}`}.`
      : '');
}

/** The series a baseline stood in for, and why (the backtest's and the final forecast's). */
function showNotes(notes: readonly string[]) {
  const list = $('#notes');
  list.replaceChildren(...notes.map((n) => Object.assign(document.createElement('li'), { textContent: n })));
  list.hidden = notes.length === 0;
  list.dataset.count = String(notes.length);
}
function download(text: string, name: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function onReply(reply: Reply) {
  if (['cancelled', 'forecast', 'run-error'].includes(reply.type)) clearTimeout(cancelTimer);
  switch (reply.type) {
    case 'backend':
      $('#backend').dataset.name = reply.name;
      $('#backend').dataset.software = String(reply.software);
      $('#backend').textContent = `Runs on ${reply.detail}`;
      $('#software-note').hidden = !reply.software;
      break;
    case 'header':
      fileForm.fill(reply.header, reply.mapping);
      fileForm.submit();
      break;
    case 'loaded':
      dataLoaded = true;
      showError(null);
      $('#data-summary').dataset.state = 'loaded';
      $('#data-summary').dataset.series = String(reply.rows.length);
      $('#data-summary').textContent =
        `${reply.label}: ${reply.rows.length.toLocaleString('en-US')} series, ${reply.points.toLocaleString('en-US')} points.`;
      if (reply.season) options.suggestSeason(reply.season);
      table.setRows(reply.rows, null);
      $('#verdict').textContent = 'Run a backtest to compare the model with seasonal naive, Naive2, ETS and Theta.';
      delete $('#verdict').dataset.beats;
      delete $('#verdict').dataset.beaten;
      showNotes((backtestNotes = []));
      downloadButton.disabled = true;
      if (table.selectedId) send({ type: 'series', id: table.selectedId });
      setRunning(false);
      setStatus('ready', 'Data loaded: set the options and run the backtest.');
      break;
    case 'load-error':
      showError(reply.error);
      $('#data-summary').dataset.state = dataLoaded ? 'loaded' : 'empty';
      setRunning(false);
      setStatus('error', `Error: ${reply.error.message}`);
      break;
    case 'progress':
      showProgress(reply);
      break;
    case 'status':
      $('#progress-text').textContent = reply.text;
      break;
    case 'backtest':
      table.setRows(reply.rows, reply.summary);
      showVerdict(reply);
      showNotes((backtestNotes = reply.summary.notes.map((n) => `backtest: ${n}`)));
      if (table.selectedId) send({ type: 'series', id: table.selectedId });
      setStatus('backtested', "Backtest done: forecasting each series from its end with the backtest's networks and baselines…");
      break;
    case 'forecast':
      progress.value = 1;
      showNotes([...backtestNotes, ...reply.notes.map((n) => `forecast: ${n}`)]);
      downloadButton.disabled = false;
      if (table.selectedId) send({ type: 'series', id: table.selectedId });
      setRunning(false);
      setStatus(
        'done',
        `Forecast ready: ${reply.series.toLocaleString('en-US')} series × ${reply.horizon} points, ${reply.seconds.toFixed(1)} s in all.`,
      );
      break;
    case 'run-error':
      setRunning(false);
      setStatus('error', `Error: ${reply.error.message}`);
      break;
    case 'cancelled':
      setRunning(false);
      setStatus('cancelled', 'Cancelled.');
      break;
    case 'series':
      if (reply.view.id === table.selectedId) seriesChart.show(reply.view);
      break;
    case 'csv':
      download(reply.text, reply.name);
      break;
  }
}

// Anything uncaught says so on the page (the browser's benign ResizeObserver notice aside).
window.addEventListener('error', (e) => {
  if (!/ResizeObserver loop/.test(e.message)) setStatus('error', `Error: ${e.message}`);
});
window.addEventListener('unhandledrejection', (e) => setStatus('error', `Error: ${String((e.reason as Error)?.message ?? e.reason)}`));

startWorker();
setRunning(false);
load({ type: 'load', source: { kind: 'builtin', name: 'unemployment' } }, 'the built-in data');
