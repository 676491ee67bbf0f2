// A training loss over Y [B, T, O] (batch-major, a stack's output) on the GPU: its gradient d loss /
// d Y and each element's share of the loss, for shaders/training/segment_sum.wgsl to add up per model
// (float64 reference: src/train/loss.ts). With G models (G = 1: one global model; per-series mode:
// G groups of B/G consecutive sequences, each group its own model and its own mean):
//
//   mse   term = m_bt (y − target)² / N_g        dY = 2 m_bt (y − target) / N_g
//   mae   term = m_bt |y − target| / N_g         dY = m_bt sign(y − target) / N_g
//
// for steps t ≥ first (all steps, or the last h), zero elsewhere; N_g = O · Σ m_bt over group g's
// selected steps, counted on the host (1/N_g = 0 when N_g = 0). sign(0) = 0, as PyTorch's.
//
//   0 params   uniform { batch, steps, first, per_group }
//   1 y        [B, T, O]
//   2 truth    [B, T, O] the targets
//   3 mask     [B, T] of 0 and 1 (read when HAS_MASK)
//   4 inv_n    [G] 1 / N_g
//   5 dy       [B, T, O]
//   6 term     [B, T, O]

override WORKGROUP_SIZE: u32 = 256u;
override OUTPUTS: u32 = 1u;
override MAE: bool = false;
override HAS_MASK: bool = false;

struct Params {
  batch: u32,
  steps: u32,
  first: u32,
  per_group: u32,   // B / G sequences per model
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> truth: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read> inv_n: array<f32>;
@group(0) @binding(5) var<storage, read_write> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> term: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let k = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  if (k >= params.batch * params.steps * OUTPUTS) {
    return;
  }
  let bt = k / OUTPUTS;
  let t = bt % params.steps;
  let b = bt / params.steps;
  var weight = select(0.0, inv_n[b / params.per_group], t >= params.first);
  if (HAS_MASK) {
    weight *= mask[bt];
  }
  let e = y[k] - truth[k];
  if (MAE) {
    term[k] = weight * abs(e);
    dy[k] = weight * sign(e);
  } else {
    term[k] = weight * e * e;
    dy[k] = 2.0 * weight * e;
  }
}
