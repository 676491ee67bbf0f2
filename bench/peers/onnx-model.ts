import type { RecurrentNet } from '../../src/model/recurrent.ts';
import { attribute, buildModel } from '../../src/onnx/builder.ts';
import type { NodeProtoJson } from '../../src/onnx/proto.ts';
import { onnxTensor, type OnnxTensor } from '../../src/onnx/tensor.ts';
import { numDirections, type RecurrentLayerSpec } from '../../src/rnn/spec.ts';

/**
 * A RecurrentNet as an ONNX model, for ONNX Runtime: one RNN, GRU or LSTM node per layer (weights
 * from `model.layers()`, already in ONNX gate order and layout) and the nn.Linear head as MatMul +
 * Add. ONNX Runtime's CPU kernels take only the time-major layout 0, so the graph is:
 *
 *   x [B, T, I] ─Transpose(1,0,2)→ [T, B, I]
 *     ─RNN/GRU/LSTM→ Y [T, D, B, H] ─Squeeze(1) (D = 1) or Transpose(0,2,1,3)+Reshape (D = 2)→ [T, B, D·H]
 *     … one node per layer …
 *     ─MatMul(headᵀ [D·H, O]) + Add(bias [O])→ [T, B, O] ─Transpose(1,0,2)→ y [B, T, O]
 *
 * The head runs before the last transpose, so the transpose moves O values per step, not D·H. A
 * time-major module (`batchFirst: false`) takes and gives `[T, B, …]` and has no transposes. Batch
 * and steps are symbolic dimensions, so one model serves every workload size.
 */

/** The graph's input `[B, T, I]` (float32) and output `[B, T, O]` names. */
export const ONNX_INPUT = 'x';
export const ONNX_OUTPUT = 'y';

/** Opset 17: the RNN ops' layout attribute exists (14+) and Squeeze takes its axes as an input (13+). */
const OPSET = 17;

const int64 = (values: readonly number[]): OnnxTensor => onnxTensor('int64', [values.length], BigInt64Array.from(values, BigInt));

/** The RNN/GRU/LSTM node's attributes for one lowered layer, in layout 0. */
function recurrentAttributes(spec: RecurrentLayerSpec) {
  const attrs = [
    attribute.int('hidden_size', spec.hiddenSize),
    attribute.string('direction', spec.direction),
    attribute.strings(
      'activations',
      spec.activations.map((a) => a.name),
    ),
    attribute.int('layout', 0),
  ];
  if (spec.activations.some((a) => a.alpha !== 0 || a.beta !== 0)) {
    attrs.push(
      attribute.floats(
        'activation_alpha',
        spec.activations.map((a) => a.alpha),
      ),
    );
    attrs.push(
      attribute.floats(
        'activation_beta',
        spec.activations.map((a) => a.beta),
      ),
    );
  }
  if (spec.cell === 'gru') attrs.push(attribute.int('linear_before_reset', spec.linearBeforeReset ? 1 : 0));
  if (spec.cell === 'lstm' && spec.inputForget) attrs.push(attribute.int('input_forget', 1));
  if (spec.clip !== null) attrs.push(attribute.float('clip', spec.clip));
  return attrs;
}

/** `[rows, cols]` row-major → `[cols, rows]`. */
function transposeMatrix(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c]!;
  return t;
}

/** The `.onnx` bytes of `model` (float32 weights as initializers). */
export function buildOnnxModel(model: RecurrentNet): Uint8Array {
  const { layers, head } = model.layers();
  const { batchFirst, inputSize } = model.config;
  const nodes: NodeProtoJson[] = [];
  const initializers: Record<string, OnnxTensor> = {};
  const node = (op_type: string, input: string[], output: string, attribute: NodeProtoJson['attribute'] = []) => {
    nodes.push({ op_type, name: output, input, output: [output], attribute });
    return output;
  };
  const swapBatchAndTime = (from: string, to: string) => node('Transpose', [from], to, [attribute.ints('perm', [1, 0, 2])]);

  let x = batchFirst ? swapBatchAndTime(ONNX_INPUT, 'x_time_major') : ONNX_INPUT;
  layers.forEach(({ spec, weights }, k) => {
    const D = numDirections(spec);
    const GH = weights.R.length / (D * spec.hiddenSize);
    initializers[`W${k}`] = onnxTensor('float32', [D, GH, spec.inputSize], weights.W);
    initializers[`R${k}`] = onnxTensor('float32', [D, GH, spec.hiddenSize], weights.R);
    if (weights.B) initializers[`B${k}`] = onnxTensor('float32', [D, 2 * GH], weights.B);
    const inputs = [x, `W${k}`, `R${k}`, ...(weights.B ? [`B${k}`] : [])];
    const y = node(spec.cell.toUpperCase(), inputs, `Y${k}`, recurrentAttributes(spec));
    // [T, D, B, H] → [T, B, D·H]: the next layer's X (or the head's input).
    if (D === 1) {
      initializers.direction_axis ??= int64([1]);
      x = node('Squeeze', [y, 'direction_axis'], `layer${k}`);
    } else {
      initializers.merged_directions ??= int64([0, 0, -1]);
      const tbdh = node('Transpose', [y], `Y${k}_tbdh`, [attribute.ints('perm', [0, 2, 1, 3])]);
      x = node('Reshape', [tbdh, 'merged_directions'], `layer${k}`);
    }
  });

  let features = layers.at(-1)!.spec.hiddenSize * numDirections(layers.at(-1)!.spec);
  if (head) {
    initializers.head_weight_t = onnxTensor(
      'float32',
      [head.inputSize, head.outputSize],
      transposeMatrix(head.weight, head.outputSize, head.inputSize),
    );
    x = node('MatMul', [x, 'head_weight_t'], 'head_matmul');
    if (head.bias) {
      initializers.head_bias = onnxTensor('float32', [head.outputSize], head.bias);
      x = node('Add', [x, 'head_bias'], 'head_add');
    }
    features = head.outputSize;
  }
  if (batchFirst) swapBatchAndTime(x, ONNX_OUTPUT);
  else node('Identity', [x], ONNX_OUTPUT);

  const lead = batchFirst ? ['batch', 'steps'] : ['steps', 'batch'];
  return buildModel({
    nodes,
    inputs: [{ name: ONNX_INPUT, type: 'float32', dims: [...lead, inputSize] }],
    outputs: [{ name: ONNX_OUTPUT, type: 'float32', dims: [...lead, features] }],
    initializers,
    opset: OPSET,
  });
}
