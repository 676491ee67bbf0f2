/**
 * The package as a user gets it: `npm pack` of the working tree, installed into a fresh project.
 *
 * - {@link packTarball} packs once per content: the files git sees (tracked and untracked, not
 *   ignored) are copied into a staging folder beside a link to the repository's node_modules and
 *   packed there, so `npm pack` runs the package's own build (`prepare`) without touching the
 *   working tree's dist/. The tarball is cached in node_modules/.cache/webrnn-pack/ under a hash of
 *   those files; test files running in parallel wait on one lock, so a test run packs at most once
 *   (and not at all when nothing changed since the last run).
 * - {@link makeProject} makes a temporary project of one kind (`node`, `ts` or `vite`) and installs
 *   the tarball as npm would lay it out, without the registry: unpacked into node_modules/webrnn, its
 *   `bin` linked into node_modules/.bin, its `dependencies` and the tools the kind needs (webgpu,
 *   typescript, vite) linked from the repository's node_modules (the versions package-lock.json
 *   pins, which satisfy the package's ranges). So a project is ready in about a second, offline,
 *   and works in CI's clean clone after `npm ci`. Call `cleanup()` when done (in `afterAll`): it
 *   removes the folder.
 *
 * WEBRNN_TARBALL=path/to/webrnn-x.y.z.tgz tests that tarball instead of packing the working tree.
 *
 * Usage:
 * ```ts
 * const project = await makeProject('node', { files: { 'main.mjs': "import { tensor } from 'webrnn'; …" } });
 * try {
 *   const { stdout } = await project.exec('node', ['main.mjs']);
 * } finally {
 *   await project.cleanup();
 * }
 * ```
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAst } from 'vite';

const run = promisify(execFile);

/** The repository root. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const REPO_MODULES = join(REPO, 'node_modules');
const CACHE = join(REPO_MODULES, '.cache', 'webrnn-pack');
/** A lock older than this is taken to be left by a killed run. */
const STALE_LOCK_MS = 5 * 60_000;
const WAIT_MS = 4 * 60_000;

/** The files `npm pack` could need: what git sees in the working tree, tracked or not, not ignored. */
async function sourceFiles(): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO,
    maxBuffer: 64 << 20,
  });
  const files = stdout.split('\0').filter(Boolean);
  // `--cached` lists files deleted in the working tree but not yet in git; skip them.
  const present = await Promise.all(
    files.map((f) =>
      stat(join(REPO, f)).then(
        (s) => s.isFile(),
        () => false,
      ),
    ),
  );
  return files.filter((_, i) => present[i]).sort();
}

async function contentHash(files: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(file)
      .update('\0')
      .update(await readFile(join(REPO, file)))
      .update('\0');
  return hash.digest('hex').slice(0, 16);
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Copies the files into a staging folder, links node_modules, runs `npm pack` there; returns the tarball. */
async function packInStaging(files: string[], out: string): Promise<void> {
  const staging = await mkdtemp(join(tmpdir(), 'webrnn-stage-'));
  try {
    await Promise.all(
      files.map(async (f) => {
        await mkdir(dirname(join(staging, f)), { recursive: true });
        await cp(join(REPO, f), join(staging, f));
      }),
    );
    await symlink(REPO_MODULES, join(staging, 'node_modules'), 'dir');
    // `npm pack` runs the `prepare` script (the build) first; `--json` names the file it wrote.
    // The build's log comes first on stdout; where `CI` is set Vite colours it, and its escape codes
    // hold '[' too, so the JSON is taken from the line that is exactly '['.
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', staging], {
      cwd: staging,
      maxBuffer: 64 << 20,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const start = stdout.search(/^\[\s*$/m);
    if (start < 0) throw new Error(`packTarball: no JSON in npm pack's output:\n${stdout.slice(-2000)}`);
    const [{ filename }] = JSON.parse(stdout.slice(start)) as [{ filename: string }];
    await rename(join(staging, filename), out);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Removes tarballs of other contents left by earlier runs (older than a few minutes, so not in use). */
async function pruneCache(keep: string): Promise<void> {
  for (const name of await readdir(CACHE)) {
    const path = join(CACHE, name);
    if (path === keep || !name.endsWith('.tgz')) continue;
    const { mtimeMs } = await stat(path);
    if (Date.now() - mtimeMs > 10 * 60_000) await rm(path, { force: true });
  }
}

let packed: Promise<string> | undefined;

/**
 * The path of the tarball `npm pack` makes of the working tree (built by the package's own scripts),
 * packed at most once per content and shared by every test file of a run.
 */
export function packTarball(): Promise<string> {
  // A tarball made elsewhere (a release candidate, an older version) can be tested instead.
  if (process.env.WEBRNN_TARBALL) return Promise.resolve(resolve(process.env.WEBRNN_TARBALL));
  packed ??= (async () => {
    const files = await sourceFiles();
    const tarball = join(CACHE, `webrnn-${await contentHash(files)}.tgz`);
    await mkdir(CACHE, { recursive: true });
    const lock = `${tarball}.lock`;
    const deadline = Date.now() + WAIT_MS;
    while (!(await exists(tarball))) {
      try {
        await mkdir(lock);
      } catch {
        // Another test file is packing: wait for its tarball (or take over a lock it left behind).
        const held = await stat(lock).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (held > STALE_LOCK_MS) await rm(lock, { recursive: true, force: true });
        if (Date.now() > deadline) throw new Error(`packTarball: gave up waiting for ${lock}`);
        await sleep(250);
        continue;
      }
      try {
        await packInStaging(files, `${tarball}.part`);
        await rename(`${tarball}.part`, tarball);
        await pruneCache(tarball);
      } finally {
        await rm(lock, { recursive: true, force: true });
      }
    }
    return tarball;
  })();
  packed.catch(() => (packed = undefined));
  return packed;
}

/**
 * Unpacks the tarball into `modules`/webrnn and links its `bin` entries into `modules`/.bin, as
 * `npm install` does; returns the package's dependencies, for the caller to link.
 */
async function unpack(tarball: string, modules: string): Promise<string[]> {
  const target = join(modules, 'webrnn');
  await mkdir(target, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  const pkg = JSON.parse(await readFile(join(target, 'package.json'), 'utf8')) as {
    bin?: Record<string, string>;
    dependencies?: Record<string, string>;
  };
  await mkdir(join(modules, '.bin'), { recursive: true });
  for (const [name, file] of Object.entries(pkg.bin ?? {})) await symlink(join('..', 'webrnn', file), join(modules, '.bin', name));
  return Object.keys(pkg.dependencies ?? {});
}

/** The kinds of consumer project {@link makeProject} makes. */
export type ProjectKind = 'node' | 'ts' | 'vite';

/** Packages each kind links from the repository's node_modules (tools, not webrnn's dependencies). */
const KIND_LINKS: Record<ProjectKind, string[]> = {
  node: ['webgpu'],
  ts: ['typescript', '@typescript', '@types/node'],
  vite: ['vite'],
};

/** Options of {@link makeProject}. */
export interface ProjectOptions {
  /** A folder whose contents are copied into the project first (e.g. an example app). */
  copyFrom?: string;
  /** Files to write, by path relative to the project (after `copyFrom`). */
  files?: Record<string, string>;
  /** Fields merged into the project's package.json (`{ name, private, type: 'module' }`). */
  packageJson?: Record<string, unknown>;
  /** More packages to link from the repository's node_modules, beside the kind's own. */
  link?: string[];
  /** Packages of the kind's own not to link (e.g. `webgpu`, to run without the optional peer). */
  omit?: string[];
  /** Skip installing the tarball (to see what a project without webrnn does). */
  skipInstall?: boolean;
}

/** A temporary project with the packed webrnn installed. */
export interface TempProject {
  /** Its folder. */
  dir: string;
  /** Runs a command in the folder (its node_modules/.bin and the repository's on the PATH). */
  exec(
    command: string,
    args: string[],
    options?: { env?: NodeJS.ProcessEnv; timeout?: number },
  ): Promise<{ stdout: string; stderr: string }>;
  /** Removes the folder. */
  cleanup(): Promise<void>;
}

/**
 * A folder for temporary projects with no node_modules in any folder above it: Node and Vite look
 * for packages in every ancestor's node_modules, so one there (a /tmp/node_modules, say) would let
 * a project import what it never installed. The system's temporary folder, else /var/tmp.
 */
async function isolatedBase(): Promise<string> {
  for (const base of [tmpdir(), '/var/tmp']) {
    const ancestors = [];
    for (let dir = resolve(base); ; dir = dirname(dir)) {
      ancestors.push(dir);
      if (dirname(dir) === dir) break;
    }
    const found = await Promise.all(ancestors.map((dir) => exists(join(dir, 'node_modules'))));
    if (!found.includes(true)) return base;
  }
  throw new Error(`makeProject: every temporary folder has a node_modules above it (${tmpdir()}, /var/tmp); set TMPDIR to one without`);
}

/**
 * Makes a temporary project of `kind` with the packed webrnn installed from {@link packTarball}'s
 * tarball, laid out as a user's `npm install webrnn-x.y.z.tgz` would, plus the kind's tools linked
 * from the repository: `node` links webgpu (webrnn's optional peer), `ts` typescript and
 * @types/node, `vite` vite. A package.json copied in keeps its dependencies unresolved: link what it
 * needs with `options.link`.
 */
export async function makeProject(kind: ProjectKind, options: ProjectOptions = {}): Promise<TempProject> {
  const tarball = options.skipInstall ? undefined : await packTarball();
  const dir = await mkdtemp(join(await isolatedBase(), `webrnn-${kind}-`));
  const exec: TempProject['exec'] = (command, args, opts = {}) =>
    run(command, args, {
      cwd: dir,
      env: { ...process.env, ...opts.env, PATH: `${join(dir, 'node_modules', '.bin')}:${join(REPO_MODULES, '.bin')}:${process.env.PATH}` },
      maxBuffer: 64 << 20,
      timeout: opts.timeout ?? 120_000,
    });
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    if (options.copyFrom) await cp(options.copyFrom, dir, { recursive: true });
    const pkgPath = join(dir, 'package.json');
    const base = (await exists(pkgPath)) ? (JSON.parse(await readFile(pkgPath, 'utf8')) as Record<string, unknown>) : {};
    const pkg = { name: `webrnn-${kind}-consumer`, private: true, type: 'module', ...base, ...options.packageJson };
    await writeFile(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
    for (const [path, text] of Object.entries(options.files ?? {})) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    const links = [...KIND_LINKS[kind].filter((name) => !options.omit?.includes(name)), ...(options.link ?? [])];
    if (tarball) links.push(...(await unpack(tarball, join(dir, 'node_modules'))));
    for (const name of new Set(links)) {
      const target = join(dir, 'node_modules', name);
      if (await exists(target)) continue;
      await mkdir(dirname(target), { recursive: true });
      await symlink(join(REPO_MODULES, name), target, 'dir');
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { dir, exec, cleanup };
}

/**
 * Every module specifier an ES module's code names: import and export declarations, and `import()`
 * of a literal (parsed, so comments and strings that look like imports do not count).
 */
export function moduleSpecifiers(code: string): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
    } else if (node && typeof node === 'object') {
      const n = node as { type?: string; source?: { value?: unknown } };
      const isImport = /^(ImportDeclaration|ExportAllDeclaration|ExportNamedDeclaration|ImportExpression)$/.test(n.type ?? '');
      if (isImport && typeof n.source?.value === 'string') found.push(n.source.value);
      for (const child of Object.values(node)) visit(child);
    }
  };
  visit(parseAst(code));
  return found;
}
