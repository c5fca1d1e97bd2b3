/** Float top-1 accuracy of a model on a split (inference mode, no tape). */
import { makeBatch, NO_AUGMENT } from "../data/augment.js";
import type { Split } from "../data/cifar10.js";
import type { Model } from "../engine/model.js";
import { Tensor } from "../engine/tensor.js";

export function argmaxRows(logits: Float32Array, classes: number, row: number): number {
  let best = 0;
  for (let j = 1; j < classes; j++) if (logits[row * classes + j]! > logits[row * classes + best]!) best = j;
  return best;
}

export function evaluate(
  model: Model,
  split: Split,
  batch = 250,
  onBatch?: (done: number) => void,
  /** Logits of a batch whose first image is test image `offset` (default: the float model). */
  forward: (x: Tensor, offset: number) => Tensor = (x) => model.forward(x, { training: false }).logits,
): { correct: number; count: number; accuracy: number } {
  const x = new Float32Array(batch * 3072);
  const labels = new Int32Array(batch);
  let correct = 0;
  for (let at = 0; at < split.count; at += batch) {
    const n = Math.min(batch, split.count - at);
    const idx = Array.from({ length: n }, (_, i) => at + i);
    makeBatch(split, idx, NO_AUGMENT, null, x, labels);
    const input = new Tensor([n, 3, 32, 32], x.subarray(0, n * 3072));
    const logits = forward(input, at);
    const k = model.net.classes;
    for (let i = 0; i < n; i++) if (argmaxRows(logits.data, k, i) === labels[i]) correct++;
    onBatch?.(at + n);
  }
  return { correct, count: split.count, accuracy: split.count ? correct / split.count : 0 };
}
