// One thread of the Node baseline pool (./node-pool.ts): fits the requests it is sent with the
// library's own baselineForecast (./pool.ts fitBaselineTask) and posts the forecasts back.
import { parentPort } from 'node:worker_threads';
import { type BaselineTask, fitBaselineTask } from './pool.ts';

parentPort?.on('message', (task: BaselineTask) => parentPort!.postMessage(fitBaselineTask(task)));
