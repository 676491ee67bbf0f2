import { ConfigError } from '../errors.ts';

/**
 * The activation functions the ONNX RNN, GRU and LSTM operators accept, with their alpha and beta
 * (ONNX operator spec, "Activation functions"; defaults as onnxruntime uses them):
 *
 *   Relu(x) = max(0, x)                  Tanh(x) = tanh(x)            Sigmoid(x) = 1/(1 + e^-x)
 *   Affine(x) = alpha·x + beta           LeakyRelu(x) = x ≥ 0 ? x : alpha·x          (alpha 0.01)
 *   ThresholdedRelu(x) = x > alpha ? x : 0   (alpha 1)      ScaledTanh(x) = alpha·tanh(beta·x)
 *   HardSigmoid(x) = min(1, max(0, alpha·x + beta))         (alpha 0.2, beta 0.5)
 *   Elu(x) = x ≥ 0 ? x : alpha·(e^x − 1)  (alpha 1)         Softsign(x) = x/(1 + |x|)
 *   Softplus(x) = ln(1 + e^x)
 */
export const ACTIVATION_NAMES = [
  'Relu', 'Tanh', 'Sigmoid', 'Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'HardSigmoid', 'Elu', 'Softsign', 'Softplus',
] as const;

export type ActivationName = (typeof ACTIVATION_NAMES)[number];

/** An activation with its parameters resolved. */
export interface Activation {
  readonly name: ActivationName;
  readonly alpha: number;
  readonly beta: number;
}

const DEFAULTS: Partial<Record<ActivationName, [number, number]>> = {
  Affine: [1, 0],
  LeakyRelu: [0.01, 0],
  ThresholdedRelu: [1, 0],
  ScaledTanh: [1, 1],
  HardSigmoid: [0.2, 0.5],
  Elu: [1, 0],
};

/** Index of each activation in the GPU kernels' switch (kept in sync with shaders/recurrent_layer.wgsl). */
export function activationCode(name: ActivationName): number {
  return ACTIVATION_NAMES.indexOf(name);
}

/**
 * Resolves a name (case-insensitive, as ONNX runtimes accept it) and optional alpha/beta into an
 * {@link Activation}; throws {@link ConfigError} for an unknown name.
 */
export function activation(name: string, alpha?: number, beta?: number): Activation {
  const found = ACTIVATION_NAMES.find((n) => n.toLowerCase() === String(name).toLowerCase());
  if (!found) {
    throw new ConfigError(`unknown activation ${JSON.stringify(name)}: expected one of ${ACTIVATION_NAMES.join(', ')}`);
  }
  const [a, b] = DEFAULTS[found] ?? [0, 0];
  const out = { name: found, alpha: alpha ?? a, beta: beta ?? b };
  if (!Number.isFinite(out.alpha) || !Number.isFinite(out.beta)) {
    throw new ConfigError(`activation ${found} needs finite alpha and beta, got ${out.alpha}, ${out.beta}`);
  }
  return out;
}

/** Applies an activation in float64 (the CPU reference). */
export function applyActivation(f: Activation, x: number): number {
  const { alpha, beta } = f;
  switch (f.name) {
    case 'Relu': return x > 0 ? x : 0;
    case 'Tanh': return Math.tanh(x);
    case 'Sigmoid': return 1 / (1 + Math.exp(-x));
    case 'Affine': return alpha * x + beta;
    case 'LeakyRelu': return x >= 0 ? x : alpha * x;
    case 'ThresholdedRelu': return x > alpha ? x : 0;
    case 'ScaledTanh': return alpha * Math.tanh(beta * x);
    case 'HardSigmoid': return Math.min(1, Math.max(0, alpha * x + beta));
    case 'Elu': return x >= 0 ? x : alpha * (Math.exp(x) - 1);
    case 'Softsign': return x / (1 + Math.abs(x));
    case 'Softplus': return x > 30 ? x : Math.log1p(Math.exp(x));
  }
}
