// Copy kernel: the adapter's memory-bandwidth ceiling (bench/ceilings.ts). dst[i] = src[i] for every
// vec4<f32> of the buffers, one vec4 per invocation: each byte is read once and written once.
//
// Bindings: 0 src  array<vec4<f32>> (read), 1 dst  array<vec4<f32>> (read_write), same length; the
// host pads both buffers to a whole vec4, so any float count copies (the padding is copied too).
// Grid: 2-D when the workgroups exceed maxComputeWorkgroupsPerDimension (src/gpu/grid.ts); the
// invocation's vec4 is (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid, and those past the end idle.

override WORKGROUP_SIZE: u32 = 256;

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  if (i < arrayLength(&dst)) {
    dst[i] = src[i];
  }
}
