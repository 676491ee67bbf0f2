import { ModelError } from '../errors.ts';
import type { AttributeProtoJson } from './proto.ts';
import { int64ToNumber, tensorFromProto, type OnnxTensor } from './tensor.ts';

/** AttributeProto.AttributeType values. */
export const ATTRIBUTE_TYPES = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;
type AttributeType = keyof typeof ATTRIBUTE_TYPES;

const utf8 = new TextDecoder();

/**
 * A node's attributes, read by name with the type the operator expects. A wrong type or a value out
 * of range is a {@link ModelError} naming the attribute and the node (`label`, e.g. `LSTM node "lstm_1"`).
 */
export class NodeAttributes {
  private readonly byName = new Map<string, AttributeProtoJson>();

  constructor(
    readonly label: string,
    attributes: readonly AttributeProtoJson[],
  ) {
    for (const a of attributes) this.byName.set(a.name ?? '', a);
  }

  /** The attribute names the node carries. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The attribute's proto when present and of type `type`. */
  private get(name: string, type: AttributeType): AttributeProtoJson | null {
    const a = this.byName.get(name);
    if (!a) return null;
    if (a.type !== undefined && a.type !== ATTRIBUTE_TYPES[type]) {
      const got = Object.entries(ATTRIBUTE_TYPES).find(([, v]) => v === a.type)?.[0] ?? `type ${a.type}`;
      throw this.error(name, `must be ${type}, got ${got}`);
    }
    return a;
  }

  /** A {@link ModelError} about attribute `name` of this node. */
  error(name: string, problem: string): ModelError {
    return new ModelError(`attribute ${name} of ${this.label} ${problem}`);
  }

  int(name: string, fallback: number): number;
  int(name: string, fallback: null): number | null;
  int(name: string, fallback: number | null): number | null {
    const a = this.get(name, 'INT');
    return a ? int64ToNumber(a.i, `attribute ${name} of ${this.label}`) : fallback;
  }

  /** A list of ints; with `clamp`, int64 values beyond ±2^53 become ±MAX_SAFE_INTEGER (Slice's "to the end"). */
  ints(name: string, clamp = false): number[] | null {
    const a = this.get(name, 'INTS');
    if (!a) return null;
    return (a.ints ?? []).map((v) => {
      const n = Number(v);
      if (clamp && !Number.isSafeInteger(n)) return n > 0 ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER;
      return int64ToNumber(v, `attribute ${name} of ${this.label}`);
    });
  }

  float(name: string, fallback: number): number;
  float(name: string, fallback: null): number | null;
  float(name: string, fallback: number | null): number | null {
    const a = this.get(name, 'FLOAT');
    return a ? (a.f ?? 0) : fallback;
  }

  floats(name: string): number[] | null {
    const a = this.get(name, 'FLOATS');
    return a ? [...(a.floats ?? [])] : null;
  }

  string(name: string, fallback: string): string {
    const a = this.get(name, 'STRING');
    return a ? utf8.decode(a.s ?? new Uint8Array()) : fallback;
  }

  strings(name: string): string[] | null {
    const a = this.get(name, 'STRINGS');
    return a ? (a.strings ?? []).map((s) => utf8.decode(s)) : null;
  }

  tensor(name: string): OnnxTensor | null {
    const a = this.get(name, 'TENSOR');
    if (!a) return null;
    if (!a.t) throw this.error(name, 'holds no tensor');
    return tensorFromProto(a.t, `attribute ${name} of ${this.label}`);
  }

  /** An int attribute that must be 0 or 1, as a boolean. */
  flag(name: string, fallback: boolean): boolean {
    const v = this.int(name, fallback ? 1 : 0);
    if (v !== 0 && v !== 1) throw this.error(name, `must be 0 or 1, got ${v}`);
    return v === 1;
  }
}
