// One step of a recurrent layer for every sequence and direction: the step-wise layer, one dispatch
// per step (per stage), all of a call's steps encoded in one command buffer per submission.
// Bindings 0–6 and the layer's override constants: shaders/forward/recurrent_common.wgsl; binding 7
// `state` and its regions (h in two parities, c, XW): shaders/forward/recurrent_step_common.wgsl.
// Equations: src/reference/recurrent-layer.ts. Gate order is ONNX's.
//
// A step is a GEMM over (sequences × units): gates[b, j, :] = XW_t[b, :, j] + h_{t−1}[b, :] · R_gᵀ,
// then the cell update fused in. A workgroup owns one direction and a tile of 64 sequences × 32
// units; its 256 invocations each own 4 sequences × 2 units and accumulate all their gates in
// registers, so each (sequence, unit) cell update (activations, clip, peepholes, c) happens in one
// invocation. K (the H units of h_{t−1}) is walked in tiles of 16: the h tile [64 seq][16 k] and the
// R tile [16 k][32 units] (a vec4 of the gates per unit) are staged in workgroup memory.
//
// Uniforms beyond recurrent_common's: `step`, the local step inside the segment (0 … steps−1), and
// `step_flags`: bit 0 the parity of h read (the other is written), bit 1 the pass's first step
// (h_{t−1} and c from `init` or zero), bit 2 its last (the final state written).
//
// Stages (override STAGE): 0 the whole step; GRU with linear_before_reset = 0 runs 1 then 2:
// 1 (reset) z and r: writes r ⊙ h_{t−1} and a_z into `state`; 2 (candidate) R_h · (r ⊙ h_{t−1}),
// then h. Lengths as the other kernels: at local step `step` sequence b reads t = start + step (or
// start + len−1−step backwards) while step < len and otherwise keeps its state; each step past a
// length writes the zero of Y at start + step.

override STAGE: u32 = 0u;
const SEQ_PER: u32 = 4u;             // sequences per invocation (rows lid / 16 + 16·s)
const UNITS_PER: u32 = 2u;           // units per invocation (columns lid % 16 + 16·u)
const STEP_WG: u32 = 256u;
const STEP_TILE_K: u32 = 16u;
const TILE_B: u32 = 64u;             // 16 · SEQ_PER sequences per workgroup
const TILE_J: u32 = 32u;             // 16 · UNITS_PER units per workgroup
// Recurrent gates of this stage: component g of an R tile vec4 is gate FIRST_GATE + g.
override FIRST_GATE: u32 = select(0u, 2u, STAGE == 2u);
override REC_GATES: u32 = select(select(GATES, 2u, STAGE == 1u), 1u, STAGE == 2u);
const ACC: u32 = 32u;                // SEQ_PER · UNITS_PER · 4 gate accumulators

var<workgroup> k_tile: array<f32, TILE_B * STEP_TILE_K>;        // [seq][k]: h_{t−1} (or r ⊙ h_{t−1})
var<workgroup> r_tile: array<vec4<f32>, STEP_TILE_K * TILE_J>;  // [k][unit]: the stage's gates

fn flag(bit: u32) -> bool { return (params.step_flags & (1u << bit)) != 0u; }

// h_{t−1} of (d, b, j): from `init` (or zero) on the pass's first step, else the parity read.
fn h_prev(d: u32, b: u32, j: u32) -> f32 {
  if (flag(1u)) { return select(0.0, init[state_index(d, b, j)], params.has_h0 == 1u); }
  return state[(params.step_flags & 1u) * dbh() + unit_index(d, b, j)];
}

fn c_prev(d: u32, b: u32, j: u32) -> f32 {
  if (flag(1u)) { return select(0.0, init[NUM_DIRECTIONS * params.batch * HIDDEN_SIZE + state_index(d, b, j)], params.has_c0 == 1u); }
  return state[2u * dbh() + unit_index(d, b, j)];
}

// The GEMM's left operand: h_{t−1}, or r ⊙ h_{t−1} in the candidate stage.
fn operand(d: u32, b: u32, k: u32) -> f32 {
  if (STAGE == 2u) { return state[3u * dbh() + unit_index(d, b, k)]; }
  return h_prev(d, b, k);
}

@compute @workgroup_size(STEP_WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let H = HIDDEN_SIZE;
  let B = params.batch;
  let placed = locate_block(wid.y * nwg.x + wid.x, B, TILE_B, H, TILE_J);
  if (!placed.valid) {
    return;  // the whole workgroup leaves together: barriers stay uniform
  }
  let d = placed.d;
  let b0 = placed.row;
  let j0 = placed.col;
  let lx = lid % 16u;
  let ly = lid / 16u;

  // Recurrent products: acc[(s · UNITS_PER + u) · 4 + g] for sequence b0 + ly + 16·s, unit
  // j0 + lx + 16·u, gate FIRST_GATE + g.
  var acc = array<f32, ACC>();
  for (var k0 = 0u; k0 < H; k0 += STEP_TILE_K) {
    for (var e = lid; e < TILE_B * STEP_TILE_K; e += STEP_WG) {
      let b = b0 + e / STEP_TILE_K;
      let k = k0 + e % STEP_TILE_K;
      var v = 0.0;
      if (b < B && k < H) { v = operand(d, b, k); }
      k_tile[e] = v;
    }
    // R tile: consecutive invocations read consecutive k of one row of R.
    for (var e = lid; e < TILE_J * STEP_TILE_K; e += STEP_WG) {
      let jj = e / STEP_TILE_K;
      let kk = e % STEP_TILE_K;
      let j = j0 + jj;
      let k = k0 + kk;
      var w = vec4<f32>(0.0);
      if (j < H && k < H) {
        for (var g = 0u; g < REC_GATES; g++) {
          w[g] = weight(R_OFFSET + ((d * GATES + FIRST_GATE + g) * H + j) * H + k);
        }
      }
      r_tile[kk * TILE_J + jj] = w;
    }
    workgroupBarrier();
    for (var k = 0u; k < STEP_TILE_K; k++) {
      for (var u = 0u; u < UNITS_PER; u++) {
        let w = r_tile[k * TILE_J + lx + 16u * u];
        for (var s = 0u; s < SEQ_PER; s++) {
          let hv = k_tile[(ly + 16u * s) * STEP_TILE_K + k];
          for (var g = 0u; g < REC_GATES; g++) {
            acc[(s * UNITS_PER + u) * 4u + g] += hv * w[g];
          }
        }
      }
    }
    workgroupBarrier();
  }

  let start = segment_start(d);
  let seg_steps = segment_steps(start);
  let step = params.step;
  let backwards = REVERSE || d == 1u;
  let region = dbh();
  let h_out = (1u - (params.step_flags & 1u)) * region;
  for (var s = 0u; s < SEQ_PER; s++) {
    let b = b0 + ly + 16u * s;
    if (b >= B) { continue; }
    let len = segment_len(b, start);
    let live = step < len;
    let t = start + select(step, len - 1u - step, backwards && live);
    for (var u = 0u; u < UNITS_PER; u++) {
      let j = j0 + lx + 16u * u;
      if (j >= H) { continue; }
      let a0 = (s * UNITS_PER + u) * 4u;
      let idx = unit_index(d, b, j);
      let hp = h_prev(d, b, j);
      // Pre-activations: XW (inputs and biases) plus the recurrent products (only read when live:
      // t is a step of the segment then).
      var a = vec4<f32>(0.0);
      if (live) {
        let xw = xw_index(d, (t - start) * B + b, j);
        for (var g = 0u; g < GATES; g++) { a[g] = state[xw + g * H]; }
        for (var g = 0u; g < REC_GATES; g++) {
          if (!(CELL == 1u && LINEAR_BEFORE_RESET && g == 2u)) { a[FIRST_GATE + g] += acc[a0 + g]; }
        }
      }
      if (STAGE == 1u) {
        // GRU reset stage: r ⊙ h_{t−1} for the candidate stage's GEMM, and a_z.
        state[3u * region + idx] = select(0.0, act_f(d, a[1]) * hp, live);
        state[4u * region + idx] = a[0];
        continue;
      }
      var h_new = hp;
      if (CELL == 0u) {
        h_new = act_f(d, a[0]);
      } else if (CELL == 1u) {
        var a_z = a[0];
        var a_h = a[2];
        if (GRU_TWO_STAGE) {
          a_z = state[4u * region + idx];
        } else {
          // linear_before_reset = 1: a_h = XW_h + r ⊙ (R_h h + Rb_h); XW_h holds Wb_h only.
          let rb_h = weight(B_OFFSET + d * 2u * GH + GH + 2u * H + j);
          a_h = a[2] + act_f(d, a[1]) * (acc[a0 + 2u] + rb_h);
        }
        let z = act_f(d, a_z);
        h_new = (1.0 - z) * act_g(d, a_h) + z * hp;
      } else {
        var c = c_prev(d, b, j);
        if (live) {
          // Peepholes i, o, f (zeros when the model has none).
          let pi = weight(P_OFFSET + d * 3u * H + j);
          let po = weight(P_OFFSET + d * 3u * H + H + j);
          let pf = weight(P_OFFSET + d * 3u * H + 2u * H + j);
          let gi = act_f(d, a[0] + pi * c);
          var gf = 1.0 - gi;
          if (!INPUT_FORGET) { gf = act_f(d, a[2] + pf * c); }
          c = gf * c + gi * act_g(d, a[3]);
          h_new = act_f(d, a[1] + po * c) * act_h(d, c);
        }
        state[2u * region + idx] = c;
        if (flag(2u)) { final_state[NUM_DIRECTIONS * B * H + state_index(d, b, j)] = c; }
      }
      h_new = select(hp, h_new, live);
      state[h_out + idx] = h_new;
      if (live) {
        y[y_index(t, d, b, j)] = h_new;
      } else if (step < seg_steps) {
        y[y_index(start + step, d, b, j)] = 0.0;
      }
      if (flag(2u)) { final_state[state_index(d, b, j)] = h_new; }
    }
  }
}
