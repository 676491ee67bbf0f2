// One recurrent layer with ONNX RNN / GRU / LSTM semantics for hidden sizes up to 4: the kernel where
// a step is too little work to share. Equations: src/reference/recurrent-layer.ts; gate order ONNX's
// (LSTM i, o, f, c; GRU z, r, h).
//
// One invocation owns one (direction d, sequence b) pair, id = d·B + b, as in recurrent_sequential.wgsl,
// but everything it touches per step lives in registers: the state h (and c) is a vec4 over the
// units (components ≥ H stay zero), each gate's recurrent matrix is a mat4x4 (column m = R[:, m]),
// its input matrix for the first four inputs another, its biases vec4s, all loaded once before the
// time loop. A step is then one mat4x4·vec4 per gate for R, one per four inputs for W, the
// activations on vec4s, and the loads of x_t and stores of y_t. No barriers, no scratch memory, no
// dynamically indexed arrays; inputs past the fourth are read from storage per step.
// Per-series models: the pair's sequence picks its model's weights (recurrent_common.wgsl
// `use_model_of`); the head is fused for one model only.
//
// Bindings 0–6 and the override constants: shaders/forward/recurrent_common.wgsl (prepended). Besides:
//   7 head     the stack's nn.Linear head fused in when HEAD_OUT > 0: weight [O, H] then bias [O];
//              y then receives the head's output [B, T, O] instead of h (layout 1, one direction;
//              the host fuses only then). A 4-byte placeholder otherwise.

override WORKGROUP_SIZE: u32 = 64u;
override HEAD_OUT: u32 = 0u;

@group(0) @binding(7) var<storage, read> head: array<f32>;

// Rows 4k … 4k+3 of the head's weight as a mat4x4 with column j = weight[4k + o, j] over o, and
// its bias.
fn head_matrix(k: u32) -> mat4x4<f32> {
  var m = mat4x4<f32>();
  for (var j = 0u; j < HIDDEN_SIZE; j++) {
    for (var o = 0u; o < 4u; o++) {
      let row = 4u * k + o;
      m[j][o] = select(0.0, head[select(0u, row * HIDDEN_SIZE + j, row < HEAD_OUT)], row < HEAD_OUT);
    }
  }
  return m;
}

fn head_bias(k: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var o = 0u; o < 4u; o++) {
    let row = 4u * k + o;
    v[o] = select(0.0, head[select(0u, HEAD_OUT * HIDDEN_SIZE + row, row < HEAD_OUT)], row < HEAD_OUT);
  }
  return v;
}

// Outputs 4k … 4k+3 of the head at (b, t).
fn store_head(t: u32, b: u32, k: u32, v: vec4<f32>) {
  let base = (b * params.total_steps + t) * HEAD_OUT + 4u * k;
  y[base] = v.x;
  if (4u * k + 1u < HEAD_OUT) { y[base + 1u] = v.y; }
  if (4u * k + 2u < HEAD_OUT) { y[base + 2u] = v.z; }
  if (4u * k + 3u < HEAD_OUT) { y[base + 3u] = v.w; }
}

// weights[i] when `ok`, else 0 (units or inputs past the layer's sizes; folds away for constant ok).
fn w_at(i: u32, ok: bool) -> f32 {
  return select(0.0, weights[w_base + select(0u, i, ok)], ok);
}

// Rows j = 0…3 of a [rows, cols] block starting at `base`, column `col`, as a vec4 over j < H.
fn w_col(base: u32, cols: u32, col: u32, col_ok: bool) -> vec4<f32> {
  let H = HIDDEN_SIZE;
  return vec4<f32>(
    w_at(base + 0u * cols + col, col_ok),
    w_at(base + 1u * cols + col, col_ok && H > 1u),
    w_at(base + 2u * cols + col, col_ok && H > 2u),
    w_at(base + 3u * cols + col, col_ok && H > 3u));
}

// R of gate g, direction d: column m is R[g·H + j, m] over j.
fn r_matrix(d: u32, g: u32) -> mat4x4<f32> {
  let base = R_OFFSET + (d * GATES + g) * HIDDEN_SIZE * HIDDEN_SIZE;
  let H = HIDDEN_SIZE;
  return mat4x4<f32>(w_col(base, H, 0u, true), w_col(base, H, 1u, H > 1u), w_col(base, H, 2u, H > 2u), w_col(base, H, 3u, H > 3u));
}

// W of gate g, direction d, inputs 4k … 4k+3: column i is W[g·H + j, 4k + i] over j.
fn w_matrix(d: u32, g: u32, k: u32) -> mat4x4<f32> {
  let base = (d * GATES + g) * HIDDEN_SIZE * INPUT_SIZE;
  let I = INPUT_SIZE;
  let i0 = 4u * k;
  return mat4x4<f32>(w_col(base, I, i0, i0 < I), w_col(base, I, i0 + 1u, i0 + 1u < I),
                     w_col(base, I, i0 + 2u, i0 + 2u < I), w_col(base, I, i0 + 3u, i0 + 3u < I));
}

// A [D, rows] vector block (biases, peepholes) of H values starting at `base`.
fn w_vec(base: u32) -> vec4<f32> {
  let H = HIDDEN_SIZE;
  return vec4<f32>(w_at(base, true), w_at(base + 1u, H > 1u), w_at(base + 2u, H > 2u), w_at(base + 3u, H > 3u));
}

fn wb(d: u32, g: u32) -> vec4<f32> { return w_vec(B_OFFSET + d * 2u * GH + g * HIDDEN_SIZE); }
fn rb(d: u32, g: u32) -> vec4<f32> { return w_vec(B_OFFSET + d * 2u * GH + GH + g * HIDDEN_SIZE); }
fn peephole(d: u32, k: u32) -> vec4<f32> { return w_vec(P_OFFSET + d * 3u * HIDDEN_SIZE + k * HIDDEN_SIZE); }

// m · v over the first n columns only: n is an override-derived constant, so the terms past it fold
// away (H = 1: one vec4 multiply-add instead of four).
fn mv(m: mat4x4<f32>, v: vec4<f32>, n: u32) -> vec4<f32> {
  var acc = m[0] * v.x;
  if (n > 1u) { acc += m[1] * v.y; }
  if (n > 2u) { acc += m[2] * v.z; }
  if (n > 3u) { acc += m[3] * v.w; }
  return acc;
}
fn rmv(m: mat4x4<f32>, h: vec4<f32>) -> vec4<f32> { return mv(m, h, HIDDEN_SIZE); }
fn wmv(m: mat4x4<f32>, x: vec4<f32>) -> vec4<f32> { return mv(m, x, min(INPUT_SIZE, 4u)); }

// Inputs 4k … 4k+3 of sequence b at step t.
fn x_vec(t: u32, b: u32, k: u32) -> vec4<f32> {
  let i0 = 4u * k;
  let I = INPUT_SIZE;
  return vec4<f32>(
    select(0.0, x[x_index(t, b, min(i0, I - 1u))], i0 < I),
    select(0.0, x[x_index(t, b, min(i0 + 1u, I - 1u))], i0 + 1u < I),
    select(0.0, x[x_index(t, b, min(i0 + 2u, I - 1u))], i0 + 2u < I),
    select(0.0, x[x_index(t, b, min(i0 + 3u, I - 1u))], i0 + 3u < I));
}

// Σ over input chunks past the first of W_g x_t (only when INPUT_SIZE > 4; W read from storage).
fn wide_input(d: u32, g: u32, t: u32, b: u32) -> vec4<f32> {
  var acc = vec4<f32>(0.0);
  for (var k = 1u; 4u * k < INPUT_SIZE; k++) {
    acc += mv(w_matrix(d, g, k), x_vec(t, b, k), min(INPUT_SIZE - 4u * k, 4u));
  }
  return acc;
}

fn state_vec(offset: u32, d: u32, b: u32) -> vec4<f32> {
  let H = HIDDEN_SIZE;
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < H; j++) { v[j] = init[offset + state_index(d, b, j)]; }
  return v;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let pair = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  let B = params.batch;
  if (pair >= NUM_DIRECTIONS * B) {
    return;
  }
  let d = pair / B;
  let b = pair % B;
  let H = HIDDEN_SIZE;
  let state_count = NUM_DIRECTIONS * B * H;
  let start = segment_start(d);
  let len = segment_len(b, start);
  let backwards = REVERSE || d == 1u;
  use_model_of(b);

  // Gate k's matrices and biases (unused gates of RNN and GRU load nothing: GATES is a constant).
  let R0 = r_matrix(d, 0u);
  let W0 = w_matrix(d, 0u, 0u);
  let b0 = wb(d, 0u) + rb(d, 0u);
  var R1 = mat4x4<f32>(); var W1 = mat4x4<f32>(); var b1 = vec4<f32>(0.0);
  var R2 = mat4x4<f32>(); var W2 = mat4x4<f32>(); var b2w = vec4<f32>(0.0); var b2r = vec4<f32>(0.0);
  var R3 = mat4x4<f32>(); var W3 = mat4x4<f32>(); var b3 = vec4<f32>(0.0);
  var p_i = vec4<f32>(0.0); var p_o = vec4<f32>(0.0); var p_f = vec4<f32>(0.0);
  if (GATES > 1u) {
    R1 = r_matrix(d, 1u); W1 = w_matrix(d, 1u, 0u); b1 = wb(d, 1u) + rb(d, 1u);
    R2 = r_matrix(d, 2u); W2 = w_matrix(d, 2u, 0u); b2w = wb(d, 2u); b2r = rb(d, 2u);
  }
  if (GATES > 3u) {
    R3 = r_matrix(d, 3u); W3 = w_matrix(d, 3u, 0u); b3 = wb(d, 3u) + rb(d, 3u);
    p_i = peephole(d, 0u); p_o = peephole(d, 1u); p_f = peephole(d, 2u);
  }

  var Hm = mat4x4<f32>();
  var hb = vec4<f32>(0.0);
  if (HEAD_OUT > 0u) { Hm = head_matrix(0u); hb = head_bias(0u); }

  var h = vec4<f32>(0.0);
  var c = vec4<f32>(0.0);
  if (params.has_h0 == 1u) { h = state_vec(0u, d, b); }
  if (CELL == 2u && params.has_c0 == 1u) { c = state_vec(state_count, d, b); }

  for (var step = 0u; step < len; step++) {
    let t = start + select(step, len - 1u - step, backwards);
    let xt = x_vec(t, b, 0u);
    let wide = INPUT_SIZE > 4u;

    if (CELL == 0u) {
      var pre = wmv(W0, xt) + rmv(R0, h) + b0;
      if (wide) { pre += wide_input(d, 0u, t, b); }
      h = act_f4(d, pre);
    } else if (CELL == 1u) {
      var pz = wmv(W0, xt) + rmv(R0, h) + b0;
      var pr = wmv(W1, xt) + rmv(R1, h) + b1;
      var ph = wmv(W2, xt) + b2w;
      if (wide) { pz += wide_input(d, 0u, t, b); pr += wide_input(d, 1u, t, b); ph += wide_input(d, 2u, t, b); }
      let z = act_f4(d, pz);
      let r = act_f4(d, pr);
      if (LINEAR_BEFORE_RESET) {
        ph += r * (rmv(R2, h) + b2r);
      } else {
        ph += rmv(R2, r * h) + b2r;
      }
      let n = act_g4(d, ph);
      h = (vec4<f32>(1.0) - z) * n + z * h;
    } else {
      var pi = wmv(W0, xt) + rmv(R0, h) + b0;
      var po = wmv(W1, xt) + rmv(R1, h) + b1;
      var pf = wmv(W2, xt) + rmv(R2, h) + b2w + b2r;
      var pc = wmv(W3, xt) + rmv(R3, h) + b3;
      if (wide) {
        pi += wide_input(d, 0u, t, b); po += wide_input(d, 1u, t, b);
        pf += wide_input(d, 2u, t, b); pc += wide_input(d, 3u, t, b);
      }
      let gi = act_f4(d, pi + p_i * c);
      var gf: vec4<f32>;
      if (INPUT_FORGET) {
        gf = vec4<f32>(1.0) - gi;
      } else {
        gf = act_f4(d, pf + p_f * c);
      }
      c = gf * c + gi * act_g4(d, pc);
      let go = act_f4(d, po + p_o * c);
      h = go * act_h4(d, c);
    }
    // Components past H never reach real ones: their rows of W, R, biases and peepholes are zero, so
    // they hold act(0)-derived bounded values, and R's columns past H are zero. Only j < H is stored.
    if (HEAD_OUT > 0u) {
      store_head(t, b, 0u, rmv(Hm, h) + hb);
      for (var k = 1u; 4u * k < HEAD_OUT; k++) { store_head(t, b, k, rmv(head_matrix(k), h) + head_bias(k)); }
    } else {
      y[y_index(t, d, b, 0u)] = h.x;
      if (H > 1u) { y[y_index(t, d, b, 1u)] = h.y; }
      if (H > 2u) { y[y_index(t, d, b, 2u)] = h.z; }
      if (H > 3u) { y[y_index(t, d, b, 3u)] = h.w; }
    }
  }

  // Steps past this sequence's length: zeros in Y, so the head gives its bias there.
  for (var t = start + len; t < segment_end(start); t++) {
    if (HEAD_OUT > 0u) {
      for (var k = 0u; 4u * k < HEAD_OUT; k++) { store_head(t, b, k, head_bias(k)); }
    } else {
      for (var j = 0u; j < H; j++) {
        y[y_index(t, d, b, j)] = 0.0;
      }
    }
  }

  for (var j = 0u; j < H; j++) {
    final_state[state_index(d, b, j)] = h[j];
    if (CELL == 2u) {
      final_state[state_count + state_index(d, b, j)] = c[j];
    }
  }
}
