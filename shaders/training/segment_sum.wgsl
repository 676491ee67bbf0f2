// Sums of consecutive segments of a flat array, deterministic (a fixed tree, no atomics): the
// gradients' squared norms per model for clipping by global norm, and the loss per model.
//
//   0 params  uniform { seg_len, chunks, segments, stride }   S segments of seg_len values, segment s
//                                           starting at s·stride (stride ≥ seg_len: each segment a
//                                           prefix of a larger block); `chunks` partial sums per
//                                           segment, one per workgroup
//   1 src     [S · stride]
//   2 dst     [dst_offset + S · chunks]     dst[dst_offset + s·chunks + c] = Σ over chunk c of segment s
//
// Workgroup (c, s) sums CHUNK = WORKGROUP_SIZE · ITEMS values (each invocation ITEMS, strided so
// neighbours read neighbouring words), then a tree in workgroup memory. SQUARE sums v² instead of v
// (first pass of a norm). The host runs it again on dst until one value per segment is left.
// WORKGROUP_SIZE is a power of two.

override WORKGROUP_SIZE: u32 = 256u;
override ITEMS: u32 = 8u;
override SQUARE: bool = false;

struct Params {
  seg_len: u32,
  chunks: u32,
  segments: u32,
  stride: u32,
  dst_offset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let group = wid.y * nwg.x + wid.x;   // uniform: the early return below keeps barriers uniform
  let chunks = params.chunks;
  if (group >= chunks * params.segments) {
    return;
  }
  let s = group / chunks;
  let c = group % chunks;
  let n = params.seg_len;
  let base = s * params.stride;
  var acc = 0.0;
  for (var k = 0u; k < ITEMS; k++) {
    let i = c * WORKGROUP_SIZE * ITEMS + k * WORKGROUP_SIZE + lid;
    if (i < n) {
      let v = src[base + i];
      acc += select(v, v * v, SQUARE);
    }
  }
  partial[lid] = acc;
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    workgroupBarrier();
    if (lid < width) {
      partial[lid] += partial[lid + width];
    }
  }
  if (lid == 0u) {
    dst[params.dst_offset + group] = partial[0];
  }
}
