import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/chromium.ts';
import { makeProject, moduleSpecifiers, REPO, type TempProject } from './helpers/pack.ts';

// The packed tarball in a fresh Vite app, as a browser user has it: `vite` (the dev server, which
// pre-bundles webrnn from node_modules) and `vite build` + `vite preview`, run in the app's folder
// (Vite resolves packages from there: run in-process from the repository, it would find the
// repository's webgpu), each driven in Chromium to an Elman forward pass on WebGPU checked against
// the CPU reference; the bundles hold no Node-only import, and what an app does not import (ONNX,
// protobufjs) it does not ship.

interface PageResult {
  runtime?: string;
  shape?: number[];
  ok?: boolean;
  message?: string;
  spread?: number;
  error?: string;
}

const PAGE = `<!doctype html><title>webrnn consumer</title><script type="module" src="/main.js"></script>\n`;
const MAIN = `import { elmanForward } from './forward.mjs';
elmanForward().then(
  (result) => { window.__result = result; },
  (error) => { window.__result = { error: String(error && error.stack || error) }; },
);
`;

let app: TempProject;
let browser: Browser;

beforeAll(async () => {
  app = await makeProject('vite', {
    files: { 'index.html': PAGE, 'main.js': MAIN, 'forward.mjs': await readFile(join(REPO, 'test/package/forward.mjs'), 'utf8') },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.cleanup();
});

/**
 * Imports no browser can load: Dawn's Node bindings and Node's built-ins, as written or as the dev
 * server rewrites them (`/@fs/…/node_modules/webgpu/…`, `/@id/__vite-browser-external:node:fs`).
 */
function nodeOnlyImports(code: string): string[] {
  return moduleSpecifiers(code).filter((spec) => /^webgpu(\/|$)|\/node_modules\/webgpu\/|node:|__vite-browser-external/.test(spec));
}

/** Runs `vite ARGS` (the dev server or `preview`) in the app's folder; resolves with its URL once it listens. */
function serve(dir: string, args: string[]): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn('vite', [...args, '--host', '127.0.0.1', '--port', '0'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', PATH: `${join(REPO, 'node_modules', '.bin')}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    child.kill();
    await exited;
  };
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /Local:\s+(http:\/\/\S+)/.exec(output)?.[1];
      if (url) resolve({ url, close });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`vite ${args.join(' ')} exited: ${output}`)));
  });
}

/** Opens `url`, waits for the page's forward pass, and returns its result and the scripts it loaded. */
async function runPage(url: string): Promise<{ result: PageResult; scripts: Map<string, string>; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const bodies: Promise<[string, string]>[] = [];
  // A script the server fails to deliver (the dev server's 500 for an import it cannot resolve)
  // means the page never finishes: end the wait then rather than at the timeout.
  let failed: (reason: Error) => void = () => {};
  const scriptFailed = new Promise<never>((_, reject) => (failed = reject));
  scriptFailed.catch(() => {}); // read by the race below; a failure after it settled is not news
  page.on('response', (r) => {
    if (r.request().resourceType() !== 'script') return;
    if (r.status() >= 400) failed(new Error(`${r.url()}: HTTP ${r.status()}`));
    else bodies.push(r.text().then((t) => [r.url(), t]));
  });
  try {
    await page.goto(url);
    const finished = page.waitForFunction(() => (window as { __result?: unknown }).__result, null, { timeout: 120_000 });
    const handle = await Promise.race([finished, scriptFailed]);
    const result = (await handle.jsonValue()) as PageResult;
    return { result, scripts: new Map(await Promise.all(bodies)), errors };
  } finally {
    await page.close();
  }
}

function expectForward({ result, scripts, errors }: Awaited<ReturnType<typeof runPage>>): void {
  expect(errors).toEqual([]);
  expect(result.error).toBeUndefined();
  expect(result.runtime).toBe('browser');
  expect(result.shape).toEqual([33, 17, 1]);
  expect(result.ok, result.message).toBe(true);
  expect(result.spread).toBeGreaterThan(0.05);
  expect(scripts.size).toBeGreaterThan(0);
  for (const [url, code] of scripts) expect(nodeOnlyImports(code), url).toEqual([]);
}

/** The JavaScript a production build wrote, by file. */
async function builtScripts(root: string): Promise<Map<string, string>> {
  const assets = join(root, 'dist', 'assets');
  const files = (await readdir(assets)).filter((f) => f.endsWith('.js'));
  return new Map(await Promise.all(files.map(async (f) => [f, await readFile(join(assets, f), 'utf8')] as [string, string])));
}

describe('the packed package in a Vite app', () => {
  it('runs under the dev server (webrnn pre-bundled from node_modules): WebGPU forward pass = CPU reference', async () => {
    const server = await serve(app.dir, []);
    try {
      const run = await runPage(server.url);
      expectForward(run);
      // The page did load webrnn through Vite's pre-bundle.
      expect([...run.scripts.keys()].some((u) => u.includes('/node_modules/.vite/deps/webrnn'))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('runs from the production build, whose bundle has no Node-only import and no ONNX or protobufjs', async () => {
    await app.exec('vite', ['build', '--logLevel', 'error']);
    const bundle = await builtScripts(app.dir);
    for (const [file, code] of bundle) {
      expect(nodeOnlyImports(code), file).toEqual([]);
      // protobufjs and the ONNX schema (onnx.proto's message names) stay out of an app without ONNX.
      expect(/protobuf|ModelProto|GraphProto/.test(code), file).toBe(false);
    }
    const server = await serve(app.dir, ['preview']);
    try {
      expectForward(await runPage(server.url));
    } finally {
      await server.close();
    }
  });

  it('ships only what an app imports: `tensor` alone is a few kB; webrnn/onnx brings protobufjs and no Node import', async () => {
    const tiny = await makeProject('vite', {
      files: {
        'index.html': PAGE,
        'main.js': "import { tensor } from 'webrnn';\nconsole.log(tensor(new Float32Array(4), [2, 2]));\n",
        'onnx/index.html': PAGE,
        'onnx/main.js': "import { loadOnnxModel } from 'webrnn/onnx';\nconsole.log(loadOnnxModel);\n",
      },
    });
    try {
      await tiny.exec('vite', ['build', '--logLevel', 'error']);
      const tensorOnly = [...(await builtScripts(tiny.dir)).values()].reduce((n, code) => n + code.length, 0);
      expect(tensorOnly).toBeLessThan(4_000);
      await tiny.exec('vite', ['build', 'onnx', '--logLevel', 'error']);
      const onnx = [...(await builtScripts(join(tiny.dir, 'onnx'))).values()].join('\n');
      expect(nodeOnlyImports(onnx)).toEqual([]);
      expect(onnx).toContain('ModelProto');
    } finally {
      await tiny.cleanup();
    }
  });
});
