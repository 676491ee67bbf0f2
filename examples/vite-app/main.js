import { Forecaster, WebGPUBackend, parseLong } from 'webrnn';

const series = parseLong(await (await fetch('sales.csv')).text()); // columns unique_id, ds, y
const backend = await WebGPUBackend.create(); // the browser's navigator.gpu
const f = Forecaster.create({ backend, horizon: 12, season: 12 });
await f.fit(series, { epochs: 20 });
const forecasts = await f.predict(series); // [{ id, values, intervals }]
document.querySelector('#forecasts').textContent = forecasts
  .map(({ id, values }) => `${id} ${Array.from(values, (v) => v.toFixed(1)).join(' ')}`)
  .join('\n'); // the next 12 months, a line a store
backend.dispose();
