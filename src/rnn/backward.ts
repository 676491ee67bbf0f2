import type { FloatArray } from '../tensor.ts';

/**
 * The gradient side of a recurrent layer and of a stack (see src/rnn/spec.ts and src/rnn/stack.ts):
 * what flows into a backward pass and what comes out of it. Every gradient has the shape and layout
 * of the tensor it is the gradient of (ONNX gate order, the layer's layout).
 */

/** Gradients of a loss with respect to one layer call's outputs; null where the loss does not read it. */
export interface RecurrentLayerOutputGrads {
  /** d loss / d Y, Y's shape. */
  dY: FloatArray | null;
  /** d loss / d Y_h, Y_h's shape. */
  dY_h: FloatArray | null;
  /** d loss / d Y_c (LSTM), Y_c's shape. */
  dY_c: FloatArray | null;
}

/** Gradients of a loss with respect to one layer's parameters and inputs. */
export interface RecurrentLayerGrads<D extends FloatArray = FloatArray> {
  /** [D, G·H, I] */
  dW: D;
  /** [D, G·H, H] */
  dR: D;
  /** [D, 2·G·H], Wb's then Rb's (equal except for GRU's h gate with linear_before_reset). */
  dB: D;
  /** [D, 3·H] (LSTM with peepholes given), else null. */
  dP: D | null;
  /** X's shape. */
  dX: D;
  /** The initial states' shape: the gradient at the initial state used (h0 = 0 when none was given). */
  dInitialH: D;
  /** LSTM only. */
  dInitialC: D | null;
}

/** Gradients of a loss with respect to a stack's head. */
export interface LinearHeadGrads<D extends FloatArray = FloatArray> {
  /** [O, F] */
  dWeight: D;
  /** [O], or null when the head has no bias. */
  dBias: D | null;
}

/** Gradients of a loss with respect to every parameter and input of a stack (src/rnn/stack.ts). */
export interface RecurrentStackGrads<D extends FloatArray = FloatArray> {
  /** Per layer; each layer's dX is d loss / d (that layer's input). */
  layers: RecurrentLayerGrads<D>[];
  head: LinearHeadGrads<D> | null;
}
