#!/usr/bin/env node
// `npm run gpu-kit [-- --out DIR] [--fast]`: writes the GPU run kit, one folder (default gpu-kit/,
// git-ignored, under 40 MiB) that runs the benchmark on a bare x86-64 Linux machine with a GPU and no
// Node.js, npm or network (issue 14). It holds:
//
//   run.sh, unpack.py        bench/kit/: unpack, find the GPU's Vulkan driver, run, write $OUT
//   kit.mjs                  bench/kit.ts and everything it imports, bundled into one file
//   baseline-worker.mjs      src/forecast/baselines/node-worker.ts bundled: a thread of the baseline pool
//   node.xz                  this Node.js binary, xz-compressed
//   dawn.node.xz             Dawn's Node bindings for linux-x64 (the `webgpu` package), xz-compressed
//   webgpu/                  that package's index.js and package.json
//   libvulkan1_*.deb         the Vulkan loader (Debian's; `apt-get download`, else apt's cache)
//   torch_peer.py            the PyTorch contender's process (bench/peers), run by the machine's python3
//   manifest.json            what is in the kit: sizes, versions, the commit it was built from
//
// --fast compresses at xz level 1 instead of 6 (a few seconds instead of about 25; about 4 MB more):
// for the kit's test. Run it with `bash DIR/run.sh`; see bench/kit/run.sh.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: { out: { type: 'string', default: join(root, 'gpu-kit') }, fast: { type: 'boolean', default: false } },
});
/** The kit must fit the GPU machine's transfer with room to spare (its limit is 64 MiB). */
const KIT_LIMIT_BYTES = 40 * 2 ** 20;

function fail(message) {
  console.error(`gpu-kit: ${message}`);
  process.exit(1);
}

if (process.platform !== 'linux' || process.arch !== 'x64')
  fail(`the kit carries this machine's node binary, so it must be built on linux x64, not ${process.platform} ${process.arch}`);
const out = resolve(args.out);
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'webgpu'), { recursive: true });

/** xz-compresses `from` into `to` with the system's xz (multi-threaded). */
function xz(from, to) {
  const level = args.fast ? '-1' : '-6';
  const r = spawnSync('xz', ['-T0', level, '-c', from], { maxBuffer: 2 ** 30 });
  if (r.error) fail(`xz: ${r.error.message} (install it: apt-get install xz-utils)`);
  if (r.status !== 0) fail(`xz ${from}: ${r.stderr}`);
  writeFileSync(to, r.stdout);
}

// 1. The benchmark, bundled into one ES module for Node: WGSL inlined, every dependency inlined but
//    Dawn's bindings (carried beside it) and Node's own modules. The peers that need npm packages
//    the kit does not carry (TF.js, ONNX Runtime) stay external: the kit never runs them. Beside it,
//    the thread of the forecasting job's baseline pool (src/forecast/baselines/node-pool.ts).
const { bundleForNode } = await import('./bundle-node.mjs');
const bundleDir = join(out, '.bundle');
for (const [entry, fileName] of [
  ['bench/kit.ts', 'kit.mjs'],
  ['src/forecast/baselines/node-worker.ts', 'baseline-worker.mjs'],
]) {
  await bundleForNode({ root, entry, outDir: bundleDir, fileName, external: ['webgpu', /^@tensorflow\//, /^onnxruntime-/] });
  copyFileSync(join(bundleDir, fileName), join(out, fileName));
}
rmSync(bundleDir, { recursive: true, force: true });

// 2. Node.js and Dawn.
xz(process.execPath, join(out, 'node.xz'));
const webgpuDir = join(root, 'node_modules/webgpu');
if (!existsSync(join(webgpuDir, 'dist/linux-x64/dawn.node'))) fail('node_modules/webgpu has no dist/linux-x64/dawn.node: run npm install');
xz(join(webgpuDir, 'dist/linux-x64/dawn.node'), join(out, 'dawn.node.xz'));
for (const f of ['index.js', 'package.json']) copyFileSync(join(webgpuDir, f), join(out, 'webgpu', f));

// 3. The Vulkan loader's .deb: downloaded by apt, else from apt's cache.
const deb = (dir) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /^libvulkan1_.*_amd64\.deb$/.test(f))
        .sort()
        .at(-1)
    : undefined;
const download = spawnSync('apt-get', ['download', 'libvulkan1:amd64'], { cwd: out, encoding: 'utf8' });
if (!deb(out)) {
  const cached = deb('/var/cache/apt/archives');
  if (!cached)
    fail(
      `could not get the Vulkan loader's .deb: apt-get download said ${download.error?.message ?? download.stderr}, and apt's cache has none`,
    );
  copyFileSync(join('/var/cache/apt/archives', cached), join(out, cached));
}

// 4. The scripts.
for (const [from, to] of [
  ['bench/kit/run.sh', 'run.sh'],
  ['bench/kit/unpack.py', 'unpack.py'],
  ['bench/peers/torch_peer.py', 'torch_peer.py'],
]) {
  copyFileSync(join(root, from), join(out, to));
}
chmodSync(join(out, 'run.sh'), 0o755);

// 5. The manifest, and the size check.
const files = readdirSync(out, { recursive: true })
  .map(String)
  .filter((f) => statSync(join(out, f)).isFile())
  .sort()
  .map((f) => ({ file: f, bytes: statSync(join(out, f)).size }));
const total = files.reduce((a, f) => a + f.bytes, 0);
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
} catch {}
const manifest = {
  built: new Date().toISOString(),
  commit,
  node: process.version,
  webgpu: JSON.parse(readFileSync(join(webgpuDir, 'package.json'), 'utf8')).version,
  vulkanLoader: deb(out),
  xzLevel: args.fast ? 1 : 6,
  totalBytes: total,
  files,
};
writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
for (const f of files) console.log(`${(f.bytes / 2 ** 20).toFixed(2).padStart(7)} MiB  ${f.file}`);
console.log(`${(total / 2 ** 20).toFixed(2).padStart(7)} MiB  in ${out}`);
if (total > KIT_LIMIT_BYTES) fail(`the kit is ${(total / 2 ** 20).toFixed(1)} MiB, over its ${KIT_LIMIT_BYTES / 2 ** 20} MiB limit`);
console.log(`run it with: bash ${join(out, 'run.sh')} (results under $OUT, default ${join(out, 'out')})`);
