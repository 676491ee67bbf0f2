// One recurrent layer with ONNX RNN / GRU / LSTM semantics over many independent sequences, the
// whole time loop inside one dispatch. Equations: src/reference/recurrent-layer.ts (the float64
// reference this kernel is tested against). Gate order is ONNX's: LSTM i, o, f, c; GRU z, r, h.
//
// One invocation owns one (direction d, sequence b) pair, id = d·B + b, and walks that sequence's
// len steps of the segment (forward from its first, or backward from its last), then writes zeros
// for the segment's steps past its length. Per-series models: the pair's sequence picks its model's
// weights (shaders/forward/recurrent_common.wgsl `use_model_of`).
//
// Bindings 0–6 and the override constants: shaders/forward/recurrent_common.wgsl (prepended). Besides:
//   7 state    [5, H, D·B] working memory: h (two parities), c, z, r·h; the pair index is the
//              fastest so neighbouring invocations touch neighbouring words
//
// Sizes, cell, direction, layout, activations (code, alpha, beta) and clip are override constants.
// With SAVE (training) each step also writes the values the backward pass needs after Y in binding 5,
// zeros past the length (shaders/forward/recurrent_common.wgsl, "Training").

override WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(7) var<storage, read_write> state: array<f32>;

const SLOT_C = 2u;
const SLOT_Z = 3u;
const SLOT_RH = 4u;

fn work(slot: u32, j: u32, pair: u32) -> u32 {
  return (slot * HIDDEN_SIZE + j) * (NUM_DIRECTIONS * params.batch) + pair;
}

// W_gate x_t: row j of gate `gate` of direction d times the input at step t.
fn input_product(d: u32, gate: u32, j: u32, t: u32, b: u32) -> f32 {
  let row = ((d * GATES + gate) * HIDDEN_SIZE + j) * INPUT_SIZE;
  var acc = 0.0;
  for (var i = 0u; i < INPUT_SIZE; i++) {
    acc += weight(row + i) * x[x_index(t, b, i)];
  }
  return acc;
}

// R_gate v: row j of gate `gate` times working slot `slot` (h of one parity, or r·h).
fn recurrent_product(d: u32, gate: u32, j: u32, slot: u32, pair: u32) -> f32 {
  let row = R_OFFSET + ((d * GATES + gate) * HIDDEN_SIZE + j) * HIDDEN_SIZE;
  var acc = 0.0;
  for (var m = 0u; m < HIDDEN_SIZE; m++) {
    acc += weight(row + m) * state[work(slot, m, pair)];
  }
  return acc;
}

fn wb(d: u32, gate: u32, j: u32) -> f32 { return weight(B_OFFSET + d * 2u * GH + gate * HIDDEN_SIZE + j); }
fn rb(d: u32, gate: u32, j: u32) -> f32 { return weight(B_OFFSET + d * 2u * GH + GH + gate * HIDDEN_SIZE + j); }
fn peephole(d: u32, k: u32, j: u32) -> f32 { return weight(P_OFFSET + d * 3u * HIDDEN_SIZE + k * HIDDEN_SIZE + j); }

// Training: one saved value (a no-op unless SAVE).
fn save(t: u32, d: u32, b: u32, slot: u32, j: u32, v: f32) {
  if (SAVE) { y[saved_index(t, d, b, slot, j)] = v; }
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
  let state_count = NUM_DIRECTIONS * B * HIDDEN_SIZE;
  let start = segment_start(d);
  let len = segment_len(b, start);
  let backwards = REVERSE || d == 1u;
  use_model_of(b);

  for (var j = 0u; j < HIDDEN_SIZE; j++) {
    var h = 0.0;
    var c = 0.0;
    if (params.has_h0 == 1u) { h = init[state_index(d, b, j)]; }
    if (params.has_c0 == 1u) { c = init[state_count + state_index(d, b, j)]; }
    state[work(0u, j, pair)] = h;
    state[work(SLOT_C, j, pair)] = c;
  }

  for (var step = 0u; step < len; step++) {
    let t = start + select(step, len - 1u - step, backwards);
    let cur = step & 1u;
    let nxt = cur ^ 1u;

    if (SAVE) {
      for (var j = 0u; j < HIDDEN_SIZE; j++) { save(t, d, b, slot_h_prev(), j, state[work(cur, j, pair)]); }
    }
    if (CELL == 0u) {
      for (var j = 0u; j < HIDDEN_SIZE; j++) {
        let pre = input_product(d, 0u, j, t, b) + recurrent_product(d, 0u, j, cur, pair) + wb(d, 0u, j) + rb(d, 0u, j);
        state[work(nxt, j, pair)] = act_f(d, (pre));
        save(t, d, b, 0u, j, pre);
      }
    } else if (CELL == 1u) {
      // Update and reset gates for every unit first: the candidate needs r for all of them.
      for (var j = 0u; j < HIDDEN_SIZE; j++) {
        let a_z = input_product(d, 0u, j, t, b) + recurrent_product(d, 0u, j, cur, pair) + wb(d, 0u, j) + rb(d, 0u, j);
        let a_r = input_product(d, 1u, j, t, b) + recurrent_product(d, 1u, j, cur, pair) + wb(d, 1u, j) + rb(d, 1u, j);
        let z = act_f(d, (a_z));
        let r = act_f(d, (a_r));
        state[work(SLOT_Z, j, pair)] = z;
        // linear_before_reset = 1 keeps r itself; = 0 keeps r ⊙ h_{t-1} for R_h to multiply.
        state[work(SLOT_RH, j, pair)] = select(r * state[work(cur, j, pair)], r, LINEAR_BEFORE_RESET);
        save(t, d, b, 0u, j, a_z);
        save(t, d, b, 1u, j, a_r);
        if (!LINEAR_BEFORE_RESET) { save(t, d, b, 4u, j, r * state[work(cur, j, pair)]); }
      }
      for (var j = 0u; j < HIDDEN_SIZE; j++) {
        var pre: f32;
        if (LINEAR_BEFORE_RESET) {
          let r = state[work(SLOT_RH, j, pair)];
          let q = recurrent_product(d, 2u, j, cur, pair) + rb(d, 2u, j);
          pre = input_product(d, 2u, j, t, b) + r * q + wb(d, 2u, j);
          save(t, d, b, 4u, j, q);
        } else {
          pre = input_product(d, 2u, j, t, b) + recurrent_product(d, 2u, j, SLOT_RH, pair) + rb(d, 2u, j) + wb(d, 2u, j);
        }
        save(t, d, b, 2u, j, pre);
        let n = act_g(d, (pre));
        let z = state[work(SLOT_Z, j, pair)];
        state[work(nxt, j, pair)] = (1.0 - z) * n + z * state[work(cur, j, pair)];
      }
    } else {
      for (var j = 0u; j < HIDDEN_SIZE; j++) {
        let c_prev = state[work(SLOT_C, j, pair)];
        let pre_i = input_product(d, 0u, j, t, b) + recurrent_product(d, 0u, j, cur, pair) + wb(d, 0u, j) + rb(d, 0u, j);
        let pre_o = input_product(d, 1u, j, t, b) + recurrent_product(d, 1u, j, cur, pair) + wb(d, 1u, j) + rb(d, 1u, j);
        let pre_c = input_product(d, 3u, j, t, b) + recurrent_product(d, 3u, j, cur, pair) + wb(d, 3u, j) + rb(d, 3u, j);
        let a_i = pre_i + peephole(d, 0u, j) * c_prev;
        let gi = act_f(d, (a_i));
        var gf: f32;
        var a_f = 0.0;
        if (INPUT_FORGET) {
          gf = 1.0 - gi;
        } else {
          let pre_f = input_product(d, 2u, j, t, b) + recurrent_product(d, 2u, j, cur, pair) + wb(d, 2u, j) + rb(d, 2u, j);
          a_f = pre_f + peephole(d, 2u, j) * c_prev;
          gf = act_f(d, (a_f));
        }
        let gc = act_g(d, (pre_c));
        let c = gf * c_prev + gi * gc;
        let a_o = pre_o + peephole(d, 1u, j) * c;
        let go = act_f(d, (a_o));
        save(t, d, b, 0u, j, a_i);
        save(t, d, b, 1u, j, a_o);
        save(t, d, b, 2u, j, a_f);
        save(t, d, b, 3u, j, pre_c);
        save(t, d, b, 5u, j, c_prev);
        state[work(SLOT_C, j, pair)] = c;  // elementwise: other units never read c_j
        state[work(nxt, j, pair)] = go * act_h(d, c);
      }
    }

    for (var j = 0u; j < HIDDEN_SIZE; j++) {
      y[y_index(t, d, b, j)] = state[work(nxt, j, pair)];
    }
  }

  // Steps past this sequence's length produce zeros.
  for (var t = start + len; t < segment_end(start); t++) {
    for (var j = 0u; j < HIDDEN_SIZE; j++) {
      y[y_index(t, d, b, j)] = 0.0;
      if (SAVE) {
        for (var k = 0u; k < SAVED_SLOTS; k++) { save(t, d, b, k, j, 0.0); }
      }
    }
  }

  let last = len & 1u;
  for (var j = 0u; j < HIDDEN_SIZE; j++) {
    final_state[state_index(d, b, j)] = state[work(last, j, pair)];
    if (CELL == 2u) {
      final_state[state_count + state_index(d, b, j)] = state[work(SLOT_C, j, pair)];
    }
  }
}
