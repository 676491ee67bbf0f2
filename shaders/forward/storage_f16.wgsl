// f16 storage of the recurrent kernels' x, weights and y (the backend's `storage: 'f16'`): every
// value an IEEE binary16, two per u32 word as WGSL's core pack2x16float / unpack2x16float lay them
// out (value 2k in bits 0–15 of word k, 2k+1 in bits 16–31), so it runs on every adapter, with or
// without `shader-f16`. The arithmetic stays f32: values are widened on load, the kernels keep h
// and c in f32 registers and workgroup memory, and y is rounded to f16 only when stored.
// Same bindings and functions as shaders/forward/storage_f32.wgsl, which says what each does.

@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> weights: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<u32>;

// Two values per word: two invocations writing one half each would race (no partial-word stores),
// so the invocation of the even value writes both.
const Y_PER_WORD: u32 = 2u;

fn load_x(i: u32) -> f32 { return unpack2x16float(x[i / 2u])[i % 2u]; }

fn load_weight(i: u32) -> f32 { return unpack2x16float(weights[i / 2u])[i % 2u]; }

// pack2x16float's result is indeterminate beyond f16's range: clamp to ±65504 (where round to
// nearest takes everything below 65520) and store ±Infinity (0x7c00 | sign) from 65520 on, so an
// overflow reads back as Infinity, as src/util/f16.ts rounds on the host.
fn store_y_word(i: u32, v: vec2<f32>) {
  let finite = pack2x16float(clamp(v, vec2<f32>(-65504.0), vec2<f32>(65504.0)));
  let inf = select(vec2<u32>(0x7c00u), vec2<u32>(0xfc00u), v < vec2<f32>(0.0));
  let big = abs(v) >= vec2<f32>(65520.0);
  let lo = select(finite & 0xffffu, inf.x, big.x);
  let hi = select(finite >> 16u, inf.y, big.y);
  y[i / 2u] = lo | (hi << 16u);
}

// Training (SAVE) runs f32 storage only (the backend plans no training kernel with f16 storage);
// the saved values keep whole f32 words here so that the shared kernel source compiles.
fn store_saved(i: u32, v: f32) { y[i] = bitcast<u32>(v); }
