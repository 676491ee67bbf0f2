// One recurrent layer with ONNX RNN / GRU / LSTM semantics, the whole time loop inside one dispatch:
// the kernel for adapters that run a workgroup's invocations as the SIMD lanes of a CPU core
// (Mesa's llvmpipe). Equations: src/reference/recurrent-layer.ts; gate order ONNX's (LSTM i, o, f,
// c; GRU z, r, h). Why and when: src/gpu/kernels/forward/plan.ts.
//
// One invocation owns one (direction, sequence) pair, as in recurrent_sequential.wgsl, and a workgroup
// owns WORKGROUP_SIZE sequences of one direction and one model (recurrent_common.wgsl
// `locate_tile`), so every weight a step reads sits at an address that is the same for the whole
// workgroup: a CPU driver loads it once and broadcasts it to the lanes, instead of once per lane.
// The weights come from `pack` below, which copies W | R | B | P once per call into vec4s over four
// consecutive hidden units of one gate (`Packed` layout), so a step's matrix-vector products are
// vec4 multiply-adds over the units of a quad. The state of each sequence (h in two parities, c or
// GRU's z and r ⊙ h) lives in workgroup memory in the lane's own column, [slot][unit][lane]: no lane
// reads another's, so there is no barrier anywhere.
//
// Every lane walks the segment's steps together (uniform control flow, so the loads stay
// uniform); a sequence past its length keeps its state, writes nothing, and gets zeros in Y after
// the loop, as in recurrent_tile.wgsl. Inference only: training runs the tiled or sequential kernel.
//
// Bindings 0–6 and the override constants: shaders/forward/recurrent_common.wgsl (prepended), except that
// `main` reads the packed copy at binding 2 (`packed`) instead of W | R | B | P (`weights`), and
// `pack` reads W | R | B | P of every model at binding 1 and writes the copy at binding 2 (WGSL lets
// two variables share a binding that no entry point uses both of).

override WORKGROUP_SIZE: u32 = 8u;
override QUADS: u32 = 1u;          // ⌈H / 4⌉
override STATE_SLOTS: u32 = 2u;    // h twice; LSTM + c; GRU (linear_before_reset = 0) + z, r ⊙ h
override STATE_TILE: u32 = 1u;     // STATE_SLOTS · 4 · QUADS · WORKGROUP_SIZE

// ---- The packed weights -------------------------------------------------------------------------
//
// Per model and direction, PACKED_PER_DIRECTION vec4s, each over units 4q … 4q+3 of one gate g
// (zeros past H), in the order a step walks them (one quad after another, so a quad's weights are
// one contiguous stream and every cache line fetched is used whole):
//   R  [QUADS, 4·QUADS, G]  R[g·H + 4q + e, m] for column m (m ≥ H: zeros)
//   W  [QUADS, I, G]        W[g·H + 4q + e, i]
//   B  [QUADS, G]           Wb + Rb, except GRU with linear_before_reset: gate h has Wb only
//   RB [QUADS]              GRU with linear_before_reset: Rb of gate h (else zeros)
//   P  [3, QUADS]           LSTM peepholes i, o, f (else zeros)
override PACKED_R: u32 = 0u;
override PACKED_W: u32 = GATES * 4u * QUADS * QUADS;
override PACKED_B: u32 = PACKED_W + GATES * INPUT_SIZE * QUADS;
override PACKED_RB: u32 = PACKED_B + GATES * QUADS;
override PACKED_P: u32 = PACKED_RB + QUADS;
override PACKED_PER_DIRECTION: u32 = PACKED_P + 3u * QUADS;

@group(0) @binding(2) var<storage, read> packed: array<vec4<f32>>;

@group(0) @binding(1) var<storage, read> pack_source: array<f32>;
@group(0) @binding(2) var<storage, read_write> pack_target: array<vec4<f32>>;

// Element e of vec4 `v` of direction d's block of one model whose W | R | B | P start at `src`.
fn packed_value(src: u32, d: u32, v: u32, e: u32) -> f32 {
  let H = HIDDEN_SIZE;
  let I = INPUT_SIZE;
  let Q = QUADS;
  let G = GATES;
  let bias = src + B_OFFSET + d * 2u * GH;
  let lbr_h = CELL == 1u && LINEAR_BEFORE_RESET;
  if (v < PACKED_W) {
    let j = 4u * (v / (4u * Q * G)) + e;
    let m = (v / G) % (4u * Q);
    if (j >= H || m >= H) { return 0.0; }
    return pack_source[src + R_OFFSET + ((d * G + v % G) * H + j) * H + m];
  }
  if (v < PACKED_B) {
    let u = v - PACKED_W;
    let j = 4u * (u / (I * G)) + e;
    if (j >= H) { return 0.0; }
    return pack_source[src + ((d * G + u % G) * H + j) * I + (u / G) % I];
  }
  if (v < PACKED_RB) {
    let u = v - PACKED_B;
    let j = 4u * (u / G) + e;
    let g = u % G;
    if (j >= H) { return 0.0; }
    var sum = pack_source[bias + g * H + j];
    if (!(lbr_h && g == 2u)) { sum += pack_source[bias + GH + g * H + j]; }
    return sum;
  }
  if (v < PACKED_P) {
    let j = 4u * (v - PACKED_RB) + e;
    if (j >= H || !lbr_h) { return 0.0; }
    return pack_source[bias + GH + 2u * H + j];
  }
  let u = v - PACKED_P;
  let j = 4u * (u % Q) + e;
  if (j >= H || CELL != 2u) { return 0.0; }
  return pack_source[src + P_OFFSET + d * 3u * H + (u / Q) * H + j];
}

// One vec4 of the packed copy per invocation: all models (batch / model_batch), both directions.
@compute @workgroup_size(64)
fn pack(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.y * nwg.x * 64u + gid.x;
  let models = params.batch / params.model_batch;
  let per_model = NUM_DIRECTIONS * PACKED_PER_DIRECTION;
  if (id >= models * per_model) { return; }
  let model = id / per_model;
  let d = (id % per_model) / PACKED_PER_DIRECTION;
  let v = id % PACKED_PER_DIRECTION;
  let src = model * params.weight_stride;
  pack_target[id] = vec4<f32>(packed_value(src, d, v, 0u), packed_value(src, d, v, 1u),
                              packed_value(src, d, v, 2u), packed_value(src, d, v, 3u));
}

// ---- The layer ----------------------------------------------------------------------------------

var<workgroup> state: array<f32, STATE_TILE>;

// Where this workgroup's direction block of its model starts in `packed` (uniform).
var<private> p_base: u32;
// This invocation's column in `state`.
var<private> lane: u32;

// Unit j of slot `slot` of this lane's state: lanes side by side, so a unit's values of the
// workgroup are one contiguous run.
fn st(slot: u32, j: u32) -> u32 { return (slot * 4u * QUADS + j) * WORKGROUP_SIZE + lane; }
fn load4(slot: u32, q: u32) -> vec4<f32> {
  return vec4<f32>(state[st(slot, 4u * q)], state[st(slot, 4u * q + 1u)], state[st(slot, 4u * q + 2u)], state[st(slot, 4u * q + 3u)]);
}
fn store4(slot: u32, q: u32, v: vec4<f32>) {
  for (var e = 0u; e < 4u; e++) { state[st(slot, 4u * q + e)] = v[e]; }
}
fn pr(g: u32, m: u32, q: u32) -> vec4<f32> { return packed[p_base + PACKED_R + (q * 4u * QUADS + m) * GATES + g]; }
fn pw(g: u32, i: u32, q: u32) -> vec4<f32> { return packed[p_base + PACKED_W + (q * INPUT_SIZE + i) * GATES + g]; }
fn pb(g: u32, q: u32) -> vec4<f32> { return packed[p_base + PACKED_B + q * GATES + g]; }
fn pp(k: u32, q: u32) -> vec4<f32> { return packed[p_base + PACKED_P + k * QUADS + q]; }

// Σ_m R_g[units of quad q, m] · v[m] for gates first ≤ g < n (the others 0), v = state slot
// `slot`. One scalar of v a column: reading v a vec4 at a time and indexing it was 2× slower on
// llvmpipe. `first` and `n` are constants at every call, so the gate tests fold away.
fn recurrent(slot: u32, q: u32, first: u32, n: u32) -> array<vec4<f32>, 4> {
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var m = 0u; m < 4u * QUADS; m++) {
    let s = state[st(slot, m)];
    if (first == 0u) { a0 += pr(0u, m, q) * s; }
    if (first <= 1u && n > 1u) { a1 += pr(1u, m, q) * s; }
    if (first <= 2u && n > 2u) { a2 += pr(2u, m, q) * s; }
    if (n > 3u) { a3 += pr(3u, m, q) * s; }
  }
  return array<vec4<f32>, 4>(a0, a1, a2, a3);
}

// B_g + W_g x_t for the units of quad q, gates first ≤ g < n (x_t: the lane's inputs at its step t).
fn input_part(q: u32, first: u32, n: u32, t: u32, b: u32, live: bool) -> array<vec4<f32>, 4> {
  var acc = array<vec4<f32>, 4>();
  for (var g = first; g < n; g++) { acc[g] = pb(g, q); }
  for (var i = 0u; i < INPUT_SIZE; i++) {
    let xi = select(0.0, x[x_index(t, b, i)], live);
    for (var g = first; g < n; g++) { acc[g] += pw(g, i, q) * xi; }
  }
  return acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let H = HIDDEN_SIZE;
  let B = params.batch;
  let tile = locate_tile(wid.y * nwg.x + wid.x, WORKGROUP_SIZE);
  if (!tile.valid) {
    return;
  }
  let d = tile.d;
  lane = lid;
  p_base = ((tile.first / params.model_batch) * NUM_DIRECTIONS + d) * PACKED_PER_DIRECTION;
  let mine = tile.first + lid < tile.end;
  let b = min(tile.first + lid, tile.end - 1u);
  let state_count = NUM_DIRECTIONS * B * H;
  let start = segment_start(d);
  let len = select(0u, segment_len(b, start), mine);
  let backwards = REVERSE || d == 1u;
  let lstm = CELL == 2u;
  let gru_two_phase = CELL == 1u && !LINEAR_BEFORE_RESET;

  // Initial state (units past H stay 0: their packed weights are zeros, so they never feed back).
  for (var q = 0u; q < QUADS; q++) {
    var h = vec4<f32>(0.0);
    var c = vec4<f32>(0.0);
    for (var e = 0u; e < 4u; e++) {
      let j = 4u * q + e;
      if (j < H && mine) {
        if (params.has_h0 == 1u) { h[e] = init[state_index(d, b, j)]; }
        if (lstm && params.has_c0 == 1u) { c[e] = init[state_count + state_index(d, b, j)]; }
      }
    }
    store4(0u, q, h);
    if (lstm) { store4(2u, q, c); }
  }

  let steps = segment_steps(start);
  for (var step = 0u; step < steps; step++) {
    let cur = step & 1u;
    let nxt = cur ^ 1u;
    let live = step < len;
    let t = start + select(step, len - 1u - step, backwards && live);

    // GRU with linear_before_reset = 0: z and r ⊙ h_{t-1} of every unit first (the candidate's
    // R_h multiplies r ⊙ h of all units).
    if (gru_two_phase) {
      for (var q = 0u; q < QUADS; q++) {
        let xg = input_part(q, 0u, 2u, t, b, live);
        let rg = recurrent(cur, q, 0u, 2u);
        let z = act_f4(d, xg[0] + rg[0]);
        let r = act_f4(d, xg[1] + rg[1]);
        store4(2u, q, z);
        store4(3u, q, r * load4(cur, q));
      }
    }

    for (var q = 0u; q < QUADS; q++) {
      let h = load4(cur, q);
      var h_new: vec4<f32>;
      if (CELL == 0u) {
        let xg = input_part(q, 0u, 1u, t, b, live);
        let rg = recurrent(cur, q, 0u, 1u);
        h_new = act_f4(d, xg[0] + rg[0]);
      } else if (CELL == 1u) {
        if (LINEAR_BEFORE_RESET) {
          let xg = input_part(q, 0u, 3u, t, b, live);
          let rg = recurrent(cur, q, 0u, 3u);
          let z = act_f4(d, xg[0] + rg[0]);
          let r = act_f4(d, xg[1] + rg[1]);
          let rb_h = packed[p_base + PACKED_RB + q];
          let n = act_g4(d, xg[2] + r * (rg[2] + rb_h));
          h_new = (1.0 - z) * n + z * h;
        } else {
          // Gate h alone: its input and bias, and its R times r ⊙ h (slot 3).
          let n = act_g4(d, input_part(q, 2u, 3u, t, b, live)[2] + recurrent(3u, q, 2u, 3u)[2]);
          let z = load4(2u, q);
          h_new = (1.0 - z) * n + z * h;
        }
      } else {
        let xg = input_part(q, 0u, 4u, t, b, live);
        let rg = recurrent(cur, q, 0u, 4u);
        let c = load4(2u, q);
        let gi = act_f4(d, xg[0] + rg[0] + pp(0u, q) * c);
        var gf: vec4<f32>;
        if (INPUT_FORGET) {
          gf = 1.0 - gi;
        } else {
          gf = act_f4(d, xg[2] + rg[2] + pp(2u, q) * c);
        }
        let gc = act_g4(d, xg[3] + rg[3]);
        let c_new = gf * c + gi * gc;
        let go = act_f4(d, xg[1] + rg[1] + pp(1u, q) * c_new);
        h_new = go * act_h4(d, c_new);
        if (live) { store4(2u, q, c_new); }
      }
      let kept = select(h, h_new, live);
      store4(nxt, q, kept);
      if (live) {
        for (var e = 0u; e < 4u; e++) {
          let j = 4u * q + e;
          if (j < H) { y[y_index(t, d, b, j)] = kept[e]; }
        }
      }
    }
  }

  if (!mine) {
    return;
  }
  for (var t = start + len; t < segment_end(start); t++) {
    for (var j = 0u; j < H; j++) { y[y_index(t, d, b, j)] = 0.0; }
  }
  let last = steps & 1u;
  for (var q = 0u; q < QUADS; q++) {
    let h = load4(last, q);
    var c = vec4<f32>(0.0);
    if (lstm) { c = load4(2u, q); }  // slot 2 exists for LSTM and two-phase GRU only
    for (var e = 0u; e < 4u; e++) {
      let j = 4u * q + e;
      if (j < H) {
        final_state[state_index(d, b, j)] = h[e];
        if (lstm) { final_state[state_count + state_index(d, b, j)] = c[e]; }
      }
    }
  }
}
