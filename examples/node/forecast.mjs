import { readFileSync } from 'node:fs';
import { Forecaster, WebGPUBackend, parseLong } from 'webrnn';

const series = parseLong(readFileSync('sales.csv', 'utf8')); // columns unique_id, ds, y
const backend = await WebGPUBackend.create(); // Dawn's WebGPU (npm install webgpu)
const f = Forecaster.create({ backend, horizon: 12, season: 12 });
await f.fit(series, { epochs: 20 });
for (const { id, values } of await f.predict(series)) {
  console.log(id, Array.from(values, (v) => v.toFixed(1)).join(' ')); // the next 12 months
}
backend.dispose();
