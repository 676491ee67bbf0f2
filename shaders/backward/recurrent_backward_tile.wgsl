// Backpropagation through time of one recurrent layer (ONNX RNN / GRU / LSTM semantics), every
// (direction, sequence) in one dispatch: the tiled kernel, the transpose of recurrent_tile.wgsl.
// Prepended: shaders/forward/recurrent_common.wgsl, then shaders/backward/recurrent_backward_common.wgsl (bindings,
// equations, the per-unit step). Gate order is ONNX's.
//
// A workgroup owns one direction and a tile of 4·GROUPS sequences (of one model, as the forward's); invocation (g, j) owns hidden
// unit j of the four sequences of group g, as vec4s over them, with its carried dh (and dc) in
// registers. It walks the forward pass's steps backwards: each step it reads its unit's saved values,
// computes the gate gradients dA of its unit, writes them (a row of dg per sequence and step), and
// shares them in workgroup memory, so that dh_prev[j] = Σ_k Σ_m R_k[m, j]·dA_k[m] is a small matrix
// product Rᵀ·dA shared by the workgroup (the forward's R·h transposed). R is staged transposed in
// workgroup memory when it fits, one vec4 per (m, j) holding the gates' R_k[m, j]. One barrier per
// step, two for GRU with linear_before_reset = 0 (R_hᵀ dA_h first); the gate tile has two parities,
// so a step's writes never meet the previous step's reads.
//
// Sequence s of the group runs its own length: backward step k of the segment is its forward step
// len−1−k, live while k < len; past it the unit keeps its carries. Rows of the segment past the
// length get zeros in dg.

override GROUPS: u32 = 1u;            // groups of 4 sequences per workgroup
override WORKGROUP_SIZE: u32 = 1u;    // GROUPS · HIDDEN_SIZE
override R_SHARED: bool = false;      // stage Rᵀ in workgroup memory
override DA_TILE: u32 = 1u;           // 2 · GATES · GROUPS · HIDDEN_SIZE: [parity, gate, g·H + m]
override R_TILE: u32 = 1u;            // HIDDEN_SIZE² when R_SHARED, else 1

var<workgroup> da_tile: array<vec4<f32>, DA_TILE>;
var<workgroup> r_tile: array<vec4<f32>, R_TILE>;

// R_k[m, j] of the G gates (unused gates 0): what dA_k[m] contributes to dh_prev[j].
fn rt_weights(d: u32, j: u32, m: u32) -> vec4<f32> {
  if (R_SHARED) { return r_tile[m * HIDDEN_SIZE + j]; }
  var w = vec4<f32>(0.0);
  for (var k = 0u; k < GATES; k++) {
    w[k] = weight(R_OFFSET + ((d * GATES + k) * HIDDEN_SIZE + m) * HIDDEN_SIZE + j);
  }
  return w;
}

fn tile_at(parity: u32, k: u32, unit: u32) -> u32 {
  return (parity * GATES + k) * GROUPS * HIDDEN_SIZE + unit;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let H = HIDDEN_SIZE;
  let tile = locate_tile(wid.y * nwg.x + wid.x, 4u * GROUPS);
  if (!tile.valid) {
    return;  // the whole workgroup leaves together: barriers stay uniform
  }
  let d = tile.d;
  let g = lid / H;
  let j = lid % H;
  let state_count = NUM_DIRECTIONS * params.batch * H;
  let base = tile.first + g * 4u;
  let slot = g * H;
  use_model_of(tile.first);

  if (R_SHARED) {
    for (var e = lid; e < H * H; e += WORKGROUP_SIZE) {
      let m = e / H;
      let jj = e % H;
      var w = vec4<f32>(0.0);
      for (var k = 0u; k < GATES; k++) {
        w[k] = weight(R_OFFSET + ((d * GATES + k) * H + m) * H + jj);
      }
      r_tile[e] = w;
    }
  }

  // Per sequence of the group: index, length in the segment (0 for padding past the model's last
  // sequence), carries.
  var b: vec4<u32>;
  var len: vec4<u32>;
  var dh_carry = vec4<f32>(0.0);
  var dc_carry = vec4<f32>(0.0);
  for (var s = 0u; s < 4u; s++) {
    b[s] = min(base + s, tile.end - 1u);
    len[s] = 0u;
    if (base + s < tile.end) {
      len[s] = segment_len(b[s], tile.start);
      if (params.has_h0 == 1u) { dh_carry[s] = dstate_in[state_index(d, b[s], j)]; }
      if (params.has_c0 == 1u) { dc_carry[s] = dstate_in[state_count + state_index(d, b[s], j)]; }
    }
  }
  let p = unit_peepholes(d, j);  // i, o, f

  for (var step = 0u; step < tile.steps; step++) {
    let parity = step & 1u;
    let live = vec4<u32>(step) < len;
    var t: vec4<u32>;
    for (var s = 0u; s < 4u; s++) {
      // forward step len−1−step: t = start + that, or start + step for the backwards direction
      t[s] = tile.start + select(0u, select(len[s] - 1u - step, step, tile.backwards), live[s]);
    }

    var dh = dh_carry;
    var sv = array<vec4<f32>, 6>();  // explicitly zeroed (SwiftShader, see recurrent_tile.wgsl)
    for (var s = 0u; s < 4u; s++) {
      if (!live[s]) { continue; }
      dh[s] += dy[y_index(t[s], d, b[s], j)];
      for (var k = 0u; k < SAVED_SLOTS; k++) { sv[k][s] = fwd[saved_index(t[s], d, b[s], k, j)]; }
    }

    var u = unit_grads(d, sv, p, dh, dc_carry);
    if (CELL == 1u && !LINEAR_BEFORE_RESET) {
      // u_j = Σ_m R_h[m, j]·dA_h[m] needs every unit's dA_h.
      da_tile[tile_at(parity, 2u, slot + j)] = select(vec4<f32>(0.0), u.da[2], live);
      workgroupBarrier();
      var uh = vec4<f32>(0.0);
      for (var m = 0u; m < H; m++) {
        uh += rt_weights(d, j, m).z * da_tile[tile_at(parity, 2u, slot + m)];
      }
      gru_reset_grads(d, sv, uh, &u);
    }

    for (var s = 0u; s < 4u; s++) {
      if (!live[s]) { continue; }
      for (var k = 0u; k < GATES; k++) { dg[dg_index(t[s], b[s], da_col(d, k, j))] = u.da[k][s]; }
      for (var e = 0u; e < EXTRA; e++) { dg[dg_index(t[s], b[s], extra_col(d, e, j))] = u.extra[e][s]; }
    }

    let gates = recurrent_gates();
    for (var k = 0u; k < gates; k++) {
      da_tile[tile_at(parity, k, slot + j)] = select(vec4<f32>(0.0), u.dgr[k], live);
    }
    workgroupBarrier();
    var acc = u.direct;
    for (var m = 0u; m < H; m++) {
      let w = rt_weights(d, j, m);
      acc += w.x * da_tile[tile_at(parity, 0u, slot + m)];
      if (gates > 1u) { acc += w.y * da_tile[tile_at(parity, 1u, slot + m)]; }
      if (gates > 2u) { acc += w.z * da_tile[tile_at(parity, 2u, slot + m)]; }
      if (gates > 3u) { acc += w.w * da_tile[tile_at(parity, 3u, slot + m)]; }
    }
    dh_carry = select(dh_carry, acc, live);
    dc_carry = select(dc_carry, u.dc_prev, live);
  }

  let end = segment_end(tile.start);
  for (var s = 0u; s < 4u; s++) {
    if (base + s >= tile.end) { continue; }
    for (var t = tile.start + len[s]; t < end; t++) {
      for (var k = 0u; k < GATES; k++) { dg[dg_index(t, b[s], da_col(d, k, j))] = 0.0; }
      for (var e = 0u; e < EXTRA; e++) { dg[dg_index(t, b[s], extra_col(d, e, j))] = 0.0; }
    }
    dstate_out[state_index(d, b[s], j)] = dh_carry[s];
    if (CELL == 2u) { dstate_out[state_count + state_index(d, b[s], j)] = dc_carry[s]; }
  }
}
