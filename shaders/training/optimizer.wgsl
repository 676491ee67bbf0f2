// One optimizer step over a parameter buffer, elementwise, PyTorch 1.13's update rules (float64
// reference: src/reference/optim.ts). The buffer holds S models (S = 1: one global model; S > 1:
// per-series models) as S blocks of `stride` floats, of which the first P are trained (a layer's
// packed W | R | B | P, where B or P may not be parameters); every model is clipped by its own norm.
//
//   0 params  uniform Params (below)
//   1 p       [S · stride]  parameters, updated in place
//   2 g       [S · stride]  gradients (read only: clipping scales a copy in registers)
//   3 m       [S · stride]  SGD: momentum buffer; Adam/AdamW: exp_avg
//   4 v       [S · stride]  Adam/AdamW: exp_avg_sq (a placeholder for SGD)
//   5 sumsq   [NORM_PARTS, S]  Σ g² per model for each of the model's parameter buffers
//                              (shaders/training/segment_sum.wgsl), read when MAX_NORM > 0: the norm is over
//                              all of them, as clip_grad_norm_'s over all parameters
//
// Step, in order: clip (by value: g ← clamp(g, ±CLIP_VALUE); by norm: g ← g·min(1, MAX_NORM /
// (‖g‖ + 1e-6)) with ‖g‖ the model's norm), then
//   SGD    d = g + wd·p; buf = d (first step) or momentum·buf + (1 − dampening)·d;
//          d = nesterov ? d + momentum·buf : buf; p ← p − lr·d          (no momentum: p ← p − lr·d)
//   Adam   g ← g + wd·p;  AdamW  p ← p·(1 − lr·wd);  then
//          m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  p ← p − step_size·m / (√v / bc2_sqrt + eps)
// with step_size = lr / (1 − β1ⁿ) and bc2_sqrt = √(1 − β2ⁿ) computed on the host in float64.
// Hyper-parameters that are fixed for a run are override constants; lr and the step's corrections
// change per step and live in the uniform.

override WORKGROUP_SIZE: u32 = 256u;
override KIND: u32 = 0u;            // 0 SGD, 1 Adam, 2 AdamW
override MOMENTUM: f32 = 0.0;
override DAMPENING: f32 = 0.0;
override NESTEROV: bool = false;
override WEIGHT_DECAY: f32 = 0.0;
override BETA1: f32 = 0.9;
override BETA2: f32 = 0.999;
override EPS: f32 = 1e-8;
override CLIP_VALUE: f32 = 0.0;     // > 0: clip by value
override MAX_NORM: f32 = 0.0;       // > 0: clip by global norm
override NORM_PARTS: u32 = 1u;      // parameter buffers the norm adds up
const CLIP_NORM_EPS: f32 = 1e-6;

struct Params {
  count: u32,        // S · P
  per_model: u32,    // P: trained values of each block
  first_step: u32,   // 1 on the optimizer's first step (SGD's momentum buffer starts as d)
  stride: u32,       // floats per model block
  lr: f32,
  step_size: f32,    // Adam: lr / (1 − β1ⁿ)
  bc2_sqrt: f32,     // Adam: √(1 − β2ⁿ)
  _pad2: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> sumsq: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let id = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  if (id >= params.count) {
    return;
  }
  let model = id / params.per_model;
  let i = model * params.stride + id % params.per_model;
  var grad = g[i];
  if (CLIP_VALUE > 0.0) {
    grad = clamp(grad, -CLIP_VALUE, CLIP_VALUE);
  }
  if (MAX_NORM > 0.0) {
    let models = params.count / params.per_model;
    var total = 0.0;
    for (var k = 0u; k < NORM_PARTS; k++) {
      total += sumsq[k * models + model];
    }
    let norm = sqrt(total);
    grad *= min(1.0, MAX_NORM / (norm + CLIP_NORM_EPS));
  }
  let lr = params.lr;
  var w = p[i];
  if (KIND == 0u) {
    var d = grad + WEIGHT_DECAY * w;
    if (MOMENTUM != 0.0) {
      var buf = d;
      if (params.first_step == 0u) {
        buf = MOMENTUM * m[i] + (1.0 - DAMPENING) * d;
      }
      m[i] = buf;
      d = select(buf, d + MOMENTUM * buf, NESTEROV);
    }
    w -= lr * d;
  } else {
    if (KIND == 2u) {
      w *= 1.0 - lr * WEIGHT_DECAY;
    } else {
      grad += WEIGHT_DECAY * w;
    }
    let mi = BETA1 * m[i] + (1.0 - BETA1) * grad;
    let vi = BETA2 * v[i] + (1.0 - BETA2) * grad * grad;
    m[i] = mi;
    v[i] = vi;
    w -= params.step_size * mi / (sqrt(vi) / params.bc2_sqrt + EPS);
  }
  p[i] = w;
}
