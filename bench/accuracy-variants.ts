// `node scripts/vite-run.mjs bench/accuracy-variants.ts bench/out/network-validation.json [...]`:
// ways of combining the networks with the baselines and of calibrating the intervals, compared on the
// same trained networks (their forecasts cached by bench/accuracy-network.ts), per frequency and
// overall, on the split the cache was made for. Only the validation split may be used to choose.
//
// Each variant reproduces what the forecaster does after training, per dataset (the forecaster sees
// one dataset at a time): member forecasts at the held-out origin (the last horizon of what it is
// fitted on) weigh the members and calibrate the intervals; the members' forecasts at the scored
// origin are combined and scored. A series the network cannot take is forecast by ETS with its own
// intervals, as the forecaster's fallback does.
import { readFileSync } from 'node:fs';
import { baselineForecast, type BaselineName } from '../src/forecast/baselines/index.ts';
import { calibrate, orderStatistic } from '../src/forecast/intervals.ts';
import { coverage, mase, msis, smape } from '../src/forecast/metrics.ts';
import { seriesScale } from '../src/forecast/windows.ts';

interface CachedSeries {
  id: string;
  y: number[];
  held: number[] | null;
  scored: number[] | null;
}
interface CachedDataset {
  name: string;
  frequency: string;
  horizon: number;
  season: number;
  series: CachedSeries[];
}

const files = process.argv.slice(2);
const datasets: CachedDataset[] = files.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')).results as CachedDataset[]);

type Member = 'network' | BaselineName;
const LEVELS = [80, 95];

/** One series at one origin: its history, what follows, each member's forecast, ETS's 80 % half-widths. */
interface At {
  y: Float64Array;
  history: Float64Array;
  actual: Float64Array;
  members: Record<Member, Float64Array> | null;
  etsHalf: Float64Array;
  scale: number;
}

function at(d: CachedDataset, s: CachedSeries, origin: number, network: number[] | null): At {
  const y = Float64Array.from(s.y);
  const H = d.horizon;
  const history = y.subarray(0, origin);
  const fc = (name: BaselineName) => baselineForecast(name, history, H, d.season, name === 'ets' ? [80] : []);
  let ets: ReturnType<typeof fc> | null = null;
  try {
    ets = fc('ets');
  } catch {
    ets = null;
  }
  const members =
    network && ets
      ? ({
          network: Float64Array.from(network),
          ets: ets.point,
          theta: fc('theta').point,
          naive2: fc('naive2').point,
          snaive: fc('snaive').point,
        } as Record<Member, Float64Array>)
      : null;
  const etsHalf = ets
    ? Float64Array.from({ length: H }, (_, h) => (ets!.intervals[0]!.hi[h]! - ets!.intervals[0]!.lo[h]!) / 2)
    : new Float64Array(H);
  return { y, history, actual: y.subarray(origin, origin + H), members, etsHalf, scale: seriesScale(history, d.season) };
}

/** A combination: members and how they are weighed from the held-out origin. */
interface Combination {
  name: string;
  members: Member[];
  /** Weights per member; [] for the members' median. */
  weights: (held: At[], d: CachedDataset, members: Member[]) => number[];
  /** Instead: the candidate whose held-out relative error (OWA against Naive2) is lowest, per dataset. */
  select?: Combination[];
  /** The weighted median of the members by `weights` (each step: the value where the sorted members' cumulative weight reaches ½). */
  weightedMedian?: boolean;
}

/** A combination's forecast function for one dataset, from its held-out windows. */
function build(comb: Combination, held: At[], d: CachedDataset): (a: At) => Float64Array {
  const H = d.horizon;
  if (comb.select) {
    const usable = held.filter((a) => a.members);
    let best: ((a: At) => Float64Array) | null = null;
    let bestScore = Infinity;
    const sm2 = meanOf(usable.map((a) => smape(a.actual, a.members!.naive2)));
    const ma2 = meanOf(usable.map((a) => maseOf(a, a.members!.naive2, d.season) ?? 0));
    for (const c of comb.select) {
      const f = build(c, held, d);
      const score =
        0.5 * (meanOf(usable.map((a) => smape(a.actual, f(a)))) / sm2 + meanOf(usable.map((a) => maseOf(a, f(a), d.season) ?? 0)) / ma2);
      if (score < bestScore) {
        bestScore = score;
        best = f;
      }
    }
    return best!;
  }
  const w = comb.weights(held, d, comb.members);
  if (comb.weightedMedian)
    return (a: At) =>
      Float64Array.from({ length: H }, (_, h) => {
        const v = comb.members.map((m, j) => [a.members![m][h]!, w[j]!] as const).sort((x, z) => x[0] - z[0]);
        let c = 0;
        for (const [x, wt] of v) {
          c += wt;
          if (c >= 0.5 - 1e-12) return x;
        }
        return v[v.length - 1]![0];
      });
  return (a: At) =>
    Float64Array.from({ length: H }, (_, h) => {
      if (w.length === 0) {
        const v = comb.members.map((m) => a.members![m][h]!).sort((x, z) => x - z);
        const mid = v.length / 2;
        return v.length % 2 ? v[Math.floor(mid)]! : (v[mid - 1]! + v[mid]!) / 2;
      }
      return comb.members.reduce((acc, m, j) => acc + w[j]! * a.members![m][h]!, 0);
    });
}

const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function maseOf(a: At, f: Float64Array, season: number): number | null {
  return mase(a.actual, f, a.history, season);
}

function inverse(errors: number[], power: number): number[] {
  if (errors.some((e) => !(e > 0) || !Number.isFinite(e))) return errors.map(() => 1 / errors.length);
  const inv = errors.map((e) => e ** -power);
  const t = inv.reduce((a, b) => a + b, 0);
  return inv.map((v) => v / t);
}

const medianOf = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
};

/** Member `m`'s MASE at the held-out origin of every series where it is defined. */
const heldMases = (held: At[], d: CachedDataset, m: Member): number[] =>
  held.flatMap((a) => (a.members ? [maseOf(a, a.members[m], d.season)].filter((x) => x !== null) : [])) as number[];

/** Weights ∝ 1/(the median over series of each member's held-out MASE). */
const inverseMedianMase = (held: At[], d: CachedDataset, members: Member[]): number[] =>
  inverse(
    members.map((m) => medianOf(heldMases(held, d, m))),
    1,
  );

const inverseMase =
  (power: number) =>
  (held: At[], d: CachedDataset, members: Member[]): number[] =>
    inverse(
      members.map((m) => meanOf(heldMases(held, d, m))),
      power,
    );

/** Weights ∝ 1/OWA-like relative error: ½(sMAPE/sMAPE_Naive2 + MASE/MASE_Naive2) of the held-out means. */
const inverseRelative = (held: At[], d: CachedDataset, members: Member[]): number[] => {
  const usable = held.filter((a) => a.members);
  const sm = (m: Member) => meanOf(usable.map((a) => smape(a.actual, a.members![m])));
  const ma = (m: Member) => meanOf(usable.map((a) => maseOf(a, a.members![m], d.season) ?? 0));
  return inverse(
    members.map((m) => 0.5 * (sm(m) / sm('naive2') + ma(m) / ma('naive2'))),
    1,
  );
};

const equal = (_h: At[], _d: CachedDataset, members: Member[]) => members.map(() => 1 / members.length);

/**
 * Weights ∝ 1/MASE on the held-out window, with the members whose held-out mean MASE is above
 * `ratio` times the best member's given none (a selection before the combination).
 */
const trimmed =
  (ratio: number) =>
  (held: At[], d: CachedDataset, members: Member[]): number[] => {
    const errors = members.map((m) => meanOf(heldMases(held, d, m)));
    const w = inverse(errors, 1);
    const best = Math.min(...errors);
    // inverse() falls back to equal weights where an error is not positive and finite: keep them all then.
    const kept = w.map((v, j) => (Number.isFinite(best) && best > 0 && errors[j]! > ratio * best ? 0 : v));
    const total = kept.reduce((a, b) => a + b, 0);
    return kept.map((v) => v / total);
  };

const COMBINATIONS: Combination[] = [
  { name: 'net+ets+theta, inverse MASE (default)', members: ['network', 'ets', 'theta'], weights: inverseMase(1) },
  { name: 'network alone', members: ['network'], weights: equal },
  { name: 'net+ets+theta, equal', members: ['network', 'ets', 'theta'], weights: equal },
  { name: 'net+ets+theta+naive2, inverse MASE', members: ['network', 'ets', 'theta', 'naive2'], weights: inverseMase(1) },
  { name: 'net+ets+theta, inverse relative (OWA) error', members: ['network', 'ets', 'theta'], weights: inverseRelative },
  { name: 'net+ets+theta+naive2, inverse relative error', members: ['network', 'ets', 'theta', 'naive2'], weights: inverseRelative },
  { name: 'net+ets+theta, inverse MASE²', members: ['network', 'ets', 'theta'], weights: inverseMase(2) },
  { name: 'median of net, ets, theta, naive2', members: ['network', 'ets', 'theta', 'naive2'], weights: () => [] },
  { name: 'net+ets+theta+naive2, inverse MASE²', members: ['network', 'ets', 'theta', 'naive2'], weights: inverseMase(2) },
  { name: 'net+ets+theta+naive2, equal', members: ['network', 'ets', 'theta', 'naive2'], weights: equal },
  {
    name: 'inverse-MASE weighted median of net, ets, theta',
    members: ['network', 'ets', 'theta'],
    weights: inverseMase(1),
    weightedMedian: true,
  },
  {
    name: 'inverse-MASE weighted median of net, ets, theta, naive2',
    members: ['network', 'ets', 'theta', 'naive2'],
    weights: inverseMase(1),
    weightedMedian: true,
  },
  {
    name: 'inverse-median-MASE weighted median of net, ets, theta, naive2',
    members: ['network', 'ets', 'theta', 'naive2'],
    weights: inverseMedianMase,
    weightedMedian: true,
  },
  { name: 'median of net, ets, theta', members: ['network', 'ets', 'theta'], weights: () => [] },
  { name: 'median of net, ets, theta, naive2, snaive', members: ['network', 'ets', 'theta', 'naive2', 'snaive'], weights: () => [] },
  {
    name: 'per dataset, the lower held-out OWA of: net+ets+theta inverse MASE, median of net, ets, theta, naive2',
    members: [],
    weights: () => [],
    select: [
      { name: '', members: ['network', 'ets', 'theta'], weights: inverseMase(1) },
      { name: '', members: ['network', 'ets', 'theta', 'naive2'], weights: () => [] },
    ],
  },
  { name: 'net+ets, inverse MASE', members: ['network', 'ets'], weights: inverseMase(1) },
  ...[1.25, 1.5, 2].map(
    (ratio): Combination => ({
      name: `net, ets, theta, naive2 within ${ratio}× the best held-out MASE, inverse-MASE weighted median`,
      members: ['network', 'ets', 'theta', 'naive2'],
      weights: trimmed(ratio),
      weightedMedian: true,
    }),
  ),
  {
    name: 'net, ets, theta, naive2 within 1.5× the best held-out MASE, inverse-MASE weighted mean',
    members: ['network', 'ets', 'theta', 'naive2'],
    weights: trimmed(1.5),
  },
  { name: 'net+naive2, inverse MASE', members: ['network', 'naive2'], weights: inverseMase(1) },
];

/** A calibration: scores at the held-out origin, and the interval's half-width at the scored one. */
interface Calibrator {
  name: string;
  /** Per level and series, half-widths per step at the scored origin. */
  widths: (held: { a: At; f: Float64Array; w: number[] }[], scored: At[], d: CachedDataset, level: number) => Float64Array[];
}

function monotone(q: Float64Array): Float64Array {
  for (let h = 1; h < q.length; h++) q[h] = Math.max(q[h]!, q[h - 1]!);
  return q;
}

/** The previous default: scores |e|/d_s; per-step quantiles with ≥ 20 series, else pooled over steps with √h. */
const defaultCal: Calibrator = {
  name: 'd_s, per step (N≥20) or pooled √h (default)',
  widths: (held, scored, d, level) => {
    const cal = calibrate(
      held.map((r) => ({ actual: r.a.actual, forecast: r.f, scale: r.a.scale })),
      d.horizon,
      [level],
      20,
    );
    return scored.map((a) => Float64Array.from(cal!.q[0]!, (v) => v * a.scale));
  },
};

/** Scores normalised by a per-series, per-step width `norm`; pooled over steps and series. */
function normalised(name: string, norm: (a: At, h: number, d: CachedDataset) => number, pool: 'all' | 'step'): Calibrator {
  return {
    name,
    widths: (held, scored, d, level) => {
      const H = d.horizon;
      const l = level / 100;
      const scores = (h: number | null) =>
        held.flatMap((r) =>
          (h === null ? Array.from({ length: H }, (_, k) => k) : [h]).map((k) => Math.abs(r.a.actual[k]! - r.f[k]!) / norm(r.a, k, d)),
        );
      let q: Float64Array;
      if (pool === 'all' || held.length < 20) {
        const s = scores(null);
        q = new Float64Array(H).fill(orderStatistic(s, Math.ceil((s.length + 1) * l)));
      } else {
        q = Float64Array.from({ length: H }, (_, h) => orderStatistic(scores(h), Math.ceil((held.length + 1) * l)));
      }
      return scored.map((a) => Float64Array.from({ length: H }, (_, h) => q[h]! * norm(a, h, d)));
    },
  };
}

const etsNorm = (a: At, h: number) => (a.etsHalf[h]! > 0 ? a.etsHalf[h]! : a.scale * Math.sqrt(h + 1));

let PROXY: BaselineName[] = ['ets', 'theta', 'naive2'];
let MIN_HISTORY: 'network' | 'any' | number = 'any';
/** The held-out origin of the series whose earlier windows are asked for (for a fractional MIN_HISTORY). */
let HELD_ORIGIN = 0;

/**
 * The statistical members' (ETS, Theta, Naive2, equal weights; without ETS where it cannot fit) mean
 * absolute error over the horizon from `origin`, per step, or null when the history is too short.
 */
function proxyErrors(d: CachedDataset, y: Float64Array, origin: number, names: BaselineName[] = PROXY): Float64Array | null {
  const H = d.horizon;
  const least =
    MIN_HISTORY === 'network'
      ? Math.max(2 * d.season, 2 * H, 8) + 2 * H
      : typeof MIN_HISTORY === 'number'
        ? Math.max(2 * d.season, 8, MIN_HISTORY * HELD_ORIGIN)
        : Math.max(2 * d.season, 8);
  if (origin < least || origin + H > y.length) return null;
  const history = y.subarray(0, origin);
  const fs: Float64Array[] = [];
  for (const name of names) {
    try {
      fs.push(baselineForecast(name, history, H, d.season).point);
    } catch {
      // too short for this method
    }
  }
  if (fs.length === 0) return null;
  return Float64Array.from({ length: H }, (_, h) => Math.abs(y[origin + h]! - meanOf(fs.map((f) => f[h]!))));
}

/**
 * The combination's scores at the held-out origin and the statistical proxy's at K earlier origins
 * (where the network trained, so it is not scored there). `shape`: pooled over steps after dividing
 * by √h (or h), or per step when each step has at least 20 scores. `ratio`: the proxy's scores
 * multiplied by the combination's mean error over the proxy's at the held-out origin.
 */
function multiOrigin(
  K: number,
  shape: 'sqrt' | 'linear' | 'step' | 'fitted',
  ratio = false,
  proxy: BaselineName[] = ['ets', 'theta', 'naive2'],
  minHistory: 'network' | 'any' | number = 'any',
): Calibrator {
  return {
    name: `+ proxy (${proxy.join('+')})'s scores at ${K} earlier origins${minHistory === 'network' ? " with the network's minimum history" : typeof minHistory === 'number' ? ` with ≥ ${minHistory} of the held-out history` : ''}, ${shape}${ratio ? ', proxy scaled to the combination' : ''}`,
    widths: (held, scored, d, level) => {
      PROXY = proxy;
      MIN_HISTORY = minHistory;
      const H = d.horizon;
      const l = level / 100;
      let beta = shape === 'linear' ? 1 : shape === 'sqrt' ? 0.5 : 0;
      const g = (h: number) => (h + 1) ** beta;
      const perStep: number[][] = Array.from({ length: H }, () => []);
      let rho = 1;
      if (ratio) {
        let c = 0;
        let p = 0;
        for (const r of held) {
          const e = proxyErrors(d, r.a.y, r.a.history.length);
          if (!e) continue;
          for (let h = 0; h < H; h++) {
            c += Math.abs(r.a.actual[h]! - r.f[h]!);
            p += e[h]!;
          }
        }
        if (c > 0 && p > 0) rho = c / p;
      }
      for (const r of held) {
        for (let h = 0; h < H; h++) perStep[h]!.push(Math.abs(r.a.actual[h]! - r.f[h]!) / r.a.scale / g(h));
        const y = r.a.y;
        HELD_ORIGIN = r.a.history.length;
        for (let k = 1; k <= K; k++) {
          const o = r.a.history.length - k * H;
          const e = proxyErrors(d, y, o);
          if (!e) break;
          const sc = seriesScale(y.subarray(0, o), d.season);
          for (let h = 0; h < H; h++) perStep[h]!.push((rho * e[h]!) / sc / g(h));
        }
      }
      if (shape === 'fitted' && H > 1) {
        // The growth h^β of the mean score per step, least squares on logs, β in [0, 1].
        const xs = perStep.map((_, h) => Math.log(h + 1));
        const ys = perStep.map((v) => Math.log(Math.max(meanOf(v), 1e-12)));
        const mx = meanOf(xs);
        const my = meanOf(ys);
        const b = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
        beta = Math.min(1, Math.max(0, b));
      }
      let q: Float64Array;
      if (shape === 'step' && perStep[0]!.length >= 20) {
        q = monotone(Float64Array.from(perStep, (xs) => orderStatistic(xs, Math.ceil((xs.length + 1) * l))));
      } else {
        const gg = shape === 'step' ? (h: number) => Math.sqrt(h + 1) : g;
        const all = perStep.flatMap((xs, h) => (shape === 'step' || shape === 'fitted' ? xs.map((x) => x / gg(h)) : xs));
        const base = orderStatistic(all, Math.ceil((all.length + 1) * l));
        q = Float64Array.from({ length: H }, (_, h) => base * gg(h));
      }
      return scored.map((a) => Float64Array.from({ length: H }, (_, h) => q[h]! * a.scale));
    },
  };
}

/** Per-series level: the proxy's mean scaled error over K origins before the calibration's or the forecast's. */
function localLevel(K: number): Calibrator {
  PROXY = ['ets', 'theta', 'naive2'];
  MIN_HISTORY = 'any';
  const memo = new WeakMap<At, number>();
  const level = (d: CachedDataset, a: At) => {
    const hit = memo.get(a);
    if (hit !== undefined) return hit;
    const errs: number[] = [];
    for (let k = 1; k <= K; k++) {
      const o = a.history.length - k * d.horizon;
      const e = proxyErrors(d, a.y, o);
      if (!e) break;
      errs.push(meanOf(Array.from(e)) / seriesScale(a.y.subarray(0, o), d.season));
    }
    const v = errs.length ? Math.max(meanOf(errs), 1e-3) : 1;
    memo.set(a, v);
    return v;
  };
  return normalised(
    `d_s·r_s·√h (r_s: proxy's scaled error at ${K} earlier origins), pooled`,
    (a, h, d) => a.scale * level(d, a) * Math.sqrt(h + 1),
    'all',
  );
}

const CALIBRATORS: Calibrator[] = [
  defaultCal,
  normalised('d_s·√h, pooled always', (a, h) => a.scale * Math.sqrt(h + 1), 'all'),
  normalised("ETS's 80 % half-width, pooled", etsNorm, 'all'),
  normalised("ETS's 80 % half-width, per step (N≥20)", etsNorm, 'step'),
  normalised(
    "d_s × the shape of ETS's half-width (w_h/w_1), pooled",
    (a, h) => (a.etsHalf[0]! > 0 ? (a.scale * a.etsHalf[h]!) / a.etsHalf[0]! : a.scale * Math.sqrt(h + 1)),
    'all',
  ),
  normalised('d_s·h, pooled', (a, h) => a.scale * (h + 1), 'all'),
  multiOrigin(1, 'sqrt'),
  multiOrigin(2, 'sqrt'),
  multiOrigin(3, 'sqrt'),
  multiOrigin(2, 'linear'),
  multiOrigin(2, 'step'),
  multiOrigin(3, 'step'),
  multiOrigin(2, 'fitted'),
  multiOrigin(3, 'fitted'),
  multiOrigin(2, 'sqrt', false, ['theta', 'naive2']),
  multiOrigin(3, 'sqrt', false, ['ets', 'theta', 'naive2'], 'network'),
  multiOrigin(3, 'fitted', false, ['ets', 'theta', 'naive2'], 'network'),
  multiOrigin(3, 'linear', false, ['ets', 'theta', 'naive2'], 'network'),
  multiOrigin(3, 'sqrt', false, ['theta', 'naive2'], 'network'),
  multiOrigin(3, 'step', false, ['theta', 'naive2'], 'network'),
  multiOrigin(3, 'linear', false, ['theta', 'naive2'], 'network'),
  multiOrigin(5, 'sqrt', false, ['theta', 'naive2'], 'network'),
  multiOrigin(3, 'sqrt', false, ['ets', 'theta', 'naive2'], 0.5),
  multiOrigin(5, 'sqrt', false, ['ets', 'theta', 'naive2'], 0.5),
  multiOrigin(3, 'sqrt', false, ['theta', 'naive2'], 0.5),
  multiOrigin(5, 'sqrt', false, ['theta', 'naive2'], 0.5),
  multiOrigin(5, 'step', false, ['theta', 'naive2'], 0.5),
  multiOrigin(5, 'step', false, ['ets', 'theta', 'naive2'], 0.5),
  multiOrigin(1, 'sqrt', false, ['theta', 'naive2']),
  multiOrigin(1, 'step', false, ['ets', 'theta', 'naive2']),
  multiOrigin(10, 'sqrt', false, ['theta', 'naive2'], 0.5),
  multiOrigin(1000, 'sqrt', false, ['theta', 'naive2'], 0.5),
  multiOrigin(5, 'sqrt', false, ['theta', 'naive2'], 0.75),
  multiOrigin(2, 'sqrt', true),
  multiOrigin(3, 'step', true),
  localLevel(2),
  localLevel(3),
];

interface Row {
  frequency: string;
  smape: number;
  mase: number | null;
  n2smape: number;
  n2mase: number | null;
  snmase: number | null;
  cov: Record<number, number>;
  msis: number | null;
}

function evaluate(comb: Combination, cal: Calibrator): Row[] {
  const rows: Row[] = [];
  for (const d of datasets) {
    const H = d.horizon;
    const n = (s: CachedSeries) => s.y.length;
    const held = d.series.map((s) => at(d, s, n(s) - 2 * H, s.held));
    const scored = d.series.map((s) => at(d, s, n(s) - H, s.scored));
    const combine = build(comb, held, d);
    const w: number[] = [];
    const heldUse = held.flatMap((a) => (a.members ? [{ a, f: combine(a), w }] : []));
    const scoredUse = scored.filter((a) => a.members);
    const widths = Object.fromEntries(LEVELS.map((l) => [l, cal.widths(heldUse, scoredUse, d, l)]));
    // Nested levels.
    for (let k = 0; k < scoredUse.length; k++)
      for (let h = 0; h < H; h++) widths[95]![k]![h] = Math.max(widths[95]![k]![h]!, widths[80]![k]![h]!);
    let u = 0;
    for (const a of scored) {
      let f: Float64Array;
      let iv: Record<number, [Float64Array, Float64Array]>;
      if (a.members) {
        f = combine(a);
        const k = u++;
        iv = Object.fromEntries(
          LEVELS.map((l) => [
            l,
            [Float64Array.from(f, (v, h) => v - widths[l]![k]![h]!), Float64Array.from(f, (v, h) => v + widths[l]![k]![h]!)],
          ]),
        );
      } else {
        const e = baselineForecast('ets', a.history, H, d.season, LEVELS);
        f = e.point;
        iv = Object.fromEntries(e.intervals.map((i) => [i.level, [i.lo, i.hi]]));
      }
      const n2 = baselineForecast('naive2', a.history, H, d.season).point;
      const sn = baselineForecast('snaive', a.history, H, d.season).point;
      rows.push({
        frequency: d.frequency,
        smape: smape(a.actual, f),
        mase: mase(a.actual, f, a.history, d.season),
        n2smape: smape(a.actual, n2),
        n2mase: mase(a.actual, n2, a.history, d.season),
        snmase: mase(a.actual, sn, a.history, d.season),
        cov: Object.fromEntries(LEVELS.map((l) => [l, coverage(a.actual, iv[l]![0], iv[l]![1])])),
        msis: msis(a.actual, iv[95]![0], iv[95]![1], a.history, d.season, 95),
      });
    }
  }
  return rows;
}

function stats(rows: Row[]) {
  const m = (xs: (number | null)[]) => meanOf(xs.filter((x): x is number => x !== null));
  const sm = m(rows.map((r) => r.smape));
  const ma = m(rows.map((r) => r.mase));
  return {
    sm,
    ma,
    owa: 0.5 * (sm / m(rows.map((r) => r.n2smape)) + ma / m(rows.map((r) => r.n2mase))),
    better: rows.filter((r) => r.mase !== null && r.snmase !== null && r.mase < r.snmase).length / rows.length,
    c80: 100 * m(rows.map((r) => r.cov[80]!)),
    c95: 100 * m(rows.map((r) => r.cov[95]!)),
    msis: m(rows.map((r) => r.msis)),
  };
}

function line(rows: Row[]): string {
  const m = (xs: (number | null)[]) => meanOf(xs.filter((x): x is number => x !== null));
  const { sm, ma, owa, better } = stats(rows);
  return `sMAPE ${sm.toFixed(2)} MASE ${ma.toFixed(3)} OWA ${owa.toFixed(3)} >snaive ${(100 * better).toFixed(0)}% | cover ${(100 * m(rows.map((r) => r.cov[80]!))).toFixed(1)} / ${(100 * m(rows.map((r) => r.cov[95]!))).toFixed(1)} MSIS ${m(rows.map((r) => r.msis)).toFixed(2)}`;
}

const freqs = [...new Set(datasets.map((d) => d.frequency))];
const which = (process.env.VARIANTS ?? 'comb,cal').split(',');
const calFor = process.env.CAL ? CALIBRATORS[Number(process.env.CAL)]! : defaultCal;
const markdown = process.env.MD === '1';
const report = (title: string, rows: Row[]) => {
  if (markdown) {
    // One table row: per frequency then overall, "MASE · OWA" (combinations) or "80 / 95 % · MSIS" (calibrations).
    const cell = (rs: Row[]) => {
      const t = stats(rs);
      return which.includes('comb')
        ? `${t.ma.toFixed(3)} · ${t.owa.toFixed(3)}`
        : `${t.c80.toFixed(1)} / ${t.c95.toFixed(1)} · ${t.msis.toFixed(2)}`;
    };
    const all = stats(rows);
    const tail = which.includes('comb')
      ? `${cell(rows)} | ${(100 * all.better).toFixed(0)} % | ${all.c80.toFixed(1)} / ${all.c95.toFixed(1)} · ${all.msis.toFixed(2)}`
      : cell(rows);
    console.log(
      `| ${title.split(' | ')[which.includes('comb') ? 0 : 1]} | ${freqs.map((f) => cell(rows.filter((r) => r.frequency === f))).join(' | ')} | ${tail} |`,
    );
    return;
  }
  console.log(`\n== ${title}`);
  for (const f of freqs)
    console.log(`  ${f.padEnd(8)} (${rows.filter((r) => r.frequency === f).length}) ${line(rows.filter((r) => r.frequency === f))}`);
  console.log(`  overall  (${rows.length}) ${line(rows)}`);
};
if (which.includes('comb')) for (const c of COMBINATIONS) report(`${c.name} | ${calFor.name}`, evaluate(c, calFor));
if (which.includes('cal')) for (const c of CALIBRATORS) report(`${COMBINATIONS[0]!.name} | ${c.name}`, evaluate(COMBINATIONS[0]!, c));
