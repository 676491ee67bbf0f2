// Tiled matrix multiply: the adapter's arithmetic ceiling (bench/ceilings.ts).
//     C[M, N] = A[M, K] · B[K, N]        row-major float32, element (i, j) of X at X[i * cols + j]
//
// Bindings: 0 dims uniform {M, N, K, B_START}; 1 `ab` (read): A from float 0, then B from float
// B_START (A's size rounded up to a whole vec4); 2 C (read_write). Both buffers are declared as
// array<vec4<f32>> over the row-major floats (the host pads them to a whole vec4): float e is
// x[e / 4][e % 4].
//
// Tiling: workgroup (wx, wy) computes the TILE_M × TILE_N block of C at rows wy·TILE_M, columns
// wx·TILE_N, with TILE_M = 4·WG_Y and TILE_N = 4·WG_X. It walks K in steps of TILE_K: all its
// invocations stage the A tile [TILE_M, TILE_K] and the B tile [TILE_K, TILE_N] in workgroup memory,
// then each invocation (lx, ly) accumulates a 4 × 4 register block of C, rows 4·ly … 4·ly+3 and the
// vec4 of columns 4·lx … 4·lx+3. Tiles are stored as vec4: A along k, B along n, so one step of four
// k reads one vec4 of A per row and four vec4 of B, and does 16 vec4 multiply-adds
// (row += a.x·b0 + a.y·b1 + a.z·b2 + a.w·b3, written as the mat4x4 product (b0 b1 b2 b3)·a).
//
// Entry points: `main`, the tiled kernel above; `main_direct`, the same register blocks without
// workgroup memory (see there).
//
// Edges: elements outside A or B load as 0, so partial tiles add nothing, and stores outside C are
// skipped; any M, N, K ≥ 1 works. VEC4 (for K and N multiples of 4) loads A and B and stores C as
// whole vec4, since then a vec4 never straddles a row; otherwise element by element.

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override TILE_K: u32 = 16; // a multiple of 4
override VEC4: bool = true;

override K4: u32 = TILE_K / 4u;             // vec4 per row of the A tile
override A_TILE: u32 = WG_Y * 4u * K4;      // vec4 in the A tile, TILE_M × TILE_K / 4
override B_TILE: u32 = TILE_K * WG_X;       // vec4 in the B tile, TILE_K × TILE_N / 4

struct Dims {
  M: u32,
  N: u32,
  K: u32,
  B_START: u32, // float offset of B in `ab`, a multiple of 4
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> ab: array<vec4<f32>>; // A, then B from float B_START
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;

var<workgroup> a_tile: array<vec4<f32>, A_TILE>; // [row][k / 4]
var<workgroup> b_tile: array<vec4<f32>, B_TILE>; // [k][n / 4]

/** Floats col … col+3 of row `row` of the rows × cols matrix that starts at float `start` of `ab`; zero outside it. */
fn load4(start: u32, rows: u32, cols: u32, row: u32, col: u32) -> vec4<f32> {
  var v = vec4<f32>();
  if (row >= rows) {
    return v;
  }
  let e = start + row * cols + col;
  if (VEC4) {
    if (col < cols) {
      v = ab[e / 4u];
    }
    return v;
  }
  for (var j = 0u; j < 4u; j++) {
    if (col + j < cols) {
      v[j] = ab[(e + j) / 4u][(e + j) % 4u];
    }
  }
  return v;
}

/** A[row, k … k+3], zero outside A. */
fn load_a(row: u32, k: u32) -> vec4<f32> {
  return load4(0u, dims.M, dims.K, row, k);
}

/** B[k, col … col+3], zero outside B. */
fn load_b(k: u32, col: u32) -> vec4<f32> {
  return load4(dims.B_START, dims.K, dims.N, k, col);
}

/** C[row, col … col+3] = v, skipping what lies outside C. */
fn store_c(row: u32, col: u32, v: vec4<f32>) {
  if (row >= dims.M) {
    return;
  }
  let e = row * dims.N + col;
  if (VEC4) {
    if (col < dims.N) {
      c[e / 4u] = v;
    }
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (col + j < dims.N) {
      c[(e + j) / 4u][(e + j) % 4u] = v[j];
    }
  }
}

/** acc[i] += a_i · bk for the four rows of a block: row i gains a_i.x·b0 + a_i.y·b1 + a_i.z·b2 + a_i.w·b3. */
fn accumulate(acc: ptr<function, array<vec4<f32>, 4>>, bk: mat4x4<f32>, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>) {
  (*acc)[0] += bk * a0;
  (*acc)[1] += bk * a1;
  (*acc)[2] += bk * a2;
  (*acc)[3] += bk * a3;
}

/** Stores the 4 × 4 block of C at rows row … row+3, columns col … col+3. */
fn store_block(row: u32, col: u32, acc: array<vec4<f32>, 4>) {
  store_c(row, col, acc[0]);
  store_c(row + 1u, col, acc[1]);
  store_c(row + 2u, col, acc[2]);
  store_c(row + 3u, col, acc[3]);
}

// Both entry points give invocation (gx, gy) of the grid the block at rows 4·gy, columns 4·gx.

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let row0 = wid.y * WG_Y * 4u; // the workgroup's first row and column of C
  let col0 = wid.x * WG_X * 4u;
  let r = lid.y * 4u;           // this invocation's first row within the tile
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < dims.K; k0 += TILE_K) {
    for (var t = li; t < A_TILE; t += WG_X * WG_Y) {
      a_tile[t] = load_a(row0 + t / K4, k0 + (t % K4) * 4u);
    }
    for (var t = li; t < B_TILE; t += WG_X * WG_Y) {
      b_tile[t] = load_b(k0 + t / WG_X, col0 + (t % WG_X) * 4u);
    }
    workgroupBarrier();
    for (var k4 = 0u; k4 < K4; k4++) {
      let kb = k4 * 4u * WG_X + lid.x;
      let ka = r * K4 + k4;
      accumulate(&acc, mat4x4<f32>(b_tile[kb], b_tile[kb + WG_X], b_tile[kb + 2u * WG_X], b_tile[kb + 3u * WG_X]),
                 a_tile[ka], a_tile[ka + K4], a_tile[ka + 2u * K4], a_tile[ka + 3u * K4]);
    }
    workgroupBarrier();
  }
  store_block(gid.y * 4u, gid.x * 4u, acc);
}

/**
 * The same blocks without workgroup memory or barriers: each invocation reads its rows of A and
 * columns of B where they lie. Faster where workgroup memory is plain memory and a barrier costs a
 * context switch (CPU implementations such as SwiftShader); TILE_K is unused.
 */
@compute @workgroup_size(WG_X, WG_Y)
fn main_direct(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y * 4u;
  let col = gid.x * 4u;
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < dims.K; k += 4u) {
    accumulate(&acc, mat4x4<f32>(load_b(k, col), load_b(k + 1u, col), load_b(k + 2u, col), load_b(k + 3u, col)),
               load_a(row, k), load_a(row + 1u, k), load_a(row + 2u, k), load_a(row + 3u, k));
  }
  store_block(row, col, acc);
}
