import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `npm run docs`: the API reference TypeDoc makes from the doc comments of the two public entries
// (webrnn, webrnn/onnx). Any warning (a broken {@link}, a type the API uses but does not export, a
// malformed tag) fails the run (typedoc.json: treatWarningsAsErrors) and so this test.

const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'webrnn-docs-'));
let result: { code: number; output: string };

beforeAll(async () => {
  result = await run('npm', ['run', 'docs', '--', '--out', out], { maxBuffer: 16 << 20 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, output: e.stdout + e.stderr }),
  );
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The text of a generated page, tags and entities stripped, blanks collapsed. */
function pageText(path: string): string {
  return readFileSync(join(out, path), 'utf8')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#x60;/g, '`')
    .replace(/\s+/g, ' ');
}

describe('npm run docs', () => {
  it('builds without a warning or an error', () => {
    expect(result.output).not.toMatch(/\[(warning|error)\]/);
    expect(result.code, result.output).toBe(0);
  });

  it('has a page for every class, function and constant each entry exports', async () => {
    for (const [module, entry] of [
      ['webrnn', '../src/index.ts'],
      ['webrnn_onnx', '../src/onnx/index.ts'],
    ] as const) {
      expect(existsSync(join(out, 'modules', `${module}.html`)), module).toBe(true);
      const names = Object.keys(await import(entry));
      expect(names.length).toBeGreaterThan(module === 'webrnn' ? 90 : 10);
      const missing = names.filter(
        (name) => !['classes', 'functions', 'variables'].some((dir) => existsSync(join(out, dir, `${module}.${name}.html`))),
      );
      expect(missing, `${module}: exports without a page`).toEqual([]);
    }
  });

  it("renders the doc comments: ElmanRNN's description, example and methods", () => {
    const page = pageText('classes/webrnn.ElmanRNN.html');
    expect(page).toContain("An Elman network with a linear readout: PyTorch's nn.RNN(..., batch_first=True)");
    expect(page).toContain('const model = new ElmanRNN');
    expect(page).toMatch(/\bforward\b/);
    expect(pageText('classes/webrnn_onnx.OnnxModel.html')).toContain('An ONNX model ready to run');
  });
});
