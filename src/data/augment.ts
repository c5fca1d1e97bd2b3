/**
 * Batches as normalised float tensors, with the DARTS training augmentation: random crop
 * 32 with zero padding 4, horizontal flip, normalisation, then cutout (a square of zeros
 * after normalisation, clipped at the border).
 */
import type { Rng } from "../util/rng.js";
import { IMAGE_BYTES, type Split } from "./cifar10.js";

// CIFAR-10 channel statistics (DARTS utils._data_transforms_cifar10).
export const CIFAR_MEAN = [0.49139968, 0.48215827, 0.44653124];
export const CIFAR_STD = [0.24703233, 0.24348505, 0.26158768];

export interface AugmentOptions {
  readonly crop: boolean;
  readonly flip: boolean;
  /** Cutout square side (0 = off). */
  readonly cutout: number;
}

export const DARTS_AUGMENT: AugmentOptions = { crop: true, flip: true, cutout: 16 };
export const NO_AUGMENT: AugmentOptions = { crop: false, flip: false, cutout: 0 };

const SIDE = 32;
const PAD = 4;
// Byte value → normalised value, per channel.
const LUT = CIFAR_MEAN.map((m, c) =>
  Float32Array.from({ length: 256 }, (_, v) => (v / 255 - m) / CIFAR_STD[c]!),
);
const PAD_VALUE = CIFAR_MEAN.map((m, c) => -m / CIFAR_STD[c]!);

/** Fills `out` (B×3×32×32) with the given records; randomness only from `rng`. */
export function makeBatch(
  split: Split,
  indices: ArrayLike<number>,
  aug: AugmentOptions,
  rng: Rng | null,
  out: Float32Array,
  labels: Int32Array,
): void {
  for (let b = 0; b < indices.length; b++) {
    const idx = indices[b]!;
    labels[b] = split.labels[idx]!;
    const src = split.images.subarray(idx * IMAGE_BYTES, (idx + 1) * IMAGE_BYTES);
    const dy = aug.crop && rng ? rng.int(2 * PAD + 1) - PAD : 0;
    const dx = aug.crop && rng ? rng.int(2 * PAD + 1) - PAD : 0;
    const flip = aug.flip && rng ? rng.uniform() < 0.5 : false;
    for (let c = 0; c < 3; c++) {
      const lut = LUT[c]!;
      const pad = PAD_VALUE[c]!;
      const plane = src.subarray(c * 1024, (c + 1) * 1024);
      const o = out.subarray((b * 3 + c) * 1024, (b * 3 + c + 1) * 1024);
      for (let y = 0; y < SIDE; y++) {
        const sy = y + dy;
        for (let x = 0; x < SIDE; x++) {
          const sx = (flip ? SIDE - 1 - x : x) + dx;
          o[y * SIDE + x] = sy >= 0 && sy < SIDE && sx >= 0 && sx < SIDE ? lut[plane[sy * SIDE + sx]!]! : pad;
        }
      }
    }
    if (aug.cutout > 0 && rng) {
      const cy = rng.int(SIDE);
      const cx = rng.int(SIDE);
      const half = Math.floor(aug.cutout / 2);
      const y0 = Math.max(0, cy - half);
      const y1 = Math.min(SIDE, cy + half);
      const x0 = Math.max(0, cx - half);
      const x1 = Math.min(SIDE, cx + half);
      for (let c = 0; c < 3; c++) {
        for (let y = y0; y < y1; y++)
          out.fill(0, (b * 3 + c) * 1024 + y * SIDE + x0, (b * 3 + c) * 1024 + y * SIDE + x1);
      }
    }
  }
}
