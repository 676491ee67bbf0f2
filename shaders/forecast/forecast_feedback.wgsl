// Recursive forecasting's feedback step (src/rnn/forecast.ts): prediction k of every sequence, read
// from the head's output, is stored into the forecast and written as the first OUTPUTS features of
// the next one-step input, after which come the known covariates of time T + k.
//
//   0 params    uniform { batch, horizon, k, src_stride, src_offset }
//   1 src       the head's output: prediction k of sequence b at b·src_stride + src_offset + o
//   2 exog      [B, horizon, INPUTS − OUTPUTS] covariates (a placeholder when there are none)
//   3 xstep     [B, 1, INPUTS] the next step's input
//   4 forecast  [B, horizon, OUTPUTS]
//
// One invocation per sequence.

override WORKGROUP_SIZE: u32 = 64u;
override INPUTS: u32 = 1u;
override OUTPUTS: u32 = 1u;

struct Params {
  batch: u32,
  horizon: u32,
  k: u32,
  src_stride: u32,
  src_offset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> exog: array<f32>;
@group(0) @binding(3) var<storage, read_write> xstep: array<f32>;
@group(0) @binding(4) var<storage, read_write> forecast: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let b = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  if (b >= params.batch) {
    return;
  }
  let k = params.k;
  for (var o = 0u; o < OUTPUTS; o++) {
    let v = src[b * params.src_stride + params.src_offset + o];
    forecast[(b * params.horizon + k) * OUTPUTS + o] = v;
    xstep[b * INPUTS + o] = v;
  }
  let E = INPUTS - OUTPUTS;
  for (var e = 0u; e < E; e++) {
    xstep[b * INPUTS + OUTPUTS + e] = exog[(b * params.horizon + k) * E + e];
  }
}
