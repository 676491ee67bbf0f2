// The input part of every step of a time segment as one tiled GEMM (the step-wise layer; see
// shaders/forward/recurrent_step_common.wgsl for the `state` layout it writes):
//     XW[d, r, n] = Σ_i x[t, b, i] · W[d, n, i] + bias[d, n]      r = (t − start_d)·B + b, n < G·H
// i.e. C[S·B, G·H] = X_seg[S·B, I] · W_dᵀ per direction d, rows in time-major order whatever the
// layout (x is read through x_index), so the step kernel reads a step's rows contiguously.
//
// Bindings: 0 params, 1 x, 2 weights (W | R | B | P), 7 state (XW region written).
//
// Tiling (as shaders/benchmark/bench_matmul.wgsl): workgroup = one direction and a 64 × 64 block of
// C; 256 invocations, each a 4 × 4 register block (rows 4·ly …, the vec4 of columns 4·lx …). K is
// walked in steps of 16: the X tile [64 rows][16 k] and the W tile [16 k][64 n] (as vec4 along n)
// are staged in workgroup memory. Elements outside X or W load as 0; stores outside C are skipped.

const IN_TILE_M: u32 = 64u;
const IN_TILE_N: u32 = 64u;
const IN_TILE_K: u32 = 16u;
const IN_WG: u32 = 256u;

var<workgroup> a_tile: array<f32, 1024>;          // [row][k], IN_TILE_M × IN_TILE_K
var<workgroup> w_tile: array<vec4<f32>, 256>;     // [k][n / 4], IN_TILE_K × IN_TILE_N / 4

// The bias XW carries for gate column n of direction d (see recurrent_step_common.wgsl).
fn input_bias(d: u32, n: u32) -> f32 {
  let wb = weight(B_OFFSET + d * 2u * GH + n);
  let rb = weight(B_OFFSET + d * 2u * GH + GH + n);
  let inside_reset = CELL == 1u && LINEAR_BEFORE_RESET && n >= 2u * HIDDEN_SIZE;
  return select(wb + rb, wb, inside_reset);
}

@compute @workgroup_size(IN_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let B = params.batch;
  let rows = params.steps * B;
  let placed = locate_block(wid.y * nwg.x + wid.x, rows, IN_TILE_M, GH, IN_TILE_N);
  if (!placed.valid) {
    return;  // the whole workgroup leaves together: barriers stay uniform
  }
  let d = placed.d;
  let r0 = placed.row;
  let n0 = placed.col;
  let start = segment_start(d);
  let end = segment_end(start);
  let lx = lid % 16u;
  let ly = lid / 16u;

  var acc = array<vec4<f32>, 4>();
  for (var k0 = 0u; k0 < INPUT_SIZE; k0 += IN_TILE_K) {
    // X tile: consecutive invocations read consecutive k of a row.
    for (var e = lid; e < IN_TILE_M * IN_TILE_K; e += IN_WG) {
      let r = r0 + e / IN_TILE_K;
      let k = k0 + e % IN_TILE_K;
      let t = start + r / B;
      var v = 0.0;
      if (r < rows && t < end && k < INPUT_SIZE) { v = x[x_index(t, r % B, k)]; }
      a_tile[e] = v;
    }
    // W tile: invocation e loads k = e % 16 of the four rows n0 + 4·(e / 16) … of W_d.
    let kk = lid % IN_TILE_K;
    let n4 = lid / IN_TILE_K;
    var w = vec4<f32>(0.0);
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + 4u * n4 + c;
      if (n < GH && k0 + kk < INPUT_SIZE) { w[c] = weight((d * GH + n) * INPUT_SIZE + k0 + kk); }
    }
    w_tile[kk * (IN_TILE_N / 4u) + n4] = w;
    workgroupBarrier();
    for (var k = 0u; k < IN_TILE_K; k++) {
      let wv = w_tile[k * (IN_TILE_N / 4u) + lx];
      for (var i = 0u; i < 4u; i++) {
        acc[i] += a_tile[(4u * ly + i) * IN_TILE_K + k] * wv;
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let r = r0 + 4u * ly + i;
    if (r >= rows) { continue; }
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + 4u * lx + c;
      if (n < GH) { state[xw_index(d, r, n)] = acc[i][c] + input_bias(d, n); }
    }
  }
}
