// The kernel page (kernel.html): the worked example and a batch of random sequences on the GPU, each
// checked against the float64 CPU reference. The forecasting app (index.html) links to it.
import { cpuBackend, describeAdapter, ElmanRNN, tensor, uniformArray, mulberry32, WebGPUBackend, type Nonlinearity } from '../src/index.ts';
import { compare } from '../src/util/compare.ts';
import { WORKED_EXAMPLE, workedExampleModel } from './worked-example.ts';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const status = $('#status');

function setStatus(state: 'running' | 'done' | 'error', text: string) {
  status.dataset.state = state;
  status.textContent = text;
}

function row(cells: (string | number)[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = typeof c === 'number' ? c.toFixed(6) : c;
    tr.append(td);
  }
  return tr;
}

async function workedExample(gpu: WebGPUBackend) {
  const model = workedExampleModel();
  const x = tensor(WORKED_EXAMPLE.x.slice(0, 2), [1, 2, 1]);
  const [g, c] = await Promise.all([model.forward(x, { backend: gpu }), model.forward(x, { backend: cpuBackend })]);
  const body = $('#worked tbody');
  body.replaceChildren(
    row(['today', `yesterday = ${WORKED_EXAMPLE.x[0]}`, WORKED_EXAMPLE.y[0], g.output.data[0]!, c.output.data[0]!]),
    row(['tomorrow', `today = ${WORKED_EXAMPLE.x[1]}`, WORKED_EXAMPLE.y[1], g.output.data[1]!, c.output.data[1]!]),
  );
}

function show(result: Record<string, string>) {
  const dl = $('#batch-result');
  dl.replaceChildren();
  for (const [k, v] of Object.entries(result)) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dd.dataset.key = k;
    dl.append(dt, dd);
  }
}

async function randomBatch(gpu: WebGPUBackend, B: number, T: number, H: number, nonlinearity: Nonlinearity) {
  const model = new ElmanRNN({ inputSize: 1, hiddenSize: H, outputSize: 1, nonlinearity }, { seed: 1 });
  const x = tensor(uniformArray(mulberry32(2), B * T, -1, 1), [B, T, 1]);
  await model.forward(tensor(x.data.subarray(0, T), [1, T, 1]), { backend: gpu }); // builds the pipeline
  const t0 = performance.now();
  const g = await model.forward(x, { backend: gpu });
  const gpuMs = performance.now() - t0;
  const t1 = performance.now();
  const c = await model.forward(x, { backend: cpuBackend });
  const cpuMs = performance.now() - t1;
  const y = compare(g.output.data, c.output.data, { atol: 1e-5, rtol: 1e-4 });
  const h = compare(g.hn.data, c.hn.data, { atol: 1e-5, rtol: 1e-4 });
  show({
    model: `Elman ${nonlinearity}, I=1, H=${H}, O=1, L=1`,
    sequences: `${B.toLocaleString()} × ${T} steps`,
    'GPU time': `${gpuMs.toFixed(1)} ms (one dispatch, upload and readback included)`,
    'CPU reference time': `${cpuMs.toFixed(1)} ms (float64, plain loops)`,
    'CPU / GPU': `${(cpuMs / gpuMs).toFixed(1)}×`,
    'largest difference': Math.max(y.maxAbsError, h.maxAbsError).toExponential(2),
    'within float32 tolerance': y.ok && h.ok ? 'yes' : `no: ${y.ok ? h.message : y.message}`,
  });
  return y.ok && h.ok;
}

async function start() {
  if (!('gpu' in navigator)) throw new Error('this browser has no WebGPU (navigator.gpu is undefined)');
  const gpu = await WebGPUBackend.create();
  $('#adapter').textContent = describeAdapter(gpu.gpu.summary).replace('[webrnn] ', '');
  const form = $<HTMLFormElement>('#batch-form');
  const button = form.querySelector('button')!;
  const run = async () => {
    const f = new FormData(form);
    button.disabled = true;
    setStatus('running', 'Running on the GPU and on the CPU reference…');
    try {
      const ok = await randomBatch(
        gpu,
        Number(f.get('batch')),
        Number(f.get('steps')),
        Number(f.get('hidden')),
        f.get('nonlinearity') as Nonlinearity,
      );
      setStatus(ok ? 'done' : 'error', ok ? 'Done: the GPU matches the float64 reference.' : 'The GPU result differs from the reference.');
    } catch (e) {
      setStatus('error', `Error: ${(e as Error).message}`);
    } finally {
      button.disabled = false;
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  await workedExample(gpu);
  await run();
}

start().catch((e: Error) => setStatus('error', `Error: ${e.message}`));
