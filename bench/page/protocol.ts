import type { AdapterSummary } from '../../src/gpu/device.ts';
import type { Ceilings } from '../ceilings.ts';
import type { BenchRecord, BenchReport, Budget } from '../harness.ts';
import type { Workload } from '../workloads.ts';

/** Messages between the benchmark page (main.ts) and the worker that runs the harness (worker.ts). */

/** Page → worker: run these workloads; `command` names the page action in the report. */
export interface RunRequest {
  type: 'run';
  workloads: Workload[];
  budget: Partial<Budget>;
  command: string;
}

/** Worker → page. `ready` comes once, when the worker has looked at the adapter and the contenders. */
export type WorkerMessage =
  | { type: 'ready'; adapter: AdapterSummary | null; adapterError: string | null; contenders: string[] }
  | { type: 'ceilings'; ceilings: Ceilings | null }
  | { type: 'log'; line: string }
  | { type: 'record'; record: BenchRecord }
  | { type: 'done'; report: BenchReport }
  | { type: 'error'; message: string };
