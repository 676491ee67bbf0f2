import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, moduleSpecifiers, packTarball, REPO, type TempProject } from './helpers/pack.ts';

// The package as `npm pack` makes it, installed into a fresh Node project: what it ships, what it
// imports at run time, its exports map, and that it runs (a forward pass on Dawn, the CLI).

const run = promisify(execFile);

interface PackageJson {
  version: string;
  exports: Record<string, string | Record<string, string>>;
  sideEffects: string[] | boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  files: string[];
}

/** Prints the classes the package exports (name in the exports, `.name` at run time) and an error's text. */
const NAMES_SCRIPT = `
import * as webrnn from 'webrnn';
import * as onnx from 'webrnn/onnx';
const isClass = (v) => typeof v === 'function' && /^class[\\s{]/.test(Function.prototype.toString.call(v));
const classes = Object.entries({ ...webrnn, ...onnx }).filter(([, v]) => isClass(v)).map(([k, v]) => [k, v.name]);
console.log(JSON.stringify({ classes, error: String(new webrnn.DeviceError('no adapter')) }));
`;

/** Where 'webrnn' resolves, and what acquireGpu does there (run with and without --conditions=browser). */
const RESOLVE_SCRIPT = `
import { acquireGpu, DeviceError } from 'webrnn';
const entry = import.meta.resolve('webrnn');
const device = await acquireGpu({ log: false }).then(
  (gpu) => (gpu.destroy(), 'acquired'),
  (e) => (e instanceof DeviceError ? 'DeviceError: ' + e.message : 'other: ' + e),
);
console.log(JSON.stringify({ entry, device }));
`;

let project: TempProject;
let listing: string[];
let installed: string;
let pkg: PackageJson;

beforeAll(async () => {
  const tarball = await packTarball();
  listing = (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);
  project = await makeProject('node', {
    files: {
      'forward.mjs': await readFile(join(REPO, 'test/package/forward.mjs'), 'utf8'),
      'main.mjs': "import { elmanForward } from './forward.mjs';\nconsole.log(JSON.stringify(await elmanForward()));\n",
      'names.mjs': NAMES_SCRIPT,
      'resolve.mjs': RESOLVE_SCRIPT,
    },
  });
  installed = join(project.dir, 'node_modules', 'webrnn');
  pkg = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as PackageJson;
});

afterAll(async () => {
  await project?.cleanup();
});

/** Every file of the installed package under `dir` (relative paths). */
async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(join(installed, dir), { recursive: true })).map((f) => join(dir, f));
}

/** The packages a JavaScript module imports by bare name, Node's built-ins (`node:`) left out. */
function bareImports(code: string): string[] {
  return moduleSpecifiers(code)
    .filter((spec) => !/^(\.|\/|node:)/.test(spec))
    .map((spec) =>
      spec
        .split('/')
        .slice(0, spec.startsWith('@') ? 2 : 1)
        .join('/'),
    );
}

describe('the packed package', () => {
  it('ships dist (JavaScript, declarations, source maps that carry their sources) and bin; no src/ or shaders/', async () => {
    for (const f of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/node.js',
      'dist/onnx/index.js',
      'dist/onnx/index.d.ts',
      'dist/cli/bin.js',
      'bin/webrnn.js',
    ]) {
      expect(listing).toContain(`package/${f}`);
    }
    expect(listing.filter((f) => /^package\/(src|shaders)\//.test(f))).toEqual([]);
    const maps = (await filesUnder('dist')).filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(50);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(await readFile(join(installed, map), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      expect((sourcesContent ?? []).filter((s) => typeof s === 'string').length, map).toBe(sources.length);
    }
  });

  it('has declarations that import .js files and declare no ambient `?raw` modules', async () => {
    const declarations = (await filesUnder('dist')).filter((f) => f.endsWith('.d.ts'));
    expect(declarations.length).toBeGreaterThan(50);
    for (const file of declarations) {
      const text = await readFile(join(installed, file), 'utf8');
      expect(text, file).not.toMatch(/from\s+["']\.{1,2}\/[^"']*\.ts["']/);
      expect(text, file).not.toMatch(/declare module|\?raw["']/);
    }
  });

  it('imports at run time exactly its dependencies and its optional peer webgpu, nothing listed that dist inlines', async () => {
    const imported = new Set<string>();
    for (const file of (await filesUnder('dist')).filter((f) => f.endsWith('.js'))) {
      for (const name of bareImports(await readFile(join(installed, file), 'utf8'))) imported.add(name);
    }
    const declared = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
    expect([...imported].sort()).toEqual(declared.sort());
    expect(pkg.dependencies).not.toHaveProperty('vega-datasets');
    expect(pkg.dependencies).not.toHaveProperty('webgpu');
    expect(pkg.peerDependenciesMeta?.webgpu?.optional).toBe(true);
    // The range the tests run in: the repository's webgpu is installed from the same range.
    const repo = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as PackageJson;
    expect(pkg.peerDependencies?.webgpu).toBe(repo.devDependencies?.webgpu);
  });

  it('maps each entry with its types first, the browser build before the Node one; sideEffects names files that exist', () => {
    for (const [path, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      expect(Object.keys(target)[0], path).toBe('types');
    }
    expect(Object.keys(pkg.exports['.']!)).toEqual(['types', 'browser', 'node', 'default']);
    expect(pkg.exports).toHaveProperty('./onnx');
    expect(Array.isArray(pkg.sideEffects)).toBe(true);
    for (const file of pkg.sideEffects as string[]) expect(listing).toContain(`package/${file.replace(/^\.\//, '')}`);
  });
});

describe('the installed package in Node', () => {
  it('runs an Elman forward pass on WebGPU (Dawn, the repository’s webgpu) that matches the CPU reference', async () => {
    const { stdout } = await project.exec('node', ['main.mjs']);
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      runtime: string;
      shape: number[];
      ok: boolean;
      message: string;
      spread: number;
    };
    expect(result.runtime).toBe('node');
    expect(result.shape).toEqual([33, 17, 1]);
    expect(result.ok, result.message).toBe(true);
    expect(result.spread).toBeGreaterThan(0.05);
  });

  it('keeps class names: every exported class is named as exported, errors print as DeviceError', async () => {
    const { stdout } = await project.exec('node', ['names.mjs']);
    const { classes, error } = JSON.parse(stdout) as { classes: [string, string][]; error: string };
    expect(classes.map(([k]) => k)).toEqual(
      expect.arrayContaining(['DeviceError', 'ElmanRNN', 'WebGPUBackend', 'Forecaster', 'Trainer', 'OnnxModel']),
    );
    for (const [exported, name] of classes) expect(name).toBe(exported);
    expect(error).toBe('DeviceError: no adapter');
  });

  it("resolves to the node entry in Node, and the browser entry's acquireGpu says why it has no WebGPU there", async () => {
    const node = JSON.parse((await project.exec('node', ['resolve.mjs'])).stdout) as { entry: string; device: string };
    expect(node.entry).toMatch(/\/webrnn\/dist\/node\.js$/);
    expect(node.device).toBe('acquired');
    const browser = JSON.parse((await project.exec('node', ['--conditions=browser', 'resolve.mjs'])).stdout) as {
      entry: string;
      device: string;
    };
    expect(browser.entry).toMatch(/\/webrnn\/dist\/index\.js$/);
    expect(browser.device).toMatch(/^DeviceError: no WebGPU in Node from webrnn's browser build/);
  });

  it("imports without webrnn's optional peer webgpu; asking for a device then says to install it", async () => {
    const bare = await makeProject('node', { omit: ['webgpu'], files: { 'resolve.mjs': RESOLVE_SCRIPT } });
    try {
      const { device } = JSON.parse((await bare.exec('node', ['resolve.mjs'])).stdout) as { device: string };
      expect(device).toBe("DeviceError: Node has no WebGPU: install Dawn's bindings with `npm install webgpu`");
    } finally {
      await bare.cleanup();
    }
  });

  it('installs the webrnn command', async () => {
    const { stdout } = await project.exec('webrnn', ['--version']);
    expect(stdout.trim()).toBe(pkg.version);
  });
});
