// What the package tests run from the installed tarball, in Node (Dawn) and in a Vite app in
// Chromium: a two-layer Elman network's forward pass on WebGPU against the float64 CPU reference,
// through the public API only. Plain JavaScript: the consumer projects have no TypeScript step.
import { compare, cpuBackend, ElmanRNN, FLOAT32_TOLERANCE, mulberry32, tensor, uniformArray, WebGPUBackend } from 'webrnn';

/** Runs the forward pass on both backends; returns what the tests assert on. */
export async function elmanForward() {
  // Odd sizes: no batch, step or hidden size is a multiple of a workgroup size.
  const [batch, steps, inputs] = [33, 17, 2];
  const model = new ElmanRNN({ inputSize: inputs, hiddenSize: 9, outputSize: 1, numLayers: 2, nonlinearity: 'tanh' }, { seed: 7 });
  const x = tensor(uniformArray(mulberry32(1), batch * steps * inputs, -1, 1), [batch, steps, inputs]);
  const gpu = await WebGPUBackend.create({ log: false });
  try {
    const got = await model.forward(x, { backend: gpu });
    const want = await model.forward(x, { backend: cpuBackend });
    const report = compare(got.output.data, want.output.data, FLOAT32_TOLERANCE, got.output.shape);
    return {
      runtime: gpu.gpu.summary.runtime,
      shape: [...got.output.shape],
      ok: report.ok,
      message: report.message,
      maxAbsError: report.maxAbsError,
      // The reference's outputs vary: a forward pass that wrote zeros everywhere would not match.
      spread: Math.max(...want.output.data) - Math.min(...want.output.data),
    };
  } finally {
    gpu.dispose();
  }
}
