// Shared by the two backward kernels of a recurrent layer (recurrent_backward_tile.wgsl, tiled, and
// recurrent_backward_sequential.wgsl), prepended after shaders/forward/recurrent_common.wgsl, whose override
// constants, `params`, `weights` (binding 2) and `lens` (binding 3) they use as the forward kernels
// do. The equations, per step of a sequence, walked in reverse order of the forward pass
// (⊙ elementwise; a = a gate's saved pre-activation; f, g, h the activations; f'(a) includes clip's
// mask; dh = dY_t + the gradient carried from the step after):
//
//   RNN   dA = dh ⊙ f'(a)                                      dh_prev = Rᵀ dA
//   GRU   dA_z = dh ⊙ (h_prev − n) ⊙ f'(a_z)                  dA_h = dh ⊙ (1 − z) ⊙ g'(a_h)
//         lbr = 1: dA_r = dA_h ⊙ q ⊙ f'(a_r)   (q = R_h h_prev + Rb_h), and R_h, Rb_h see dA_h ⊙ r
//                  dh_prev = dh ⊙ z + R_zᵀ dA_z + R_rᵀ dA_r + R_hᵀ (dA_h ⊙ r)
//         lbr = 0: u = R_hᵀ dA_h (every unit's dA_h first),  dA_r = u ⊙ h_prev ⊙ f'(a_r)
//                  dh_prev = dh ⊙ z + u ⊙ r + R_zᵀ dA_z + R_rᵀ dA_r   (R_h sees r ⊙ h_prev)
//   LSTM  dA_o = dh ⊙ h(c) ⊙ f'(a_o)       dc = dc_carried + dh ⊙ o ⊙ h'(c) + P_o ⊙ dA_o
//         dA_c = dc ⊙ i ⊙ g'(a_c)          di = dc ⊙ c̃ (− dc ⊙ c_prev with input_forget)
//         dA_f = dc ⊙ c_prev ⊙ f'(a_f)     dA_i = di ⊙ f'(a_i)          (dA_f = 0 with input_forget)
//         dc_prev = dc ⊙ f + P_i ⊙ dA_i + P_f ⊙ dA_f          dh_prev = Σ_k R_kᵀ dA_k
//
// dA_k is the gradient of gate k's pre-activation, "dG" below: W_k, Wb_k and the input see it;
// R_k and Rb_k see it too except GRU's h gate with lbr = 1 (dA_h ⊙ r). The parameter gradients and
// dX are reductions of dG over rows (shaders/backward/grad_contract.wgsl); peepholes' need the elementwise
// products, kept per row as "extras". dX = Σ_d Σ_k W_kᵀ dA_k sums both directions, whose steps run
// in different workgroups (and, for one row, at different times): it is one contraction over every
// gate unit after this kernel rather than a sum here, which would need float atomics.
//
// Bindings (group 0), besides 0 params, 2 weights (R, P) and 3 lens from recurrent_common.wgsl:
//   1 fwd         the forward pass's binding 5 in training mode: Y, then the saved values
//                 (recurrent_common.wgsl, "Training"); read here through saved_index
//   4 dstate_in   dY_h then dY_c, each shaped like initial_h (has_h0 / has_c0: given, or carried
//                 from the previous time segment); else the carries start at zero
//   5 dg          rows of DG_WIDTH: [D, G, H] gate gradients dA, then [D, EXTRA, H] extras: GRU lbr:
//                 dA_h ⊙ r; LSTM with peepholes: dA_i ⊙ c_prev, dA_o ⊙ c, dA_f ⊙ c_prev (P's i, o, f)
//                 Rows past a sequence's length are zeros, so reductions may sum every row.
//   6 dstate_out  dh then dc carried past the segment's first step: d initial_h, d initial_c
//   7 dy          dY, shaped like Y (zeros when the loss does not read Y)
//
// Time segments: the backward walks them in the opposite order of the forward (forward direction
// from the last segment, reverse direction from the first), carrying dh, dc through 6 → 4.

@group(0) @binding(1) var<storage, read> fwd: array<f32>;
@group(0) @binding(4) var<storage, read> dstate_in: array<f32>;
@group(0) @binding(5) var<storage, read_write> dg: array<f32>;
@group(0) @binding(6) var<storage, read_write> dstate_out: array<f32>;
@group(0) @binding(7) var<storage, read> dy: array<f32>;

override PEEPHOLES: bool = false;
override EXTRA: u32 = select(select(0u, 3u, CELL == 2u && PEEPHOLES), 1u, CELL == 1u && LINEAR_BEFORE_RESET);
override DG_WIDTH: u32 = NUM_DIRECTIONS * (GATES + EXTRA) * HIDDEN_SIZE;

fn da_col(d: u32, k: u32, j: u32) -> u32 { return (d * GATES + k) * HIDDEN_SIZE + j; }
fn extra_col(d: u32, e: u32, j: u32) -> u32 { return NUM_DIRECTIONS * GH + (d * EXTRA + e) * HIDDEN_SIZE + j; }
fn dg_index(t: u32, b: u32, col: u32) -> u32 { return row_index(t, b) * DG_WIDTH + col; }

// Column of the gradient R_k and Rb_k see (see above).
fn dgr_col(d: u32, k: u32, j: u32) -> u32 {
  if (CELL == 1u && LINEAR_BEFORE_RESET && k == 2u) { return extra_col(d, 0u, j); }
  return da_col(d, k, j);
}

// Gates whose R_kᵀ dA_k the last phase of a step sums (GRU lbr = 0 takes R_h through u earlier).
fn recurrent_gates() -> u32 {
  return select(GATES, 2u, CELL == 1u && !LINEAR_BEFORE_RESET);
}

// One unit's gradients at one step for four sequences (the sequential kernel passes splats).
struct UnitGrads {
  da: array<vec4<f32>, 4>,     // dA per gate
  dgr: array<vec4<f32>, 4>,    // what R_k sees per gate
  extra: array<vec4<f32>, 3>,  // see binding 5
  direct: vec4<f32>,           // the part of dh_prev not through R (GRU's dh ⊙ z)
  dc_prev: vec4<f32>,          // LSTM
}

// Everything of a step that needs only this unit's saved values `sv` (slots as saved), its
// peepholes p (i, o, f), dh and the carried dc. GRU lbr = 0 leaves dA_r to gru_reset_grads.
fn unit_grads(d: u32, sv: array<vec4<f32>, 6>, p: vec3<f32>, dh: vec4<f32>, dc_in: vec4<f32>) -> UnitGrads {
  var u = UnitGrads();
  if (CELL == 0u) {
    u.da[0] = dh * dact_f4(d, sv[0]);
  } else if (CELL == 1u) {
    let z = act_f4(d, sv[0]);
    let n = act_g4(d, sv[2]);
    let h_prev = sv[3];
    u.da[0] = dh * (h_prev - n) * dact_f4(d, sv[0]);
    u.da[2] = dh * (1.0 - z) * dact_g4(d, sv[2]);
    u.direct = dh * z;
    if (LINEAR_BEFORE_RESET) {
      let r = act_f4(d, sv[1]);
      u.da[1] = u.da[2] * sv[4] * dact_f4(d, sv[1]);
      u.extra[0] = u.da[2] * r;
    }
  } else {
    let gi = act_f4(d, sv[0]);
    let go = act_f4(d, sv[1]);
    let gc = act_g4(d, sv[3]);
    let c_prev = sv[5];
    var gf: vec4<f32>;
    if (INPUT_FORGET) { gf = 1.0 - gi; } else { gf = act_f4(d, sv[2]); }
    let c = gf * c_prev + gi * gc;
    u.da[1] = dh * act_h4(d, c) * dact_f4(d, sv[1]);
    let dc = dc_in + dh * go * dact_h4(d, c) + p.y * u.da[1];
    u.da[3] = dc * gi * dact_g4(d, sv[3]);
    var di = dc * gc;
    if (INPUT_FORGET) {
      di -= dc * c_prev;
    } else {
      u.da[2] = dc * c_prev * dact_f4(d, sv[2]);
    }
    u.da[0] = di * dact_f4(d, sv[0]);
    u.dc_prev = dc * gf + p.x * u.da[0] + p.z * u.da[2];
    u.extra[0] = u.da[0] * c_prev;
    u.extra[1] = u.da[1] * c;
    u.extra[2] = u.da[2] * c_prev;
  }
  for (var k = 0u; k < 4u; k++) { u.dgr[k] = u.da[k]; }
  if (CELL == 1u && LINEAR_BEFORE_RESET) { u.dgr[2] = u.extra[0]; }
  return u;
}

// GRU lbr = 0, once u = R_hᵀ dA_h of this unit is known: the reset gate's gradient and r ⊙ u.
fn gru_reset_grads(d: u32, sv: array<vec4<f32>, 6>, uh: vec4<f32>, u: ptr<function, UnitGrads>) {
  (*u).da[1] = uh * sv[3] * dact_f4(d, sv[1]);
  (*u).dgr[1] = (*u).da[1];
  (*u).direct += uh * act_f4(d, sv[1]);
}
