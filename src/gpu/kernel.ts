import {
  makeShaderDataDefinitions,
  makeStructuredView,
  type ShaderDataDefinitions,
  type StructDefinition,
  type StructuredView,
} from 'webgpu-utils';

/**
 * A kernel: one compute entry point of a WGSL source, with the storage bindings it uses named where
 * the source is loaded. What the WGSL itself declares is read from it (webgpu-utils'
 * makeShaderDataDefinitions): when a pipeline is built the named bindings are compared with the
 * entry point's `@binding` declarations ({@link checkKernel}), dispatches bind buffers by those
 * names, and a dispatch's uniform struct is written by field name ({@link encodeUniforms}), so the
 * host never counts a binding or a byte offset.
 */
export interface Kernel<B extends string = string> {
  /** As the shader file is named; also the label of its pipelines and passes. */
  readonly name: string;
  /** The WGSL source (shared parts prepended). */
  readonly code: string;
  readonly entryPoint: string;
  /** The entry point's storage bindings, by WGSL variable name, in binding order. */
  readonly bindings: readonly B[];
}

/** A kernel over `code`'s `entryPoint` (default `main`) binding `bindings`. */
export function defineKernel<const B extends string>(name: string, code: string, bindings: readonly B[], entryPoint = 'main'): Kernel<B> {
  return { name, code, entryPoint, bindings };
}

/** What one entry point of a WGSL source declares and uses. */
export interface EntryInterface {
  /** Binding number of each storage variable the entry point uses, by name. */
  storage: Map<string, number>;
  /** Its uniform struct (at most one), or null. */
  uniform: { name: string; binding: number; fields: string[]; view: StructuredView } | null;
}

const definitions = new Map<string, ShaderDataDefinitions>();
const interfaces = new Map<string, Map<string, EntryInterface>>();

/** What `entryPoint` of `code` declares (parsed once per source; needs WebGPU's globals, as any device does). */
export function entryInterface(code: string, entryPoint: string, what = entryPoint): EntryInterface {
  let byEntry = interfaces.get(code);
  if (!byEntry) interfaces.set(code, (byEntry = new Map()));
  let found = byEntry.get(entryPoint);
  if (found) return found;
  let defs = definitions.get(code);
  if (!defs) definitions.set(code, (defs = makeShaderDataDefinitions(code)));
  const entry = defs.entryPoints[entryPoint];
  if (!entry) throw new Error(`${what}: the WGSL has no entry point ${entryPoint}`);
  found = { storage: new Map(), uniform: null };
  for (const r of entry.resources) {
    if (r.group !== 0) throw new Error(`${what}: ${r.name} is in bind group ${r.group}; kernels use group 0 only`);
    const variable = defs.uniforms[r.name];
    if (variable) {
      if (found.uniform) throw new Error(`${what}: more than one uniform (${found.uniform.name}, ${r.name})`);
      const fields = Object.keys((variable.typeDefinition as StructDefinition).fields ?? {});
      found.uniform = { name: r.name, binding: r.entry.binding, fields, view: makeStructuredView(variable) };
    } else if (defs.storages[r.name]) {
      found.storage.set(r.name, r.entry.binding);
    } else {
      throw new Error(`${what}: ${r.name} is not a buffer; kernels bind buffers only`);
    }
  }
  byEntry.set(entryPoint, found);
  return found;
}

/**
 * Throws unless the kernel's named bindings are exactly the storage bindings its entry point uses,
 * in binding order: a kernel descriptor that disagrees with its WGSL fails when its pipeline is
 * built, not with a wrong result.
 */
export function checkKernel(k: Pick<Kernel, 'name' | 'code' | 'entryPoint' | 'bindings'>): EntryInterface {
  const known = checked.get(k);
  if (known) return known;
  const what = `kernel ${k.name} (${k.entryPoint})`;
  const found = entryInterface(k.code, k.entryPoint, what);
  const declared = [...found.storage.entries()].sort((a, b) => a[1] - b[1]).map(([name]) => name);
  if (declared.join() !== k.bindings.join()) {
    throw new Error(
      `${what} names its bindings [${k.bindings.join(', ')}] but the WGSL's entry point uses [${declared.join(', ')}] (in binding order)`,
    );
  }
  checked.set(k, found);
  return found;
}

/** Kernels already checked, with what their entry point declares. */
const checked = new WeakMap<object, EntryInterface>();

/**
 * A dispatch's uniform struct as bytes (a multiple of 16), written by field name. Every field but
 * padding (a name starting with `_`) must be given, and nothing else: a value the struct has no
 * field for, or a field left out, is an error rather than a zero in the shader.
 */
export function encodeUniforms(found: EntryInterface, values: Readonly<Record<string, number>>, what: string): Uint8Array | null {
  const u = found.uniform;
  const given = Object.keys(values);
  if (!u) {
    if (given.length) throw new Error(`${what} has no uniform struct, but was given ${given.join(', ')}`);
    return null;
  }
  const unknown = given.filter((name) => !u.fields.includes(name));
  const missing = u.fields.filter((name) => !name.startsWith('_') && !(name in values));
  if (unknown.length || missing.length) {
    throw new Error(
      `${what}: the uniform ${u.name} has fields ${u.fields.join(', ')}` +
        (unknown.length ? `; no field ${unknown.join(', ')}` : '') +
        (missing.length ? `; ${missing.join(', ')} not given` : ''),
    );
  }
  const bytes = new Uint8Array(u.view.arrayBuffer);
  bytes.fill(0);
  u.view.set(values);
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 16) * 16);
  out.set(bytes);
  return out;
}
