/**
 * The key a tuned choice is cached under: everything a timing depends on, so that a choice made on
 * one adapter, driver, feature set or version of the kernels is never read back for another.
 */

/** What the key is made of. */
export interface TuneKeyParts {
  /** The adapter's identity (GPUAdapterInfo: vendor, architecture, device, description). */
  adapter: { vendor: string; architecture: string; device: string; description: string };
  /** The limits the device was granted (those the kernels read). */
  limits: Record<string, number>;
  /** The features the device was granted. */
  features: readonly string[];
  /** The candidate kernels' WGSL sources, or digests of them (hashed together: a changed kernel is a new key). */
  sources: readonly string[];
  /** The shape class: what the candidates were timed on (cell, H, I, …) and the batch, bucketed. */
  shape: Record<string, string | number>;
  batch: number;
}

/** Batches in one bucket share a choice: powers of four (1, 4, 16, …, 4¹⁰ and above). */
export function batchBucket(batch: number): number {
  if (!(batch >= 1)) return 1;
  return 4 ** Math.min(10, Math.ceil(Math.log(batch) / Math.log(4) - 1e-9));
}

/**
 * A 64-bit FNV-1a hash of `text` (UTF-16 code units), as 16 hex digits: stable across runtimes and
 * synchronous (Web Crypto's digests are asynchronous); not for security, only to tell sources apart.
 */
export function hashText(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

/** The cache key for `parts`, one line of text, `webrnn-tune/1 …`. */
export function tuneKey(parts: TuneKeyParts): string {
  const a = parts.adapter;
  const limits = Object.keys(parts.limits)
    .sort()
    .map((k) => `${k}=${parts.limits[k]}`)
    .join(',');
  const features = [...parts.features].sort().join(',');
  const shape = Object.keys(parts.shape)
    .sort()
    .map((k) => `${k}=${parts.shape[k]}`)
    .join(' ');
  return [
    'webrnn-tune/1',
    `adapter=${a.vendor}/${a.architecture}/${a.device}/${a.description}`,
    `limits=${hashText(limits)}`,
    `features=${features}`,
    `source=${hashText(parts.sources.join('\u0000'))}`,
    `${shape} batch~${batchBucket(parts.batch)}`,
  ].join(' | ');
}
