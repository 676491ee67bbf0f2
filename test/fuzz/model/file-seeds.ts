import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSeed } from './seeds.ts';

/**
 * The repository's real model files as seeds too (Node only): the ONNX project's node tests and
 * PyTorch's exports (`model.onnx` and their `.pb` inputs), and PyTorch's state dicts as safetensors
 * (every dtype the format reader decodes).
 */
export function fileSeeds(): ModelSeed[] {
  const root = join(import.meta.dirname, '..', '..', 'data');
  const seeds: ModelSeed[] = [];
  const read = (path: string) => new Uint8Array(readFileSync(path));
  for (const group of ['onnx-node', 'onnx-torch']) {
    for (const name of readdirSync(join(root, group)).sort()) {
      const dir = join(root, group, name);
      seeds.push({ kind: 'onnx', name: `${group}/${name}`, bytes: read(join(dir, 'model.onnx')) });
      const pb = join(dir, 'test_data_set_0', 'input_0.pb');
      if (existsSync(pb)) seeds.push({ kind: 'pb', name: `${group}/${name}/input_0.pb`, bytes: read(pb) });
      const weights = join(dir, 'weights.safetensors');
      if (existsSync(weights)) seeds.push({ kind: 'safetensors', name: `${group}/${name}/weights`, bytes: read(weights) });
    }
  }
  for (const file of readdirSync(join(root, 'torch'))
    .filter((f) => f.endsWith('.safetensors'))
    .sort()) {
    seeds.push({ kind: 'safetensors', name: `torch/${file}`, bytes: read(join(root, 'torch', file)) });
  }
  return seeds;
}
