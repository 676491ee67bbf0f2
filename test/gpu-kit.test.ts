import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelRecord, KitReport } from '../bench/kit.ts';
import type { TrainRecord } from '../bench/train-harness.ts';

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
    for (const f of [
      'run.sh',
      'unpack.py',
      'kit.mjs',
      'baseline-worker.mjs',
      'node.xz',
      'dawn.node.xz',
      'webgpu/index.js',
      'webgpu/package.json',
      'torch_peer.py',
    ])
      expect(files).toContain(f);
    expect(files.some((f: string) => /^libvulkan1_.*\.deb$/.test(f))).toBe(true);
    expect(readdirSync(kit)).not.toContain('node_modules');
    // The bundles import nothing but Dawn's package and Node's own modules.
    for (const file of ['kit.mjs', 'baseline-worker.mjs']) {
      const bundle = readFileSync(join(kit, file), 'utf8');
      const imports = [...bundle.matchAll(/^import .* from ["']([^"']+)["']/gm)].map((m) => m[1]!);
      for (const spec of imports) expect(spec === 'webgpu' || spec.startsWith('node:'), `${file}: ${spec}`).toBe(true);
    }
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

  it("runs issue 18's sections (training, per-series models, the forecasting job) as their own invocation, each cell validated", () => {
    const out = join(dir, 'out-training');
    const run = spawnSync('bash', [join(kit, 'run.sh'), '--quick', '--sections', 'train,per-series,forecast'], {
      env: { ...env, OUT: out },
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as KitReport;
    expect(report.errors).toEqual([]);
    expect(report.skipped).toEqual([]);
    expect(report.records.standard).toEqual([]);

    // Training: webrnn validated step by step against the float64 reference and timed; PyTorch on
    // CUDA a contender that says why it cannot run here.
    const byContender = (records: TrainRecord[], name: string) => records.filter((r) => r.contender === name);
    for (const [section, records] of [
      ['train', report.records.train],
      ['per-series', report.records.perSeries],
    ] as const) {
      const webrnn = byContender(records, 'webrnn-webgpu');
      expect(webrnn.length, section).toBeGreaterThan(0);
      for (const r of webrnn) {
        expect(r.status, `${section} ${r.workload}: ${r.message}`).toBe('ok');
        expect(r.validatedAgainst).toMatch(/^cpu-reference \(float64\)/);
        expect(r.maxWeightError).toBeLessThan(1e-4);
        expect(r.medianMs).toBeGreaterThan(0);
      }
      const cuda = records.filter((r) => r.contender.startsWith('pytorch-cuda'));
      expect(cuda.length, section).toBeGreaterThanOrEqual(2 * webrnn.length);
      for (const r of cuda) expect(r.status).toMatch(/^unavailable: .*cuda/i);
    }
    expect(report.records.train.map((r) => r.contender)).toEqual(expect.arrayContaining(['pytorch-cuda-fp32', 'pytorch-cuda-tf32']));

    // Per-series: S models trained side by side, one at a time, and PyTorch's three ways (on the
    // CPU here, through the kit's own torch_peer.py), every one matching the reference's S models.
    for (const r of report.records.perSeries) expect(r.series).toBe(12);
    for (const name of ['webrnn-webgpu-1by1', 'pytorch-cpu-batched', 'pytorch-cpu-vmap', 'pytorch-cpu-loop']) {
      const [r] = byContender(report.records.perSeries, name);
      expect(r?.status, `${name}: ${r?.message}`).toBe('ok');
      expect(r!.validatedAgainst).toMatch(/of each of 3 series/);
      expect(r!.maxWeightError).toBeLessThan(1e-4);
    }

    // The forecasting job: every job ran, its phases add up to at most its wall time, and the
    // backend's share is a share; the networks-alone job fits no baseline, the others do.
    const jobs = report.records.forecast;
    expect(jobs.map((j) => j.job)).toEqual(['network', 'real', 'full']);
    for (const j of jobs) {
      expect(j.status, `${j.job}: ${j.message}`).toBe('ok');
      const phases = Object.values(j.phases).reduce((a, b) => a + b, 0);
      expect(phases).toBeCloseTo(j.seconds, 3);
      for (const p of ['parse', 'scale', 'windows', 'train', 'forecast', 'output'] as const)
        expect(j.phases[p], `${j.job} ${p}`).toBeGreaterThan(0);
      expect(j.backendShare).toBeGreaterThan(0);
      expect(j.backendShare).toBeLessThanOrEqual(1);
      expect(j.backendSeconds).toBeGreaterThanOrEqual(j.phases.train * 0.5);
    }
    const [network, real, full] = jobs;
    // The baselines ran on the kit's pool, one thread per core.
    for (const j of jobs) expect(j.baselineThreads).toBe(availableParallelism());
    expect(network!.phases.baselines).toBe(0);
    for (const j of [real!, full!]) {
      expect(j.phases.baselines).toBeGreaterThan(0);
      expect(j.datasets[0]!.accuracy!.mase).toBeGreaterThan(0);
      expect(j.datasets[0]!.epochs.backtest).toBe(1);
    }
    expect(real!.datasets.map((d) => d.name)).toEqual(['stocks']);
    expect(network!.series).toBe(64);
    expect(full!.series).toBe(8);
  });
});
