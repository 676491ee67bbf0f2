import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelRecord, KitReport } from '../bench/kit.ts';

// The GPU run kit (issue 14): `npm run gpu-kit` writes a folder that runs the benchmark on a machine
// with no Node.js and no node_modules. Built here with --fast (xz level 1), copied nowhere else, and
// run from a clean environment: PATH holds only bash, python3 and a few coreutils (no `node`), HOME
// is empty, and the software adapter stands in for the GPU (SwiftShader, as CI has it).

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** What run.sh and unpack.py may call: no node, no xz, no dpkg. */
const TOOLS = ['bash', 'env', 'dirname', 'date', 'uname', 'tee', 'cat', 'mkdir'];

let dir: string;
let kit: string;
let env: Record<string, string>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'webrnn-kit-'));
  kit = join(dir, 'kit');
  execFileSync(process.execPath, ['scripts/gpu-kit.mjs', '--out', kit, '--fast'], { stdio: 'pipe' });
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const tool of TOOLS) symlinkSync(execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
  symlinkSync('/usr/bin/python3', join(bin, 'python3'));
  env = { PATH: bin, HOME: join(dir, 'home'), VK_ICD_FILENAMES: SWIFTSHADER, OUT: join(dir, 'out') };
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the GPU run kit', () => {
  it('is one folder under 40 MiB with node, Dawn, the Vulkan loader, the bundled benchmark and run.sh, and no node_modules', () => {
    const manifest = JSON.parse(readFileSync(join(kit, 'manifest.json'), 'utf8'));
    expect(manifest.totalBytes).toBeLessThan(40 * 2 ** 20);
    const files = manifest.files.map((f: { file: string }) => f.file);
    for (const f of ['run.sh', 'unpack.py', 'kit.mjs', 'node.xz', 'dawn.node.xz', 'webgpu/index.js', 'webgpu/package.json', 'torch_peer.py']) expect(files).toContain(f);
    expect(files.some((f: string) => /^libvulkan1_.*\.deb$/.test(f))).toBe(true);
    expect(readdirSync(kit)).not.toContain('node_modules');
    // The bundle imports nothing but Dawn's package and Node's own modules.
    const bundle = readFileSync(join(kit, 'kit.mjs'), 'utf8');
    const imports = [...bundle.matchAll(/^import .* from ["']([^"']+)["']/gm)].map((m) => m[1]!);
    for (const spec of imports) expect(spec === 'webgpu' || spec.startsWith('node:'), spec).toBe(true);
  });

  it('runs from a clean environment with no node on PATH, on the software adapter, and writes validated JSON', () => {
    expect(spawnSync('bash', ['-c', 'command -v node'], { env }).status).not.toBe(0);
    const run = spawnSync('bash', [join(kit, 'run.sh'), '--quick'], { env, encoding: 'utf8', timeout: 240_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const report = JSON.parse(readFileSync(join(env.OUT!, 'results.json'), 'utf8')) as KitReport;

    // The adapter, its limits (the adapter's own, granted), features and ceilings.
    expect(report.adapter?.isSoftware).toBe(true);
    expect(report.adapter?.runtime).toBe('node');
    for (const k of ['maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBufferBindingSize']) {
      expect(report.limits!.device[k], k).toBe(report.limits!.adapter[k]);
    }
    expect(report.features!.granted).toContain('timestamp-query');
    for (const f of report.features!.granted) expect(report.features!.adapter).toContain(f);
    expect(report.dawnFlags).toContain('enable-dawn-features=vulkan_enable_f16_on_nvidia');
    expect(report.ceilings!.copyGBs).toBeGreaterThan(0);
    expect(report.ceilings!.matmulGflops).toBeGreaterThan(0);
    expect(report.dispatch!.perDispatchUs).toBeGreaterThan(0);
    expect(report.errors).toEqual([]);
    expect(report.skipped).toEqual([]);

    // Every section ran; webrnn was validated against the float64 reference before it was timed.
    for (const section of ['standard', 'batch', 'hidden'] as const) {
      const webrnn = report.records[section].filter((r) => r.contender === 'webrnn-webgpu');
      expect(webrnn.length, section).toBeGreaterThan(0);
      for (const r of webrnn) {
        expect(r.status, `${section} ${r.workload}: ${r.message}`).toBe('ok');
        expect(r.validatedAgainst).toBe('cpu-reference');
        expect(r.maxAbsError).toBeLessThan(1e-4);
        expect(r.medianMs).toBeGreaterThan(0);
      }
      // PyTorch on CUDA is a contender, and says why it cannot run here.
      for (const name of ['pytorch-cuda-fp32', 'pytorch-cuda-tf32']) {
        const cuda = report.records[section].filter((r) => r.contender === name);
        expect(cuda.length, `${section} ${name}`).toBe(webrnn.length);
        for (const r of cuda) expect(r.status).toMatch(/^unavailable: .*cuda/i);
      }
    }

    // The kernel sweep: every kernel and tile shape that fits, each validated.
    const kernels = report.records.kernels as KernelRecord[];
    const variants = (workload: string) => kernels.filter((r) => r.workload === workload).map((r) => r.variant);
    expect(variants('elman-relu-h1')).toEqual(expect.arrayContaining(['small', 'sequential', 'lanes']));
    expect(variants('lstm-h16').filter((v) => v.startsWith('tile/')).length).toBeGreaterThanOrEqual(3);
    expect(variants('lstm-h16')).not.toContain('small');
    for (const r of kernels) {
      expect(r.status, `${r.workload} ${r.variant}: ${r.message}`).toBe('ok');
      expect(r.validatedAgainst).toBe('cpu-reference');
    }

    // Dawn's toggles, each variant validated and saying which toggles its device had.
    const toggles = report.records.toggles as KernelRecord[];
    expect(toggles.map((r) => r.variant)).toEqual(['defaults', 'no robustness', 'no workgroup init', 'neither']);
    for (const r of toggles) {
      expect(r.status, `${r.variant}: ${r.message}`).toBe('ok');
      expect(r.validatedAgainst).toBe('cpu-reference');
    }
    expect(String(toggles[3]!.settings!.dawnFlags)).toMatch(/disable_robustness,disable_workgroup_init/);

    // Logs beside the JSON; a second run reuses the unpacked files.
    expect(readFileSync(join(env.OUT!, 'env.txt'), 'utf8')).toMatch(/VK_ICD_FILENAMES=\/usr\/lib\/chromium/);
    expect(existsSync(join(env.OUT!, 'log.txt'))).toBe(true);
    const again = spawnSync('bash', [join(kit, 'run.sh'), '--quick', '--sections', 'info'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/unpack: node\.xz/);
  });
});
