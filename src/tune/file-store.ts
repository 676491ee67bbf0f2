import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TuneEntry, TuneStore } from './tuner.ts';

/**
 * Tuned choices in a JSON file, for Node: `$WEBRNN_CACHE_DIR/tune.json`, else
 * `$XDG_CACHE_HOME/webrnn/tune.json`, else `~/.cache/webrnn/tune.json`. Written whole to a temporary
 * file and renamed over the old one, so a reader never sees half a file; an unreadable file counts
 * as empty (the next tuning rewrites it).
 */
export function tuneCachePath(env: Record<string, string | undefined> = process.env): string {
  if (env.WEBRNN_CACHE_DIR) return join(env.WEBRNN_CACHE_DIR, 'tune.json');
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'webrnn', 'tune.json');
}

export class FileTuneStore implements TuneStore {
  constructor(readonly path: string = tuneCachePath()) {}

  private async read(): Promise<Record<string, TuneEntry>> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as unknown;
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, TuneEntry>) : {};
    } catch {
      return {};
    }
  }

  async get(key: string): Promise<TuneEntry | undefined> {
    return (await this.read())[key];
  }

  async set(key: string, entry: TuneEntry): Promise<void> {
    const all = await this.read();
    all[key] = entry;
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(all, null, 2));
    await rename(temp, this.path);
  }
}
