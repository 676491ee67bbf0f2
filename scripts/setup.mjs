#!/usr/bin/env node
// Installs what `npm start`, `npm test` and `npm run bench` need and is missing, and says what it
// installs. Runs before them on every call, so it must be quick when nothing is missing.
//
//  1. npm packages: `npm ci` when node_modules is absent or older than package-lock.json.
//  2. Debian packages, on Linux as root with apt-get: `chromium` (the browser the browser tests and
//     the page use) and `libvulkan1` (the Vulkan loader Dawn's Node bindings need). A machine that
//     already has a browser or a Vulkan loader keeps using them. Without root, it prints what is
//     missing and how to install it, and carries on.
//
// Only Node built-ins here: this runs before any npm package is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (msg) => console.log(`[webrnn setup] ${msg}`);

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${res.status ?? res.signal}`);
  }
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function ensureNpmPackages() {
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && mtime(marker) >= mtime(lock)) return;
  say(existsSync(marker) ? 'package-lock.json changed: running npm ci' : 'node_modules missing: running npm ci');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/** True when a shared library is known to the dynamic linker. */
function hasLibrary(soname) {
  try {
    return execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).includes(soname);
  } catch {
    return ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].some((d) => existsSync(join(d, soname)));
  }
}

function which(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

function ensureDebianPackages() {
  if (process.platform !== 'linux') return;
  const missing = [];
  const browser = process.env.WEBRNN_CHROMIUM;
  if (!(browser && existsSync(browser)) && !['chromium', 'chromium-browser', 'google-chrome'].some(which)) {
    missing.push('chromium');
  }
  if (!hasLibrary('libvulkan.so.1')) missing.push('libvulkan1');
  if (missing.length === 0) return;

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !which('apt-get')) {
    say(
      `missing: ${missing.join(', ')}. Install them (Debian: sudo apt-get install -y ${missing.join(' ')}); ` +
        'GPU tests need a Vulkan loader in Node and a Chromium for the browser project.',
    );
    return;
  }
  say(`installing Debian packages: ${missing.join(' ')} (apt-get update, then apt-get install)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', ...missing], { env });
}

try {
  ensureNpmPackages();
  ensureDebianPackages();
} catch (err) {
  console.error(`[webrnn setup] failed: ${err.message}`);
  process.exit(1);
}
