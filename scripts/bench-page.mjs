#!/usr/bin/env node
// Runs the benchmark page (bench.html) in Chromium and records what it measures:   npm run bench:page
// Starts the dev server `npm start` serves (Vite, on a free port), opens bench.html in the system
// Chromium (Playwright; WebGPU on SwiftShader without a GPU), presses "Run standard (B=1024, T=64)"
// (or, with --only, runs each named model through the form's "Run one workload"), waits until the
// page says done, downloads its JSON report to bench/out/page-results.json and prints the table.
// Then, unless --no-ort-check, it asks ONNX Runtime Web's WebGPU EP where it puts each model's nodes:
// one tiny run per model (B=8, T=4) in the page with ORT's verbose log and its WebGPU kernel profiling
// on, printing the ops it has no WebGPU kernel for, the EP of each node and the WebGPU kernels that
// ran (its console: bench/out/page-ort-check.log).
//
//   node scripts/bench-page.mjs [--only lstm-h32,gru-h24-i4] [--batch 1024] [--steps 64]
//                               [--out bench/out/page-results.json] [--markdown] [--no-ort-check]
//                               [--timeout-min 120] [--stall-min 10]
//
// Exits 1 when the page shows an error, throws uncaught errors, a cell failed validation (the report
// is written first), or its log stops moving for --stall-min minutes (the table so far is written to
// bench/out/page-results.partial.json).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { chromiumArgs, chromiumPath } from './chromium.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const opts = {
    only: null,
    batch: 1024,
    steps: 64,
    out: 'bench/out/page-results.json',
    markdown: false,
    ortCheck: true,
    timeoutMin: 120,
    stallMin: 10,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--only') opts.only = value().split(',').filter(Boolean);
    else if (a === '--batch') opts.batch = Number(value());
    else if (a === '--steps') opts.steps = Number(value());
    else if (a === '--out') opts.out = value();
    else if (a === '--timeout-min') opts.timeoutMin = Number(value());
    else if (a === '--stall-min') opts.stallMin = Number(value());
    else if (a === '--markdown') opts.markdown = true;
    else if (a === '--no-ort-check') opts.ortCheck = false;
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: node scripts/bench-page.mjs [--only MODEL[,MODEL]] [--batch B] [--steps T] [--out FILE] [--markdown] [--no-ort-check] [--timeout-min M] [--stall-min M]',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const out = resolve(root, opts.out);

const executablePath = chromiumPath();
const args = chromiumArgs;

/** A module the ORT check imports in the page: ORT Web (the worker's optimized copy) and the benchmark's model builders. */
const ORT_CHECK_MODULE = 'virtual:webrnn-ort-check';
const ortCheckPlugin = {
  name: 'webrnn-ort-check',
  resolveId: (id) => (id === ORT_CHECK_MODULE ? `\0${ORT_CHECK_MODULE}` : null),
  load: (id) =>
    id === `\0${ORT_CHECK_MODULE}`
      ? [
          "export * as ort from 'onnxruntime-web';",
          "export { buildOnnxModel, ONNX_INPUT, ONNX_OUTPUT } from '/bench/peers/onnx-model.ts';",
          "export { buildModel, buildInput } from '/bench/harness.ts';",
          "export { MODELS } from '/bench/workloads.ts';",
        ].join('\n')
      : null,
};

const stamp = () => new Date().toISOString().slice(11, 19);
const say = (line) => console.log(`[bench:page ${stamp()}] ${line}`);

// Vite's dependency scan does not follow `new Worker(new URL(…))`: the worker is named as an entry
// (as in vite.config.ts and test/helpers/page-server.ts) so its packages are optimized up front.
const server = await createServer({
  root,
  configFile: resolve(root, 'vite.config.ts'),
  logLevel: 'warn',
  server: { port: 0, strictPort: false },
  optimizeDeps: { entries: ['*.html', 'bench/page/worker.ts'] },
  plugins: [ortCheckPlugin],
});
let browser;
let exitCode = 0;
const t0 = Date.now();
try {
  await server.listen();
  const base = server.resolvedUrls.local[0];
  browser = await chromium.launch({ ...(executablePath ? { executablePath } : {}), args });
  const page = await browser.newPage({ acceptDownloads: true });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') say(`console error: ${m.text()}${m.location()?.url ? ` (${m.location().url})` : ''}`);
  });
  // The harness runs in the page's worker: its warnings and errors (WebGPU's among them) go to stdout.
  page.on('worker', (w) =>
    w.on('console', (m) => ['error', 'warning'].includes(m.type()) && say(`worker console ${m.type()}: ${m.text()}`)),
  );
  page.on('crash', () => say('the page crashed'));

  /**
   * Waits until #status reaches `state` (or error), printing the page's new log lines meanwhile; gives
   * up when the log has not moved for --stall-min minutes (a hung GPU call never settles).
   */
  let printed = [];
  let lastProgress = Date.now();
  const printNewLog = async () => {
    const lines = ((await page.locator('#log').textContent()) ?? '').split('\n').filter(Boolean);
    const last = printed.at(-1);
    const from = last === undefined ? 0 : lines.lastIndexOf(last) + 1;
    for (const l of lines.slice(from)) say(`  ${l}`);
    if (lines.length > from) lastProgress = Date.now();
    printed = lines;
  };
  const waitForStatus = async (state, timeoutMs) => {
    const selector = `#status[data-state="${state}"], #status[data-state="error"]`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reached = await page
        .locator(selector)
        .waitFor({ timeout: Math.max(1, Math.min(10_000, deadline - Date.now())) })
        .then(() => true)
        .catch(() => false);
      await printNewLog();
      if (reached) break;
      if (Date.now() - lastProgress > opts.stallMin * 60_000) {
        const rows = await page
          .locator('#results tbody tr')
          .evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
        writeFileSync(resolve(dirname(out), 'page-results.partial.json'), `${JSON.stringify(rows, null, 2)}\n`);
        for (const r of rows) say(`  table so far: ${r.filter(Boolean).join(' | ')}`);
        throw new Error(
          `stalled: no new line in the page's log for ${opts.stallMin} min after "${printed.at(-1) ?? ''}" (the table so far: ${resolve(dirname(out), 'page-results.partial.json')})`,
        );
      }
      if (Date.now() >= deadline)
        throw new Error(
          `the page did not reach "${state}" within ${Math.round(timeoutMs / 1000)} s: ${await page.locator('#status').textContent()}`,
        );
    }
    const text = (await page.locator('#status').textContent()) ?? '';
    if ((await page.locator('#status').getAttribute('data-state')) === 'error') throw new Error(`the page says: ${text}`);
    return text;
  };

  await page.goto(new URL('bench.html', base).href);
  await waitForStatus('ready', 300_000);
  const adapterLine = (await page.locator('#adapter').textContent()) ?? '';
  say(adapterLine);
  say((await page.locator('#contenders').textContent()) ?? '');

  /** Runs one form action, waits for done, and resolves to the downloaded report. */
  const runAction = async (action, label) => {
    printed = [];
    lastProgress = Date.now();
    say(`running ${label}…`);
    await page.click(`button[data-action="${action}"]`);
    say(await waitForStatus('done', opts.timeoutMin * 60_000));
    say((await page.locator('#ceilings').textContent()) ?? '');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    let text = '';
    for await (const chunk of await download.createReadStream()) text += chunk.toString();
    return JSON.parse(text);
  };

  let report;
  if (!opts.only) {
    report = await runAction('standard', 'the standard workloads (B=1024, T=64)');
  } else {
    const models = await page.locator('select[name="model"] option').evaluateAll((os) => os.map((o) => o.value));
    const unknown = opts.only.filter((m) => !models.includes(m));
    if (unknown.length) throw new Error(`unknown model ${unknown.join(', ')}; the page has ${models.join(', ')}`);
    for (const model of opts.only) {
      await page.selectOption('select[name="model"]', model);
      await page.fill('input[name="batch"]', String(opts.batch));
      await page.fill('input[name="steps"]', String(opts.steps));
      const r = await runAction('one', `${model} B=${opts.batch} T=${opts.steps}`);
      report = report
        ? {
            ...report,
            date: r.date,
            command: `${report.command}; ${r.command}`,
            budget: [...report.budget, ...r.budget],
            records: [...report.records, ...r.records],
          }
        : r;
    }
  }
  report.adapterLine = adapterLine;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(resolve(dirname(out), 'page-log.txt'), `${(await page.locator('#log').textContent()) ?? ''}`);
  say(`wrote ${out} (${report.records.length} records) after ${((Date.now() - t0) / 1000).toFixed(0)} s`);

  console.log(`\n${report.command} — ${report.date}\n${adapterLine}\n${report.environment}`);
  if (report.ceilings)
    console.log(`ceilings: copy ${report.ceilings.copyGBs.toFixed(2)} GB/s, matmul ${report.ceilings.matmulGflops.toFixed(2)} GFLOP/s`);
  console.log('');
  for (const line of formatTable(tableRows(report.records))) console.log(line);
  if (opts.markdown) {
    console.log('');
    for (const line of markdownTable(tableRows(report.records))) console.log(line);
  }
  const settings = new Map(report.records.filter((r) => r.settings).map((r) => [r.contender, r.settings]));
  for (const [name, s] of settings)
    console.log(
      `${name}: ${Object.entries(s)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  const failed = report.records.filter((r) => r.status === 'failed');
  if (failed.length) {
    console.error(`\n${failed.length} cell(s) failed: ${failed.map((r) => `${r.workload} ${r.contender}: ${r.message}`).join('; ')}`);
    exitCode = 1;
  }

  if (opts.ortCheck) {
    console.log('');
    await ortCheck(browser, base);
  }
  if (pageErrors.length) {
    console.error(`uncaught errors on the page: ${pageErrors.join('; ')}`);
    exitCode = 1;
  }
} catch (err) {
  console.error(`[bench:page] ${err.message}`);
  exitCode = 1;
} finally {
  await browser?.close();
  await server.close();
}
console.log(`[bench:page] ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
process.exit(exitCode);

/**
 * Where ONNX Runtime Web's WebGPU EP places each model's nodes: a session per model on B=8, T=4 in a
 * fresh page (its own ORT instance, verbose log), one run with the EP's kernel profiling on (each
 * WebGPU kernel it dispatched, by op type). Prints the placement lines of ORT's log and those op types.
 */
async function ortCheck(browser, base) {
  const page = await browser.newPage();
  const lines = [];
  page.on('console', (m) => lines.push(m.text()));
  try {
    await page.goto(new URL('bench.html', base).href);
    await page.locator('#status[data-state="ready"], #status[data-state="error"]').waitFor({ timeout: 300_000 });
    const results = await page.evaluate(async (moduleUrl) => {
      const { ort, buildOnnxModel, buildModel, buildInput, MODELS, ONNX_INPUT, ONNX_OUTPUT } = await import(moduleUrl);
      ort.env.logLevel = 'verbose';
      let kernels = [];
      ort.env.webgpu.profiling = { mode: 'default', ondata: (d) => kernels.push(d.kernelType) };
      const found = [];
      for (const name of Object.keys(MODELS)) {
        const w = { name, ...MODELS[name], batch: 8, steps: 4 };
        console.log(`[ort-check] ${name}: creating a webgpu session`);
        const session = await ort.InferenceSession.create(buildOnnxModel(buildModel(w)), {
          executionProviders: ['webgpu'],
          graphOptimizationLevel: 'all',
          logSeverityLevel: 0,
          logVerbosityLevel: 0,
        });
        kernels = [];
        const x = buildInput(w);
        const y = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', x, [w.batch, w.steps, w.inputSize]) });
        await y[ONNX_OUTPUT].getData(true);
        await new Promise((r) => setTimeout(r, 1000)); // the profiling timestamps are read back asynchronously
        const counts = {};
        for (const k of kernels) counts[k] = (counts[k] ?? 0) + 1;
        found.push({ model: name, webgpuKernels: counts });
        console.log(`[ort-check] ${name}: done`);
        await session.release();
      }
      return { version: ort.env.versions.web ?? ort.env.versions.common, found };
    }, `/@id/__x00__${ORT_CHECK_MODULE}`);
    const logFile = resolve(root, dirname(opts.out), 'page-ort-check.log');
    writeFileSync(logFile, `${lines.join('\n')}\n`);
    console.log(`ORT check (onnxruntime-web ${results.version}, webgpu EP, B=8, T=4; its console in ${logFile}):`);
    // Per model: the ops ORT found no WebGPU kernel for, and the nodes it placed on each EP
    // (session_state.cc's "Node placements", verbose).
    const byModel = new Map();
    let current = null;
    let ep = null;
    for (const l of lines) {
      const m = /^\[ort-check\] (\S+): creating/.exec(l);
      if (m) byModel.set(m[1], (current = { missing: new Set(), placed: {} }));
      if (!current) continue;
      const missing = /kernel not found in registries for Op type: (\S+)/.exec(l);
      if (missing) current.missing.add(missing[1]);
      const placed = /Node\(s\) placed on \[(\w+)\]/.exec(l);
      if (placed) current.placed[(ep = placed[1])] = [];
      const node = /VerifyEachNodeIsAssignedToAnEp\]\s{3}(\S+) \(/.exec(l);
      if (node && ep) current.placed[ep].push(node[1]);
    }
    for (const { model, webgpuKernels } of results.found) {
      const info = byModel.get(model);
      const placed = Object.entries(info?.placed ?? {})
        .map(([e, nodes]) => `${e}: ${nodes.join(', ') || '?'}`)
        .join('; ');
      const kernels =
        Object.entries(webgpuKernels)
          .map(([k, n]) => `${k}×${n}`)
          .join(', ') || 'none';
      console.log(`  ${model}: no WebGPU kernel for ${[...(info?.missing ?? [])].join(', ') || '(none reported)'}`);
      console.log(`  ${model}: placed on ${placed || '(not in the log)'}`);
      console.log(`  ${model}: WebGPU kernels dispatched in one run: ${kernels}`);
    }
  } catch (err) {
    console.error(`[bench:page] the ORT check failed: ${err.message}`);
  } finally {
    await page.close();
  }
}

/** The page's columns (bench/harness.ts tableRows) plus the cell's status. */
function tableRows(records) {
  const header = ['workload', 'contender', 'median ms', 'GPU ms', 'seq/s', 'GFLOP/s', 'max err', '× webrnn', 'status'];
  const ms = (v) => v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0);
  const rows = records.map((r) => {
    const cells = [`${r.workload} ${r.batch}×${r.steps}`, r.contender];
    if (r.status !== 'ok') {
      const why = r.status === 'failed' ? `failed: ${r.message ?? ''}` : r.status;
      const err = r.maxAbsError === null || r.maxAbsError === undefined ? '' : r.maxAbsError.toExponential(1);
      return [...cells, '', '', '', '', err, '', why];
    }
    // A run under the clock's resolution (0 ms) has no finite rate: JSON stores null.
    const g = r.gflops;
    return [
      ...cells,
      ms(r.medianMs),
      r.gpuMedianMs === null ? '' : `${ms(r.gpuMedianMs)}${r.gpuTiming === 'timestamp' ? '' : '*'}`,
      r.sequencesPerSecond === null ? '' : Math.round(r.sequencesPerSecond).toLocaleString('en-US'),
      g === null ? '' : g >= 1 ? g.toFixed(1) : g >= 0.001 ? g.toFixed(3) : g.toExponential(1),
      r.maxAbsError === null ? '' : r.maxAbsError.toExponential(1),
      r.ratioToWebrnn === null ? '' : r.ratioToWebrnn.toFixed(2),
      'ok',
    ];
  });
  return [header, ...rows];
}

function formatTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (i === rows[0].length - 1 ? 0 : r[i].length))));
  return rows.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : i === r.length - 1 ? c : c.padStart(widths[i]))).join('  '));
}

function markdownTable(rows) {
  const [header, ...body] = rows;
  const align = header.map((_, i) => (i < 2 || i === header.length - 1 ? '---' : '---:'));
  return [header, align, ...body].map((r) => `| ${r.join(' | ')} |`);
}
