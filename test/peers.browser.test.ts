import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backends/cpu.ts';
import { RecurrentNet } from '../src/model/recurrent.ts';
import { tensor } from '../src/tensor.ts';
import { FLOAT32_TOLERANCE, expectClose } from '../src/util/compare.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import type { Workload } from '../bench/workloads.ts';
import { peerContenders } from '../bench/peers/index.ts';

// The browser's peers (onnxruntime-web with the wasm and WebGPU EPs, TF.js on WebGPU) load and
// compute webrnn's model in Chromium, as the benchmark page runs them: an LSTM and a GRU (the cell
// whose TF.js form is a custom cell) against the float64 reference. The Node project covers every cell.

const [B, T, I, H, O] = [3, 5, 2, 4, 2];

async function makeCase(cell: 'lstm' | 'gru') {
  const model = RecurrentNet.create({ cell, inputSize: I, hiddenSize: H, outputSize: O, numLayers: 2 }, { seed: 3 });
  const x = uniformArray(mulberry32(5), B * T * I, -1, 1);
  const reference = (await model.forward(tensor(x, [B, T, I]), { backend: cpuBackend })).output.data;
  const workload: Workload = { name: cell, cell, inputSize: I, hiddenSize: H, outputSize: O, numLayers: 2, batch: B, steps: T };
  return { cell, workload, model, x, reference };
}

const CASES = await Promise.all([makeCase('lstm'), makeCase('gru')]);
const PEERS = peerContenders('browser');

afterAll(async () => {
  for (const peer of PEERS) await peer.dispose();
});

describe.each(PEERS.map((p) => [p.name, p] as const))('peer %s in Chromium', (name, peer) => {
  it('is available and matches the float64 reference (2-layer LSTM and GRU)', async () => {
    expect(typeof window).toBe('object');
    expect(await peer.available()).toBe(true);
    for (const c of CASES) {
      const prepared = await peer.prepare(c.workload, c.model, c.x);
      try {
        expectClose(await prepared.run(), c.reference, FLOAT32_TOLERANCE, `${name}, ${c.cell}`, [B, T, O]);
      } finally {
        await prepared.dispose();
      }
    }
    console.info(name, JSON.stringify(peer.settings()));
  });
});
