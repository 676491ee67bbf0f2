import fc from 'fast-check';
import type { Backend } from '../../../src/backends/backend.ts';
import { cpuBackend } from '../../../src/backends/cpu.ts';
import { Forecaster } from '../../../src/forecast/forecaster.ts';
import { RecurrentNet } from '../../../src/model/recurrent.ts';
import { loadOnnxModel, type OnnxModel } from '../../../src/onnx/graph.ts';
import { decodeTensor, type OnnxTensor } from '../../../src/onnx/tensor.ts';
import { tensor, type FloatArray } from '../../../src/tensor.ts';
import type { Tolerance } from '../../../src/util/compare.ts';
import { mulberry32, uniformArray } from '../../../src/util/rng.ts';
import { CPU_MS, onBoth, sameAsReference } from '../backends.ts';
import { attempt, ensure, ensureFinite, type FuzzProperty, type Tally } from '../harness.ts';
import { applyMutations, mutations, type Mutation } from './mutate.ts';
import { forecastSeries, lstmModel, type ModelSeed, type SeedKind } from './seeds.ts';

/**
 * The model-file property: a valid file, mutated, then loaded and run. Loading either throws a
 * typed error or gives a model; the model either throws a typed error on a well-formed call or
 * gives outputs that hold no non-finite value; with a GPU, the WebGPU backend's outputs match the
 * float64 reference's (FLOAT32_TOLERANCE, as the GPU tests use; forecasts in series units
 * {atol: 1e-4, rtol: 1e-4}, as test/forecast.gpu.test.ts uses) and the two refuse the same calls
 * (the GPU may also refuse what exceeds its limits, with a DeviceError).
 */

/** One input: which seed, and the mutations applied to it (the bytes follow from these). */
export interface ModelCase {
  seed: string;
  kind: SeedKind;
  mutations: Mutation[];
}

/** Forecasts are compared in the series' units, as test/forecast.gpu.test.ts does. */
const FORECAST_TOLERANCE: Tolerance = { atol: 1e-4, rtol: 1e-4 };
/** Feeds larger than this are not built (a mutated dimension); the case counts as loaded only. */
const MAX_FEED = 1 << 16;

/** A seed (its kind first, each kind equally often) and its mutations. */
export function modelCases(seeds: readonly ModelSeed[]): fc.Arbitrary<ModelCase> {
  const kinds = [...new Set(seeds.map((s) => s.kind))];
  return fc
    .constantFrom(...kinds)
    .chain((kind) => fc.constantFrom(...seeds.filter((s) => s.kind === kind)))
    .chain((s) => mutations(s.kind).map((m) => ({ seed: s.name, kind: s.kind, mutations: m })));
}

function floatOutputs(outputs: Record<string, OnnxTensor>): Array<[string, FloatArray]> {
  return Object.entries(outputs).flatMap(([name, t]) =>
    t.data instanceof Float32Array || t.data instanceof Float64Array ? [[name, t.data] as [string, FloatArray]] : [],
  );
}

/** Feeds for a model's declared inputs: symbolic dimensions 2 (T: 3), floats uniform in ±1, integers 1. */
function feedsFor(model: OnnxModel, seed: number): Record<string, OnnxTensor> | null {
  const r = mulberry32(seed);
  const feeds: Record<string, OnnxTensor> = {};
  for (const info of model.inputs) {
    if (!info.dims) return null;
    // A declared size no tensor can have (negative) is for the model's run to refuse: fed as 1.
    const dims = info.dims.map((d) => (typeof d === 'number' ? Math.max(d, 1) : d === 'T' ? 3 : 2));
    const n = dims.reduce((a, b) => a * b, 1);
    if (!(n <= MAX_FEED)) return null;
    const data =
      info.type === 'float32'
        ? uniformArray(r, n, -1, 1)
        : info.type === 'float64'
          ? Float64Array.from(uniformArray(r, n, -1, 1))
          : info.type === 'int32'
            ? new Int32Array(n).fill(1)
            : info.type === 'int64'
              ? new BigInt64Array(n).fill(1n)
              : info.type === 'bool'
                ? new Uint8Array(n).fill(1)
                : null;
    if (!data) return null;
    feeds[info.name] = { type: info.type, dims, data };
  }
  return feeds;
}

async function runOnnx(
  model: OnnxModel,
  feeds: Record<string, OnnxTensor>,
  gpu: Backend | null,
  tally: Tally,
  what: string,
): Promise<void> {
  const run = await onBoth(what, (backend) => model.run(feeds, { backend }), gpu, tally);
  if (!run.cpu.ok) return;
  const want = floatOutputs(run.cpu.value);
  for (const [name, data] of want) ensureFinite(data, `${what}: output ${name}`);
  if (run.gpu?.ok) {
    const got = Object.fromEntries(floatOutputs(run.gpu.value));
    for (const [name, data] of want) sameAsReference(got[name]!, data, `${what}: output ${name}`);
  }
}

async function checkOnnx(bytes: Uint8Array, gpu: Backend | null, tally: Tally): Promise<void> {
  const loaded = await attempt('loading the ONNX model', () => loadOnnxModel(bytes), CPU_MS);
  tally.outcome(loaded, 'load: ');
  if (!loaded.ok) return;
  const feeds = feedsFor(loaded.value, 7);
  if (!feeds) return tally.add('loaded, no feed built');
  await runOnnx(loaded.value, feeds, gpu, tally, 'running the model');
}

let pbModel: OnnxModel | null = null;

async function checkPb(bytes: Uint8Array, gpu: Backend | null, tally: Tally): Promise<void> {
  const decoded = await attempt('decoding the tensor', () => decodeTensor(bytes), CPU_MS);
  tally.outcome(decoded, 'decode: ');
  if (!decoded.ok) return;
  const t = decoded.value;
  ensure(
    t.dims.every((d) => Number.isSafeInteger(d) && d >= 0),
    () => `the decoded tensor has dims [${t.dims.join(', ')}]`,
  );
  const n = t.dims.reduce((a, b) => a * b, 1);
  ensure(t.data.length === n, () => `the decoded tensor holds ${t.data.length} elements but dims [${t.dims.join(', ')}] need ${n}`);
  if (n > MAX_FEED) return tally.add('decoded, too large to feed');
  // Fed as X to the LSTM model of the seeds (X [T, B, 3]; lens, h0 and c0 sized for its batch).
  pbModel ??= loadOnnxModel(lstmModel());
  const [T, B] = t.dims.length === 3 ? [t.dims[0]!, t.dims[1]!] : [1, 1];
  const state = { type: 'float32' as const, dims: [2, B, 4], data: new Float32Array(2 * B * 4) };
  const feeds = { X: t, lens: { type: 'int32' as const, dims: [B], data: new Int32Array(B).fill(T) }, h0: state, c0: state };
  await runOnnx(pbModel, feeds, gpu, tally, 'running the LSTM on the decoded X');
}

async function checkSafetensors(bytes: Uint8Array, gpu: Backend | null, tally: Tally): Promise<void> {
  const loaded = await attempt('loading the state dict', () => RecurrentNet.fromSafetensors(bytes), CPU_MS);
  tally.outcome(loaded, 'load: ');
  if (!loaded.ok) return;
  const net = loaded.value;
  const { inputSize: I, batchFirst } = net.config;
  const [B, T] = [2, 3];
  if (B * T * I > MAX_FEED) return tally.add('loaded, input too large');
  const x = tensor(uniformArray(mulberry32(11), B * T * I, -1, 1), batchFirst ? [B, T, I] : [T, B, I]);
  const run = await onBoth('forward', (backend) => net.forward(x, { backend }), gpu, tally);
  if (!run.cpu.ok) return;
  const want = run.cpu.value;
  for (const [name, t] of [
    ['output', want.output],
    ['hn', want.hn],
    ['cn', want.cn],
  ] as const)
    if (t) ensureFinite(t.data, `forward: ${name}`);
  if (run.gpu?.ok) {
    const got = run.gpu.value;
    sameAsReference(got.output.data, want.output.data, 'forward: output');
    sameAsReference(got.hn.data, want.hn.data, 'forward: hn');
    if (want.cn) sameAsReference(got.cn!.data, want.cn.data, 'forward: cn');
  }
}

/**
 * The options a saved forecaster's metadata states, as far as they can be read: the horizon a
 * forecast must have (null when it is not a positive integer: then the file must be refused) and
 * the exogenous columns whose future values the call must give.
 */
function statedOptions(bytes: Uint8Array): { horizon: number | null; exog: string[] } {
  try {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
    const options = JSON.parse(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))).__metadata__.options);
    const h = options.horizon;
    return { horizon: Number.isSafeInteger(h) && h > 0 ? h : null, exog: Array.isArray(options.exog) ? options.exog.map(String) : [] };
  } catch {
    return { horizon: null, exog: [] };
  }
}

async function checkForecaster(bytes: Uint8Array, gpu: Backend | null, tally: Tally): Promise<void> {
  const loaded = await attempt('loading the saved forecaster', () => Forecaster.fromSafetensors(bytes, cpuBackend), CPU_MS);
  tally.outcome(loaded, 'load: ');
  if (!loaded.ok) return;
  const { horizon, exog } = statedOptions(bytes);
  const series = forecastSeries(3, 24);
  // Future covariates for the horizon (a huge one gets a few: the call must refuse it anyway).
  const futureLength = Math.min(horizon ?? 3, 1 << 16);
  const future = Object.fromEntries(
    series.map((s) => [
      s.id,
      Object.fromEntries(exog.map((name) => [name, Float64Array.from({ length: futureLength }, (_, h) => Math.cos(h))])),
    ]),
  );
  const run = await onBoth(
    'predict',
    (backend) => (backend === cpuBackend ? loaded.value : Forecaster.fromSafetensors(bytes, backend)).predict(series, future),
    gpu,
    tally,
  );
  if (!run.cpu.ok) return;
  const want = run.cpu.value;
  ensure(want.length === series.length, () => `predict gave ${want.length} forecasts for ${series.length} series`);
  want.forEach((f, k) => {
    ensure(f.id === series[k]!.id, () => `forecast ${k} is of ${f.id}, not ${series[k]!.id}`);
    ensure(f.values.length === horizon, () => `forecast ${f.id} has ${f.values.length} values, the horizon is ${String(horizon)}`);
    ensureFinite(f.values, `the forecast of ${f.id}`);
  });
  if (run.gpu?.ok)
    run.gpu.value.forEach((f, k) => sameAsReference(f.values, want[k]!.values, `the forecast of ${f.id}`, FORECAST_TOLERANCE));
}

const CHECKS: Record<SeedKind, (bytes: Uint8Array, gpu: Backend | null, tally: Tally) => Promise<void>> = {
  onnx: checkOnnx,
  pb: checkPb,
  safetensors: checkSafetensors,
  forecaster: checkForecaster,
};

/** Checks one mutated file (on the float64 reference, and against it on `gpu` when given). */
export async function checkModelCase(c: ModelCase, seeds: readonly ModelSeed[], gpu: Backend | null, tally: Tally): Promise<void> {
  const seed = seeds.find((s) => s.name === c.seed && s.kind === c.kind)!;
  tally.add(`${c.kind}`);
  await CHECKS[c.kind](applyMutations(seed.bytes, c.kind, c.mutations), gpu, tally);
}

/** The model-file property over `seeds`, on the float64 reference alone. */
export function modelProperty(seeds: readonly ModelSeed[]): FuzzProperty<ModelCase> {
  return {
    kind: 'model',
    name: 'model-files',
    weight: 3,
    arbitrary: modelCases(seeds),
    check: (c, tally) => checkModelCase(c, seeds, null, tally),
  };
}

/** The model-file property against the reference on WebGPU; each input also picks one of `gpus` (see apiGpuProperty). */
export function modelGpuProperty(seeds: readonly ModelSeed[], gpus: readonly Backend[]): FuzzProperty<[ModelCase, number]> {
  return {
    kind: 'model',
    name: 'model-files-gpu',
    weight: 1,
    arbitrary: fc.tuple(modelCases(seeds), fc.nat(gpus.length - 1)),
    check: ([c, g], tally) => checkModelCase(c, seeds, gpus[g]!, tally),
  };
}
