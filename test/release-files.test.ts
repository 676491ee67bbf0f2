import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packTarball, REPO } from './helpers/pack.ts';

// LICENSE and CHANGELOG.md: the license package.json names, in the packed package too; a changelog
// in Keep a Changelog's format (https://keepachangelog.com/en/1.1.0/) whose latest release is the
// version package.json carries, so a version bump without its entry fails here.

const run = promisify(execFile);
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as { license: string; version: string };

describe('release files', () => {
  it('LICENSE is the MIT license package.json names, by the webrnn authors, and ships in the packed package', async () => {
    expect(pkg.license).toBe('MIT');
    const license = read('LICENSE');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the webrnn authors\n\nPermission is hereby granted, free of charge/);
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
    const { stdout } = await run('tar', ['-xzOf', await packTarball(), 'package/LICENSE'], { maxBuffer: 1 << 20 });
    expect(stdout).toBe(license);
  });

  it("CHANGELOG.md: Unreleased, then dated releases newest first, the latest package.json's version; Keep a Changelog's kinds of change", () => {
    const lines = read('CHANGELOG.md').split('\n');
    expect(lines[0]).toBe('# Changelog');
    const versions = lines.filter((l) => l.startsWith('## '));
    expect(versions[0]).toBe('## [Unreleased]');
    const releases = versions.slice(1).map((l) => /^## \[(\d+)\.(\d+)\.(\d+)\] - (\d{4}-\d{2}-\d{2})$/.exec(l));
    expect(releases.length).toBeGreaterThan(0);
    for (const [i, r] of releases.entries()) expect(r, versions[i + 1]).not.toBeNull();
    expect(releases[0]!.slice(1, 4).join('.')).toBe(pkg.version);
    const order = releases.map((r) => r![1]!.padStart(4, '0') + r![2]!.padStart(4, '0') + r![3]!.padStart(4, '0'));
    expect(order).toEqual([...order].sort().reverse());
    const dates = releases.map((r) => r![4]!);
    expect(dates).toEqual([...dates].sort().reverse());
    for (const kind of lines.filter((l) => l.startsWith('### '))) {
      expect(['### Added', '### Changed', '### Deprecated', '### Removed', '### Fixed', '### Security']).toContain(kind);
    }
  });
});
