// The benchmark page (bench.html, served by `npm start`): the harness of `npm run bench` in a worker,
// on this browser's WebGPU adapter, with the browser's contenders. Results go into a table, a batch
// sweep into a log-log chart, and the whole report into a JSON download.
import { describeAdapter } from '../../src/gpu/device.ts';
import { tableRows, type BenchRecord, type BenchReport, type Budget } from '../harness.ts';
import { BATCH_SWEEP, batchSweep, MODELS, STANDARD, type Workload } from '../workloads.ts';
import { SweepChart } from './chart.ts';
import type { RunRequest, WorkerMessage } from './protocol.ts';

/** Smaller than the CLI's: a page should answer within minutes on a software adapter. */
const PAGE_BUDGET: Partial<Budget> = { cellMs: 4_000, runLimitMs: 20_000, referenceMs: 30_000, hostBytes: 2 ** 30 };

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const form = $<HTMLFormElement>('#run-form');
const status = $('#status');
const chart = new SweepChart($<HTMLCanvasElement>('#chart'));
let worker: Worker;

function setStatus(state: 'starting' | 'ready' | 'running' | 'done' | 'error', text: string) {
  status.dataset.state = state;
  status.textContent = text;
}

function setRunning(running: boolean) {
  for (const b of form.querySelectorAll<HTMLButtonElement>('button[data-action]')) b.disabled = running;
  $<HTMLButtonElement>('#stop').disabled = !running;
}

function log(line: string) {
  const pre = $('#log');
  pre.textContent = `${pre.textContent}${line}\n`.split('\n').slice(-200).join('\n');
  pre.scrollTop = pre.scrollHeight;
}

function fillForm() {
  const model = form.elements.namedItem('model') as HTMLSelectElement;
  model.replaceChildren(...Object.keys(MODELS).map((m) => new Option(m, m, m === 'elman-relu-h32', m === 'elman-relu-h32')));
  const max = form.elements.namedItem('maxBatch') as HTMLSelectElement;
  max.replaceChildren(...BATCH_SWEEP.map((b) => new Option(b.toLocaleString('en-US'), String(b), b === 16_384, b === 16_384)));
}

function startTable() {
  const [header] = tableRows([]);
  const tr = document.createElement('tr');
  for (const h of header!) tr.append(Object.assign(document.createElement('th'), { textContent: h }));
  $('#results thead').replaceChildren(tr);
  $('#results tbody').replaceChildren();
}

function addRow(r: BenchRecord) {
  const [, cells] = tableRows([r]);
  const tr = document.createElement('tr');
  tr.dataset.contender = r.contender;
  tr.dataset.status = r.status === 'ok' || r.status === 'failed' ? r.status : 'unavailable';
  tr.title = r.validatedAgainst ? `validated against ${r.validatedAgainst}` : (r.message ?? r.status);
  for (const c of cells!) tr.append(Object.assign(document.createElement('td'), { textContent: c }));
  $('#results tbody').append(tr);
}

function offerDownload(report: BenchReport) {
  const a = $<HTMLAnchorElement>('#download');
  if (a.href) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' }));
  a.download = `webrnn-bench-${report.date.replace(/[:.]/g, '-')}.json`;
  a.hidden = false;
}

function onMessage(m: WorkerMessage) {
  switch (m.type) {
    case 'ready':
      $('#adapter').textContent = m.adapter ? describeAdapter(m.adapter).replace('[webrnn] ', '') : `No WebGPU adapter: ${m.adapterError}`;
      $('#contenders').textContent = `Contenders: ${m.contenders.join(', ')}.`;
      setRunning(false);
      return setStatus('ready', 'Ready.');
    case 'ceilings':
      $('#ceilings').textContent = m.ceilings
        ? `Ceilings on this adapter: copy ${m.ceilings.copyGBs.toFixed(1)} GB/s, matmul ${m.ceilings.matmulGflops.toFixed(1)} GFLOP/s.`
        : 'Ceilings: not measured (bench/ceilings.ts is absent).';
      return;
    case 'log':
      return log(m.line);
    case 'record':
      addRow(m.record);
      return chart.add(m.record);
    case 'done':
      offerDownload(m.report);
      setRunning(false);
      return setStatus(
        'done',
        `Done: ${m.report.records.filter((r) => r.status === 'ok').length} of ${m.report.records.length} cells measured.`,
      );
    case 'error':
      setRunning(false);
      return setStatus('error', `Error: ${m.message}`);
  }
}

function startWorker() {
  worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<WorkerMessage>) => onMessage(e.data);
  worker.onerror = (e) => onMessage({ type: 'error', message: e.message || 'the worker failed to load' });
}

/** The workloads and chart title of a form action. */
function plan(action: string, f: FormData): { workloads: Workload[]; command: string } {
  const model = String(f.get('model'));
  if (action === 'standard') return { workloads: STANDARD, command: 'bench.html: standard' };
  if (action === 'sweep') {
    const max = Number(f.get('maxBatch'));
    return {
      workloads: batchSweep(
        model,
        BATCH_SWEEP.filter((b) => b <= max),
      ),
      command: `bench.html: batch sweep of ${model} up to B=${max}`,
    };
  }
  const batch = Number(f.get('batch'));
  const steps = Number(f.get('steps'));
  return { workloads: [{ name: model, ...MODELS[model]!, batch, steps }], command: `bench.html: ${model} B=${batch} T=${steps}` };
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const action = (e.submitter as HTMLButtonElement | null)?.dataset.action ?? 'standard';
  const { workloads, command } = plan(action, new FormData(form));
  startTable();
  chart.reset(action === 'standard' ? 'standard workloads (different models)' : `${workloads[0]!.name}, T=${workloads[0]!.steps}`);
  $('#log').textContent = '';
  $<HTMLAnchorElement>('#download').hidden = true;
  setRunning(true);
  setStatus('running', `Running ${command.replace('bench.html: ', '')}…`);
  worker.postMessage({ type: 'run', workloads, budget: PAGE_BUDGET, command } satisfies RunRequest);
});

$('#stop').addEventListener('click', () => {
  worker.terminate();
  setStatus('starting', 'Stopped; restarting the worker…');
  startWorker();
});

fillForm();
startTable();
setRunning(true);
startWorker();
