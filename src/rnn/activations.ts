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
  'Relu',
  'Tanh',
  'Sigmoid',
  'Affine',
  'LeakyRelu',
  'ThresholdedRelu',
  'ScaledTanh',
  'HardSigmoid',
  'Elu',
  'Softsign',
  'Softplus',
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

/** Index of each activation in the GPU kernels' switch (kept in sync with `apply4` in shaders/forward/recurrent_common.wgsl). */
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
    case 'Relu':
      return x > 0 ? x : 0;
    case 'Tanh':
      return Math.tanh(x);
    case 'Sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'Affine':
      return alpha * x + beta;
    case 'LeakyRelu':
      return x >= 0 ? x : alpha * x;
    case 'ThresholdedRelu':
      return x > alpha ? x : 0;
    case 'ScaledTanh':
      return alpha * Math.tanh(beta * x);
    case 'HardSigmoid':
      return Math.min(1, Math.max(0, alpha * x + beta));
    case 'Elu':
      return x >= 0 ? x : alpha * (Math.exp(x) - 1);
    case 'Softsign':
      return x / (1 + Math.abs(x));
    case 'Softplus':
      return x > 30 ? x : Math.log1p(Math.exp(x));
  }
}

/**
 * The derivative f′(x) of an activation in float64 (the backward reference), x being the value the
 * activation was applied to (after any clip):
 *
 *   Relu′ = [x > 0]          Tanh′ = 1 − tanh²(x)        Sigmoid′ = σ(x)·(1 − σ(x))      Affine′ = alpha
 *   LeakyRelu′ = x > 0 ? 1 : alpha                       ThresholdedRelu′ = [x > alpha]
 *   ScaledTanh′ = alpha·beta·(1 − tanh²(beta·x))         HardSigmoid′ = alpha where 0 < alpha·x + beta < 1, else 0
 *   Elu′ = x > 0 ? 1 : alpha·e^x                         Softsign′ = 1/(1 + |x|)²
 *   Softplus′ = σ(x)   (1 where the forward takes Softplus(x) = x, x > 30)
 *
 * At a kink it takes the value PyTorch's autograd gives there: Relu′(0) = 0, LeakyRelu′(0) = alpha,
 * Elu′(0) = alpha, and 0 at HardSigmoid's two corners; ThresholdedRelu's jump at alpha counts as flat.
 */
export function activationDerivative(f: Activation, x: number): number {
  const { alpha, beta } = f;
  switch (f.name) {
    case 'Relu':
      return x > 0 ? 1 : 0;
    case 'Tanh': {
      const y = Math.tanh(x);
      return 1 - y * y;
    }
    case 'Sigmoid': {
      const y = 1 / (1 + Math.exp(-x));
      return y * (1 - y);
    }
    case 'Affine':
      return alpha;
    case 'LeakyRelu':
      return x > 0 ? 1 : alpha;
    case 'ThresholdedRelu':
      return x > alpha ? 1 : 0;
    case 'ScaledTanh': {
      const y = Math.tanh(beta * x);
      return alpha * beta * (1 - y * y);
    }
    case 'HardSigmoid': {
      const v = alpha * x + beta;
      return v > 0 && v < 1 ? alpha : 0;
    }
    case 'Elu':
      return x > 0 ? 1 : alpha * Math.exp(x);
    case 'Softsign': {
      const d = 1 + Math.abs(x);
      return 1 / (d * d);
    }
    case 'Softplus':
      return x > 30 ? 1 : 1 / (1 + Math.exp(-x));
  }
}
