import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelError, ShapeError } from '../src/errors.ts';
import { bfloat16ToNumber, float16ToNumber, floatTensors, readSafetensors, writeSafetensors } from '../src/io/safetensors.ts';
import { tensor } from '../src/tensor.ts';
import { mulberry32, uniformArray } from '../src/util/rng.ts';
import dtypesGolden from './data/torch/dtypes.json';
import golden from './data/torch/cases.json';

// The safetensors reader and writer: the format's known bytes, files written by Python (struct +
// json + numpy, laid out as the reference implementation does: test/golden/make_torch_models.py),
// and every way a file can be broken.

const DATA = new URL('./data/torch/', import.meta.url);
const load = (file: string) => new Uint8Array(readFileSync(new URL(file, DATA)));
const ascii = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A file from a header (object or raw text), data bytes, and optionally a forged header length. */
function craft(header: unknown, data: Uint8Array | number = 0, length?: bigint): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + text.length + body.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(body, 8 + text.length);
  return out;
}

function readError(bytes: Uint8Array): Error {
  try {
    readSafetensors(bytes);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the file to be rejected');
}

function expectRejected(bytes: Uint8Array, message: RegExp): void {
  const err = readError(bytes);
  expect(err).toBeInstanceOf(ModelError);
  expect(err.message).toMatch(/^safetensors: /);
  expect(err.message).toMatch(message);
}

describe('safetensors writer: the reference layout, byte for byte', () => {
  it('writes one F32 tensor with a compact header whose length is a multiple of 8', () => {
    const out = writeSafetensors({ 'attn.0': tensor([0, 1, 2, 3, 4, 5], [1, 2, 3]) });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64); // already aligned: no padding
    expect(Array.from(out.subarray(0, 8))).toEqual([64, 0, 0, 0, 0, 0, 0, 0]);
    expect(ascii(out.subarray(8, 72))).toBe(header);
    expect(Array.from(out.subarray(72, 80))).toEqual([0, 0, 0, 0, 0, 0, 128, 63]); // 0.0f, 1.0f little-endian
    expect(out.length).toBe(8 + 64 + 24);
  });

  it('pads the header with spaces so the data starts 8-aligned', () => {
    const out = writeSafetensors({ attn0: tensor([0, 1, 2, 3, 4, 5], [1, 1, 2, 3]) });
    const header = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(65);
    expect(out[0]).toBe(72);
    expect(ascii(out.subarray(8, 80))).toBe(header + ' '.repeat(7));
  });

  it('writes an empty file, and metadata first', () => {
    expect(Array.from(writeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const withMeta = writeSafetensors({}, { framework: 'pt' });
    expect(withMeta[0]).toBe(40);
    expect(ascii(withMeta.subarray(8))).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });

  it('sorts tensor names and metadata keys, whatever the insertion order', () => {
    const out = writeSafetensors({ b: tensor([2], [1]), a: tensor([1], [1]) }, { z: '1', y: '2' });
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    const header = ascii(out.subarray(8, 8 + n)).trimEnd();
    expect(header).toBe(
      '{"__metadata__":{"y":"2","z":"1"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
        '"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
    );
  });

  it('rejects what the format cannot hold', () => {
    expect(() => writeSafetensors({ __metadata__: tensor([1], [1]) })).toThrow(ModelError);
    expect(() => writeSafetensors({ a: tensor([1], [1]) }, { n: 1 as unknown as string })).toThrow(/metadata "n" must be a string/);
    expect(() => writeSafetensors({ a: { data: new Float32Array(3), shape: [2] } })).toThrow(ShapeError);
    expect(() => writeSafetensors({ a: [1, 2] as never })).toThrow(/"a" must be a tensor/);
  });
});

describe('safetensors round trip', () => {
  it('reads back what it writes: values, shapes (scalar and empty too), metadata', () => {
    const rand = mulberry32(5);
    const tensors = {
      'rnn.weight_ih_l0': tensor(uniformArray(rand, 12, -1, 1), [4, 3]),
      'rnn.bias': tensor(uniformArray(rand, 4, -1, 1), [4]),
      scalar: tensor([3.5], []),
      empty: tensor([], [0, 3]),
      'naïve ünïcode': tensor([1, 2], [2, 1]),
    };
    const file = readSafetensors(writeSafetensors(tensors, { format: 'pt', note: 'héllo' }));
    expect(file.metadata).toEqual({ format: 'pt', note: 'héllo' });
    expect(Object.keys(file.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const got = file.tensors[name]!;
      expect(got.dtype).toBe('F32');
      expect(got.shape).toEqual(t.shape);
      expect(got.data).toEqual(t.data);
    }
  });

  it('writes float64 data as float32 and reads a file without metadata as metadata null', () => {
    const file = readSafetensors(writeSafetensors({ x: tensor(Float64Array.from([0.1, 1 / 3]), [2]) }));
    expect(file.metadata).toBeNull();
    expect(file.tensors.x!.data).toEqual(Float32Array.from([0.1, 1 / 3]));
  });

  it('reads a file that lies inside a larger buffer at an odd offset', () => {
    const bytes = writeSafetensors({ x: tensor([1.5, -2], [2]) });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expect(Array.from(readSafetensors(big.subarray(3)).tensors.x!.data as Float32Array)).toEqual([1.5, -2]);
  });

  it('reads an ArrayBuffer (a fetch response) as well as a Uint8Array', () => {
    const bytes = writeSafetensors({ x: tensor([1.5, -2], [2]) });
    expect(readSafetensors(bytes.slice().buffer).tensors.x!.data).toEqual(Float32Array.from([1.5, -2]));
    expect(() => readSafetensors('not bytes' as never)).toThrow(/expected the file as a Uint8Array or ArrayBuffer/);
  });
});

describe('safetensors files written by Python', () => {
  it('decodes F64, F32, F16, BF16, I64, I32, a scalar and an empty tensor to the values Python wrote', () => {
    const file = readSafetensors(load('dtypes.safetensors'));
    expect(file.metadata).toEqual(dtypesGolden.metadata);
    const values = dtypesGolden.values as Record<string, number[]>;
    for (const [name, dtype] of Object.entries(dtypesGolden.dtypes)) {
      const t = file.tensors[name]!;
      expect(t.dtype, name).toBe(dtype);
      expect(t.shape, name).toEqual((dtypesGolden.shapes as Record<string, number[]>)[name]);
      const want = values[name]!;
      if (dtype === 'I64') expect(Array.from(t.data as BigInt64Array), name).toEqual(want.map((v) => BigInt(v)));
      else expect(Array.from(t.data as ArrayLike<number>), name).toEqual(want);
    }
    expect(file.tensors.f64!.data).toBeInstanceOf(Float64Array);
    expect(file.tensors.f16!.data).toBeInstanceOf(Float32Array);
    expect(file.tensors.bf16!.data).toBeInstanceOf(Float32Array);
    expect(file.tensors.i64!.data).toBeInstanceOf(BigInt64Array);
    expect(file.tensors.i32!.data).toBeInstanceOf(Int32Array);
    expect(Object.is(file.tensors.f16!.data[5], -0)).toBe(true);
  });

  it('reproduces every Python-written model file byte for byte (so Python reads what webrnn writes)', () => {
    for (const c of golden.cases) {
      const bytes = load(c.file);
      const file = readSafetensors(bytes);
      expect(writeSafetensors(floatTensors(file), file.metadata ?? undefined), c.file).toEqual(bytes);
    }
  });

  it('refuses integer tensors where floats are needed, naming the tensor', () => {
    const file = readSafetensors(load('dtypes.safetensors'));
    expect(() => floatTensors(file)).toThrow(/tensor "i64" holds I64 values; expected floating point/);
  });
});

describe('half-precision decoding on known bit patterns', () => {
  it('F16: normals, subnormals, infinities, NaN and signed zero', () => {
    const cases: Array<[number, number]> = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3800, 0.5],
      [0x7bff, 65504],
      [0x0400, 2 ** -14],
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24],
      [0x3555, 0.333251953125],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x0000, 0],
    ];
    for (const [bits, value] of cases) expect(float16ToNumber(bits), bits.toString(16)).toBe(value);
    expect(Object.is(float16ToNumber(0x8000), -0)).toBe(true);
    expect(float16ToNumber(0x7e00)).toBeNaN();
  });

  it('BF16: the upper half of a float32', () => {
    const cases: Array<[number, number]> = [
      [0x3f80, 1],
      [0xc000, -2],
      [0x4049, 3.140625],
      [0x0001, 2 ** -133],
      [0x7f7f, 3.3895313892515355e38],
      [0x7f80, Infinity],
      [0xff80, -Infinity],
    ];
    for (const [bits, value] of cases) expect(bfloat16ToNumber(bits), bits.toString(16)).toBe(value);
    expect(bfloat16ToNumber(0x7fc0)).toBeNaN();
    expect(Object.is(bfloat16ToNumber(0x8000), -0)).toBe(true);
  });

  it('decodes F16 and BF16 tensors of a file, little-endian', () => {
    const bits = new Uint8Array([0x00, 0x3c, 0x00, 0xfc, 0x80, 0x3f, 0x49, 0x40]);
    const file = readSafetensors(
      craft(
        {
          h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
          b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] },
        },
        bits,
      ),
    );
    expect(Array.from(file.tensors.h!.data as Float32Array)).toEqual([1, -Infinity]);
    expect(Array.from(file.tensors.b!.data as Float32Array)).toEqual([1, 3.140625]);
  });
});

describe('safetensors reader: broken files are ModelErrors that say what is wrong', () => {
  const ok = { x: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] } };

  it('accepts the well-formed file the cases below break', () => {
    expect(readSafetensors(craft(ok, 24)).tensors.x!.shape).toEqual([2, 3]);
  });

  it('rejects a file too short for the header length', () => {
    expectRejected(new Uint8Array(0), /0 bytes; it must start with an 8-byte header length/);
    expectRejected(new Uint8Array(5), /5 bytes/);
  });

  it('rejects a header length beyond the file or beyond any sane size', () => {
    expectRejected(craft(ok, 24, 4000n), /header length 4000 runs past the end of the \d+-byte file/);
    expectRejected(craft(ok, 24, 2n ** 63n), /beyond the 100000000-byte limit/);
    expectRejected(craft(ok, 24, 2n ** 64n - 1n), /beyond the 100000000-byte limit/);
  });

  it('rejects a header that is not UTF-8, not JSON, or not an object', () => {
    const bad = craft('{"x":1}');
    bad[10] = 0xff;
    expectRejected(bad, /not valid UTF-8/);
    expectRejected(craft('{"x": {"dtype": "F32",', 0), /not valid JSON/);
    expectRejected(craft('', 0), /not valid JSON/);
    expectRejected(craft([1, 2], 0), /must be a JSON object/);
    expectRejected(craft('null', 0), /must be a JSON object/);
  });

  it('rejects __metadata__ that is not an object of strings', () => {
    expectRejected(craft({ __metadata__: 'pt', ...ok }, 24), /__metadata__ must be an object of strings/);
    expectRejected(craft({ __metadata__: ['a'], ...ok }, 24), /__metadata__ must be an object of strings/);
    expectRejected(craft({ __metadata__: { format: 1 }, ...ok }, 24), /__metadata__\.format must be a string, got 1/);
  });

  it('rejects a malformed entry, naming the tensor', () => {
    expectRejected(craft({ x: 5 }, 0), /tensor "x": the entry must be an object/);
    expectRejected(craft({ x: { ...ok.x, dtype: 'F8_E4M3' } }, 24), /tensor "x": unknown or unsupported dtype "F8_E4M3"/);
    expectRejected(craft({ x: { ...ok.x, dtype: 'float32' } }, 24), /unknown or unsupported dtype "float32"/);
    expectRejected(craft({ x: { ...ok.x, dtype: 'toString' } }, 24), /unknown or unsupported dtype "toString"/);
    expectRejected(craft({ x: { ...ok.x, shape: [2, -3] } }, 24), /tensor "x": shape must be an array of non-negative integers/);
    expectRejected(craft({ x: { ...ok.x, shape: [2.5] } }, 24), /shape must be an array/);
    expectRejected(craft({ x: { ...ok.x, shape: '2,3' } }, 24), /shape must be an array/);
    expectRejected(craft({ x: { dtype: 'F32', shape: [6] } }, 24), /data_offsets must be \[begin, end\]/);
    expectRejected(craft({ x: { ...ok.x, data_offsets: [0, 24, 48] } }, 24), /data_offsets must be \[begin, end\]/);
    expectRejected(craft({ x: { ...ok.x, data_offsets: [-4, 20] } }, 24), /data_offsets must be/);
  });

  it('rejects offsets out of range or inconsistent with the shape', () => {
    expectRejected(craft({ x: { ...ok.x, data_offsets: [24, 0] } }, 24), /data_offsets \[24, 0\] end before they begin/);
    expectRejected(craft(ok, 20), /tensor "x": data_offsets \[0, 24\] run past the 20-byte data region/);
    expectRejected(
      craft({ x: { ...ok.x, data_offsets: [0, 20] } }, 20),
      /shape \[2, 3\] of F32 needs 24 bytes but data_offsets \[0, 20\] hold 20/,
    );
    expectRejected(craft({ x: { ...ok.x, shape: [2 ** 40, 2 ** 40] } }, 24), /needs \d.* bytes but/);
  });

  it('rejects overlapping tensors, gaps, and bytes left over after the last tensor', () => {
    const two = (a: number[], b: number[]) => ({
      a: { dtype: 'F32', shape: [(a[1]! - a[0]!) / 4], data_offsets: a },
      b: { dtype: 'F32', shape: [(b[1]! - b[0]!) / 4], data_offsets: b },
    });
    expectRejected(craft(two([0, 16], [8, 24]), 24), /tensor "b" at \[8, 24\] overlaps tensor "a" ending at 16/);
    expectRejected(craft(two([0, 8], [0, 8]), 8), /overlaps/);
    expectRejected(craft(two([0, 8], [12, 24]), 24), /bytes \[8, 12\) of the data region belong to no tensor/);
    expectRejected(craft(two([4, 8], [8, 24]), 24), /bytes \[0, 4\) of the data region belong to no tensor/);
    expectRejected(craft(ok, 28), /the tensors cover 24 bytes of data but the file holds 28 after the header/);
    expectRejected(craft({}, 4), /cover 0 bytes of data but the file holds 4/);
  });

  it('rejects every truncation of a valid file without crashing or hanging', () => {
    const bytes = load('lstm_head.safetensors');
    for (let n = 0; n < bytes.length; n++) {
      expect(readError(bytes.subarray(0, n)), `truncated to ${n} bytes`).toBeInstanceOf(ModelError);
    }
  });

  it('either reads or rejects with a ModelError a file with random bytes flipped', () => {
    const bytes = load('rnn_tanh_head.safetensors');
    const rand = mulberry32(17);
    for (let trial = 0; trial < 300; trial++) {
      const broken = bytes.slice();
      const flips = 1 + Math.floor(rand() * 3);
      for (let f = 0; f < flips; f++) broken[Math.floor(rand() * broken.length)] = Math.floor(rand() * 256);
      try {
        readSafetensors(broken);
      } catch (e) {
        expect(e, `trial ${trial}`).toBeInstanceOf(ModelError);
      }
    }
  });
});
