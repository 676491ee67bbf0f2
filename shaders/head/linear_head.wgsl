// The nn.Linear head at every row of a [rows, F] array: out[r, o] = Σ_j weight[o, j]·y[r, j] + bias[o].
// One invocation per (row, output); weight [O, F] then bias [O] in one binding. Per-series models:
// rows come in groups of `rows_per_model`, group m using the head at m·`weight_stride`.

override WORKGROUP_SIZE: u32 = 64u;
override IN_FEATURES: u32 = 1u;
override OUT_FEATURES: u32 = 1u;

struct Params {
  rows: u32,
  rows_per_model: u32,
  weight_stride: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let id = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  if (id >= params.rows * OUT_FEATURES) {
    return;
  }
  let r = id / OUT_FEATURES;
  let o = id % OUT_FEATURES;
  let base = (r / params.rows_per_model) * params.weight_stride;
  var acc = weights[base + OUT_FEATURES * IN_FEATURES + o];
  for (var j = 0u; j < IN_FEATURES; j++) {
    acc += weights[base + o * IN_FEATURES + j] * y[r * IN_FEATURES + j];
  }
  out[id] = acc;
}
