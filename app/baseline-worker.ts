/// <reference lib="webworker" />
// One thread of the app's baseline pool (app/baseline-pool.ts): fits the requests it is sent with the
// library's own baselineForecast (src/forecast/baselines/pool.ts fitBaselineTask) and posts them back.
import { type BaselineTask, fitBaselineTask } from '../src/forecast/baselines/pool.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (e: MessageEvent<BaselineTask>) => scope.postMessage(fitBaselineTask(e.data));
