// The reduction behind every gradient of a recurrent layer and of the head: a batched, strided
// contraction over rows, deterministic (each output is one invocation's sum in a fixed order, no
// atomics):
//
//   out[c, z, p, q] = Σ_{r < rows(c)} A[c, z, r, p] · B[c, z, r, q]
//
// with X[c, z, r, i] = x[off + c·chunk + z·zs + r·row + i·col] for each operand, and out likewise
// with strides (chunk, z, p, q). c walks chunks of rows (chunk c holds rows c·rows_per_chunk …,
// the last one what is left of rows_total), z a batch of independent products (the directions).
// What the host builds with it (src/gpu/kernels/backward/grad-contract.ts):
//   dW = Σ_rows dG ⊗ x      dR = Σ_rows dG ⊗ h_prev     dB = Σ_rows dG (B = a buffer holding 1,
//   every stride 0)         dX = dG · W (rows = the gate units, p = the data rows)
//   partial sums per chunk of sequences, then their sum: the same kernel over rows = chunks.
// A per-series mode (every sequence its own weights) is chunks of one sequence and no final sum.
//
// Bindings: 0 params, 1 a (read), 2 b (read), 3 out (read_write).
//
// Two entry points, both with a register block of 16 outputs per invocation as four vec4 sums:
// - `main` (Q > 4): a workgroup of WG_P × WG_Q invocations owns a (4·WG_P) × (4·WG_Q) tile of one
//   (c, z), invocation (lp, lq) the 4 × 4 block at p = 4·lp + i, q = 4·lq + lane. Rows are staged
//   TILE_R at a time in workgroup memory as vec4 along p and along q (each operand value loaded once
//   per workgroup), so a row costs two vec4 reads and four vec4 multiply-adds per invocation.
//   Measured on SwiftShader (scratch/bptt/contract_bench.ts, LSTM H = 32's dR: P = 128, Q = 32 over
//   65,536 rows): about 1.0 s against about 4 s for the same blocks reading storage directly.
// - `main_direct` (Q ≤ 4: row sums, dW and dX of a few inputs): one block along q, so each value of
//   B is read once per block of p; invocation owns p = p0 + i, q = q0 + lane (Q_BLOCK = 4) or
//   p = p0 + 4·i + lane (Q_BLOCK = 1, a single column), reading A and B where they lie: no workgroup
//   memory, no barriers (on a CPU adapter a barrier is a context switch).
// Indices past P or Q are staged as zeros (main) or clamped (main_direct); lanes past them are never
// stored.

override WORKGROUP_SIZE: u32 = 64u;
override WG_Q: u32 = 8u;                     // main: invocations along q (a power of two)
override WG_P: u32 = WORKGROUP_SIZE / WG_Q;  // main: invocations along p
override TILE_R: u32 = 32u;                  // main: rows staged per barrier
override Q_BLOCK: u32 = 1u;                  // main_direct: columns per block, 1 or 4
override A_TILE: u32 = TILE_R * WG_P;        // vec4 along p
override B_TILE: u32 = TILE_R * WG_Q;        // vec4 along q

struct Params {
  p_size: u32, q_size: u32, rows_per_chunk: u32, rows_total: u32,
  zs: u32, blocks_p: u32, blocks_q: u32, items: u32,  // main: tiles along p, q, workgroups; main_direct: blocks, invocations
  a_off: u32, a_chunk: u32, a_z: u32, a_row: u32,
  a_col: u32, b_off: u32, b_chunk: u32, b_z: u32,
  b_row: u32, b_col: u32, o_off: u32, o_chunk: u32,
  o_z: u32, o_p: u32, o_q: u32, _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> a_tile: array<vec4<f32>, A_TILE>;  // [r][lp]: A[r, 4·lp … 4·lp+3] of the tile
var<workgroup> b_tile: array<vec4<f32>, B_TILE>;  // [r][lq]: B[r, 4·lq … 4·lq+3] of the tile

// Where item `id` of a dispatch lies: (c, z, block along p, block along q), q fastest.
fn locate(id: u32) -> vec4<u32> {
  let bq = id % params.blocks_q;
  var rest = id / params.blocks_q;
  let bp = rest % params.blocks_p;
  rest /= params.blocks_p;
  return vec4<u32>(rest / params.zs, rest % params.zs, bp, bq);
}

fn rows_of(c: u32) -> u32 {
  return min(params.rows_per_chunk, params.rows_total - c * params.rows_per_chunk);
}

fn store(c: u32, z: u32, p: u32, q: u32, v: f32) {
  if (p < params.p_size && q < params.q_size) {
    out[params.o_off + c * params.o_chunk + z * params.o_z + p * params.o_p + q * params.o_q] = v;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let group = wid.y * nwg.x + wid.x;
  if (group >= params.items) {
    return;  // the whole workgroup leaves together: barriers stay uniform
  }
  let at = locate(group);
  let c = at.x;
  let z = at.y;
  let p0 = at.z * 4u * WG_P;
  let q0 = at.w * 4u * WG_Q;
  let rows = rows_of(c);
  let a_base = params.a_off + c * params.a_chunk + z * params.a_z;
  let b_base = params.b_off + c * params.b_chunk + z * params.b_z;
  let lp = lid / WG_Q;
  let lq = lid % WG_Q;

  var acc = array<vec4<f32>, 4>();
  for (var r0 = 0u; r0 < rows; r0 += TILE_R) {
    for (var e = lid; e < 4u * A_TILE; e += WORKGROUP_SIZE) {
      let r = r0 + e / (4u * WG_P);
      let p = p0 + e % (4u * WG_P);
      var v = 0.0;
      if (r < rows && p < params.p_size) { v = a[a_base + r * params.a_row + p * params.a_col]; }
      a_tile[e / 4u][e % 4u] = v;
    }
    for (var e = lid; e < 4u * B_TILE; e += WORKGROUP_SIZE) {
      let r = r0 + e / (4u * WG_Q);
      let q = q0 + e % (4u * WG_Q);
      var v = 0.0;
      if (r < rows && q < params.q_size) { v = b[b_base + r * params.b_row + q * params.b_col]; }
      b_tile[e / 4u][e % 4u] = v;
    }
    workgroupBarrier();
    for (var r = 0u; r < TILE_R; r++) {
      let av = a_tile[r * WG_P + lp];
      let bv = b_tile[r * WG_Q + lq];
      acc[0] += av.x * bv;
      acc[1] += av.y * bv;
      acc[2] += av.z * bv;
      acc[3] += av.w * bv;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    for (var lane = 0u; lane < 4u; lane++) { store(c, z, p0 + 4u * lp + i, q0 + 4u * lq + lane, acc[i][lane]); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main_direct(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let id = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  if (id >= params.items) {
    return;
  }
  let at = locate(id);
  let c = at.x;
  let z = at.y;
  let p0 = at.z * (16u / Q_BLOCK);
  let q0 = at.w * Q_BLOCK;
  let rows = rows_of(c);
  let a_base = params.a_off + c * params.a_chunk + z * params.a_z;
  let b_base = params.b_off + c * params.b_chunk + z * params.b_z;

  // Column offsets of the block's p and q, clamped into the matrices.
  var pa = array<u32, 16>();
  for (var i = 0u; i < 16u / Q_BLOCK; i++) { pa[i] = min(p0 + i, params.p_size - 1u) * params.a_col; }
  var qb = array<u32, 4>();
  for (var i = 0u; i < Q_BLOCK; i++) { qb[i] = min(q0 + i, params.q_size - 1u) * params.b_col; }

  var acc = array<vec4<f32>, 4>();
  for (var r = 0u; r < rows; r++) {
    let ar = a_base + r * params.a_row;
    let br = b_base + r * params.b_row;
    if (Q_BLOCK == 4u) {
      let bv = vec4<f32>(b[br + qb[0]], b[br + qb[1]], b[br + qb[2]], b[br + qb[3]]);
      for (var i = 0u; i < 4u; i++) { acc[i] += a[ar + pa[i]] * bv; }
    } else {
      let bs = b[br + qb[0]];
      for (var i = 0u; i < 4u; i++) {
        let k = 4u * i;
        acc[i] += vec4<f32>(a[ar + pa[k]], a[ar + pa[k + 1u]], a[ar + pa[k + 2u]], a[ar + pa[k + 3u]]) * bs;
      }
    }
  }
  for (var i = 0u; i < 4u; i++) {
    for (var lane = 0u; lane < 4u; lane++) {
      if (Q_BLOCK == 4u) { store(c, z, p0 + i, q0 + lane, acc[i][lane]); }
      else { store(c, z, p0 + 4u * i + lane, q0, acc[i][lane]); }
    }
  }
}
