/**
 * CIFAR-10 in the official binary layout: records of 3,073 bytes (label, then 1,024 red,
 * 1,024 green, 1,024 blue bytes, each plane row-major 32×32) in data_batch_1..5.bin and
 * test_batch.bin. Read in place; never copied.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const IMAGE_BYTES = 3072;
export const RECORD_BYTES = 1 + IMAGE_BYTES;
export const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const TEST_FILE = "test_batch.bin";
export const CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

export class DatasetError extends Error {
  override name = "DatasetError";
}

export interface Split {
  /** N × 3072 bytes, CHW planes. */
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** --data, else $MEMHYPER_DATA, else ../shared/datasets/cifar-10-batches-bin beside the repository. */
export function resolveDataDir(flag?: string): string {
  return resolve(
    flag ?? process.env.MEMHYPER_DATA ?? join(REPO_ROOT, "..", "shared", "datasets", "cifar-10-batches-bin"),
  );
}

export function datasetPresent(dir: string): boolean {
  return existsSync(join(dir, TEST_FILE));
}

function readRecords(path: string): Split {
  if (!existsSync(path)) {
    throw new DatasetError(
      `missing CIFAR-10 file ${path}: point --data (or MEMHYPER_DATA) at the cifar-10-batches-bin directory, or run 'memhyper data fetch'`,
    );
  }
  const size = statSync(path).size;
  if (size === 0 || size % RECORD_BYTES !== 0) {
    throw new DatasetError(
      `${path}: ${size} bytes is not a whole number of ${RECORD_BYTES}-byte records; the file is truncated or not CIFAR-10 binary (re-download it with 'memhyper data fetch')`,
    );
  }
  const buf = readFileSync(path);
  const count = size / RECORD_BYTES;
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = buf[i * RECORD_BYTES]!;
    if (label > 9)
      throw new DatasetError(
        `${path}: record ${i} has label ${label}; CIFAR-10 labels are 0..9 (is this CIFAR-100?)`,
      );
    labels[i] = label;
    images.set(buf.subarray(i * RECORD_BYTES + 1, (i + 1) * RECORD_BYTES), i * IMAGE_BYTES);
  }
  return { images, labels, count };
}

function concatSplits(parts: Split[]): Split {
  const count = parts.reduce((a, p) => a + p.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * IMAGE_BYTES);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { images, labels, count };
}

export function loadSplit(dir: string, split: "train" | "test"): Split {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DatasetError(
      `CIFAR-10 directory ${dir} does not exist: point --data (or MEMHYPER_DATA) at the cifar-10-batches-bin directory, or run 'memhyper data fetch'`,
    );
  }
  return split === "test"
    ? readRecords(join(dir, TEST_FILE))
    : concatSplits(TRAIN_FILES.map((f) => readRecords(join(dir, f))));
}

/** The first `n` records (file order). */
export function take(split: Split, n: number): Split {
  const count = Math.min(n, split.count);
  return {
    images: split.images.subarray(0, count * IMAGE_BYTES),
    labels: split.labels.subarray(0, count),
    count,
  };
}

/** Records [from, to). */
export function slice(split: Split, from: number, to: number): Split {
  return {
    images: split.images.subarray(from * IMAGE_BYTES, to * IMAGE_BYTES),
    labels: split.labels.subarray(from, to),
    count: to - from,
  };
}
