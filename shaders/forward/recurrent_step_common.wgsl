// Shared by the step-wise layer's two kernels (after shaders/forward/recurrent_common.wgsl):
// shaders/forward/recurrent_step_input.wgsl (the x·W part of a time segment as one GEMM) and
// shaders/forward/recurrent_step.wgsl (one dispatch per step). Host side:
// src/gpu/kernels/forward/recurrent-stepwise.ts.
//
// Binding 7 `state`, the layer's working memory, in floats (DBH = D·B·H, B = params.batch):
//   0       h, parity 0    [D, B, H]   the state a step reads (parity p) and writes (1 − p)
//   DBH     h, parity 1    [D, B, H]
//   2·DBH   c              [D, B, H]   LSTM's cell state (each element owned by one invocation)
//   3·DBH   r ⊙ h          [D, B, H]   GRU with linear_before_reset = 0 only: the reset stage's
//   4·DBH   a_z            [D, B, H]   outputs, read by the candidate stage
//   XW      XW             [D, S, B, G·H]  S = params.steps: x_t·Wᵀ + biases of the segment's steps,
//                                     step t of direction d at row t − segment_start(d)
// Biases in XW: Wb + Rb of every gate, except GRU's candidate with linear_before_reset = 1, whose Rb
// stays inside r ⊙ (R_h h + Rb_h) (the step kernel adds it there).

@group(0) @binding(7) var<storage, read_write> state: array<f32>;

// GRU with linear_before_reset = 0: R_h multiplies r ⊙ h, which needs every unit's r first, so a
// step is two dispatches (the reset stage, then the candidate stage).
override GRU_TWO_STAGE: bool = CELL == 1u && !LINEAR_BEFORE_RESET;

fn dbh() -> u32 { return NUM_DIRECTIONS * params.batch * HIDDEN_SIZE; }

// Element (d, b, j) of a [D, B, H] region.
fn unit_index(d: u32, b: u32, j: u32) -> u32 { return (d * params.batch + b) * HIDDEN_SIZE + j; }

fn xw_base() -> u32 { return select(3u, 5u, GRU_TWO_STAGE) * dbh(); }

// XW of direction d, segment row `row` (= (t − start)·B + b), gate column n.
fn xw_index(d: u32, row: u32, n: u32) -> u32 {
  return xw_base() + (d * params.steps * params.batch + row) * GH + n;
}

// Both kernels' workgroups: D directions × row tiles × column tiles of `row_tile` × `col_tile`
// over a rows × cols output (the GEMM: XW's rows × gate columns; the step: sequences × units).
// Workgroup `id` owns direction d and the tile from (row, col).
struct Block {
  valid: bool,
  d: u32,
  row: u32,
  col: u32,
}

fn locate_block(id: u32, rows: u32, row_tile: u32, cols: u32, col_tile: u32) -> Block {
  let row_tiles = (rows + row_tile - 1u) / row_tile;
  let col_tiles = (cols + col_tile - 1u) / col_tile;
  var placed: Block;
  placed.valid = id < NUM_DIRECTIONS * row_tiles * col_tiles;
  placed.d = id / (row_tiles * col_tiles);
  placed.row = ((id / col_tiles) % row_tiles) * row_tile;
  placed.col = (id % col_tiles) * col_tile;
  return placed;
}
