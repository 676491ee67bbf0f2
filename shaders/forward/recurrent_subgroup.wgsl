// One recurrent layer with ONNX RNN / GRU / LSTM semantics, the whole time loop inside one dispatch:
// the subgroup kernel. Bindings 0–6 and the layer's override constants: shaders/forward/recurrent_common.wgsl
// (prepended after this file's `enable`). Equations: src/reference/recurrent-layer.ts. Gate order is ONNX's.
//
// The tiled kernel (recurrent_tile.wgsl) shares each step's h through workgroup memory and waits at a
// workgroup barrier twice a step. Here the hidden state of four sequences lives in the registers of
// one team of TEAM lanes of a subgroup, and a step reads the other units' h with subgroupShuffle: no
// workgroup memory for h, no barrier inside the time loop. Lane l of a team owns units l, l + TEAM,
// l + 2·TEAM, … (UNITS of them, those < H real), each as a vec4 over the team's four sequences, and
// computes all G gates of its units; its cell state stays in registers too. R is staged in
// workgroup memory once when it fits (one vec4 of the G gates' weights per (m, j), as the tiled
// kernel does), else read from storage every step.
//
// A workgroup owns one direction and a tile of 4·TEAMS sequences of one model (recurrent_common.wgsl
// `locate_tile`), one team per four. WGSL ties subgroups neither to local_invocation_index nor to a
// size known when the pipeline is built, so teams are formed from the subgroup itself: each subgroup
// takes an index from a workgroup counter and splits into subgroup_size / TEAM teams. That needs
// every subgroup full and at least TEAM wide, which the host plans for (TEAM ≤ the adapter's
// subgroupMinSize, the workgroup a multiple of its subgroupMaxSize); should the hardware run
// otherwise, the workgroup writes NaN over its whole tile (Y and the final states) instead of a wrong
// result, and the backend's output check reports it (src/util/finite.ts).
//
// Each sequence runs its own length exactly as in the tiled kernel: the segment's T steps run for the
// whole workgroup (so every subgroup operation is in uniform control flow), a sequence past its length
// keeps its state, and Y is zero there. Inference only (no SAVE).

enable subgroups;

override TEAM: u32 = 1u;              // lanes per team (a power of two, ≤ the smallest subgroup)
override UNITS: u32 = 1u;             // hidden units per lane, ⌈H / TEAM⌉ ≤ UNITS_MAX
override TEAMS: u32 = 1u;             // teams per workgroup
override WORKGROUP_SIZE: u32 = 1u;    // TEAMS · TEAM
override R_SHARED: bool = false;      // stage R in workgroup memory
override R_TILE: u32 = 1u;            // HIDDEN_SIZE² when R_SHARED, else 1

// Registers per lane are sized at compile time: a function-scope array cannot take an override size.
const UNITS_MAX = 4u;

var<workgroup> r_tile: array<vec4<f32>, R_TILE>;
var<workgroup> subgroup_count: atomic<u32>;   // hands each subgroup its index
var<workgroup> misfit_count: atomic<u32>;     // subgroups that cannot hold whole teams

alias Units = array<vec4<f32>, UNITS_MAX>;          // one vec4 over the four sequences per owned unit
alias UnitGates = array<array<vec4<f32>, 4>, UNITS_MAX>;

// The G gates' recurrent weights of unit j against unit m (recurrent_common.wgsl `r_gates`), staged or not.
fn r_weights(d: u32, j: u32, m: u32) -> vec4<f32> {
  if (R_SHARED) { return r_tile[m * HIDDEN_SIZE + j]; }
  return r_gates(d, j, m);
}

// This invocation's place: its team's slot in the workgroup (which four sequences), its lane in the
// team, and the subgroup lane of the team's lane 0.
struct Team {
  slot: u32,
  lane: u32,
  first_lane: u32,
}

fn join_team(sid: u32, size: u32) -> Team {
  let fits = subgroupAdd(1u) == size && size >= TEAM;  // every lane active, whole teams
  var index = 0u;
  if (subgroupElect()) {
    index = atomicAdd(&subgroup_count, 1u);
    if (!fits) { atomicAdd(&misfit_count, 1u); }
  }
  index = subgroupBroadcastFirst(index);
  var team: Team;
  team.lane = sid % TEAM;
  team.first_lane = sid - team.lane;
  team.slot = index * (size / TEAM) + sid / TEAM;
  return team;
}

// The team's product Σ_m R[first_gate + g][j][m] · v_m for each owned unit j = rows[k] and the
// `gates` gates from first_gate, v_m read from the lane that owns unit m. The loop bounds are
// constants, so every shuffle is in uniform control flow; the source lane differs per team.
fn team_product(v: Units, first_lane: u32, d: u32, rows: array<u32, UNITS_MAX>, first_gate: u32, gates: u32) -> UnitGates {
  var acc = UnitGates();
  for (var src = 0u; src < TEAM; src++) {
    for (var slot = 0u; slot < UNITS; slot++) {
      let m = src + slot * TEAM;
      if (m < HIDDEN_SIZE) {
        let hv = subgroupShuffle(v[slot], first_lane + src);
        for (var k = 0u; k < UNITS; k++) {
          let w = r_weights(d, rows[k], m);
          for (var g = 0u; g < gates; g++) { acc[k][g] += w[first_gate + g] * hv; }
        }
      }
    }
  }
  return acc;
}

// NaN where the tile's results would go: the hardware ran subgroups the plan did not allow for.
fn poison_tile(tile: Tile, lid: u32) {
  var bits = 0x7fc00000u;  // a quiet NaN, made at run time (a NaN constant is a WGSL error)
  let nan = bitcast<f32>(bits);
  let d = tile.d;
  let start = segment_start(d);
  let state_count = NUM_DIRECTIONS * params.batch * HIDDEN_SIZE;
  let first = tile.first;
  let count = min(4u * TEAMS, tile.end - first) * HIDDEN_SIZE;
  for (var e = lid; e < count; e += WORKGROUP_SIZE) {
    let b = first + e / HIDDEN_SIZE;
    let j = e % HIDDEN_SIZE;
    for (var t = start; t < segment_end(start); t++) { y[y_index(t, d, b, j)] = nan; }
    final_state[state_index(d, b, j)] = nan;
    if (CELL == 2u) { final_state[state_count + state_index(d, b, j)] = nan; }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) sg_size: u32) {
  let H = HIDDEN_SIZE;
  let tile = locate_tile(wid.y * nwg.x + wid.x, 4u * TEAMS);
  if (!tile.valid) {
    return;  // the whole workgroup leaves together: barriers stay uniform
  }
  let d = tile.d;
  let state_count = NUM_DIRECTIONS * params.batch * H;
  use_model_of(tile.first);
  // The counters start at 0 even where workgroup memory is not zeroed (Dawn's disable_workgroup_init).
  if (lid == 0u) {
    atomicStore(&subgroup_count, 0u);
    atomicStore(&misfit_count, 0u);
  }
  workgroupBarrier();
  let team = join_team(sid, sg_size);

  if (R_SHARED) {
    for (var e = lid; e < H * H; e += WORKGROUP_SIZE) { r_tile[e] = r_gates(d, e % H, e / H); }
  }
  // One load for the whole workgroup, after a barrier: R is staged and every subgroup counted.
  if (workgroupUniformLoad(&misfit_count) > 0u) {
    poison_tile(tile, lid);
    return;
  }

  // Owned units: j = lane + k·TEAM, real while j < H; rows[k] is the row read for it (units past H
  // compute copies of the last one and are never stored nor read by other lanes).
  var unit: array<u32, UNITS_MAX>;
  var rows: array<u32, UNITS_MAX>;
  for (var k = 0u; k < UNITS; k++) {
    unit[k] = team.lane + k * TEAM;
    rows[k] = min(unit[k], H - 1u);
  }

  // Per sequence of the team: its index, length (0 for padding past the model's last sequence) and
  // initial state.
  let base = tile.first + team.slot * 4u;
  var b: vec4<u32>;
  var len: vec4<u32>;
  var h = Units();
  var c = Units();
  for (var s = 0u; s < 4u; s++) {
    b[s] = min(base + s, tile.end - 1u);
    len[s] = 0u;
    if (base + s < tile.end) {
      len[s] = segment_len(b[s], tile.start);
      for (var k = 0u; k < UNITS; k++) {
        if (params.has_h0 == 1u) { h[k][s] = init[state_index(d, b[s], rows[k])]; }
        if (params.has_c0 == 1u) { c[k][s] = init[state_count + state_index(d, b[s], rows[k])]; }
      }
    }
  }

  // Biases; for GRU with linear_before_reset the candidate's Rb stays inside r ⊙ (…).
  let gru_lbr = CELL == 1u && LINEAR_BEFORE_RESET;
  var bias: array<vec4<f32>, UNITS_MAX>;
  var rb_h: array<f32, UNITS_MAX>;
  var p: array<vec3<f32>, UNITS_MAX>;  // peepholes i, o, f
  for (var k = 0u; k < UNITS; k++) {
    let j = rows[k];
    bias[k] = vec4<f32>(0.0);
    for (var g = 0u; g < GATES; g++) {
      bias[k][g] = weight(B_OFFSET + d * 2u * GH + g * H + j);
      if (!(gru_lbr && g == 2u)) { bias[k][g] += weight(B_OFFSET + d * 2u * GH + GH + g * H + j); }
    }
    rb_h[k] = select(0.0, weight(B_OFFSET + d * 2u * GH + GH + 2u * H + j), gru_lbr);
    p[k] = vec3<f32>(0.0);
    if (CELL == 2u) {
      for (var g = 0u; g < 3u; g++) { p[k][g] = weight(P_OFFSET + d * 3u * H + g * H + j); }
    }
  }

  let rec_gates = select(GATES, 2u, CELL == 1u && !LINEAR_BEFORE_RESET);  // lbr = 0: R_h waits for r
  for (var step = 0u; step < tile.steps; step++) {
    let live = vec4<u32>(step) < len;
    var t: vec4<u32>;
    for (var s = 0u; s < 4u; s++) { t[s] = tile.start + select(step, len[s] - 1u - step, tile.backwards && live[s]); }

    // Input products W x_t for the G gates of each owned unit, plus biases.
    var xg = UnitGates();
    for (var k = 0u; k < UNITS; k++) {
      for (var g = 0u; g < GATES; g++) { xg[k][g] = vec4<f32>(bias[k][g]); }
    }
    for (var i = 0u; i < INPUT_SIZE; i++) {
      var xv = vec4<f32>(0.0);
      for (var s = 0u; s < 4u; s++) {
        if (live[s]) { xv[s] = x[x_index(t[s], b[s], i)]; }
      }
      for (var k = 0u; k < UNITS; k++) {
        for (var g = 0u; g < GATES; g++) {
          xg[k][g] += weight(((d * GATES + g) * H + rows[k]) * INPUT_SIZE + i) * xv;
        }
      }
    }

    // Recurrent products R h_{t-1}: h of the other units from their lanes.
    let rg = team_product(h, team.first_lane, d, rows, 0u, rec_gates);

    var h_new = Units();
    if (CELL == 0u) {
      for (var k = 0u; k < UNITS; k++) { h_new[k] = act_f4(d, xg[k][0] + rg[k][0]); }
    } else if (CELL == 1u) {
      var z = Units();
      var r = Units();
      var rh = Units();  // the candidate's recurrent term: r ⊙ (R_h h + Rb_h), or R_h (r ⊙ h) (+ Rb_h in bias)
      for (var k = 0u; k < UNITS; k++) {
        z[k] = act_f4(d, xg[k][0] + rg[k][0]);
        r[k] = act_f4(d, xg[k][1] + rg[k][1]);
        rh[k] = r[k] * (rg[k][2] + rb_h[k]);
      }
      if (!LINEAR_BEFORE_RESET) {
        // R_h (r ⊙ h_{t-1}) needs every unit's r: a second round of shuffles, of r ⊙ h.
        var q = Units();
        for (var k = 0u; k < UNITS; k++) { q[k] = r[k] * h[k]; }
        let acc = team_product(q, team.first_lane, d, rows, 2u, 1u);
        for (var k = 0u; k < UNITS; k++) { rh[k] = acc[k][0]; }
      }
      for (var k = 0u; k < UNITS; k++) {
        let n = act_g4(d, xg[k][2] + rh[k]);
        h_new[k] = (1.0 - z[k]) * n + z[k] * h[k];
      }
    } else {
      for (var k = 0u; k < UNITS; k++) {
        let gi = act_f4(d, xg[k][0] + rg[k][0] + p[k].x * c[k]);
        var gf: vec4<f32>;
        if (INPUT_FORGET) {
          gf = 1.0 - gi;
        } else {
          gf = act_f4(d, xg[k][2] + rg[k][2] + p[k].z * c[k]);
        }
        let c_new = gf * c[k] + gi * act_g4(d, xg[k][3] + rg[k][3]);
        let go = act_f4(d, xg[k][1] + rg[k][1] + p[k].y * c_new);
        h_new[k] = go * act_h4(d, c_new);
        c[k] = select(c[k], c_new, live);
      }
    }
    for (var k = 0u; k < UNITS; k++) {
      h[k] = select(h[k], h_new[k], live);
      if (unit[k] < H) {
        for (var s = 0u; s < 4u; s++) {
          if (live[s]) { y[y_index(t[s], d, b[s], unit[k])] = h[k][s]; }
        }
      }
    }
  }

  let end = segment_end(tile.start);
  for (var s = 0u; s < 4u; s++) {
    if (base + s >= tile.end) { continue; }
    for (var k = 0u; k < UNITS; k++) {
      let j = unit[k];
      if (j >= H) { continue; }
      for (var t = tile.start + len[s]; t < end; t++) { y[y_index(t, d, b[s], j)] = 0.0; }
      final_state[state_index(d, b[s], j)] = h[k][s];
      if (CELL == 2u) { final_state[state_count + state_index(d, b[s], j)] = c[k][s]; }
    }
  }
}
