// Shared by the recurrent-layer kernels (prepended to each; see src/gpu/kernels/forward/plan.ts):
// the layer's override constants, the bindings every kernel has, the ONNX activation functions,
// clip, and the index maps of the two layouts. Equations: src/reference/recurrent-layer.ts.
//
// Bindings (group 0), D directions, G gates:
//   0 params   uniform Params
//   1 x        layout 0: [T, B, I]   layout 1: [B, T, I]
//   2 weights  W [D, G·H, I] | R [D, G·H, H] | B [D, 2·G·H] (Wb then Rb) | P [D, 3·H] (i, o, f)
//   3 lens     [B] u32 steps per sequence (read only when params.has_lens = 1)
//   4 init     initial_h then initial_c, each layout 0: [D, B, H]  layout 1: [B, D, H]
//   5 y        layout 0: [T, D, B, H]  layout 1: [B, T, D, H]
//   6 final    Y_h then Y_c, each shaped like initial_h
//
// Training mode (SAVE, the tiled and sequential kernels): binding 5 holds Y followed by what the
// backward pass (shaders/backward/recurrent_backward_*.wgsl) needs per step, `saved` below, so that inference
// binds exactly what it did before and the SAVE branches fold away when the constant is off. The
// backward kernels, prepended with this file too, use only 0, 2 and 3 of the bindings above and
// declare their own at 1, 4–7 (WGSL lets two variables share a binding that no entry point uses both
// of; pipeline layouts are 'auto', built from what each entry point uses).

override INPUT_SIZE: u32 = 1u;
override HIDDEN_SIZE: u32 = 1u;
override CELL: u32 = 0u;            // 0 RNN, 1 GRU, 2 LSTM
override NUM_DIRECTIONS: u32 = 1u;
override REVERSE: bool = false;     // single direction, read backwards
override LAYOUT: u32 = 0u;          // 0 time-major, 1 batch-major
override CLIP: f32 = 0.0;           // > 0: clamp every pre-activation to ±CLIP
override LINEAR_BEFORE_RESET: bool = false;
override INPUT_FORGET: bool = false;
// Activation codes (index in src/rnn/activations.ts ACTIVATION_NAMES), f/g/h per direction.
override ACT_F0: u32 = 2u; override ALPHA_F0: f32 = 0.0; override BETA_F0: f32 = 0.0;
override ACT_G0: u32 = 1u; override ALPHA_G0: f32 = 0.0; override BETA_G0: f32 = 0.0;
override ACT_H0: u32 = 1u; override ALPHA_H0: f32 = 0.0; override BETA_H0: f32 = 0.0;
override ACT_F1: u32 = 2u; override ALPHA_F1: f32 = 0.0; override BETA_F1: f32 = 0.0;
override ACT_G1: u32 = 1u; override ALPHA_G1: f32 = 0.0; override BETA_G1: f32 = 0.0;
override ACT_H1: u32 = 1u; override ALPHA_H1: f32 = 0.0; override BETA_H1: f32 = 0.0;

// One dispatch runs one time segment of `steps` steps out of `total_steps`; long sequences are split
// into segments (one submission each) with the state carried between them through init/final.
// Direction d's segment starts at global step t_offset{d}: forward runs segments first to last,
// reverse last to first, so a bidirectional dispatch can hold two different segments.
//
// Per-series models (training many small networks at once): the batch comes in groups of
// `model_batch` consecutive sequences, group m using the weights at m·`weight_stride` of binding 2
// (see `weight`). One model: model_batch = batch, and the stride is never used.
struct Params {
  batch: u32,
  steps: u32,
  has_h0: u32,
  has_c0: u32,
  has_lens: u32,
  total_steps: u32,
  t_offset0: u32,
  t_offset1: u32,
  model_batch: u32,
  weight_stride: u32,
  step: u32,         // the step-wise kernel's local step (shaders/forward/recurrent_step.wgsl); 0 elsewhere
  step_flags: u32,   // and its flags (ibid.); 0 elsewhere
}

@group(0) @binding(0) var<uniform> params: Params;
// Bindings 1 (x), 2 (weights) and 5 (y) are the storage file's, prepended with this one:
// shaders/forward/storage_f32.wgsl or, for f16 storage, storage_f16.wgsl.
@group(0) @binding(3) var<storage, read> lens: array<u32>;
@group(0) @binding(4) var<storage, read> init: array<f32>;
@group(0) @binding(6) var<storage, read_write> final_state: array<f32>;
override GATES: u32 = select(select(4u, 3u, CELL == 1u), 1u, CELL == 0u);
override GH: u32 = GATES * HIDDEN_SIZE;
override R_OFFSET: u32 = NUM_DIRECTIONS * GH * INPUT_SIZE;
override B_OFFSET: u32 = R_OFFSET + NUM_DIRECTIONS * GH * HIDDEN_SIZE;
override P_OFFSET: u32 = B_OFFSET + NUM_DIRECTIONS * 2u * GH;

// ---- Per-series models -------------------------------------------------------------------------
//
// Where this invocation's model's weights start in binding 2, set once by `use_model_of` before any
// `weight` read (a workgroup of the tiled kernels holds sequences of one model only).
var<private> w_base: u32 = 0u;

fn use_model_of(b: u32) { w_base = (b / params.model_batch) * params.weight_stride; }

// Value i of the packed W | R | B | P of this invocation's model.
fn weight(i: u32) -> f32 { return load_weight(w_base + i); }

// The G gates' recurrent weights of unit j against unit m, direction d, as one vec4 (unused gates 0).
fn r_gates(d: u32, j: u32, m: u32) -> vec4<f32> {
  var w = vec4<f32>(0.0);
  for (var k = 0u; k < GATES; k++) {
    w[k] = weight(R_OFFSET + ((d * GATES + k) * HIDDEN_SIZE + j) * HIDDEN_SIZE + m);
  }
  return w;
}

// ---- A hidden unit's biases and peepholes (the tiled kernels, one unit per invocation) ----------
//
// Wb + Rb of each gate of unit j, direction d, as one vec4 (unused gates 0); for GRU with
// linear_before_reset the candidate's Rb is left out: it stays inside r ⊙ (…), `unit_rb_h`.
fn unit_bias(d: u32, j: u32) -> vec4<f32> {
  let lbr = CELL == 1u && LINEAR_BEFORE_RESET;
  var bias = vec4<f32>(0.0);
  for (var k = 0u; k < GATES; k++) {
    bias[k] = weight(B_OFFSET + d * 2u * GH + k * HIDDEN_SIZE + j);
    if (!(lbr && k == 2u)) { bias[k] += weight(B_OFFSET + d * 2u * GH + GH + k * HIDDEN_SIZE + j); }
  }
  return bias;
}

// The candidate's Rb of unit j for GRU with linear_before_reset, else 0.
fn unit_rb_h(d: u32, j: u32) -> f32 {
  return select(0.0, weight(B_OFFSET + d * 2u * GH + GH + 2u * HIDDEN_SIZE + j), CELL == 1u && LINEAR_BEFORE_RESET);
}

// LSTM's peepholes i, o, f of unit j (0 for the other cells).
fn unit_peepholes(d: u32, j: u32) -> vec3<f32> {
  var p = vec3<f32>(0.0);
  if (CELL == 2u) {
    for (var k = 0u; k < 3u; k++) { p[k] = weight(P_OFFSET + d * 3u * HIDDEN_SIZE + k * HIDDEN_SIZE + j); }
  }
  return p;
}

// The tiled kernels' workgroups: D directions × models × tiles of `per_tile` sequences each, a tile
// never holding two models (the last tile of a model may be partial). Workgroup `id` owns direction
// `d` and sequences first … end−1 (end: one past the tile's model's last sequence, not the tile's).
// It also carries what every tiled kernel derives from d first: whether it walks time backwards
// (REVERSE, or the second direction), the segment's first global step and its step count (uniform,
// as d is the workgroup's: the barriers in the step loop stay uniform).
struct Tile {
  valid: bool,
  d: u32,
  first: u32,
  end: u32,
  backwards: bool,
  start: u32,
  steps: u32,
}

fn locate_tile(id: u32, per_tile: u32) -> Tile {
  let per_model = params.model_batch;
  let tiles = (per_model + per_tile - 1u) / per_tile;
  let per_direction = (params.batch / per_model) * tiles;
  var spot: Tile;
  spot.valid = id < NUM_DIRECTIONS * per_direction;
  spot.d = id / per_direction;
  let m = (id % per_direction) / tiles;
  spot.first = m * per_model + (id % tiles) * per_tile;
  spot.end = (m + 1u) * per_model;
  spot.backwards = REVERSE || spot.d == 1u;
  spot.start = segment_start(spot.d);
  spot.steps = segment_steps(spot.start);
  return spot;
}

// The activations on four values at once (the tiled kernel's four sequences; the sequential kernel
// passes a splat). The code is an override constant, so the switch folds away.
fn apply4(code: u32, alpha: f32, beta: f32, v: vec4<f32>) -> vec4<f32> {
  let zero = vec4<f32>(0.0);
  switch code {
    case 0u: { return max(v, zero); }                                                  // Relu
    case 1u: { return tanh(clamp(v, vec4<f32>(-15.0), vec4<f32>(15.0))); }             // Tanh
    case 2u: { return 1.0 / (1.0 + exp(-clamp(v, vec4<f32>(-88.0), vec4<f32>(88.0)))); } // Sigmoid
    case 3u: { return alpha * v + beta; }                                              // Affine
    case 4u: { return select(alpha * v, v, v >= zero); }                               // LeakyRelu
    case 5u: { return select(zero, v, v > vec4<f32>(alpha)); }                         // ThresholdedRelu
    case 6u: { return alpha * tanh(clamp(beta * v, vec4<f32>(-15.0), vec4<f32>(15.0))); } // ScaledTanh
    case 7u: { return clamp(alpha * v + beta, zero, vec4<f32>(1.0)); }                 // HardSigmoid
    case 8u: { return select(alpha * (exp(min(v, zero)) - 1.0), v, v >= zero); }       // Elu
    case 9u: { return v / (1.0 + abs(v)); }                                            // Softsign
    default: { return select(log(1.0 + exp(min(v, vec4<f32>(30.0)))), v, v > vec4<f32>(30.0)); } // Softplus
  }
}

// ONNX clips the gates' pre-activations (f and g), not the argument of h.
fn clip4(v: vec4<f32>) -> vec4<f32> {
  if (CLIP > 0.0) { return clamp(v, vec4<f32>(-CLIP), vec4<f32>(CLIP)); }
  return v;
}

// f, g and h of direction d; with one direction the branch folds away.
fn act_f4(d: u32, v: vec4<f32>) -> vec4<f32> {
  if (NUM_DIRECTIONS == 1u || d == 0u) { return apply4(ACT_F0, ALPHA_F0, BETA_F0, clip4(v)); }
  return apply4(ACT_F1, ALPHA_F1, BETA_F1, clip4(v));
}
fn act_g4(d: u32, v: vec4<f32>) -> vec4<f32> {
  if (NUM_DIRECTIONS == 1u || d == 0u) { return apply4(ACT_G0, ALPHA_G0, BETA_G0, clip4(v)); }
  return apply4(ACT_G1, ALPHA_G1, BETA_G1, clip4(v));
}
fn act_h4(d: u32, v: vec4<f32>) -> vec4<f32> {
  if (NUM_DIRECTIONS == 1u || d == 0u) { return apply4(ACT_H0, ALPHA_H0, BETA_H0, v); }
  return apply4(ACT_H1, ALPHA_H1, BETA_H1, v);
}

// Scalar forms (clip included for f and g, as above).
fn act_f(d: u32, v: f32) -> f32 { return act_f4(d, vec4<f32>(v)).x; }
fn act_g(d: u32, v: f32) -> f32 { return act_g4(d, vec4<f32>(v)).x; }
fn act_h(d: u32, v: f32) -> f32 { return act_h4(d, vec4<f32>(v)).x; }


fn x_index(t: u32, b: u32, i: u32) -> u32 {
  if (LAYOUT == 0u) { return (t * params.batch + b) * INPUT_SIZE + i; }
  return (b * params.total_steps + t) * INPUT_SIZE + i;
}

fn y_index(t: u32, d: u32, b: u32, j: u32) -> u32 {
  if (LAYOUT == 0u) { return ((t * NUM_DIRECTIONS + d) * params.batch + b) * HIDDEN_SIZE + j; }
  return ((b * params.total_steps + t) * NUM_DIRECTIONS + d) * HIDDEN_SIZE + j;
}

fn state_index(d: u32, b: u32, j: u32) -> u32 {
  if (LAYOUT == 0u) { return (d * params.batch + b) * HIDDEN_SIZE + j; }
  return (b * NUM_DIRECTIONS + d) * HIDDEN_SIZE + j;
}

// The first global step of this dispatch's segment for direction d.
fn segment_start(d: u32) -> u32 {
  return select(params.t_offset0, params.t_offset1, d == 1u);
}

// Steps sequence b runs inside the segment starting at `start`: what is left of its length, at most
// the segment's. Steps are local (0 … steps−1) inside a segment; global step = start + local.
fn segment_len(b: u32, start: u32) -> u32 {
  var len = params.total_steps;
  if (params.has_lens == 1u) { len = min(lens[b], params.total_steps); }
  return select(0u, min(len - start, params.steps), len > start);
}

// One past the last global step of the segment (the last segment may be shorter than `steps`).
fn segment_end(start: u32) -> u32 {
  return min(start + params.steps, params.total_steps);
}

// Steps of the segment starting at `start`: `steps`, or fewer for the last one. The kernels that walk
// every sequence in step (tiled, lanes) loop this many times, not `steps`: a short last segment
// would otherwise run the whole nominal length with every sequence past its end.
fn segment_steps(start: u32) -> u32 {
  return segment_end(start) - start;
}

// ---- Training: the values the forward pass keeps for the backward pass --------------------------
//
// Rows are X's rows, (t, b) in layout 0 and (b, t) in layout 1, so the gradient reductions walk the
// saved values, X, dY and the gate gradients with one row stride each. Per row and direction,
// SAVED_SLOTS vectors of H, all taken before the step's update (a = a gate's pre-activation before
// clip, peepholes included; h_prev, c_prev = the state the step starts from):
//   RNN   a, h_prev
//   GRU   a_z, a_r, a_h, h_prev, then q = R_h·h_prev + Rb_h (linear_before_reset) or r ⊙ h_prev
//   LSTM  a_i, a_o, a_f (0 with input_forget), a_c, h_prev, c_prev
// Saving pre-activations rather than gate values is what makes every activation work: f'(a) and
// clip's mask need a itself (ReLU, HardSigmoid, a clipped tanh are not invertible from the output);
// the values are recomputed from a in the backward pass at the cost of one activation each.
override SAVE: bool = false;
override SAVED_SLOTS: u32 = select(select(6u, 5u, CELL == 1u), 2u, CELL == 0u);

// Slot of h_prev: right after the gates' pre-activations.
fn slot_h_prev() -> u32 { return GATES; }

fn row_index(t: u32, b: u32) -> u32 {
  if (LAYOUT == 0u) { return t * params.batch + b; }
  return b * params.total_steps + t;
}

// Saved values sit after Y in binding 5 (see above); Y has total_steps·D·B·H values.
fn saved_index(t: u32, d: u32, b: u32, slot: u32, j: u32) -> u32 {
  let y_size = params.total_steps * NUM_DIRECTIONS * params.batch * HIDDEN_SIZE;
  return y_size + ((row_index(t, b) * NUM_DIRECTIONS + d) * SAVED_SLOTS + slot) * HIDDEN_SIZE + j;
}

// ---- Training: derivatives of the activations and of clip ----------------------------------------

// d act / dv at v (already clipped), on four values; the code folds the switch away as in apply4.
// At a kink, the value PyTorch's autograd gives (as src/rnn/activations.ts activationDerivative):
// Relu'(0) = 0, LeakyRelu'(0) = alpha, Elu'(0) = alpha, 0 at HardSigmoid's corners.
fn grad4(code: u32, alpha: f32, beta: f32, v: vec4<f32>) -> vec4<f32> {
  let zero = vec4<f32>(0.0);
  let one = vec4<f32>(1.0);
  switch code {
    case 0u: { return select(zero, one, v > zero); }                                   // Relu
    case 1u: { let y = tanh(clamp(v, vec4<f32>(-15.0), vec4<f32>(15.0))); return 1.0 - y * y; } // Tanh
    case 2u: { let y = 1.0 / (1.0 + exp(-clamp(v, vec4<f32>(-88.0), vec4<f32>(88.0)))); return y * (1.0 - y); } // Sigmoid
    case 3u: { return vec4<f32>(alpha); }                                              // Affine
    case 4u: { return select(vec4<f32>(alpha), one, v > zero); }                       // LeakyRelu
    case 5u: { return select(zero, one, v > vec4<f32>(alpha)); }                       // ThresholdedRelu
    case 6u: { let y = tanh(clamp(beta * v, vec4<f32>(-15.0), vec4<f32>(15.0))); return alpha * beta * (1.0 - y * y); } // ScaledTanh
    case 7u: { let u = alpha * v + beta; return select(zero, vec4<f32>(alpha), (u > zero) & (u < one)); } // HardSigmoid
    case 8u: { return select(alpha * exp(min(v, zero)), one, v > zero); }              // Elu
    case 9u: { let a = 1.0 + abs(v); return 1.0 / (a * a); }                           // Softsign
    default: { return select(1.0 / (1.0 + exp(-min(v, vec4<f32>(30.0)))), one, v > vec4<f32>(30.0)); } // Softplus
  }
}

// d clip(v) / dv: 1 inside [−CLIP, CLIP], 0 where clip clamped (no gradient flows through a clamp).
fn clip_grad4(v: vec4<f32>) -> vec4<f32> {
  if (CLIP > 0.0) { return select(vec4<f32>(0.0), vec4<f32>(1.0), abs(v) <= vec4<f32>(CLIP)); }
  return vec4<f32>(1.0);
}

// d f(clip(a)) / da, and the same for g; h has no clip (ONNX clips the gates only).
fn dact_f4(d: u32, v: vec4<f32>) -> vec4<f32> {
  if (NUM_DIRECTIONS == 1u || d == 0u) { return grad4(ACT_F0, ALPHA_F0, BETA_F0, clip4(v)) * clip_grad4(v); }
  return grad4(ACT_F1, ALPHA_F1, BETA_F1, clip4(v)) * clip_grad4(v);
}
fn dact_g4(d: u32, v: vec4<f32>) -> vec4<f32> {
  if (NUM_DIRECTIONS == 1u || d == 0u) { return grad4(ACT_G0, ALPHA_G0, BETA_G0, clip4(v)) * clip_grad4(v); }
  return grad4(ACT_G1, ALPHA_G1, BETA_G1, clip4(v)) * clip_grad4(v);
}
fn dact_h4(d: u32, v: vec4<f32>) -> vec4<f32> {
  if (NUM_DIRECTIONS == 1u || d == 0u) { return grad4(ACT_H0, ALPHA_H0, BETA_H0, v); }
  return grad4(ACT_H1, ALPHA_H1, BETA_H1, v);
}
