// Backpropagation through time of one recurrent layer, the fallback for hidden sizes beyond one
// workgroup: one invocation per (direction d, sequence b), id = d·B + b, walking that sequence's
// steps of the segment in reverse order of the forward pass (the transpose of recurrent_sequential.wgsl).
// Prepended: shaders/forward/recurrent_common.wgsl, then shaders/backward/recurrent_backward_common.wgsl (bindings
// 0–7, equations, the per-unit step, which runs here on splats and keeps lane x). Per-series
// models: the sequence picks its model's weights, as in the forward.
//
// Per step: (1) every unit's gate gradients dA from its saved values, written to its row of dg,
// with dc carried in place; (2) GRU with linear_before_reset = 0: u = R_hᵀ dA_h for every unit,
// then dA_r; (3) dh_prev[m] = direct[m] + Σ_k Σ_j R_k[j, m]·dA_k[j], reading back the dA just
// written to dg (the invocation's own writes). Besides:
//   8 scratch  [3, H, D·B]: dh carried, dc carried, this step's direct term; the pair index is the
//              fastest so neighbouring invocations touch neighbouring words

override WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(8) var<storage, read_write> scratch: array<f32>;

const SLOT_DH = 0u;
const SLOT_DC = 1u;
const SLOT_DIRECT = 2u;

fn work(slot: u32, j: u32, pair: u32) -> u32 {
  return (slot * HIDDEN_SIZE + j) * (NUM_DIRECTIONS * params.batch) + pair;
}

fn saved_unit(t: u32, d: u32, b: u32, j: u32) -> array<vec4<f32>, 6> {
  var sv = array<vec4<f32>, 6>();
  for (var k = 0u; k < SAVED_SLOTS; k++) { sv[k] = vec4<f32>(fwd[saved_index(t, d, b, k, j)]); }
  return sv;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let pair = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  let B = params.batch;
  if (pair >= NUM_DIRECTIONS * B) {
    return;
  }
  let H = HIDDEN_SIZE;
  let d = pair / B;
  let b = pair % B;
  let state_count = NUM_DIRECTIONS * B * H;
  let start = segment_start(d);
  let len = segment_len(b, start);
  let backwards = REVERSE || d == 1u;
  use_model_of(b);

  for (var j = 0u; j < H; j++) {
    var dh = 0.0;
    var dc = 0.0;
    if (params.has_h0 == 1u) { dh = dstate_in[state_index(d, b, j)]; }
    if (params.has_c0 == 1u) { dc = dstate_in[state_count + state_index(d, b, j)]; }
    scratch[work(SLOT_DH, j, pair)] = dh;
    scratch[work(SLOT_DC, j, pair)] = dc;
  }

  for (var step = 0u; step < len; step++) {
    let t = start + select(len - 1u - step, step, backwards);

    for (var j = 0u; j < H; j++) {
      var p = vec3<f32>(0.0);
      if (CELL == 2u) {
        for (var k = 0u; k < 3u; k++) { p[k] = weight(P_OFFSET + d * 3u * H + k * H + j); }
      }
      let dh = scratch[work(SLOT_DH, j, pair)] + dy[y_index(t, d, b, j)];
      let u = unit_grads(d, saved_unit(t, d, b, j), p, vec4<f32>(dh), vec4<f32>(scratch[work(SLOT_DC, j, pair)]));
      for (var k = 0u; k < GATES; k++) { dg[dg_index(t, b, da_col(d, k, j))] = u.da[k].x; }
      for (var e = 0u; e < EXTRA; e++) { dg[dg_index(t, b, extra_col(d, e, j))] = u.extra[e].x; }
      scratch[work(SLOT_DC, j, pair)] = u.dc_prev.x;
      scratch[work(SLOT_DIRECT, j, pair)] = u.direct.x;
    }

    if (CELL == 1u && !LINEAR_BEFORE_RESET) {
      for (var m = 0u; m < H; m++) {
        var uh = 0.0;
        for (var j = 0u; j < H; j++) {
          uh += weight(R_OFFSET + ((d * GATES + 2u) * H + j) * H + m) * dg[dg_index(t, b, da_col(d, 2u, j))];
        }
        var u = UnitGrads();
        u.direct = vec4<f32>(scratch[work(SLOT_DIRECT, m, pair)]);
        gru_reset_grads(d, saved_unit(t, d, b, m), vec4<f32>(uh), &u);
        dg[dg_index(t, b, da_col(d, 1u, m))] = u.da[1].x;
        scratch[work(SLOT_DIRECT, m, pair)] = u.direct.x;
      }
    }

    let gates = recurrent_gates();
    for (var m = 0u; m < H; m++) {
      var acc = scratch[work(SLOT_DIRECT, m, pair)];
      for (var k = 0u; k < gates; k++) {
        for (var j = 0u; j < H; j++) {
          acc += weight(R_OFFSET + ((d * GATES + k) * H + j) * H + m) * dg[dg_index(t, b, dgr_col(d, k, j))];
        }
      }
      scratch[work(SLOT_DH, m, pair)] = acc;
    }
  }

  for (var t = start + len; t < segment_end(start); t++) {
    for (var j = 0u; j < H; j++) {
      for (var k = 0u; k < GATES; k++) { dg[dg_index(t, b, da_col(d, k, j))] = 0.0; }
      for (var e = 0u; e < EXTRA; e++) { dg[dg_index(t, b, extra_col(d, e, j))] = 0.0; }
    }
  }

  for (var j = 0u; j < H; j++) {
    dstate_out[state_index(d, b, j)] = scratch[work(SLOT_DH, j, pair)];
    if (CELL == 2u) { dstate_out[state_count + state_index(d, b, j)] = scratch[work(SLOT_DC, j, pair)]; }
  }
}
