// `node scripts/vite-run.mjs bench/accuracy-network.ts [flags]`: the accuracy benchmark's trained
// networks' forecasts, written to a cache file, so that ways of combining them with the baselines and
// of calibrating their intervals (bench/accuracy-variants.ts) are compared on the same networks
// without training them again (training is nearly all of a run's time; the statistical members are
// memoised and fit in seconds).
//
// For each dataset of the split it does what `Forecaster.backtest` does with one fold: fits the
// forecaster (defaults, plus `--set` options) on each series but its last horizon, then records the
// ensemble's median forecast at two origins: the held-out one (the last horizon of what it was fitted
// on: the window its early stopping, combination weights and interval calibration use) and the
// scored one (the horizon the benchmark scores). With `refit` off (the default) those are the
// forecasts the backtest combines.
//
//   --split test|validation  (default validation)
//   --only monthly,daily     frequencies or dataset names (default all)
//   --set key=value          a forecaster option other than its default (JSON value)
//   --out bench/out/network-validation.json
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import { Forecaster, type ForecasterOptions } from '../src/forecast/forecaster.ts';
import { firstPoints } from '../src/forecast/frame.ts';
import { accuracyDatasets } from './accuracy/data.ts';

const { values: args } = parseArgs({
  options: {
    split: { type: 'string', default: 'validation' },
    only: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
  },
});
const overrides: Record<string, unknown> = {};
for (const kv of args.set) {
  const at = kv.indexOf('=');
  overrides[kv.slice(0, at)] = JSON.parse(kv.slice(at + 1));
}
if (overrides.refit) throw new Error("the cache records the held-out phase's networks: refit must stay off");
const out = args.out ?? `bench/out/network-${args.split}.json`;
const backend = await WebGPUBackend.create();
const datasets = accuracyDatasets().filter((d) => !args.only || args.only.split(',').some((o) => o === d.frequency || o === d.name));
const results = [];
try {
  for (const d of datasets) {
    const t0 = performance.now();
    const split = args.split === 'test' ? d.series : d.series.map((s) => firstPoints(s, s.y.length - d.horizon));
    const cut = split.map((s) => firstPoints(s, s.y.length - d.horizon));
    const inner = cut.map((s) => firstPoints(s, s.y.length - d.horizon));
    const options: ForecasterOptions = { backend, horizon: d.horizon, season: d.season, ...(overrides as Partial<ForecasterOptions>) };
    const f = Forecaster.create(options);
    await f.fit(cut);
    const held = await f.predict(inner);
    const scored = await f.predict(cut);
    results.push({
      name: d.name,
      frequency: d.frequency,
      horizon: d.horizon,
      season: d.season,
      series: split.map((s, k) => ({
        id: s.id,
        y: Array.from(s.y),
        held: held[k]!.network && Array.from(held[k]!.network!),
        scored: scored[k]!.network && Array.from(scored[k]!.network!),
      })),
    });
    console.log(`${d.name}: ${split.length} series, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // Written after each dataset, so a long run can be read while it goes on.
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ split: args.split, options: overrides, date: new Date().toISOString(), results }));
  }
} finally {
  backend.dispose();
}
console.log(`wrote ${out}`);
