import { ShapeError } from '../errors.ts';
import type { FloatArray } from '../tensor.ts';
import {
  CLIP_NORM_EPS,
  checkOptimizerState,
  learningRateAt,
  type OptimizationSpec,
  type OptimizerSpec,
  type OptimizerState,
} from '../train/optim.ts';

/**
 * The float64 reference of one training step's parameter update, with PyTorch 1.13's semantics
 * (torch.optim.SGD / Adam / AdamW single-tensor paths, torch.nn.utils.clip_grad_norm_ and
 * clip_grad_value_). Parameters, gradients and buffers are keyed by parameter name.
 */

/**
 * clip_grad_norm_: total = ‖(‖g₁‖₂, ‖g₂‖₂, …)‖₂ over every gradient; each is scaled in place by
 * min(1, maxNorm / (total + 1e-6)). Returns the total norm before clipping.
 */
export function clipGradNormReference(grads: Record<string, Float64Array>, maxNorm: number): number {
  let sumOfSquares = 0;
  for (const g of Object.values(grads)) {
    let s = 0;
    for (const v of g) s += v * v;
    sumOfSquares += s; // ‖g_k‖₂², the square of each tensor's norm
  }
  const total = Math.sqrt(sumOfSquares);
  const scale = Math.min(1, maxNorm / (total + CLIP_NORM_EPS));
  if (scale < 1) for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) g[i]! *= scale;
  return total;
}

/** clip_grad_value_: every gradient element clamped in place to [−clipValue, clipValue]. */
export function clipGradValueReference(grads: Record<string, Float64Array>, clipValue: number): void {
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) g[i] = Math.min(clipValue, Math.max(-clipValue, g[i]!));
}

/**
 * SGD on one parameter p with gradient g at learning rate lr (buf: its momentum buffer):
 *   d = g + weightDecay·p
 *   buf = d on the first step, else momentum·buf + (1 − dampening)·d
 *   d = nesterov ? d + momentum·buf : buf          (without momentum, d stays)
 *   p ← p − lr·d
 */
function sgdUpdate(
  o: Extract<OptimizerSpec, { kind: 'sgd' }>,
  p: Float64Array,
  g: Float64Array,
  buf: Float64Array | undefined,
  first: boolean,
  lr: number,
): void {
  for (let i = 0; i < p.length; i++) {
    let d = g[i]! + o.weightDecay * p[i]!;
    if (buf) {
      buf[i] = first ? d : o.momentum * buf[i]! + (1 - o.dampening) * d;
      d = o.nesterov ? d + o.momentum * buf[i]! : buf[i]!;
    }
    p[i]! -= lr * d;
  }
}

/**
 * Adam and AdamW on one parameter at step n (1-based, after this step) with learning rate lr:
 *   AdamW: p ← p·(1 − lr·weightDecay)            Adam: g ← g + weightDecay·p
 *   m ← beta1·m + (1 − beta1)·g                  v ← beta2·v + (1 − beta2)·g²
 *   p ← p − (lr / (1 − beta1ⁿ)) · m / (√v / √(1 − beta2ⁿ) + eps)
 */
function adamUpdate(
  o: Extract<OptimizerSpec, { kind: 'adam' | 'adamw' }>,
  p: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  n: number,
  lr: number,
): void {
  const [beta1, beta2] = o.betas;
  const stepSize = lr / (1 - beta1 ** n);
  const correction2 = Math.sqrt(1 - beta2 ** n);
  for (let i = 0; i < p.length; i++) {
    let gi = g[i]!;
    if (o.kind === 'adamw') p[i]! *= 1 - lr * o.weightDecay;
    else gi += o.weightDecay * p[i]!;
    m[i] = beta1 * m[i]! + (1 - beta1) * gi;
    v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
    p[i]! -= (stepSize * m[i]!) / (Math.sqrt(v[i]!) / correction2 + o.eps);
  }
}

/** What one step did: the learning rate it used and, with norm clipping, the gradients' total norm before clipping. */
export interface OptimizerStepReport {
  lr: number;
  gradNorm: number | null;
}

/**
 * One training step on float64 parameters, in place: copies the gradients to float64, clips them
 * (if set), takes the learning rate of step `state.step` from the schedule, updates every parameter
 * and its buffers, and counts the step. `grads` is left as given. Throws {@link ShapeError} when the
 * gradients or the state do not match the parameters.
 */
export function optimizerStepReference(
  spec: OptimizationSpec,
  params: Record<string, Float64Array>,
  grads: Record<string, FloatArray>,
  state: OptimizerState<Float64Array>,
): OptimizerStepReport {
  const sizes = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, p.length]));
  checkOptimizerState(spec.optimizer, state, sizes);
  const g: Record<string, Float64Array> = {};
  for (const [name, n] of Object.entries(sizes)) {
    const given = grads[name];
    if (given === undefined) throw new ShapeError(`no gradient for parameter ${name}`);
    if (given.length !== n) throw new ShapeError(`the gradient of ${name} has ${given.length} values but the parameter has ${n}`);
    g[name] = Float64Array.from(given);
  }
  const extra = Object.keys(grads).find((name) => !Object.hasOwn(params, name));
  if (extra !== undefined) throw new ShapeError(`gradient ${extra} has no parameter`);

  let gradNorm: number | null = null;
  if (spec.clip?.kind === 'norm') gradNorm = clipGradNormReference(g, spec.clip.maxNorm);
  else if (spec.clip?.kind === 'value') clipGradValueReference(g, spec.clip.clipValue);

  const o = spec.optimizer;
  const lr = learningRateAt(spec.schedule, o.lr, state.step);
  for (const [name, p] of Object.entries(params)) {
    const buffers = state.buffers[name]!;
    if (o.kind === 'sgd') sgdUpdate(o, p, g[name]!, buffers.momentum_buffer, state.step === 0, lr);
    else adamUpdate(o, p, g[name]!, buffers.exp_avg!, buffers.exp_avg_sq!, state.step + 1, lr);
  }
  state.step += 1;
  return { lr, gradNorm };
}
