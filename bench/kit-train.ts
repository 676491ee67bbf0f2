import { TORCH_CPU, TORCH_CUDA_FP32, TORCH_CUDA_TF32 } from './peers/pytorch.ts';
import { pytorchTrainPeer, type TorchPerSeriesMode } from './peers/train-pytorch.ts';
import type { TrainContender } from './train-contender.ts';
import type { TrainBudget } from './train-harness.ts';
import { trainReferenceContender } from './train-reference.ts';
import { webrnnTrainContender } from './train-webrnn.ts';
import { cellWorkload, type TrainWorkload } from './train-workloads.ts';

/**
 * The GPU run kit's training sections (issue 18; bench/kit.ts runs them through
 * bench/train-harness.ts, every cell validated against the float64 reference first):
 *
 *   train       bench:train's kind of workload, one global model: Elman (tanh), LSTM and GRU at
 *               H = 32 and 64 with B = 16,384 windows a step, LSTM H = 32 at B = 1,024, 4,096 and
 *               65,536 (Elman H = 32 at 65,536 too), then the three at H = 128; T = 64, 4 Adam steps
 *               an epoch, MSE.
 *               Contenders: webrnn, PyTorch cuDNN fp32 (TF32 off) and TF32 (validated within
 *               TF32_TOLERANCE), CUDA events.
 *   per-series  S = 1,000 and 10,000 independent models (LSTM H = 8 and 32, GRU H = 16) trained
 *               side by side, 16 windows of 24 steps of each a step, 4 steps an epoch. Contenders:
 *               webrnn (all S in one program a step) and one model at a time (`-1by1`); PyTorch on
 *               CUDA as one stacked model (`-batched`, fp32 and TF32), with torch.func's vmap
 *               (`-vmap`) and one nn module at a time (`-loop`).
 *
 * A contender whose epoch would pass the budget's limit is not timed; its record says what the
 * harness estimated (one model at a time at S = 10,000, typically).
 */

const train = (cell: 'rnn' | 'lstm' | 'gru', H: number, batch: number) => cellWorkload(cell, H, { batch, steps: 64, stepsPerEpoch: 4 });
const perSeries = (cell: 'rnn' | 'lstm' | 'gru', H: number, series: number) =>
  cellWorkload(cell, H, { batch: 16, steps: 24, stepsPerEpoch: 4, series });

/** The workloads of each section on a GPU, and tiny ones (--quick) for a software adapter. */
export function trainPlan(quick: boolean): { train: TrainWorkload[]; perSeries: TrainWorkload[] } {
  if (quick) {
    return {
      train: [
        cellWorkload('lstm', 8, { batch: 32, steps: 8, stepsPerEpoch: 2 }),
        cellWorkload('gru', 6, { batch: 64, steps: 6, stepsPerEpoch: 2 }),
      ],
      perSeries: [cellWorkload('lstm', 8, { batch: 4, steps: 8, stepsPerEpoch: 2, series: 12 })],
    };
  }
  // In the order of the goals (H ≤ 64 first): the budget may stop the section before H = 128.
  const cells = ['rnn', 'lstm', 'gru'] as const;
  return {
    train: [
      ...[32, 64].flatMap((H) => cells.map((cell) => train(cell, H, 16_384))),
      ...[1_024, 4_096, 65_536].map((B) => train('lstm', 32, B)),
      train('rnn', 32, 65_536),
      ...cells.map((cell) => train(cell, 128, 16_384)),
    ],
    // S = 10,000 first (the goal), then 1,000.
    perSeries: [
      perSeries('lstm', 32, 10_000),
      perSeries('lstm', 8, 10_000),
      perSeries('gru', 16, 10_000),
      perSeries('lstm', 8, 1_000),
      perSeries('lstm', 32, 1_000),
    ],
  };
}

/**
 * Short cells: the kit has minutes for everything. Per-series cells are shorter still: one model at
 * a time is estimated from its validation run (4 models, scaled) once an epoch would pass 4 s.
 */
export function trainBudget(quick: boolean, section: 'train' | 'perSeries'): Partial<TrainBudget> {
  // --quick's shapes are tiny: its epochs are pipeline compiles, which took 13 s on a shared 2-core
  // machine against a 10 s limit. The limit guards the real kit against a contender that would take
  // minutes; for --quick (the kit's test) a loose one keeps a busy machine from failing a check.
  if (quick)
    return { minRuns: 2, maxRuns: 2, cellMs: 0, epochLimitMs: 60_000, validationBatch: 8, validationSteps: 2, validationSeries: 3 };
  return section === 'train'
    ? { minRuns: 3, maxRuns: 5, cellMs: 1_500, epochLimitMs: 8_000, validationBatch: 16, validationSteps: 2 }
    : { minRuns: 2, maxRuns: 3, cellMs: 1_000, epochLimitMs: 4_000, validationSteps: 2, validationSeries: 4 };
}

/**
 * The contenders of each section, and the float64 reference. On a software adapter (--quick) the
 * per-series PyTorch contenders also run on the CPU, so that the kit's own torch_peer.py is checked
 * end to end where there is no CUDA.
 */
export function trainContenders(quick: boolean): { reference: TrainContender; train: TrainContender[]; perSeries: TrainContender[] } {
  const modes: TorchPerSeriesMode[] = ['batched', 'vmap', 'loop'];
  return {
    reference: trainReferenceContender(),
    train: [webrnnTrainContender(), pytorchTrainPeer(TORCH_CUDA_FP32), pytorchTrainPeer(TORCH_CUDA_TF32)],
    perSeries: [
      webrnnTrainContender(),
      webrnnTrainContender({ oneByOne: true }),
      ...modes.map((perSeries) => pytorchTrainPeer(TORCH_CUDA_FP32, { perSeries })),
      pytorchTrainPeer(TORCH_CUDA_TF32, { perSeries: 'batched' }),
      ...(quick ? modes.map((perSeries) => pytorchTrainPeer(TORCH_CPU, { perSeries })) : []),
    ],
  };
}
