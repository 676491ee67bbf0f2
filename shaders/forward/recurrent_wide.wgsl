// One recurrent layer with ONNX RNN / GRU / LSTM semantics, the whole time loop inside one dispatch:
// the wide tiled kernel, inference only. Bindings 0–6 and the layer's override constants:
// shaders/forward/recurrent_common.wgsl (prepended). Equations: src/reference/recurrent-layer.ts.
// Gate order is ONNX's. Planned by src/gpu/kernels/forward/recurrent-wide.ts.
//
// As the tiled kernel (shaders/forward/recurrent_tile.wgsl), a workgroup owns one direction and a
// tile of sequences of one model (`locate_tile`) for the whole segment, and the tile's hidden state
// lives in workgroup memory. The difference: invocation (g, j) owns hidden unit j of 4·VECTORS
// sequences (VECTORS vec4s over sequences), not four, so each recurrent weight it loads feeds
// 4·VECTORS multiply-adds per gate instead of four, and each vec4 of h it loads (the same address for
// the whole row g: a broadcast) feeds G of them. Where the recurrent weights come from is R_MODE:
//   0 storage     read from binding 2 every step, through the caches (any H)
//   1 workgroup   staged once in workgroup memory beside the tile, one vec4 (the G gates) per (m, j)
//   2 registers   each invocation keeps its unit's G·H weights in a private array (H ≤ R_REGISTERS_MAX)
//
// Workgroup memory, as vec4s over 4 sequences: h_tile holds, per row of 4·VECTORS sequences, its h in
// two parities (one read while the next is written, one barrier a step) and, for GRU without
// linear_before_reset, r ⊙ h (R_h multiplies it, so every unit's r must be shared first).
// Row g's vector v of unit m: h_tile[parity·ROWS·H + (g·VECTORS + v)·H + m], ROWS = GROUPS·VECTORS.
//
// Each sequence runs its own length: at local step `step` sequence s reads t = start + step (or
// start + len−1−step backwards) while step < len and otherwise keeps its state; steps past a length
// are zeros in Y. Sequences past the model's last (a partial tile) run with length 0.

override VECTORS: u32 = 1u;         // vec4s of sequences per invocation: 1, 2 or 4 (≤ MAX_VECTORS)
override GROUPS: u32 = 1u;          // rows of 4·VECTORS sequences per workgroup
override WORKGROUP_SIZE: u32 = 1u;  // GROUPS · HIDDEN_SIZE
override R_MODE: u32 = 0u;          // 0 storage, 1 workgroup memory, 2 registers
override H_TILE: u32 = 1u;          // (2, or 3 for GRU without linear_before_reset) · GROUPS · VECTORS · HIDDEN_SIZE
override R_TILE: u32 = 1u;          // HIDDEN_SIZE² when R_MODE = 1, else 1

// Function-scope arrays need a constant size: the per-invocation arrays hold the most VECTORS and
// the widest H register mode takes, and every loop over them is bounded by the override constant
// (which the compiler sees as a constant, so it can unroll and keep the arrays in registers).
const MAX_VECTORS = 4u;
const R_REGISTERS_MAX = 32u;

var<workgroup> h_tile: array<vec4<f32>, H_TILE>;
var<workgroup> r_tile: array<vec4<f32>, R_TILE>;
var<private> r_reg: array<vec4<f32>, R_REGISTERS_MAX>;

// The G gates' recurrent weights of unit j against unit m, direction d, from binding 2 (unused gates 0).
fn r_stored(d: u32, j: u32, m: u32) -> vec4<f32> {
  var w = vec4<f32>(0.0);
  for (var k = 0u; k < GATES; k++) {
    w[k] = weight(R_OFFSET + ((d * GATES + k) * HIDDEN_SIZE + j) * HIDDEN_SIZE + m);
  }
  return w;
}

// The same from where R_MODE keeps them (the registers hold this invocation's unit j only).
fn r_weights(d: u32, j: u32, m: u32) -> vec4<f32> {
  if (R_MODE == 2u) { return r_reg[m]; }
  if (R_MODE == 1u) { return r_tile[m * HIDDEN_SIZE + j]; }
  return r_stored(d, j, m);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let H = HIDDEN_SIZE;
  let per_row = 4u * VECTORS;
  let tile = locate_tile(wid.y * nwg.x + wid.x, per_row * GROUPS);
  if (!tile.valid) {
    return;  // the whole workgroup leaves together: barriers stay uniform
  }
  let d = tile.d;
  let g = lid / H;
  let j = lid % H;
  let state_count = NUM_DIRECTIONS * params.batch * H;
  let base = tile.first + g * per_row;
  use_model_of(tile.first);

  if (R_MODE == 1u) {
    for (var e = lid; e < H * H; e += WORKGROUP_SIZE) {
      r_tile[e] = r_stored(d, e % H, e / H);
    }
  }
  if (R_MODE == 2u) {
    for (var m = 0u; m < H; m++) { r_reg[m] = r_stored(d, j, m); }
  }

  // Per vector of four sequences: their indices, lengths (0 for padding past the model's last
  // sequence) and state.
  var b: array<vec4<u32>, MAX_VECTORS>;
  var len: array<vec4<u32>, MAX_VECTORS>;
  var h: array<vec4<f32>, MAX_VECTORS>;
  var c: array<vec4<f32>, MAX_VECTORS>;
  for (var v = 0u; v < VECTORS; v++) {
    for (var s = 0u; s < 4u; s++) {
      let n = base + 4u * v + s;
      b[v][s] = min(n, tile.end - 1u);
      len[v][s] = 0u;
      h[v][s] = 0.0;
      c[v][s] = 0.0;
      if (n < tile.end) {
        len[v][s] = segment_len(n, tile.start);
        if (params.has_h0 == 1u) { h[v][s] = init[state_index(d, n, j)]; }
        if (params.has_c0 == 1u) { c[v][s] = init[state_count + state_index(d, n, j)]; }
      }
    }
  }

  // Biases; for GRU with linear_before_reset the candidate's Rb stays inside r ⊙ (…).
  let gru = CELL == 1u;
  let bias = unit_bias(d, j);
  let rb_h = unit_rb_h(d, j);
  let p = unit_peepholes(d, j);  // i, o, f

  let rows = GROUPS * VECTORS;
  let row = g * VECTORS;           // this invocation's first vector of the tile's rows
  let rh_base = 2u * rows * H;     // r ⊙ h (GRU without linear_before_reset)
  for (var v = 0u; v < VECTORS; v++) { h_tile[(row + v) * H + j] = h[v]; }
  workgroupBarrier();

  // For GRU the candidate's input part stays apart from its recurrent part (r multiplies the latter).
  let rec_gates = select(GATES, 2u, gru && !LINEAR_BEFORE_RESET);  // lbr = 0: R_h waits for r
  for (var step = 0u; step < tile.steps; step++) {
    let cur = (step & 1u) * rows * H;
    let nxt = ((step + 1u) & 1u) * rows * H;
    var live: array<vec4<bool>, MAX_VECTORS>;
    var t: array<vec4<u32>, MAX_VECTORS>;
    for (var v = 0u; v < VECTORS; v++) {
      live[v] = vec4<u32>(step) < len[v];
      for (var s = 0u; s < 4u; s++) {
        t[v][s] = tile.start + select(step, len[v][s] - 1u - step, tile.backwards && live[v][s]);
      }
    }

    // acc[4v + k]: gate k's pre-activation for vector v, W x_t + biases (+ R h_{t-1} below); GRU's
    // candidate keeps its input part in xh[v] and its recurrent part in acc[4v + 2].
    var acc: array<vec4<f32>, 16>;
    var xh: array<vec4<f32>, MAX_VECTORS>;
    for (var v = 0u; v < VECTORS; v++) {
      for (var k = 0u; k < 4u; k++) { acc[4u * v + k] = vec4<f32>(select(0.0, bias[k], k < GATES)); }
      xh[v] = vec4<f32>(0.0);
      if (gru) {
        xh[v] = acc[4u * v + 2u];
        acc[4u * v + 2u] = vec4<f32>(0.0);
      }
    }

    // Input products: each W weight feeds the invocation's 4·VECTORS sequences.
    for (var i = 0u; i < INPUT_SIZE; i++) {
      var wx = vec4<f32>(0.0);
      for (var k = 0u; k < GATES; k++) { wx[k] = weight(((d * GATES + k) * H + j) * INPUT_SIZE + i); }
      for (var v = 0u; v < VECTORS; v++) {
        var xv = vec4<f32>(0.0);
        for (var s = 0u; s < 4u; s++) {
          if (live[v][s]) { xv[s] = x[x_index(t[v][s], b[v][s], i)]; }
        }
        acc[4u * v] += wx.x * xv;
        if (GATES > 1u) {
          acc[4u * v + 1u] += wx.y * xv;
          if (gru) { xh[v] += wx.z * xv; } else { acc[4u * v + 2u] += wx.z * xv; }
        }
        if (GATES > 3u) { acc[4u * v + 3u] += wx.w * xv; }
      }
    }

    // Recurrent products R h_{t-1}: each weight loaded once for 4·VECTORS sequences.
    for (var m = 0u; m < H; m++) {
      let w = r_weights(d, j, m);
      for (var v = 0u; v < VECTORS; v++) {
        let hv = h_tile[cur + (row + v) * H + m];
        acc[4u * v] += w.x * hv;
        if (rec_gates > 1u) { acc[4u * v + 1u] += w.y * hv; }
        if (rec_gates > 2u) { acc[4u * v + 2u] += w.z * hv; }
        if (rec_gates > 3u) { acc[4u * v + 3u] += w.w * hv; }
      }
    }

    // GRU: update and reset gates first; without linear_before_reset, R_h (r ⊙ h_{t-1}) needs every
    // unit's r, shared through the tile.
    var z: array<vec4<f32>, MAX_VECTORS>;
    var r: array<vec4<f32>, MAX_VECTORS>;
    if (gru) {
      for (var v = 0u; v < VECTORS; v++) {
        z[v] = act_f4(d, acc[4u * v]);
        r[v] = act_f4(d, acc[4u * v + 1u]);
      }
      if (!LINEAR_BEFORE_RESET) {
        for (var v = 0u; v < VECTORS; v++) { h_tile[rh_base + (row + v) * H + j] = r[v] * h[v]; }
        workgroupBarrier();
        for (var m = 0u; m < H; m++) {
          let w = r_weights(d, j, m).z;
          for (var v = 0u; v < VECTORS; v++) { acc[4u * v + 2u] += w * h_tile[rh_base + (row + v) * H + m]; }
        }
      }
    }

    for (var v = 0u; v < VECTORS; v++) {
      var h_new: vec4<f32>;
      if (CELL == 0u) {
        h_new = act_f4(d, acc[4u * v]);
      } else if (CELL == 1u) {
        var a_h = xh[v] + acc[4u * v + 2u];
        if (LINEAR_BEFORE_RESET) { a_h = xh[v] + r[v] * (acc[4u * v + 2u] + rb_h); }
        let n = act_g4(d, a_h);
        h_new = (1.0 - z[v]) * n + z[v] * h[v];
      } else {
        let gi = act_f4(d, acc[4u * v] + p.x * c[v]);
        var gf: vec4<f32>;
        if (INPUT_FORGET) { gf = 1.0 - gi; } else { gf = act_f4(d, acc[4u * v + 2u] + p.z * c[v]); }
        let c_new = gf * c[v] + gi * act_g4(d, acc[4u * v + 3u]);
        let go = act_f4(d, acc[4u * v + 1u] + p.y * c_new);
        h_new = go * act_h4(d, c_new);
        c[v] = select(c[v], c_new, live[v]);
      }
      h[v] = select(h[v], h_new, live[v]);
      h_tile[nxt + (row + v) * H + j] = h[v];
      for (var s = 0u; s < 4u; s++) {
        if (live[v][s]) { y[y_index(t[v][s], d, b[v][s], j)] = h[v][s]; }
      }
    }
    workgroupBarrier();
  }

  let end = segment_end(tile.start);
  for (var v = 0u; v < VECTORS; v++) {
    for (var s = 0u; s < 4u; s++) {
      let n = base + 4u * v + s;
      if (n >= tile.end) { continue; }
      for (var tt = tile.start + len[v][s]; tt < end; tt++) { y[y_index(tt, d, n, j)] = 0.0; }
      final_state[state_index(d, n, j)] = h[v][s];
      if (CELL == 2u) { final_state[state_count + state_index(d, n, j)] = c[v][s]; }
    }
  }
}
