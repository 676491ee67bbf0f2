import fc from 'fast-check';
import type { Backend } from '../../../src/backends/backend.ts';
import { onBoth, sameAsReference } from '../backends.ts';
import { ensure, ensureFinite, type FuzzProperty, type Tally } from '../harness.ts';
import { elmanCall, forecastCall, forecasterCall, layerCall, netCall, stackCall, trainerCall, type ApiCall } from './calls.ts';
import type { DataSpec } from './pool.ts';
import { prepare } from './run.ts';

/**
 * The API property: a generated call (src: calls.ts) either throws a typed error or gives a result
 * whose numbers are all finite and whose shapes add up; on a GPU, WebGPU refuses the same calls and
 * its results match the float64 reference's (run.ts names each result's tolerance).
 */

export const apiCall: fc.Arbitrary<ApiCall> = fc.oneof(
  { weight: 3, arbitrary: elmanCall },
  { weight: 3, arbitrary: netCall },
  { weight: 3, arbitrary: layerCall },
  { weight: 2, arbitrary: stackCall },
  { weight: 2, arbitrary: forecastCall },
  { weight: 2, arbitrary: trainerCall },
  { weight: 2, arbitrary: forecasterCall },
);

/** Runs one call on the reference (and on `gpu`) and checks what came back. */
export async function checkApiCall(call: ApiCall, gpu: Backend | null, tally: Tally): Promise<void> {
  const p = prepare(call, gpu !== null);
  const run = await onBoth(call.op, (backend) => p.run(backend), gpu, tally);
  if (!run.cpu.ok) return;
  const want = run.cpu.value;
  p.check(want);
  const arrays = p.arrays(want);
  for (const [name, a] of Object.entries(arrays)) ensureFinite(a, `${call.op}: ${name}`);
  if (run.gpu?.ok) {
    const got = run.gpu.value;
    p.check(got);
    const gotArrays = p.arrays(got);
    for (const [name, a] of Object.entries(arrays)) {
      ensure(gotArrays[name] !== undefined, () => `${call.op}: WebGPU's result has no ${name}`);
      sameAsReference(gotArrays[name]!, a, `${call.op}: ${name}`, p.tolerance(name));
    }
  }
}

/** The API property on the float64 reference alone. */
export function apiProperty(): FuzzProperty<ApiCall> {
  return { kind: 'api', name: 'api', weight: 3, arbitrary: apiCall, check: (c, tally) => checkApiCall(c, null, tally) };
}

const capped = (d: DataSpec, max: number): DataSpec => ({ ...d, scale: Math.min(d.scale, max) });

/**
 * A call as the GPU comparison draws it: hand-set layer weights at most ±1 and training data at
 * most ±1 (special values kept). The tolerance the comparison uses (FLOAT32_TOLERANCE, whose
 * rationale is in src/util/compare.ts) is for weights of PyTorch's initial size and data of the
 * scale a forecaster feeds; beyond that float32 is ill-conditioned, not wrong:
 * - recurrent weights of ±100 multiply a float32 rounding by up to 100 a step (seen: an LSTM with
 *   R ±100, Y_c 3e-4 apart relatively after 5 steps);
 * - inputs of ±100 saturate tanh where float32's 1 − tanh² keeps a few bits (27 % off at x ≈ 8),
 *   and Adam's normalised step makes that a visible change of the weights (seen: 9.4e-5 after one
 *   step at lr 1e-3).
 * The reference-only property keeps every scale.
 */
export function conditioned(c: ApiCall): ApiCall {
  if (c.op === 'layer') {
    return { ...c, W: capped(c.W, 1), R: capped(c.R, 1), Bias: c.Bias && capped(c.Bias, 1), P: c.P && capped(c.P, 1) };
  }
  if (c.op === 'trainer') return { ...c, x: capped(c.x, 1), y: capped(c.y, 1) };
  return c;
}

/**
 * The API property against the reference on WebGPU: each input also picks one of `gpus` (the same
 * device set up differently: one program, batches split into chunks, the lanes kernel).
 */
export function apiGpuProperty(gpus: readonly Backend[]): FuzzProperty<[ApiCall, number]> {
  return {
    kind: 'api',
    name: 'api-gpu',
    weight: 1,
    arbitrary: fc.tuple(apiCall.map(conditioned), fc.nat(gpus.length - 1)),
    check: ([c, g], tally) => checkApiCall(c, gpus[g]!, tally),
  };
}
