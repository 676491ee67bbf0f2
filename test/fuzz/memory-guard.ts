/**
 * A safety net for long fuzz runs on a shared machine: typed arrays and ArrayBuffers larger than
 * `maxBytes` throw a RangeError instead of being allocated. A size that slipped through validation
 * (a hidden size of 65,536 is 2³² weights) would otherwise be allocated lazily, then filled, and
 * take the machine down; with the guard the case fails as an untyped error naming the allocation,
 * which is what it is: a size the library should have refused. The generators avoid such sizes
 * (test/fuzz/api/pool.ts); this catches what they miss. Installed by test/fuzz/main.ts for long runs
 * and by the fuzz test files around their runs (each Vitest file has a worker of its own).
 */

const TYPED = [
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

/** Installs the guard; returns the function that puts the original constructors back. */
export function guardAllocations(maxBytes: number): () => void {
  const g = globalThis as unknown as Record<string, any>;
  const originals = Object.fromEntries(['ArrayBuffer', ...TYPED].map((name) => [name, g[name]]));
  const refuse = (name: string, bytes: number) => {
    throw new RangeError(`fuzz memory guard: new ${name} of ${bytes} bytes refused (more than ${maxBytes})`);
  };
  const buffer = g.ArrayBuffer;
  g.ArrayBuffer = new Proxy(buffer, {
    construct(target, args, newTarget) {
      if (typeof args[0] === 'number' && args[0] > maxBytes) refuse('ArrayBuffer', args[0]);
      return Reflect.construct(target, args, newTarget);
    },
  });
  for (const name of TYPED) {
    const ctor = g[name];
    const size = ctor.BYTES_PER_ELEMENT as number;
    g[name] = new Proxy(ctor, {
      construct(target, args, newTarget) {
        const a = args[0];
        const n =
          typeof a === 'number' ? a : a && typeof a === 'object' && !(a instanceof buffer) && typeof a.length === 'number' ? a.length : 0;
        if (n * size > maxBytes) refuse(name, n * size);
        return Reflect.construct(target, args, newTarget);
      },
    });
  }
  return () => Object.assign(g, originals);
}
