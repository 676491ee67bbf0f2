// The benchmark page's worker: runs bench/harness.ts off the main thread (WebGPU works in workers in
// Chromium), posting each record as it completes. One webrnn device for the life of the worker.
import { contenderSet, probeAdapter, type AdapterProbe } from '../contenders.ts';
import { DEFAULT_BUDGET, runHarness, type BenchRecord, type BenchReport, type Budget } from '../harness.ts';
import type { RunRequest, WorkerMessage } from './protocol.ts';

const post = (m: WorkerMessage) => postMessage(m);

/** The adapter's summary (and its ceilings, measured at the first run), or why there is none. */
const probe: Promise<AdapterProbe | string> = probeAdapter().catch((e: Error) => e.message);
const set = contenderSet('browser');
let queue = Promise.resolve();
/** Every record of this worker's runs: their times keep later runs within the budget. */
const history: BenchRecord[] = [];

async function run(req: RunRequest): Promise<void> {
  const p = await probe;
  const adapter = typeof p === 'string' ? null : p.adapter;
  const ceilings = typeof p === 'string' ? null : await p.ceilings();
  const { all, reference } = set;
  post({ type: 'ceilings', ceilings });
  const budget: Budget = { ...DEFAULT_BUDGET, ...req.budget };
  const records = await runHarness({
    workloads: req.workloads,
    contenders: all,
    reference,
    adapter,
    ceilings,
    budget,
    earlier: history,
    onRecord: (record) => post({ type: 'record', record }),
    log: (line) => post({ type: 'log', line }),
  });
  const report: BenchReport = {
    date: new Date().toISOString(),
    command: req.command,
    environment: `${navigator.userAgent}, ${navigator.hardwareConcurrency} logical CPUs`,
    adapter,
    ceilings,
    budget: [budget],
    records,
  };
  history.push(...records);
  post({ type: 'done', report });
}

self.onmessage = (e: MessageEvent<RunRequest>) => {
  queue = queue.then(() => run(e.data)).catch((err: Error) => post({ type: 'error', message: err.message }));
};

probe
  .then((p) => {
    const [adapter, adapterError] = typeof p === 'string' ? [null, p] : [p.adapter, null];
    post({ type: 'ready', adapter, adapterError, contenders: set.all.map((c) => c.name) });
  })
  .catch((err: Error) => post({ type: 'error', message: err.message }));
