// How the recurrent kernels store x, the weights and y: f32, one value per array element (the
// default). Prepended to every kernel that shaders/forward/recurrent_common.wgsl is prepended to;
// its f16 twin, shaders/forward/storage_f16.wgsl, declares the same bindings and functions.
// Bindings (group 0; layouts: recurrent_common.wgsl): 1 x, 2 weights, 5 y.

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

// Values of y per storage word. A kernel writes a whole word from one invocation: values
// i … i + Y_PER_WORD − 1 of y (i a multiple of Y_PER_WORD) with one `store_y_word`.
const Y_PER_WORD: u32 = 1u;

fn load_x(i: u32) -> f32 { return x[i]; }

fn load_weight(i: u32) -> f32 { return weights[i]; }

// The word holding y[i] (i a multiple of Y_PER_WORD): v.x (v.y is for f16's second value).
fn store_y_word(i: u32, v: vec2<f32>) { y[i] = v.x; }

// Training's saved values after Y in binding 5 (recurrent_common.wgsl, "Training"): one f32 each.
fn store_saved(i: u32, v: f32) { y[i] = v; }
