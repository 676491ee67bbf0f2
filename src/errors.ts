/**
 * Typed errors. Everything webrnn rejects is rejected with one of these, before any GPU work, so
 * callers can tell a bad argument (fix the call) from a device failure (retry, or fall back to the
 * CPU) with `instanceof` or by `code`.
 */

/** Base class of every error webrnn throws on purpose. */
export class WebRNNError extends Error {
  /** Stable machine-readable kind, e.g. `"shape"`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A size or option of the model configuration is invalid (zero hidden size, unknown activation…). */
export class ConfigError extends WebRNNError {
  constructor(message: string) {
    super('config', message);
  }
}

/**
 * An input tensor has the wrong length or shape for the model (x, h0), or holds a value that is not
 * a finite float32 number (src/util/finite.ts: one policy for every backend).
 */
export class ShapeError extends WebRNNError {
  constructor(message: string) {
    super('shape', message);
  }
}

/** A parameter tensor is missing, unexpected, of the wrong shape or holds non-finite values. */
export class WeightError extends WebRNNError {
  constructor(message: string) {
    super('weight', message);
  }
}

/** No WebGPU adapter or device could be had, the device was lost, or a request exceeds its limits. */
export class DeviceError extends WebRNNError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('device', message, options);
  }
}

/** A model or weight file is truncated, corrupt, or uses an operator or attribute webrnn does not run. */
export class ModelError extends WebRNNError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('model', message, options);
  }
}

/** Bad data in a table (a CSV of series): `row` (1-based, the header is row 1) and `column` say where. */
export class DataError extends WebRNNError {
  constructor(
    message: string,
    readonly row: number | null = null,
    readonly column: string | null = null,
  ) {
    super('data', row === null ? message : `row ${row}${column ? `, column ${column}` : ''}: ${message}`);
  }
}

/**
 * A computation gave a value that is not finite from finite inputs and weights: the network
 * overflowed float32 on the GPU (or float64 on the CPU). Never returned silently as Infinity or NaN.
 */
export class NumericError extends WebRNNError {
  constructor(message: string) {
    super('numeric', message);
  }
}
