// The Node peers alone, on the benchmark's standard workloads: each validated against the float64
// CPU reference, warmed up (the validating run), then timed; prints one line per peer and workload.
//
//   node scripts/vite-run.mjs bench/peers/measure.ts [--peers onnxruntime-node-cpu,tfjs-wasm] [--workloads lstm-h32] [--runs 7]
//
// `npm run bench` is the harness that puts these beside webrnn; this is for looking at the peers alone.
import { parseArgs } from 'node:util';
import { cpuBackend } from '../../src/backends/cpu.ts';
import { RecurrentNet } from '../../src/model/recurrent.ts';
import { tensor } from '../../src/tensor.ts';
import { compare, FLOAT32_TOLERANCE } from '../../src/util/compare.ts';
import { mulberry32, uniformArray } from '../../src/util/rng.ts';
import { STANDARD, type Workload } from '../workloads.ts';
import { peerContenders } from './index.ts';

const { values: args } = parseArgs({
  options: { peers: { type: 'string' }, workloads: { type: 'string' }, runs: { type: 'string', default: '7' } },
});
const pick = <T extends { name: string }>(all: T[], list: string | undefined) =>
  list ? all.filter((x) => list.split(',').includes(x.name)) : all;
const peers = pick(peerContenders('node'), args.peers);
const workloads = pick(STANDARD, args.workloads);
const maxRuns = Number(args.runs);

/** The workload's model and input, as bench/node.ts makes them (model seed 1, input seed 2). */
function setup(w: Workload) {
  const { cell, inputSize, hiddenSize, outputSize, numLayers } = w;
  const model = RecurrentNet.create(
    { cell, inputSize, hiddenSize, outputSize, numLayers, ...(cell === 'rnn' ? { nonlinearity: w.nonlinearity } : {}) },
    { seed: 1 },
  );
  const x = uniformArray(mulberry32(2), w.batch * w.steps * inputSize, -1, 1);
  return { model, x };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const peer of peers) {
  const available = await peer.available();
  console.log(`# ${peer.name}: ${available === true ? JSON.stringify(peer.settings()) : `not available: ${available}`}`);
}
console.log(['workload', 'peer', 'median ms', 'runs', 'max abs err'].join('\t'));
for (const w of workloads) {
  const { model, x } = setup(w);
  const reference = (await model.forward(tensor(x, [w.batch, w.steps, w.inputSize]), { backend: cpuBackend })).output.data;
  for (const peer of peers) {
    if ((await peer.available()) !== true) continue;
    const prepared = await peer.prepare(w, model, x);
    try {
      const t0 = performance.now();
      const check = compare(await prepared.run(), reference, FLOAT32_TOLERANCE, [w.batch, w.steps, w.outputSize]);
      const warmMs = performance.now() - t0;
      if (!check.ok) {
        console.log([w.name, peer.name, 'FAILED validation', check.message].join('\t'));
        continue;
      }
      // Slow peers get fewer timed runs, so a whole pass stays within about a minute per peer and workload.
      const runs = Math.max(3, Math.min(maxRuns, Math.floor(20_000 / warmMs)));
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        await prepared.run();
        ms.push(performance.now() - start);
      }
      console.log([w.name, peer.name, median(ms).toFixed(1), runs, check.maxAbsError.toExponential(1)].join('\t'));
    } finally {
      await prepared.dispose();
    }
  }
}
for (const peer of peers) await peer.dispose();
