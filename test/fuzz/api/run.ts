import type { Backend } from '../../../src/backends/backend.ts';
import { cpuBackend } from '../../../src/backends/cpu.ts';
import { Forecaster } from '../../../src/forecast/forecaster.ts';
import type { Series } from '../../../src/forecast/frame.ts';
import { ElmanRNN } from '../../../src/model/elman.ts';
import { RecurrentNet } from '../../../src/model/recurrent.ts';
import { activation } from '../../../src/rnn/activations.ts';
import { recurrentLayerSpec } from '../../../src/rnn/spec.ts';
import { samples } from '../../../src/train/data.ts';
import { flattenParams } from '../../../src/train/params.ts';
import { Trainer } from '../../../src/train/trainer.ts';
import { FLOAT32_TOLERANCE, type Tolerance } from '../../../src/util/compare.ts';
import { mulberry32 } from '../../../src/util/rng.ts';
import { ensure } from '../harness.ts';
import {
  ACTIVATIONS,
  FORECASTER_POOL,
  HORIZON_POOL,
  TRAINER_POOL,
  type ApiCall,
  type ElmanCall,
  type ForecastCall,
  type ForecasterCall,
  type LayerCall,
  type NetCall,
  type StackCall,
  type TrainerCall,
} from './calls.ts';
import { BAD_OPTIONS, BAD_SIZES, elements, field, materialize, SPECIALS, type Perturbation } from './pool.ts';

/**
 * Builds and runs a generated call on a backend. Everything from constructing the model to reading
 * the result happens inside `run`, so a bad size that a constructor lets through is caught where it
 * breaks. `arrays` names the numbers of a result, which must all be finite and, on the GPU, match
 * the float64 reference's within `tolerance`.
 */
export interface Prepared {
  run(backend: Backend): Promise<unknown>;
  arrays(result: any): Record<string, ArrayLike<number>>;
  /** Shape checks on a result (the reference's and the GPU's). */
  check(result: any): void;
  /** The tolerance of WebGPU against the reference for the array of that name. */
  tolerance(name: string): Tolerance;
}

/** Training drifts step by step in float32; test/trainer.gpu.test.ts allows this over a few steps. */
const TRAINED_WEIGHTS: Tolerance = { atol: 2e-5, rtol: 2e-4 };
const STEP_LOSSES: Tolerance = { atol: 1e-6, rtol: 1e-5 };
/** Forecasts in the series' units, as test/forecast.gpu.test.ts compares them. */
const FORECASTS: Tolerance = { atol: 1e-4, rtol: 1e-4 };

const has = (bad: readonly Perturbation[], name: string) => bad.some((p) => p.field === name);

/** A tensor's data matches its shape. */
function consistent(t: { data: ArrayLike<number>; shape: readonly number[] } | null | undefined, what: string): void {
  if (!t) return;
  const n = t.shape.reduce((a, b) => a * b, 1);
  ensure(t.data.length === n, () => `${what} holds ${t.data.length} values but its shape [${t.shape.join(', ')}] needs ${n}`);
}

/** Lengths 0…T for B sequences from a seed (one of them T). */
function lengthsOf(seed: number, B: number, T: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: B }, (_, b) => (b === 0 ? T : Math.floor(r() * (T + 1))));
}

/** Safe activation parameters: bounded over a few steps, kinks away from the data. */
function activationOf(k: number) {
  const name = ACTIVATIONS[k % ACTIVATIONS.length]!;
  const params: Record<string, [number?, number?]> = {
    Affine: [0.8, 0.05],
    LeakyRelu: [0.1],
    ThresholdedRelu: [50],
    ScaledTanh: [1.2, 0.8],
    HardSigmoid: [0.2, 0.5],
    Elu: [1],
  };
  const [alpha, beta] = params[name] ?? [];
  return activation(name, alpha, beta);
}

function elman(c: ElmanCall): Prepared {
  const f = <T>(name: string, v: T) => field(c.bad, name, v, BAD_SIZES);
  return {
    async run(backend) {
      let config: any = {
        inputSize: f('inputSize', c.I),
        hiddenSize: f('hiddenSize', c.H),
        outputSize: f('outputSize', c.O),
        numLayers: f('numLayers', c.L),
        nonlinearity: f('nonlinearity', c.act),
      };
      if (has(c.bad, 'config')) config = f('config', config);
      const model = new ElmanRNN(config, { seed: f('seed', c.seed) });
      let shape: unknown[] = [f('B', c.B), f('T', c.T), f('I', c.I)];
      if (has(c.bad, 'rank')) shape = c.bad.length % 2 ? shape.slice(0, 2) : [...shape, 1];
      const x = { data: materialize(c.x, elements(shape)), shape };
      const h0 = c.h0 && { data: materialize(c.h0, c.L * c.B * c.H), shape: f('h0.shape', [c.L, c.B, c.H]) };
      const options: any = { backend, outputs: f('outputs', c.lastOnly ? 'last' : 'all'), ...(h0 ? { h0 } : {}) };
      if (has(c.bad, 'options')) options.h0 = f('options', null);
      return model.forward(x as any, options);
    },
    arrays: (r) => ({ output: r.output.data, hn: r.hn.data }),
    check(r) {
      consistent(r.output, 'output');
      consistent(r.hn, 'hn');
    },
    tolerance: () => FLOAT32_TOLERANCE,
  };
}

function net(c: NetCall): Prepared {
  const f = <T>(name: string, v: T) => field(c.bad, name, v, BAD_OPTIONS);
  const D = c.bidirectional ? 2 : 1;
  return {
    async run(backend) {
      const options: any = {
        cell: f('cell', c.cell),
        inputSize: f('inputSize', c.I),
        hiddenSize: f('hiddenSize', c.H),
        numLayers: f('numLayers', c.L),
        bidirectional: f('bidirectional', c.bidirectional),
        bias: f('bias', c.bias),
        ...(c.O !== null || has(c.bad, 'outputSize')
          ? { outputSize: f('outputSize', c.O ?? undefined), headBias: f('headBias', c.headBias) }
          : {}),
        batchFirst: f('batchFirst', c.batchFirst),
        ...(c.cell === 'rnn' || has(c.bad, 'nonlinearity') ? { nonlinearity: f('nonlinearity', c.act) } : {}),
        ...(has(c.bad, 'projSize') ? { projSize: f('projSize', 0) } : {}),
      };
      const model = RecurrentNet.create(options, { seed: f('seed', c.seed) });
      const [B, T, I] = [f('B', c.B), f('T', c.T), f('I', c.I)];
      const shape = c.batchFirst ? [B, T, I] : [T, B, I];
      const x = { data: materialize(c.x, elements(shape)), shape };
      const state = (spec: NonNullable<NetCall['h0']>) => ({
        data: materialize(spec, c.L * D * c.B * c.H),
        shape: f('h0.shape', [c.L * D, c.B, c.H]),
      });
      let lengths: any = c.lengths === null ? undefined : lengthsOf(c.lengths, c.B, c.T);
      if (lengths && has(c.bad, 'lengths[0]')) lengths[0] = f('lengths[0]', 0);
      if (has(c.bad, 'lengths')) lengths = f('lengths', lengths);
      return model.forward(x as any, {
        backend,
        ...(c.h0 ? { h0: state(c.h0) } : {}),
        ...(c.c0 && (c.cell === 'lstm' || has(c.bad, 'c0')) ? { c0: state(c.c0) } : {}),
        ...(lengths !== undefined ? { lengths } : {}),
      });
    },
    arrays: (r) => ({ output: r.output.data, hn: r.hn.data, ...(r.cn ? { cn: r.cn.data } : {}) }),
    check(r) {
      consistent(r.output, 'output');
      consistent(r.hn, 'hn');
      consistent(r.cn, 'cn');
    },
    tolerance: () => FLOAT32_TOLERANCE,
  };
}

function layer(c: LayerCall): Prepared {
  const f = <T>(name: string, v: T) => field(c.bad, name, v, BAD_OPTIONS);
  const D = c.direction === 'bidirectional' ? 2 : 1;
  const G = { rnn: 1, gru: 3, lstm: 4 }[c.cell];
  const perDirection = { rnn: 1, gru: 2, lstm: 3 }[c.cell];
  return {
    async run(backend) {
      const activations = c.activations.length ? c.activations.slice(0, perDirection * D).map(activationOf) : [];
      const spec = recurrentLayerSpec({
        cell: f('cell', c.cell),
        inputSize: f('inputSize', c.I),
        hiddenSize: f('hiddenSize', c.H),
        direction: f('direction', c.direction),
        activations: f('activations', activations),
        clip: f('clip', c.clip),
        linearBeforeReset: f('linearBeforeReset', c.linearBeforeReset && c.cell === 'gru'),
        inputForget: f('inputForget', c.inputForget && c.cell === 'lstm'),
        layout: f('layout', c.layout),
      });
      const { B, T, H, I } = c;
      const sequenceLens: Int32Array | null = c.lengths === null ? null : Int32Array.from(lengthsOf(c.lengths, B, T));
      if (sequenceLens && has(c.bad, 'lengths[0]')) sequenceLens[0] = f('lengths[0]', 0) as number;
      return backend.recurrentLayer(
        spec,
        {
          W: materialize(c.W, D * G * H * I),
          R: materialize(c.R, D * G * H * H),
          B: c.Bias ? materialize(c.Bias, D * 2 * G * H) : null,
          P: c.P && (c.cell === 'lstm' || has(c.bad, 'P')) ? materialize(c.P, D * 3 * H) : null,
        },
        {
          X: materialize(c.X, T * B * I),
          batch: f('batch', B),
          steps: f('steps', T),
          sequenceLens,
          initialH: c.h0 ? materialize(c.h0, D * B * H) : null,
          initialC: c.c0 && (c.cell === 'lstm' || has(c.bad, 'initialC')) ? materialize(c.c0, D * B * H) : null,
        },
      );
    },
    arrays: (r) => ({ Y: r.Y, Y_h: r.Y_h, ...(r.Y_c ? { Y_c: r.Y_c } : {}) }),
    check(r) {
      const n = (c.layout === 0 ? c.T * D * c.B : c.B * c.T * D) * c.H;
      ensure(
        r.Y.length === n && r.Y_h.length === D * c.B * c.H,
        () => `Y has ${r.Y.length} values (want ${n}), Y_h ${r.Y_h.length} (want ${D * c.B * c.H})`,
      );
    },
    tolerance: () => FLOAT32_TOLERANCE,
  };
}

/** The stacks of a stack or forecast call: one RecurrentNet's lowered layers per model. */
function stacksOf(options: Record<string, unknown>, models: number, seed: number, otherArchitecture: boolean) {
  const stacks = Array.from({ length: models }, (_, k) =>
    RecurrentNet.create(
      { ...(options as any), ...(otherArchitecture && k === 1 ? { hiddenSize: (options.hiddenSize as number) + 1 } : {}) },
      { seed: seed + k },
    ).layers(),
  );
  return models === 1 ? stacks[0]! : stacks;
}

function stack(c: StackCall): Prepared {
  const f = <T>(name: string, v: T) => field(c.bad, name, v, BAD_SIZES);
  const D = c.bidirectional ? 2 : 1;
  const B = c.models * c.perModel;
  return {
    async run(backend) {
      const options = {
        cell: c.cell,
        inputSize: c.I,
        hiddenSize: c.H,
        numLayers: c.L,
        bidirectional: c.bidirectional,
        ...(c.O ? { outputSize: c.O } : {}),
      };
      const models = stacksOf(
        options,
        f('models', c.models) === c.models ? c.models : Math.max(1, c.models - 1),
        c.seed,
        has(c.bad, 'architecture') && c.models > 1,
      );
      const state = (k: number) => (c.states ? materialize({ ...c.states, seed: c.states.seed + k }, B * D * c.H) : null);
      let initialH = Array.from({ length: c.L }, (_, k) => state(k));
      if (has(c.bad, 'initialH.length')) initialH = initialH.slice(1);
      const sequenceLens = c.lengths === null ? null : Int32Array.from(lengthsOf(c.lengths, B, c.T));
      if (sequenceLens && has(c.bad, 'lengths[0]')) sequenceLens[0] = f('lengths[0]', 0) as number;
      const X = materialize(c.X, B * c.T * c.I + (has(c.bad, 'X.length') ? 1 : 0));
      return backend.recurrentStack(models, {
        X,
        batch: f('batch', B),
        steps: f('steps', c.T),
        sequenceLens,
        initialH,
        initialC: Array.from({ length: c.L }, (_, k) => (c.cell === 'lstm' ? state(k + 10) : null)),
      });
    },
    arrays: (r) =>
      Object.fromEntries([
        ['Y', r.Y],
        ...r.Y_h.map((h: ArrayLike<number>, k: number) => [`Y_h[${k}]`, h]),
        ...(r.Y_c ?? []).map((h: ArrayLike<number>, k: number) => [`Y_c[${k}]`, h]),
      ]),
    check(r) {
      const n = B * c.T * (c.O ?? D * c.H);
      ensure(r.Y.length === n, () => `Y has ${r.Y.length} values, want ${n}`);
    },
    tolerance: () => FLOAT32_TOLERANCE,
  };
}

function forecast(c: ForecastCall): Prepared {
  const f = <T>(name: string, v: T) => field(c.bad, name, v, HORIZON_POOL);
  const I = Math.max(c.I, c.O);
  const B = c.models * c.perModel;
  return {
    async run(backend) {
      const O = has(c.bad, 'outputSize') ? c.O + I : c.O;
      const options = {
        cell: c.cell,
        inputSize: I,
        hiddenSize: c.H,
        numLayers: c.L,
        ...(has(c.bad, 'head') ? {} : { outputSize: O }),
        ...(has(c.bad, 'bidirectional') ? { bidirectional: true } : {}),
        ...(c.cell === 'rnn' ? { nonlinearity: c.act } : {}),
      };
      const models = stacksOf(options, has(c.bad, 'models') ? c.models + 1 : c.models, c.seed, false);
      const horizon = f('horizon', c.horizon);
      const exogWidth = I - c.O;
      const needed = B * (typeof horizon === 'number' ? horizon : c.horizon) * exogWidth;
      const futureExog =
        exogWidth > 0 || has(c.bad, 'futureExog') ? materialize(c.exog, has(c.bad, 'futureExog') ? needed + 1 : needed) : null;
      return backend.recurrentForecast!(models, {
        history: materialize(c.history, B * c.T * I + (has(c.bad, 'history.length') ? 1 : 0)),
        batch: f('batch', B),
        steps: f('steps', c.T),
        horizon,
        futureExog,
      });
    },
    arrays: (r) => ({ forecast: r }),
    check(r) {
      ensure(r.length === B * c.horizon * c.O, () => `the forecast has ${r.length} values, want ${B * c.horizon * c.O}`);
    },
    tolerance: () => FLOAT32_TOLERANCE,
  };
}

/** Sets `value` at a dotted path of `target` (creating objects on the way). */
function setPath(target: any, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === null || typeof o[k] !== 'object') o[k] = {};
    o = o[k];
  }
  o[keys.at(-1)!] = value;
}

/**
 * Trains on `backend`. Compared with the GPU, two things are held to what test/trainer.gpu.test.ts's
 * tolerance is stated for ("over these few steps"):
 * - early stopping is left out: it is a decision on two validation losses that float32 may round to
 *   equal where float64 still sees an improvement (seen: 0.230232007 < 0.230232013 in float64, both
 *   0.230232045 in float32), after which the two engines rightly keep different epochs' weights;
 * - the learning rate is at most 1e-2: Adam's normalised step turns a gradient's float32 rounding
 *   into a change of the weights proportional to lr (seen at lr = 1: step-2 losses 1.6e-5 apart),
 *   and SGD at lr = 1 with momentum amplifies the drift the same way;
 * - Adam's eps is 1e-4 rather than 1e-8: its step g/(|g| + eps) changes by up to lr/2 when a
 *   gradient near eps is 0 in float32 (tanh saturates to exactly 1 in float32 from |x| ≈ 9, where
 *   float64 still has a derivative of 1e-8; seen at lr = 1e-3: weights 1e-3 apart after one step).
 */
function trainer(c: TrainerCall, compare: boolean): Prepared {
  const f = <T>(name: string, v: T) => field(c.bad, name, v, TRAINER_POOL);
  return {
    async run(backend) {
      const model = RecurrentNet.create(
        { cell: c.cell, inputSize: c.I, hiddenSize: c.H, numLayers: c.L, outputSize: c.O },
        { seed: c.seed },
      );
      const N = c.series * c.count;
      const r = mulberry32(c.seed + 1);
      const data = samples({
        x: materialize(c.x, N * c.T * c.I),
        y: materialize(c.y, N * c.T * c.O),
        mask: c.mask ? Float32Array.from({ length: N * c.T }, () => (r() < 0.8 ? 1 : 0)) : null,
        count: f('count', N),
        steps: f('steps', c.T),
        inputSize: f('inputSize', c.I),
        outputSize: c.O,
        series: c.series,
      });
      const options: any = {
        backend,
        loss: { kind: c.loss, steps: c.last ? { last: c.last } : 'all' },
        optimizer: {
          kind: c.optimizer,
          lr: compare ? Math.min(c.lr, 1e-2) : c.lr,
          ...(c.optimizer === 'sgd' ? { momentum: 0.9 } : compare ? { eps: 1e-4 } : {}),
        },
        schedule: c.schedule === null ? undefined : { kind: c.schedule, stepSize: 2, tMax: 4 },
        clip: c.clip === null ? null : c.clip === 'norm' ? { kind: 'norm', maxNorm: 1 } : { kind: 'value', clipValue: 0.5 },
        batchSize: c.batchSize,
        seed: c.seed,
        truncate: c.truncate,
        series: c.series,
      };
      const fit: any = {
        epochs: c.epochs,
        ...(c.validationSplit !== null
          ? { validationSplit: c.validationSplit, ...(compare ? {} : { earlyStopping: { patience: 1 } }) }
          : {}),
      };
      for (const p of c.bad) {
        const value = TRAINER_POOL[p.value];
        if (p.field === 'epochs' || p.field === 'validationSplit') fit[p.field] = value;
        else if (p.field === 'earlyStopping.patience') {
          if (!compare) setPath(fit, p.field, value);
        } else if (!['count', 'steps', 'inputSize'].includes(p.field)) setPath(options, p.field, value);
      }
      const t = await Trainer.create(model, options);
      try {
        const history = await t.fit(data, fit);
        const weights = (await t.allModels()).map((m) => flattenParams(m.layers()));
        return { losses: Float64Array.from(history.steps), weights: Float64Array.from(weights.flatMap((w) => [...w])) };
      } finally {
        t.dispose();
      }
    },
    arrays: (r) => ({ 'step losses': r.losses, 'trained weights': r.weights }),
    check() {},
    tolerance: (name) => (name === 'step losses' ? STEP_LOSSES : TRAINED_WEIGHTS),
  };
}

/**
 * The series of a forecaster call: `count` series around `level` (y = level·(1 + spread·sin), or
 * spread·noise around 0), with the spec's special values written over some points.
 */
function seriesOf(c: ForecasterCall): Series[] {
  const f = <T>(name: string, v: T) => field(c.bad, name, v, FORECASTER_POOL);
  return Array.from({ length: c.count }, (_, k) => {
    const noise = materialize({ ...c.y, specials: [] }, c.length) as Float32Array;
    const y = Float64Array.from(noise, (u, t) => (c.level === 0 ? c.spread * u : c.level * (1 + c.spread * Math.sin(t + k))));
    for (const [i, s] of c.y.specials) y[(i + k) % c.length] = SPECIALS[s]!;
    const ds = Array.from({ length: c.length }, (_, t) => String(t));
    return {
      id: k === 1 && has(c.bad, 'series.id') ? (f('series.id', 's0') as string) : `s${k}`,
      ds: k === 0 && has(c.bad, 'series.ds') ? ds.slice(1) : ds,
      y,
      exog: { temp: Float64Array.from({ length: c.length - (has(c.bad, 'series.exog') ? 1 : 0) }, (_, t) => Math.cos(t / 3 + k)) },
    };
  });
}

/**
 * Fits on the float64 reference (training on the GPU is the trainer call's to compare), then
 * predicts on `backend` with the fitted weights (saved and loaded), or backtests on the reference.
 */
function forecaster(c: ForecasterCall, compare: boolean): Prepared {
  const f = <T>(name: string, v: T) => field(c.bad, name, v, FORECASTER_POOL);
  const horizon = f('horizon', c.horizon);
  return {
    async run(backend) {
      const options: any = {
        horizon,
        season: f('season', c.season),
        ...(c.inputSize !== null || has(c.bad, 'inputSize') ? { inputSize: f('inputSize', c.inputSize) } : {}),
        cell: f('cell', c.cell),
        hiddenSize: f('hiddenSize', c.hiddenSize),
        numLayers: f('numLayers', c.numLayers),
        ...(c.cell === 'rnn' || has(c.bad, 'nonlinearity') ? { nonlinearity: f('nonlinearity', c.act) } : {}),
        scaling: f('scaling', c.scaling),
        strategy: f('strategy', c.strategy),
        perSeries: f('perSeries', c.perSeries),
        exog: f('exog', c.exog ? ['temp'] : []),
        seed: f('seed', c.seed),
        training: { batchSize: f('training.batchSize', 8), optimizer: { kind: 'adam', lr: f('training.optimizer.lr', 0.01) } },
      };
      const series = seriesOf(c);
      const reference = Forecaster.create({ ...options, backend: cpuBackend });
      if (c.backtest && !compare) {
        const report = await reference.backtest(series, { epochs: 1 }, { folds: f('folds', 2) });
        return {
          forecasts: report.rows.map((r) => r.forecast),
          metrics: [
            report.model,
            ...Object.values(report.baselines),
            ...report.rows.flatMap((r) => [r.metrics, ...Object.values(r.baselines).map((b) => b.metrics)]),
          ],
        };
      }
      await reference.fit(series, { epochs: 1 });
      const h = typeof horizon === 'number' && horizon > 0 && horizon < 100 ? horizon : c.horizon;
      const future = Object.fromEntries(series.map((s) => [s.id, { temp: Float64Array.from({ length: h }, (_, t) => Math.sin(t)) }]));
      const model = backend === cpuBackend ? reference : Forecaster.fromSafetensors(reference.toSafetensors(), backend);
      return { forecasts: (await model.predict(series, future)).map((p) => p.values), metrics: [] };
    },
    arrays: (r) =>
      Object.fromEntries([
        ...r.forecasts.map((v: Float64Array, k: number) => [`forecast ${k}`, v]),
        // MASE is null where it is undefined (a history whose naive error is 0), never NaN.
        ...r.metrics.map((m: Record<string, number | null>, k: number) => [
          `metrics ${k} (mae, rmse, smape, mase)`,
          [m.mae, m.rmse, m.smape, m.mase ?? 0],
        ]),
      ]),
    check(r) {
      for (const v of r.forecasts)
        ensure(v.length === horizon, () => `a forecast has ${v.length} values, the horizon is ${String(horizon)}`);
    },
    tolerance: () => FORECASTS,
  };
}

/** A generated call ready to run; `compare`: it will be run on the GPU too (no backtest then). */
export function prepare(call: ApiCall, compare: boolean): Prepared {
  switch (call.op) {
    case 'elman':
      return elman(call);
    case 'net':
      return net(call);
    case 'layer':
      return layer(call);
    case 'stack':
      return stack(call);
    case 'forecast':
      return forecast(call);
    case 'trainer':
      return trainer(call, compare);
    case 'forecaster':
      return forecaster(call, compare);
  }
}
