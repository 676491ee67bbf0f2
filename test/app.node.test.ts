import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { compare, FLOAT32_TOLERANCE } from '../src/util/compare.ts';
import { guessMapping, parseSeries } from '../app/sources.ts';
import { setOptions, streamText, waitForStatus } from './helpers/app-page.ts';
import { startPageServer, type PageServer } from './helpers/page-server.ts';

// The forecasting app `npm start` opens (index.html), driven in Chromium as a person would use it:
// built-in data, training with a live loss chart, the metrics table against the statistical
// baselines (seasonal naive, Naive2, ETS, Theta), prediction intervals in the chart and the
// download, an uploaded CSV whose downloaded forecasts are compared with `webrnn forecast` on the
// same file and settings, malformed files, and tens of thousands of generated series.

let pages: PageServer;
const dir = mkdtempSync(join(tmpdir(), 'webrnn-app-'));

beforeAll(async () => {
  pages = await startPageServer();
});
afterAll(async () => {
  await pages?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens the app and waits for the data it opens with; collects uncaught page errors. */
async function openApp(): Promise<{ page: Page; errors: string[] }> {
  const page = await pages.browser.newPage({ acceptDownloads: true, viewport: { width: 1300, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pages.url(''));
  await waitForStatus(page, ['ready']);
  return { page, errors };
}

/** The numbers of one column of the visible table rows (`data-value` of cells keyed `key`). */
async function column(page: Page, key: string): Promise<number[]> {
  return (await page.locator(`#rows td[data-key="${key}"]`).evaluateAll((tds) => tds.map((td) => (td as HTMLElement).dataset.value!))).map(
    Number,
  );
}

/** The columns of a forecasts CSV with intervals at 80 and 95 %, as statsforecast names them. */
const HEADER_80_95 = 'unique_id,step,ds,yhat,yhat-lo-95,yhat-lo-80,yhat-hi-80,yhat-hi-95';

/** A band of the series chart as its canvas' `data-bands` describes it (app/charts.ts). */
interface Band {
  label: string;
  level: number;
  fill: string | false;
  lo: number[];
  hi: number[];
  line: number[];
}

/** Three stores' monthly units (trend, yearly cycle, a little deterministic wobble) and prices, long format. */
function salesCsv(): string {
  const lines = ['month,store,units,price'];
  for (const [store, level] of [
    ['north', 120],
    ['south', 80],
    ['east', 200],
  ] as const) {
    for (let t = 0; t < 40; t++) {
      const month = `${2020 + Math.floor(t / 12)}-${String((t % 12) + 1).padStart(2, '0')}-01`;
      const units = level + 0.8 * t + 0.15 * level * Math.sin((2 * Math.PI * t) / 12) + 3 * Math.sin(7.3 * t + level);
      lines.push(`${month},${store},${units.toFixed(2)},${(9.99 + 0.01 * (t % 5)).toFixed(2)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

describe('the forecasting app', () => {
  it('opens on a real dataset, trains with a live loss chart, beats seasonal naive on the hold-out; ETS, Theta and Naive2 beside it, interval bands in the chart, interval columns in the download', async () => {
    const { page, errors } = await openApp();
    expect(await page.locator('#data-summary').textContent()).toMatch(
      /^Unemployment across 14 US industries.*: 14 series, 1,708 points\.$/,
    );
    expect(await page.locator('#rows tr').count()).toBe(14);
    expect(await page.locator('#backend').textContent()).toMatch(/^Runs on (WebGPU|CPU)/);
    expect(await page.locator('#series-chart').getAttribute('data-lines')).toBe('history');

    // The defaults are the forecaster's ("auto": nothing passed), but its full recipe (five networks, up
    // to 100 epochs each, twice) takes many minutes on a software adapter: a small one here.
    for (const auto of ['inputSize', 'hiddenSize', 'ensemble', 'epochs', 'lr', 'batchSize'])
      expect(await page.locator(`#options-form [name="${auto}"]`).inputValue(), auto).toBe('');
    expect(await page.locator('#options-form [name="levels"]').inputValue()).toBe('80, 95');
    expect(
      await page.locator('#options-form [name="combine"]:checked').evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).value)),
    ).toEqual(['naive2', 'ets', 'theta']);
    await setOptions(page, {
      horizon: '6',
      inputSize: '12',
      cell: 'lstm',
      hiddenSize: '8',
      ensemble: '2',
      epochs: '6',
      lr: '0.02',
      seed: '0',
    });
    expect(await page.locator('#options-form [name="season"]').inputValue()).toBe('12'); // monthly data
    await page.click('#run');
    // The loss chart fills while it trains: two draws with more points, and different pixels.
    const chart = page.locator('#loss-chart');
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#loss-chart')!.dataset.points) > 0, null, {
      timeout: 60_000,
    });
    const drawn = () => chart.evaluate((c: HTMLCanvasElement) => ({ points: Number(c.dataset.points), pixels: c.toDataURL() }));
    const first = await drawn();
    await page.waitForFunction((n) => Number(document.querySelector<HTMLElement>('#loss-chart')!.dataset.points) > n, first.points, {
      timeout: 60_000,
    });
    const second = await drawn();
    expect(second.points).toBeGreaterThan(first.points);
    expect(second.pixels).not.toBe(first.pixels);
    expect(await page.locator('#progress').evaluate((p: HTMLProgressElement) => p.value)).toBeGreaterThan(0);
    await waitForStatus(page, ['done'], 600_000);
    expect(await page.locator('#progress').evaluate((p: HTMLProgressElement) => p.value)).toBe(1);
    // The progress line's last word: once the networks had trained, the baselines' phase.
    expect(await page.locator('#progress-text').textContent()).toBe(
      'backtest: the networks have trained; fitting the statistical baselines (seasonal naive, Naive2, ETS, Theta)',
    );

    // The overall row: mean MASE and sMAPE of the model below seasonal naive's.
    const overall = page.locator('#overall tr.overall');
    expect(await overall.getAttribute('data-beats')).toBe('yes');
    const mean = async (key: string) => Number(await overall.locator(`td[data-key="${key}"]`).getAttribute('data-value'));
    const [mase, naiveMase, smape, naiveSmape] = await Promise.all(['model.mase', 'snaive.mase', 'model.smape', 'snaive.smape'].map(mean));
    expect(mase, `model MASE ${mase}, seasonal naive ${naiveMase}`).toBeLessThan(naiveMase!);
    expect(smape).toBeLessThan(naiveSmape!);
    expect(await page.locator('#verdict').textContent()).toMatch(
      /the model beats (every baseline|.*seasonal naive.*, not .*): mean MASE [\d.]+ against seasonal naive [\d.]+, Naive2 [\d.]+, ETS [\d.]+, Theta [\d.]+; OWA [\d.]+/,
    );
    expect((await page.locator('#verdict').getAttribute('data-beaten'))!.split(' ')).toContain('snaive');
    // Every series has its metrics; the overall mean is theirs.
    const perSeries = await column(page, 'model.mase');
    expect(perSeries).toHaveLength(14);
    expect(perSeries.every(Number.isFinite)).toBe(true);
    expect(perSeries.reduce((a, b) => a + b, 0) / 14).toBeCloseTo(mase!, 10);

    // Sorting by the model's MASE, both ways.
    await page.click('#series-table th[data-sort="model.mase"] button');
    const ascending = await column(page, 'model.mase');
    expect(ascending).toEqual([...perSeries].sort((a, b) => a - b));
    await page.click('#series-table th[data-sort="model.mase"] button');
    expect(await column(page, 'model.mase')).toEqual([...ascending].reverse());

    // A chosen series: history, hold-out, the backtest's and the baselines' forecasts, the forecast, and the intervals' bands.
    await page.click('#rows tr[data-id="Construction"]');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#series-chart')!.dataset.series === 'Construction');
    expect(await page.locator('#series-chart').getAttribute('data-lines')).toBe(
      'history,hold-out (actual),backtest forecast,seasonal naive,Naive2,ETS,Theta,forecast,' +
        'backtest 95% interval,backtest 80% interval,forecast 95% interval,forecast 80% interval',
    );
    expect(await page.locator('#rows tr[data-id="Construction"]').getAttribute('aria-selected')).toBe('true');

    // The backend, and whether it is a software one, said on the page.
    const backend = page.locator('#backend');
    const software = (await backend.getAttribute('data-software')) === 'true';
    expect(await page.locator('#software-note').isVisible()).toBe(software);
    const architecture = await page.evaluate(async () => (await navigator.gpu?.requestAdapter())?.info.architecture ?? null);
    if ((await backend.getAttribute('data-name')) === 'webgpu' && architecture === 'swiftshader') expect(software).toBe(true);

    // The table: each metric over the model and the four baselines, and the coverage per level.
    const sub = await page
      .locator('#series-table thead tr:nth-child(2) th')
      .evaluateAll((ths) => ths.map((th) => [(th as HTMLElement).dataset.sort, th.textContent]));
    const sides = [
      ['model', 'model'],
      ['snaive', 'seasonal naive'],
      ['naive2', 'Naive2'],
      ['ets', 'ETS'],
      ['theta', 'Theta'],
    ];
    expect(sub).toEqual([
      ...['mae', 'rmse', 'smape', 'mase'].flatMap((m) => sides.map(([key, label]) => [`${key}.${m}`, label])),
      ['coverage.80', '80%'],
      ['coverage.95', '95%'],
    ]);
    for (const b of ['snaive', 'naive2', 'ets', 'theta']) {
      const perSeries = await column(page, `${b}.mase`);
      expect(perSeries, b).toHaveLength(14);
      expect(
        perSeries.every((v) => Number.isFinite(v) && v > 0),
        b,
      ).toBe(true);
      expect(perSeries.reduce((a, v) => a + v, 0) / 14, b).toBeCloseTo(await mean(`${b}.mase`), 10);
    }
    // ETS and Theta are not copies of each other or of the naive forecasts.
    expect(await column(page, 'ets.mae')).not.toEqual(await column(page, 'theta.mae'));
    expect(await column(page, 'ets.mae')).not.toEqual(await column(page, 'snaive.mae'));
    const [c80, c95] = [await mean('coverage.80'), await mean('coverage.95')];
    expect(c80 >= 0 && c80 <= c95 && c95 <= 1, `coverage 80 % ${c80}, 95 % ${c95}`).toBe(true);
    for (const level of [80, 95]) expect((await column(page, `coverage.${level}`)).every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(await page.locator('#verdict').textContent()).toMatch(
      /against seasonal naive [\d.]+, Naive2 [\d.]+, ETS [\d.]+, Theta [\d.]+; OWA [\d.]+ .*Intervals: 80% hold [\d.]+%, 95% hold [\d.]+% of the points; MSIS [\d.]+\.$/,
    );
    expect(await page.locator('#notes').isHidden()).toBe(true); // every series is long enough for the network

    // The chart: the backtest's and the forecast's intervals as filled bands, nested around their forecast.
    await page.click('#rows tr[data-id="Finance"]');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#series-chart')!.dataset.series === 'Finance');
    const bands = JSON.parse((await page.locator('#series-chart').getAttribute('data-bands'))!) as Band[];
    expect(bands.map((b) => b.label)).toEqual([
      'backtest 95% interval',
      'backtest 80% interval',
      'forecast 95% interval',
      'forecast 80% interval',
    ]);
    for (const b of bands) {
      expect(b.fill, b.label).toBe('-1');
      expect(b.lo, b.label).toHaveLength(6);
      b.lo.forEach((lo, h) => {
        expect(lo, `${b.label} step ${h + 1}`).toBeLessThanOrEqual(b.line[h]!);
        expect(b.hi[h]!, `${b.label} step ${h + 1}`).toBeGreaterThanOrEqual(b.line[h]!);
      });
    }
    for (const [wide, narrow] of [
      [bands[0]!, bands[1]!],
      [bands[2]!, bands[3]!],
    ] as [Band, Band][]) {
      wide.lo.forEach((lo, h) => expect(lo).toBeLessThanOrEqual(narrow.lo[h]!));
      wide.hi.forEach((hi, h) => expect(hi).toBeGreaterThanOrEqual(narrow.hi[h]!));
    }
    // Drawn: between the 80 % and the 95 % upper bounds of the forecast, the canvas is tinted with the forecast's blue.
    const tint = await page.locator('#series-chart').evaluate(
      (canvas: HTMLCanvasElement, band) => {
        type Scale = { getPixelForValue(v: number): number };
        const chart = (
          canvas as unknown as { chart: { scales: { x: Scale; y: Scale }; data: { labels: unknown[] }; currentDevicePixelRatio: number } }
        ).chart;
        const ratio = chart.currentDevicePixelRatio;
        const n = chart.data.labels.length - band.hi95.length;
        const ctx = canvas.getContext('2d')!;
        return band.hi95.map((hi95, h) => {
          const x = chart.scales.x.getPixelForValue(n + h);
          const y = chart.scales.y.getPixelForValue((hi95 + band.hi80[h]!) / 2);
          const [r, g, b, a] = ctx.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data;
          return { r: r!, g: g!, b: b!, a: a! };
        });
      },
      { hi95: bands[2]!.hi, hi80: bands[3]!.hi },
    );
    const tinted = tint.filter(({ r, b, a }) => a > 0 && b > r);
    expect(tinted.length, JSON.stringify(tint)).toBeGreaterThanOrEqual(4);

    // The download: statsforecast's interval columns, nested around every point forecast.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const csv = await streamText(await download.createReadStream());
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(HEADER_80_95);
    expect(lines).toHaveLength(1 + 14 * 6);
    for (const line of lines.slice(1)) {
      const [yhat, lo95, lo80, hi80, hi95] = line.split(',').slice(-5).map(Number) as [number, number, number, number, number];
      expect([lo95, lo80, hi80, hi95].every(Number.isFinite), line).toBe(true);
      expect(lo95 <= lo80 && lo80 <= yhat && yhat <= hi80 && hi80 <= hi95 && lo95 < hi95, line).toBe(true);
    }
    // The chart's forecast band for Finance is the download's.
    const finance = lines.filter((l) => l.startsWith('Finance,')).map((l) => l.split(',').slice(-5).map(Number));
    expect(finance.map((r) => r[1])).toEqual(bands[2]!.lo);
    expect(finance.map((r) => r[4])).toEqual(bands[2]!.hi);
    expect(errors).toEqual([]);
    await page.close();
  }, 900_000);

  it('reads an uploaded CSV with mapped columns; its download matches webrnn forecast on the same file', async () => {
    const { page, errors } = await openApp();
    const csv = salesCsv();
    await page.setInputFiles('#file-form input[name="file"]', { name: 'sales.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.waitForFunction(() => document.querySelector('#data-summary')!.textContent!.startsWith('sales.csv'));
    // Detected: long, the stamps in `month`, ids in `store`; the value guessed as the last numeric column.
    const mapping = async () =>
      Object.fromEntries(
        await Promise.all(['format', 'id', 'ds', 'y'].map(async (n) => [n, await page.locator(`#file-form [name="${n}"]`).inputValue()])),
      );
    expect(await mapping()).toEqual({ format: 'long', id: 'store', ds: 'month', y: 'price' });
    await page.selectOption('#file-form [name="y"]', 'units');
    await page.click('#file-form button[type="submit"]');
    await waitForStatus(page, ['ready']);
    expect(await page.locator('#data-summary').textContent()).toBe('sales.csv (long): 3 series, 120 points.');
    expect(await page.locator('#rows tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.id))).toEqual([
      'north',
      'south',
      'east',
    ]);

    const settings = {
      horizon: '4',
      season: '12',
      inputSize: '12',
      cell: 'gru',
      hiddenSize: '6',
      numLayers: '1',
      ensemble: '2',
      epochs: '3',
      lr: '0.02',
      batchSize: '32',
      seed: '7',
      strategy: 'recursive',
      scaling: 'standard',
      mode: 'global',
    };
    // The same file and settings through the library, as `webrnn forecast` runs it (cpuBackend).
    const file = join(dir, 'sales.csv');
    const out = join(dir, 'cli-forecasts.csv');
    writeFileSync(file, csv);
    const err: string[] = [];
    const code = await main(
      [
        'forecast',
        file,
        '--cpu',
        '--id',
        'store',
        '--ds',
        'month',
        '--y',
        'units',
        '--horizon',
        settings.horizon,
        '--season',
        settings.season,
        '--input-size',
        settings.inputSize,
        '--cell',
        settings.cell,
        '--hidden',
        settings.hiddenSize,
        '--layers',
        settings.numLayers,
        '--ensemble',
        settings.ensemble,
        '--epochs',
        settings.epochs,
        '--lr',
        settings.lr,
        '--batch',
        settings.batchSize,
        '--seed',
        settings.seed,
        '--strategy',
        settings.strategy,
        '--scaling',
        settings.scaling,
        '--out',
        out,
      ],
      { out: () => {}, err: (l) => err.push(l) },
      '0.0.0',
    );
    expect(code, err.join('\n')).toBe(0);
    const fromLibrary = readFileSync(out, 'utf8');

    /** Runs the app on `device` and downloads its forecasts; says which backend it ran on. */
    const forecastIn = async (device: 'auto' | 'cpu') => {
      await setOptions(page, { ...settings, device });
      await page.click('#run');
      await waitForStatus(page, ['done']);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      expect(download.suggestedFilename()).toBe('forecasts.csv');
      return {
        csv: await streamText(await download.createReadStream()),
        backend: await page.locator('#backend').getAttribute('data-name'),
      };
    };

    // As it chooses (WebGPU when its backend can train and forecast): the same rows; on the GPU,
    // float32 training lands within float32 tolerance of the float64 run.
    const auto = await forecastIn('auto');
    const lines = auto.csv.trim().split('\n');
    expect(lines[0]).toBe(HEADER_80_95);
    expect(lines).toHaveLength(1 + 3 * 4);
    const number = String.raw`-?\d+(\.\d+)?(e[+-]?\d+)?`;
    expect(lines[1]).toMatch(new RegExp(`^north,1,2023-05-01(,${number}){5}$`));
    const parse = (text: string) =>
      text
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));
    const [app, lib] = [parse(auto.csv), parse(fromLibrary)];
    expect(app.map((r) => r.slice(0, 3))).toEqual(lib.map((r) => r.slice(0, 3)));
    if (auto.backend === 'cpu') expect(auto.csv).toBe(fromLibrary);
    // The point forecasts and every bound, column by column.
    for (let c = 3; c < 8; c++) {
      const report = compare(
        app.map((r) => Number(r[c])),
        lib.map((r) => Number(r[c])),
        FLOAT32_TOLERANCE,
      );
      expect(report.ok, `${auto.backend}, column ${lines[0]!.split(',')[c]}: ${report.message}`).toBe(true);
    }

    // On the CPU: the same float64 code as the command line, seeded alike, so the same bytes.
    const cpu = await forecastIn('cpu');
    expect(cpu.backend).toBe('cpu');
    expect(cpu.csv).toBe(fromLibrary);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('names the row and column of a malformed file, and keeps working', async () => {
    const { page, errors } = await openApp();
    const upload = (name: string, text: string) =>
      page.setInputFiles('#file-form input[name="file"]', { name, mimeType: 'text/csv', buffer: Buffer.from(text) });
    const box = page.locator('#data-error');

    await upload('wide.csv', 'date,a,b\n2024-01-01,1,2\n2024-02-01,2,3\n2024-03-01,3,n/a\n2024-04-01,4,5\n');
    await waitForError(page);
    expect(await box.textContent()).toBe('This file cannot be read: row 4, column b: "n/a" is not a number');
    expect([await box.getAttribute('data-row'), await box.getAttribute('data-column')]).toEqual(['4', 'b']);

    await upload('long.csv', 'unique_id,ds,y\na,2024-01-01,1\na,2024-02-01,2\nb,2024-01-01,5\na,2024-02-01,3\n');
    await waitForError(page, 'row 5');
    expect(await box.textContent()).toBe('This file cannot be read: row 5, column ds: series a has two values at 2024-02-01');

    // The data loaded before is still there, and a good file loads.
    expect(await page.locator('#data-summary').getAttribute('data-state')).toBe('loaded');
    expect(await page.locator('#rows tr').count()).toBe(14);
    await upload('good.csv', 'date,a,b\n2024-01-01,1,2\n2024-02-01,2,3\n2024-03-01,3,4\n');
    await waitForStatus(page, ['ready']);
    expect(await box.isHidden()).toBe(true);
    expect(await page.locator('#data-summary').textContent()).toBe('good.csv (wide): 2 series, 6 points.');
    expect(await page.locator('#run').isEnabled()).toBe(true);
    // And so do the other built-in datasets.
    for (const [name, summary, firstIds] of [
      ['us-employment', /^US employment by industry.*: 23 series, 2,760 points\.$/, ['nonfarm', 'private', 'goods_producing']],
      ['co2', /^CO2 at Mauna Loa.*: 1 series, 746 points\.$/, ['co2']],
    ] as const) {
      await page.selectOption('#builtin-form [name="builtin"]', name);
      await page.click('#builtin-form button[type="submit"]');
      await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('#data-summary')!.textContent!), summary.source);
      const ids = await page.locator('#rows tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.id));
      expect(ids.slice(0, firstIds.length)).toEqual(firstIds);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('asks for the date format when the stamps read two ways, and reads the file as stated', async () => {
    const { page, errors } = await openApp();
    const box = page.locator('#data-error');
    await page.setInputFiles('#file-form input[name="file"]', {
      name: 'days.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('day,a,b\n1/4/2024,1,2\n2/4/2024,2,3\n3/4/2024,3,4\n'),
    });
    await waitForError(page, 'does not guess');
    expect(await box.textContent()).toMatch(
      /^This file cannot be read: the time stamps of column day read as M\/D\/YYYY or D\/M\/YYYY \(e\.g\. "1\/4\/2024"\).* or the date format field in the app$/,
    );
    expect(await page.locator('#file-form [name="dsFormat"]').inputValue()).toBe('');
    // A pattern that is not one says so; the one meant loads the file.
    await page.fill('#file-form [name="dsFormat"]', 'D/M/YY');
    await page.click('#file-form button[type="submit"]');
    await waitForError(page, 'unknown letter');
    await page.fill('#file-form [name="dsFormat"]', 'D/M/YYYY');
    await page.click('#file-form button[type="submit"]');
    await waitForStatus(page, ['ready']);
    expect(await box.isHidden()).toBe(true);
    expect(await page.locator('#data-summary').textContent()).toBe('days.csv (wide): 2 series, 6 points.');
    // A new file is detected afresh.
    await page.setInputFiles('#file-form input[name="file"]', {
      name: 'months.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('month,a\n2024-01-31,1\n2024-02-29,2\n2024-03-31,3\n'),
    });
    await page.waitForFunction(() => document.querySelector('#data-summary')!.textContent!.startsWith('months.csv'));
    expect(await page.locator('#file-form [name="dsFormat"]').inputValue()).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('forecasts series around 1e200 with finite values, and shows the error, not "Forecast ready", for values float32 cannot hold', async () => {
    const { page, errors } = await openApp();
    /** salesCsv with every unit value times `unit`. */
    const scaled = (unit: number) =>
      salesCsv().replace(/^([^,]+,[^,]+,)([^,]+)(,.*)$/gm, (line, head, units, tail) =>
        units === 'units' ? line : `${head}${Number(units) * unit}${tail}`,
      );
    const upload = async (name: string, unit: number) => {
      await page.setInputFiles('#file-form input[name="file"]', { name, mimeType: 'text/csv', buffer: Buffer.from(scaled(unit)) });
      await page.waitForFunction((n) => document.querySelector('#data-summary')!.textContent!.startsWith(n), name);
      await page.selectOption('#file-form [name="y"]', 'units');
      await page.click('#file-form button[type="submit"]');
      await waitForStatus(page, ['ready']);
    };
    const settings = {
      horizon: '4',
      season: '12',
      inputSize: '12',
      cell: 'gru',
      hiddenSize: '6',
      numLayers: '1',
      ensemble: '2',
      epochs: '2',
      lr: '0.02',
      batchSize: '32',
      seed: '7',
      strategy: 'recursive',
      mode: 'global',
      device: 'cpu',
    };

    // Standard scaling of values near 1e200 (its variance alone would be 1e400): finite forecasts.
    await upload('huge.csv', 1e200);
    await setOptions(page, { ...settings, scaling: 'standard' });
    await page.click('#run');
    await waitForStatus(page, ['done']);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const values = (await streamText(await download.createReadStream()))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',')[3]));
    expect(values).toHaveLength(12);
    for (const v of values) expect(Number.isFinite(v) && v > 1e201 && v < 1e203, String(v)).toBe(true);
    expect(await page.locator('#verdict').textContent()).toMatch(
      /mean MASE \d+\.\d{3} against seasonal naive \d+\.\d{3}, Naive2 \d+\.\d{3}, ETS \d+\.\d{3}, Theta \d+\.\d{3}/,
    );

    // Unscaled values beyond float32: the run stops with the error naming the series, no forecast.
    await upload('beyond.csv', 1e37);
    await setOptions(page, { ...settings, scaling: 'none' });
    await page.click('#run');
    await page.locator('#status[data-state="error"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('#status').textContent()).toMatch(
      /^Error: series north: the value [\d.e+]+ at index 0 scales \(none\) to [\d.e+]+, beyond float32's range/,
    );
    expect(await page.locator('#download').isDisabled()).toBe(true);
    expect(await page.locator('#verdict').textContent()).toBe(
      'Run a backtest to compare the model with seasonal naive, Naive2, ETS and Theta.',
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('generates 20,000 series and trains on them in its worker while the page stays responsive', async () => {
    const { page, errors } = await openApp();
    // A timer on the page every 20 ms: the longest gap between ticks is how long the page froze.
    await page.evaluate(() => {
      const w = window as unknown as { gaps: number[] };
      w.gaps = [];
      let last = performance.now();
      setInterval(() => {
        const now = performance.now();
        w.gaps.push(now - last);
        last = now;
      }, 20);
    });
    await page.fill('#synthetic-form [name="count"]', '20000');
    await page.fill('#synthetic-form [name="length"]', '40');
    await page.fill('#synthetic-form [name="season"]', '4');
    await page.click('#synthetic-form button[type="submit"]');
    await waitForStatus(page, ['ready']);
    expect(await page.locator('#data-summary').textContent()).toBe(
      '20,000 synthetic series of 40 points, season 4, seed 1: 20,000 series, 800,000 points.',
    );
    expect(await page.locator('#rows tr').count()).toBe(25);
    expect(await page.locator('#pager [data-role="info"]').textContent()).toBe('1–25 of 20,000');
    await page.click('#pager [data-page="last"]');
    expect(await page.locator('#pager [data-role="info"]').textContent()).toBe('19,976–20,000 of 20,000');
    await page.fill('#filter', '12345');
    expect(await page.locator('#rows tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.id))).toEqual([
      'synthetic-12345',
    ]);
    await page.fill('#filter', '');

    await setOptions(page, {
      horizon: '4',
      season: '4',
      inputSize: '8',
      cell: 'gru',
      hiddenSize: '4',
      epochs: '5',
      batchSize: '1024',
      combine: '',
    });
    await page.click('#run');
    // Progress arrives step by step; then the run is cancelled.
    await page.waitForFunction(
      () => Number(/step (\d+)/.exec(document.querySelector('#progress-text')!.textContent!)?.[1] ?? 0) >= 3,
      null,
      { timeout: 60_000 },
    );
    // The steps per epoch are counted once the first epoch ends (the forecaster may size the batches and sample the windows).
    expect(await page.locator('#progress-text').textContent()).toMatch(/^backtest fit: epoch \d\/5, step \d+(\/\d+)?, loss [\d.]+/);
    await page.click('#cancel');
    // Cancelled between steps, or (when the worker is too busy to hear it) by a fresh worker that reloads the data.
    await waitForStatus(page, ['cancelled', 'ready']);
    expect(await page.locator('#run').isEnabled()).toBe(true);
    const gaps = await page.evaluate(() => (window as unknown as { gaps: number[] }).gaps);
    expect(gaps.length).toBeGreaterThan(20);
    expect(Math.max(...gaps), 'the longest the page went without running a timer (ms)').toBeLessThan(500);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("the app's guess of an uploaded CSV's layout", () => {
  it('tells long from wide by repeated stamps and non-numeric columns, and picks id, date and value', () => {
    expect(guessMapping('unique_id,ds,y\na,2024-01-01,1\na,2024-02-01,2\n').mapping).toMatchObject({
      format: 'long',
      id: 'unique_id',
      ds: 'ds',
      y: 'y',
    });
    expect(guessMapping('date,north,south\n2024-01-01,,2\n2024-02-01,3,4\n').mapping).toMatchObject({ format: 'wide', ds: 'date' });
    // Numeric ids: long, because the stamps repeat.
    expect(guessMapping('shop,week,units,price\n1,2024-01-01,5,2.5\n2,2024-01-01,7,2.5\n').mapping).toEqual({
      format: 'long',
      id: 'shop',
      ds: 'week',
      y: 'price',
    });
    expect(guessMapping('store,month,units\nn,2024-01-01,5\ns,2024-01-01,7\n').mapping).toEqual({
      format: 'long',
      id: 'store',
      ds: 'month',
      y: 'units',
    });
  });

  it('reads the stamps in the date format the person states', () => {
    const csv = 'day,a\n2/1/2024,1\n1/2/2024,2\n';
    const wide = { format: 'wide', id: 'day', ds: 'day', y: 'day' } as const;
    expect(() => parseSeries(csv, wide)).toThrow(/read as M\/D\/YYYY or D\/M\/YYYY/);
    expect(parseSeries(csv, { ...wide, dsFormat: 'D/M/YYYY' })[0]!.ds).toEqual(['2/1/2024', '1/2/2024']); // 2 January, 1 February
    expect(parseSeries(csv, { ...wide, dsFormat: ' M/D/YYYY ' })[0]!.ds).toEqual(['1/2/2024', '2/1/2024']);
    expect(
      parseSeries('id,day,v\nx,2/1/2024,1\nx,1/2/2024,2\n', { format: 'long', id: 'id', ds: 'day', y: 'v', dsFormat: 'D/M/YYYY' })[0]!.ds,
    ).toEqual(['2/1/2024', '1/2/2024']);
    // A column of hexadecimal is not numbers to the guess either (as to the reader): not one series of a wide file.
    expect(guessMapping('date,a,b\n2024-01-01,1,2\n2024-02-01,3,4\n').mapping.format).toBe('wide');
    expect(guessMapping('date,a,b\n2024-01-01,0x1A,2\n2024-02-01,0x1B,4\n').mapping.format).toBe('long');
  });
});

/** Waits until the file error box shows (containing `text` when given). */
async function waitForError(page: Page, text = 'row'): Promise<void> {
  await page.waitForFunction((t) => {
    const box = document.querySelector<HTMLElement>('#data-error')!;
    return !box.hidden && box.textContent!.includes(t);
  }, text);
  expect(await page.locator('#status').getAttribute('data-state')).toBe('error');
}
