import { accessSync, constants, readFileSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { WebRNNError } from '../errors.ts';

/**
 * The CLI's file access. Every failure is a {@link FileError} that names the path and says the cause
 * in plain words (`cannot read data.csv: no such file`) instead of Node's `ENOENT: …` and its stack,
 * and output paths are checked before any work, so a typo in `--out` does not cost a training run.
 */

/** A file the command line was asked to read or write cannot be: exit status 1. */
export class FileError extends WebRNNError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('file', message, options);
  }
}

const CAUSES: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
};

/** Node's error code in words, or its message when the code is not one of the usual ones. */
function cause(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code && CAUSES[code]) ?? (err instanceof Error ? err.message : String(err));
}

/** `label` names the file in messages: its path, or `--model PATH` where a flag gave it. */
export function readInput(path: string, label = path): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new FileError(`cannot read ${label}: ${cause(err)}`, { cause: err });
  }
}

function stat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined; // missing, or under something that is not a folder: the callers say which
  }
}

/**
 * Throws a {@link FileError} unless `path` (given as `flag`) can be written: its folder exists and is
 * writable, and the path itself is not a folder. Run before any work that would be lost.
 */
export function checkOutput(flag: string, path: string): void {
  const where = `${flag} ${path}`;
  const target = stat(path);
  if (target?.isDirectory()) throw new FileError(`${where}: it is a folder, not a file`);
  const folder = dirname(path);
  const parent = stat(folder);
  if (!parent) throw new FileError(`${where}: folder ${folder} does not exist`);
  if (!parent.isDirectory()) throw new FileError(`${where}: ${folder} is not a folder`);
  try {
    accessSync(target ? path : folder, constants.W_OK);
  } catch {
    throw new FileError(`${where}: ${target ? 'the file' : `folder ${folder}`} is not writable`);
  }
}

/** Writes `data` to `path` (given as `flag`); a failure that {@link checkOutput} could not foresee is a FileError too. */
export function writeOutput(flag: string, path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    throw new FileError(`cannot write ${flag} ${path}: ${cause(err)}`, { cause: err });
  }
}
