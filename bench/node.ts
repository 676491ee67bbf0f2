// `npm run bench`: webrnn's WebGPU forward pass beside the float64 CPU reference, on this machine's
// adapter, validated before timing. Prints a table and writes bench/out/results.json.
// (The peers of the speed issue — TensorFlow.js, ONNX Runtime, copy and matmul ceilings — come later.)
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpuBackend } from '../src/backends/cpu.ts';
import { WebGPUBackend } from '../src/backends/webgpu.ts';
import type { Backend } from '../src/backends/backend.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { tensor } from '../src/tensor.ts';
import { compare, FLOAT32_TOLERANCE } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import { forwardFlops, STANDARD } from './workloads.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(fn: () => Promise<unknown>, runs: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

const gpu = await WebGPUBackend.create();
const records = [];
try {
  for (const w of STANDARD) {
    const { cell, inputSize, hiddenSize, outputSize, numLayers } = w;
    const model = RecurrentNet.create(
      { cell, inputSize, hiddenSize, outputSize, numLayers, ...(cell === 'rnn' ? { nonlinearity: w.nonlinearity } : {}) },
      { seed: 1 },
    );
    const I = inputSize;
    const x = tensor(uniformArray(mulberry32(2), w.batch * w.steps * I, -1, 1), [w.batch, w.steps, I]);
    const reference = await model.forward(x, { backend: cpuBackend });
    const contenders: Array<[string, Backend, number]> = [
      ['webrnn-webgpu', gpu, 7],
      ['cpu-reference', cpuBackend, 3],
    ];
    const rows = [];
    for (const [name, backend, runs] of contenders) {
      const out = await model.forward(x, { backend }); // warm-up and validation
      const check = compare(out.output.data, reference.output.data, FLOAT32_TOLERANCE);
      if (!check.ok) throw new Error(`${name} on ${w.name} failed validation: ${check.message}`);
      const ms = await time(() => model.forward(x, { backend }), runs);
      rows.push({ contender: name, ms, maxAbsError: check.maxAbsError });
    }
    const webrnnMs = rows[0]!.ms;
    for (const r of rows) {
      records.push({
        ...w, workload: w.name,
        adapter: gpu.gpu.summary, contender: r.contender,
        medianMs: r.ms, sequencesPerSecond: (w.batch / r.ms) * 1000,
        gflops: forwardFlops(w) / (r.ms * 1e6), maxAbsError: r.maxAbsError, ratioToWebrnn: r.ms / webrnnMs,
      });
    }
  }
} finally {
  gpu.dispose();
}

const header = ['workload', 'contender', 'median ms', 'seq/s', 'GFLOP/s', 'max err', 'x webrnn'];
console.log(header.join('\t'));
for (const r of records) {
  console.log([r.workload, r.contender, r.medianMs.toFixed(2), r.sequencesPerSecond.toFixed(0), r.gflops.toFixed(3), r.maxAbsError.toExponential(1), r.ratioToWebrnn.toFixed(2)].join('\t'));
}
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/results.json', JSON.stringify(records, null, 2));
console.log('wrote bench/out/results.json');
