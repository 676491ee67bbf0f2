// Elman RNN forward over many independent sequences, the whole time loop in one dispatch.
//
// One invocation owns one sequence b and runs it through all T steps and all L layers:
//     h_t^k = act(W_ih^k in_t^k + W_hh^k h_{t-1}^k + (b_ih^k + b_hh^k)),   in_t^0 = x_t, in_t^k = h_t^{k-1}
//     y_t   = W_ho h_t^{L-1} + b_o
// Sequences never interact, so no barriers are needed; the weights are shared by all of them.
//
// Bindings (group 0):
//   0 params   uniform  Params
//   1 x        [B, T, I]            batch-first input
//   2 weights  packed float32, per layer k: W_ih^k [H, in_k] row-major, W_hh^k [H, H],
//              bias^k = b_ih^k + b_hh^k [H]; then W_ho [O, H], b_o [O]   (in_0 = I, in_k = H)
//   3 h0       [L, B, H]            initial hidden state (read only when params.has_h0 = 1)
//   4 y        [B, T, O], or [B, O] when params.last_only = 1
//   5 hn       [L, B, H]            hidden state after the last step
//   6 state    [L, 2, H, B]         working hidden state, double-buffered by step parity; batch is
//                                   the fastest index so neighbouring invocations touch neighbouring words
//
// Override constants fix the model's sizes, so every loop bound is a compile-time constant.

override WORKGROUP_SIZE: u32 = 64u;
override INPUT_SIZE: u32 = 1u;
override HIDDEN_SIZE: u32 = 1u;
override OUTPUT_SIZE: u32 = 1u;
override NUM_LAYERS: u32 = 1u;
override USE_RELU: bool = false;   // false: tanh

struct Params {
  batch: u32,      // B, sequences
  steps: u32,      // T >= 1
  last_only: u32,  // 1: write y only for t = T-1, as [B, O]
  has_h0: u32,     // 1: start from h0, else from zeros
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> h0: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> hn: array<f32>;
@group(0) @binding(6) var<storage, read_write> state: array<f32>;

// Floats per layer in `weights`: layer 0 has an [H, I] input matrix, later layers [H, H].
override LAYER0_SIZE: u32 = HIDDEN_SIZE * INPUT_SIZE + HIDDEN_SIZE * HIDDEN_SIZE + HIDDEN_SIZE;
override LAYERK_SIZE: u32 = 2u * HIDDEN_SIZE * HIDDEN_SIZE + HIDDEN_SIZE;

fn layer_offset(k: u32) -> u32 {
  return select(0u, LAYER0_SIZE + (k - 1u) * LAYERK_SIZE, k > 0u);
}

fn activate(v: f32) -> f32 {
  if (USE_RELU) {
    return max(v, 0.0);
  }
  // tanh saturates to ±1 in float32 beyond |v| = 9.02; clamping keeps implementations that compute
  // it through exp() away from inf/inf.
  return tanh(clamp(v, -15.0, 15.0));
}

fn state_index(k: u32, parity: u32, j: u32, b: u32) -> u32 {
  return ((k * 2u + parity) * HIDDEN_SIZE + j) * params.batch + b;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // 2-D grid when B needs more than maxComputeWorkgroupsPerDimension workgroups.
  let b = (wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid;
  let B = params.batch;
  if (b >= B) {
    return;
  }
  let T = params.steps;

  for (var k = 0u; k < NUM_LAYERS; k++) {
    for (var j = 0u; j < HIDDEN_SIZE; j++) {
      var v = 0.0;
      if (params.has_h0 == 1u) {
        v = h0[(k * B + b) * HIDDEN_SIZE + j];
      }
      state[state_index(k, 0u, j, b)] = v;
    }
  }

  let readout = layer_offset(NUM_LAYERS);
  for (var t = 0u; t < T; t++) {
    let cur = t & 1u;
    let nxt = cur ^ 1u;
    for (var k = 0u; k < NUM_LAYERS; k++) {
      let in_size = select(HIDDEN_SIZE, INPUT_SIZE, k == 0u);
      let w_ih = layer_offset(k);
      let w_hh = w_ih + HIDDEN_SIZE * in_size;
      let bias = w_hh + HIDDEN_SIZE * HIDDEN_SIZE;
      for (var j = 0u; j < HIDDEN_SIZE; j++) {
        var acc = weights[bias + j];
        if (k == 0u) {
          let xt = (b * T + t) * INPUT_SIZE;
          for (var i = 0u; i < INPUT_SIZE; i++) {
            acc += weights[w_ih + j * INPUT_SIZE + i] * x[xt + i];
          }
        } else {
          // Layer k-1 has already written its step-t state into parity `nxt`.
          for (var i = 0u; i < HIDDEN_SIZE; i++) {
            acc += weights[w_ih + j * HIDDEN_SIZE + i] * state[state_index(k - 1u, nxt, i, b)];
          }
        }
        for (var m = 0u; m < HIDDEN_SIZE; m++) {
          acc += weights[w_hh + j * HIDDEN_SIZE + m] * state[state_index(k, cur, m, b)];
        }
        state[state_index(k, nxt, j, b)] = activate(acc);
      }
    }

    if (params.last_only == 0u || t + 1u == T) {
      let out_base = select((b * T + t) * OUTPUT_SIZE, b * OUTPUT_SIZE, params.last_only == 1u);
      let top = NUM_LAYERS - 1u;
      for (var o = 0u; o < OUTPUT_SIZE; o++) {
        var acc = weights[readout + OUTPUT_SIZE * HIDDEN_SIZE + o];
        for (var j = 0u; j < HIDDEN_SIZE; j++) {
          acc += weights[readout + o * HIDDEN_SIZE + j] * state[state_index(top, nxt, j, b)];
        }
        y[out_base + o] = acc;
      }
    }
  }

  let last = T & 1u;  // parity holding h_T
  for (var k = 0u; k < NUM_LAYERS; k++) {
    for (var j = 0u; j < HIDDEN_SIZE; j++) {
      hn[(k * B + b) * HIDDEN_SIZE + j] = state[state_index(k, last, j, b)];
    }
  }
}
