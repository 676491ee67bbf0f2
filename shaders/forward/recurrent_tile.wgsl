// One recurrent layer with ONNX RNN / GRU / LSTM semantics, the whole time loop inside one dispatch:
// the tiled kernel. Bindings 0–6 and the layer's override constants: shaders/forward/recurrent_common.wgsl
// (prepended). Equations: src/reference/recurrent-layer.ts. Gate order is ONNX's.
//
// A workgroup owns one direction and a tile of 4·GROUPS sequences (of one model: per-series models
// give each its own tiles and its weights, shaders/forward/recurrent_common.wgsl `locate_tile`). Invocation (g, j) owns hidden
// unit j of the four sequences of group g: it computes all G gates of that unit for them, as vec4s
// over the four sequences, and keeps their cell state in registers. The tile's hidden state lives
// in workgroup memory, h[m] of a group as one vec4, so each step is a small matrix product
// h_tile · Rᵀ shared by the workgroup, followed by a barrier. When the recurrent weights fit beside
// it, R is staged in workgroup memory once, as one vec4 per (m, j) holding the G gates' weights.
//
// Each sequence runs its own length: at local step `step` of the segment, sequence s reads
// t = start + step (or start + len−1−step backwards) while step < len, and otherwise keeps its
// state; the segment's steps past its length are zeros in Y.
//
// With SAVE (training) each live step also writes the values the backward pass needs, and steps past
// a length write zeros there too (shaders/forward/recurrent_common.wgsl, "Training").

override GROUPS: u32 = 1u;            // groups of 4 sequences per workgroup
override WORKGROUP_SIZE: u32 = 1u;    // GROUPS · HIDDEN_SIZE
override R_SHARED: bool = false;      // stage R in workgroup memory
override H_TILE: u32 = 1u;            // 3 · GROUPS · HIDDEN_SIZE (two parities of h, and r ⊙ h)
override R_TILE: u32 = 1u;            // HIDDEN_SIZE² when R_SHARED, else 1

var<workgroup> h_tile: array<vec4<f32>, H_TILE>;
var<workgroup> r_tile: array<vec4<f32>, R_TILE>;

// Training: slot `slot` of unit j at step t[s] for the live sequences of the group.
fn save4(t: vec4<u32>, d: u32, b: vec4<u32>, live: vec4<bool>, slot: u32, j: u32, v: vec4<f32>) {
  for (var s = 0u; s < 4u; s++) {
    if (live[s]) { store_saved(saved_index(t[s], d, b[s], slot, j), v[s]); }
  }
}

// The G gates' recurrent weights of unit j against unit m, direction d (unused gates 0).
fn r_weights(d: u32, j: u32, m: u32) -> vec4<f32> {
  if (R_SHARED) { return r_tile[m * HIDDEN_SIZE + j]; }
  var w = vec4<f32>(0.0);
  for (var k = 0u; k < GATES; k++) {
    w[k] = weight(R_OFFSET + ((d * GATES + k) * HIDDEN_SIZE + j) * HIDDEN_SIZE + m);
  }
  return w;
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
  use_model_of(tile.first);

  if (R_SHARED) {
    for (var e = lid; e < H * H; e += WORKGROUP_SIZE) {
      let m = e / H;
      let jj = e % H;
      var w = vec4<f32>(0.0);
      for (var k = 0u; k < GATES; k++) {
        w[k] = weight(R_OFFSET + ((d * GATES + k) * H + jj) * H + m);
      }
      r_tile[e] = w;
    }
  }

  // Per sequence of the group: its index, length (0 for padding past the model's last sequence)
  // and initial state.
  var b: vec4<u32>;
  var len: vec4<u32>;
  var h = vec4<f32>(0.0);
  var c = vec4<f32>(0.0);
  for (var s = 0u; s < 4u; s++) {
    b[s] = min(base + s, tile.end - 1u);
    len[s] = 0u;
    if (base + s < tile.end) {
      len[s] = segment_len(b[s], tile.start);
      if (params.has_h0 == 1u) { h[s] = init[state_index(d, b[s], j)]; }
      if (params.has_c0 == 1u) { c[s] = init[state_count + state_index(d, b[s], j)]; }
    }
  }

  // Biases; for GRU with linear_before_reset the candidate's Rb stays inside r ⊙ (…).
  let bias = unit_bias(d, j);
  let rb_h = unit_rb_h(d, j);
  let p = unit_peepholes(d, j);  // i, o, f

  let slot = g * H;
  let rh_base = 2u * GROUPS * H;
  h_tile[slot + j] = h;
  workgroupBarrier();

  for (var step = 0u; step < tile.steps; step++) {
    let cur = (step & 1u) * GROUPS * H;
    let nxt = ((step + 1u) & 1u) * GROUPS * H;
    let live = vec4<u32>(step) < len;
    var t: vec4<u32>;
    for (var s = 0u; s < 4u; s++) { t[s] = tile.start + select(step, len[s] - 1u - step, tile.backwards && live[s]); }

    // Input products W x_t for the G gates, plus biases.
    var xg = array<vec4<f32>, 4>();
    for (var k = 0u; k < GATES; k++) { xg[k] = vec4<f32>(bias[k]); }
    for (var i = 0u; i < INPUT_SIZE; i++) {
      var xv = vec4<f32>(0.0);
      for (var s = 0u; s < 4u; s++) {
        if (live[s]) { xv[s] = load_x(x_index(t[s], b[s], i)); }
      }
      for (var k = 0u; k < GATES; k++) {
        xg[k] += weight(((d * GATES + k) * H + j) * INPUT_SIZE + i) * xv;
      }
    }

    // Recurrent products R h_{t-1}, the tile's shared matrix product.
    var rg = array<vec4<f32>, 4>();  // explicitly zeroed: a bare `var` kept last step's sums on SwiftShader
    let rec_gates = select(GATES, 2u, CELL == 1u && !LINEAR_BEFORE_RESET);  // lbr = 0: R_h waits for r
    for (var m = 0u; m < H; m++) {
      let hv = h_tile[cur + slot + m];
      let w = r_weights(d, j, m);
      rg[0] += w.x * hv;
      if (rec_gates > 1u) { rg[1] += w.y * hv; }
      if (rec_gates > 2u) { rg[2] += w.z * hv; }
      if (rec_gates > 3u) { rg[3] += w.w * hv; }
    }

    if (SAVE) { save4(t, d, b, live, slot_h_prev(), j, h); }
    var h_new: vec4<f32>;
    if (CELL == 0u) {
      let a = xg[0] + rg[0];
      h_new = act_f4(d, a);
      if (SAVE) { save4(t, d, b, live, 0u, j, a); }
    } else if (CELL == 1u) {
      let a_z = xg[0] + rg[0];
      let a_r = xg[1] + rg[1];
      let z = act_f4(d, a_z);
      let r = act_f4(d, a_r);
      var a_h: vec4<f32>;
      var q: vec4<f32>;  // saved: R_h h + Rb_h (lbr = 1) or r ⊙ h (lbr = 0)
      if (LINEAR_BEFORE_RESET) {
        q = rg[2] + rb_h;
        a_h = xg[2] + r * q;
      } else {
        // R_h (r ⊙ h_{t-1}) needs every unit's r: share r ⊙ h through the tile.
        q = r * h;
        h_tile[rh_base + slot + j] = q;
        workgroupBarrier();
        var acc = vec4<f32>(0.0);
        for (var m = 0u; m < H; m++) {
          acc += r_weights(d, j, m).z * h_tile[rh_base + slot + m];
        }
        a_h = xg[2] + acc;
      }
      let n = act_g4(d, a_h);
      h_new = (1.0 - z) * n + z * h;
      if (SAVE) {
        save4(t, d, b, live, 0u, j, a_z);
        save4(t, d, b, live, 1u, j, a_r);
        save4(t, d, b, live, 2u, j, a_h);
        save4(t, d, b, live, 4u, j, q);
      }
    } else {
      let a_i = xg[0] + rg[0] + p.x * c;
      let gi = act_f4(d, a_i);
      var a_f = vec4<f32>(0.0);
      var gf: vec4<f32>;
      if (INPUT_FORGET) {
        gf = 1.0 - gi;
      } else {
        a_f = xg[2] + rg[2] + p.z * c;
        gf = act_f4(d, a_f);
      }
      let a_c = xg[3] + rg[3];
      let gc = act_g4(d, a_c);
      let c_new = gf * c + gi * gc;
      let a_o = xg[1] + rg[1] + p.y * c_new;
      let go = act_f4(d, a_o);
      h_new = go * act_h4(d, c_new);
      if (SAVE) {
        save4(t, d, b, live, 0u, j, a_i);
        save4(t, d, b, live, 1u, j, a_o);
        save4(t, d, b, live, 2u, j, a_f);
        save4(t, d, b, live, 3u, j, a_c);
        save4(t, d, b, live, 5u, j, c);
      }
      c = select(c, c_new, live);
    }
    h = select(h, h_new, live);
    h_tile[nxt + slot + j] = h;
    workgroupBarrier();
    // Y from the tile's copy of h, a whole storage word per invocation (shaders/forward/storage_*.wgsl):
    // with two f16 values a word, unit j even writes units j and j + 1 (an even H keeps a word
    // inside one sequence's row), so no two invocations share a word. h_tile[nxt] stays as it is
    // until the step after next.
    if (j % Y_PER_WORD == 0u) {
      let h_pair = h_tile[nxt + slot + j + Y_PER_WORD - 1u];
      for (var s = 0u; s < 4u; s++) {
        if (live[s]) { store_y_word(y_index(t[s], d, b[s], j), vec2<f32>(h[s], h_pair[s])); }
      }
    }
  }

  let end = segment_end(tile.start);
  for (var s = 0u; s < 4u; s++) {
    if (base + s >= tile.end) { continue; }
    for (var t = tile.start + len[s]; t < end; t++) {
      if (j % Y_PER_WORD == 0u) { store_y_word(y_index(t, d, b[s], j), vec2<f32>(0.0)); }
      if (SAVE) {
        for (var k = 0u; k < SAVED_SLOTS; k++) { store_saved(saved_index(t, d, b[s], k, j), 0.0); }
      }
    }
    final_state[state_index(d, b[s], j)] = h[s];
    if (CELL == 2u) { final_state[state_count + state_index(d, b[s], j)] = c[s]; }
  }
}
