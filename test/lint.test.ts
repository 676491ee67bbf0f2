import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The formatter and the linter (Biome, settings in biome.jsonc) over the whole tree, as
// `npm run lint` runs them: formatting, lint rules and import cycles (suspicious/noImportCycles,
// type-only imports included) all fail the suite. `npx biome check --write .` formats the tree.

const root = fileURLToPath(new URL('..', import.meta.url));
const biome = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url));
const run = promisify(execFile);

/** Biome's exit status and output for `args`, from the repository's root. */
async function biomeRun(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(biome, args, { cwd: root, maxBuffer: 64 * 2 ** 20 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('formatter and linter', () => {
  it('finds no import cycle anywhere', async () => {
    const { code, output } = await biomeRun(['lint', '--only=suspicious/noImportCycles', '--max-diagnostics=20', '.']);
    expect(output, output).not.toMatch(/noImportCycles/);
    expect(code, output).toBe(0);
  });

  it('finds the tree formatted and lint-clean (biome check)', async () => {
    const { code, output } = await biomeRun(['check', '--max-diagnostics=20', '.']);
    expect(code, output).toBe(0);
  });

  it('catches a cycle: the rule is on, and reads type-only imports', async () => {
    // Two modules that import each other, one of them for a type only, linted with the project's settings.
    const a = "import type { B } from './b.ts';\nexport interface A { b: B }\n";
    const b = "import type { A } from './a.ts';\nexport interface B { a: A }\n";
    const { mkdtemp, writeFile, rm, cp } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'webrnn-cycle-'));
    try {
      await cp(join(root, 'biome.jsonc'), join(dir, 'biome.jsonc'));
      await writeFile(join(dir, 'package.json'), '{}');
      await writeFile(join(dir, 'a.ts'), a);
      await writeFile(join(dir, 'b.ts'), b);
      const out = await run(biome, ['lint', '--only=suspicious/noImportCycles', '--vcs-enabled=false', '.'], { cwd: dir }).then(
        () => ({ code: 0, output: '' }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
      );
      expect(out.code).not.toBe(0);
      expect(out.output).toMatch(/This import is part of a cycle/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
